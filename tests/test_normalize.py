"""Normalised keys: e-mails, phones, NIPs, domains and company names."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from lejek.contacts.normalize import (
    NIP_WEIGHTS,
    company_key,
    format_phone,
    is_free_mail,
    normalize_country,
    normalize_domain,
    normalize_email,
    normalize_nip,
    normalize_phone,
)


def test_email_is_trimmed_and_lowercased():
    assert normalize_email("  Jan.Kowalski@Firma.PL ") == "jan.kowalski@firma.pl"
    assert normalize_email("") == "" and normalize_email(None) == ""


@pytest.mark.parametrize(
    "raw",
    [
        "+48 601 234 567",
        "601-234-567",
        "0048601234567",
        "601234567",
        "(+48) 601 234 567",
        "+48601234567",
        " 601 23 45 67 ",
    ],
)
def test_polish_phone_formats_become_e164(raw):
    assert normalize_phone(raw) == "+48601234567"


def test_phone_with_another_country_code_keeps_it():
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"
    assert normalize_phone("020 7946 0958", default_region="GB") == "+442079460958"


@pytest.mark.parametrize("raw", ["123", "abc", "+48 12", "601 234 567 890 123"])
def test_impossible_phone_is_refused(raw):
    with pytest.raises(ValidationError):
        normalize_phone(raw)


def test_phone_is_formatted_for_reading():
    assert format_phone("+48601234567", "pl") == "+48 601 234 567"
    assert format_phone("", "en") == ""
    assert format_phone("not a number", "en") == "not a number"


@pytest.mark.parametrize(
    "raw", ["5260250274", "PL5260250274", "526-025-02-74", "PL 526 025 02 74", "pl526-02-50-274"]
)
def test_nip_spellings_become_ten_digits(raw):
    assert normalize_nip(raw) == "5260250274"


@pytest.mark.parametrize("raw", ["5260250275", "12345", "52602502741", "526O250274", "1234567890"])
def test_nip_with_bad_length_or_check_digit_is_refused(raw):
    with pytest.raises(ValidationError):
        normalize_nip(raw)


def test_nip_whose_checksum_remainder_is_ten_is_refused():
    # No check digit can complete nine digits whose weighted sum leaves 10.
    first_nine = next(
        f"{n:09d}"
        for n in range(1, 10**6)
        if sum(int(d) * w for d, w in zip(f"{n:09d}", NIP_WEIGHTS, strict=True)) % 11 == 10
    )
    for last in "0123456789":
        with pytest.raises(ValidationError):
            normalize_nip(first_nine + last)


@pytest.mark.parametrize(
    "raw",
    [
        "https://www.Acme.pl/kontakt?x=1",
        "http://acme.pl:8080",
        "jan@ACME.pl",
        "www.acme.pl/",
        "acme.pl",
    ],
)
def test_domain_from_url_email_or_bare_domain(raw):
    assert normalize_domain(raw) == "acme.pl"


@pytest.mark.parametrize("raw", ["localhost", "not a domain", "@"])
def test_bad_domain_is_refused(raw):
    with pytest.raises(ValidationError):
        normalize_domain(raw)


@pytest.mark.parametrize(
    "domain", ["gmail.com", "wp.pl", "onet.pl", "o2.pl", "interia.pl", "outlook.com", "yahoo.com"]
)
def test_free_mail_is_not_a_company_domain(domain):
    assert is_free_mail(domain)


def test_company_domain_is_not_free_mail():
    assert not is_free_mail("acme.pl")


@pytest.mark.parametrize(
    "name",
    [
        "Acme Sp. z o.o.",
        "ACME spółka z o.o.",
        "ACME spółka z ograniczoną odpowiedzialnością",
        "Acme Sp. z o. o.",
        "Acme S.A.",
        "Acme sp.j.",
        "Acme sp.k.",
        "Acme Ltd",
        "Acme GmbH",
        "Acme, Inc.",
        "  acme  ",
    ],
)
def test_company_key_folds_legal_forms_case_and_punctuation(name):
    assert company_key(name) == "acme"


def test_company_key_folds_polish_diacritics():
    assert company_key("Łódzkie Zakłady Żółć sp. z o.o.") == company_key("LODZKIE ZAKLADY ZOLC")
    assert company_key("Łódzkie Zakłady Żółć") == "lodzkie zaklady zolc"


def test_company_key_keeps_distinct_names_apart():
    assert company_key("Acme Polska Sp. z o.o.") != company_key("Acme Sp. z o.o.")


def test_country_is_an_uppercased_iso_code():
    assert normalize_country(" pl ") == "PL"
    assert normalize_country("") == ""
    for bad in ("POL", "XX", "1"):
        with pytest.raises(ValidationError):
            normalize_country(bad)


@given(st.text(max_size=40))
def test_email_normalising_is_idempotent(raw):
    once = normalize_email(raw)
    assert normalize_email(once) == once


@given(st.text(max_size=60))
def test_company_key_is_idempotent(raw):
    once = company_key(raw)
    assert company_key(once) == once


@given(st.from_regex(r"\+?[0-9 \-()]{0,20}", fullmatch=True))
def test_phone_normalising_is_idempotent(raw):
    try:
        once = normalize_phone(raw)
    except ValidationError:
        return
    assert normalize_phone(once) == once


def _with_check_digit(first_nine: str) -> str | None:
    remainder = sum(int(d) * w for d, w in zip(first_nine, NIP_WEIGHTS, strict=True)) % 11
    return None if remainder == 10 else f"{first_nine}{remainder}"


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.sampled_from(["", "PL", "PL "]))
def test_nip_with_correct_check_digit_always_passes(first_nine, prefix):
    nip = _with_check_digit(first_nine)
    if nip is None:
        return
    dashed = f"{prefix}{nip[:3]}-{nip[3:6]}-{nip[6:8]}-{nip[8:]}"
    assert normalize_nip(dashed) == nip
    assert normalize_nip(normalize_nip(dashed)) == nip
