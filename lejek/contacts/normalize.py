"""One canonical spelling for the keys people and companies are matched on.

E-mails, phones, NIPs, domains and company names arrive typed every which way; the services
store them in one form, so that duplicates can be found with plain indexed lookups.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)

# Personal mailboxes: a shared domain says nothing about which company someone works for.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "wp.pl",
        "onet.pl",
        "onet.eu",
        "op.pl",
        "o2.pl",
        "interia.pl",
        "interia.eu",
        "poczta.fm",
        "tlen.pl",
        "gazeta.pl",
        "vp.pl",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "aol.com",
    }
)

# Legal forms, longest first so that "sp. z o.o." is not read as "sp." plus leftovers.
# Matched on the folded name (lowercase, no diacritics, punctuation turned into spaces).
LEGAL_FORMS = (
    "spolka z ograniczona odpowiedzialnoscia",
    "spolka z o o",
    "spolka komandytowo akcyjna",
    "spolka komandytowa",
    "spolka jawna",
    "spolka akcyjna",
    "spolka cywilna",
    "sp z o o",
    "sp zoo",
    "s k a",
    "sp k",
    "sp j",
    "s c",
    "s a",
    "sa",
    "ltd",
    "limited",
    "gmbh",
    "inc",
    "llc",
    "plc",
    "corp",
    "co",
)
_LEGAL_FORM_TAIL = re.compile(
    r"(?:\s+(?:" + "|".join(re.escape(form) for form in LEGAL_FORMS) + r"))+\s*$"
)

# Territories with an ISO 3166 code but no telephone plan of their own.
_EXTRA_COUNTRIES = frozenset({"AQ", "BV", "GS", "HM", "PN", "TF", "UM"})


def normalize_email(raw: str | None) -> str:
    """Trimmed and lowercased; checking the address itself stays with EmailValidator."""
    return (raw or "").strip().lower()


def normalize_phone(raw: str | None, default_region: str = "PL") -> str:
    """The number in E.164 ("+48601234567"); numbers without a country code are Polish."""
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise ValidationError(_("Enter a phone number, e.g. +48 601 234 567.")) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("This is not a valid phone number."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str | None, language: str | None = None) -> str:
    """A stored number for reading ("+48 601 234 567"); unparsable values are shown as they are.

    The international format reads the same in every language, so `language` only exists for
    callers that pass the page's language as a matter of course.
    """
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def nip_checksum_ok(digits: str) -> bool:
    if len(digits) != 10 or not digits.isdigit():
        return False
    remainder = sum(int(d) * w for d, w in zip(digits, NIP_WEIGHTS, strict=False)) % 11
    return remainder != 10 and remainder == int(digits[9])


def normalize_nip(raw: str | None) -> str:
    """The 10 digits of a Polish NIP, from "PL123-456-78-90", "123 456 78 90" and the like."""
    text = (raw or "").strip().upper()
    if not text:
        return ""
    text = text.removeprefix("PL").strip()
    if re.fullmatch(r"[0-9\s\-]+", text) is None:
        raise ValidationError(_("A NIP has 10 digits."))
    digits = re.sub(r"\D", "", text)
    if len(digits) != 10:
        raise ValidationError(_("A NIP has 10 digits."))
    if not nip_checksum_ok(digits):
        raise ValidationError(_("This NIP is not valid: its check digit does not match."))
    return digits


def normalize_domain(raw: str | None) -> str:
    """The bare host of a URL, an e-mail or a domain: "https://www.Acme.pl/x" → "acme.pl"."""
    text = (raw or "").strip().lower()
    if not text:
        return ""
    if "@" in text and "://" not in text:
        text = text.rsplit("@", 1)[1]
    if "://" not in text:
        text = f"//{text}"
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:
        host = ""
    host = host.strip(".").removeprefix("www.")
    if "." not in host or not re.fullmatch(r"[a-z0-9.\-]+", host.encode("idna").decode()):
        raise ValidationError(_("Enter a domain such as example.com."))
    return host


def domain_from_email(email: str | None) -> str:
    """The company domain of an address, or "" for a personal mailbox or a malformed one."""
    try:
        domain = normalize_domain(email) if email and "@" in email else ""
    except ValidationError:
        return ""
    return "" if is_free_mail(domain) else domain


def is_free_mail(domain: str | None) -> bool:
    return (domain or "").strip().lower() in FREE_MAIL_DOMAINS


def fold(text: str) -> str:
    """Lowercase without diacritics ("Łódź" → "lodz"), for comparing names."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # "ł" has no decomposition; it is the one Polish letter NFKD leaves as it is.
    return plain.replace("ł", "l")


def company_key(name: str | None) -> str:
    """A company name reduced for matching: "ACME Sp. z o. o." and "Acme spółka z ograniczoną
    odpowiedzialnością" both give "acme"."""
    words = re.sub(r"[\W_]+", " ", fold(name or "")).strip()
    stripped = _LEGAL_FORM_TAIL.sub("", f" {words}").strip()
    # A name that is nothing but a legal form keeps it, rather than matching every such name.
    return stripped or words


def normalize_country(raw: str | None) -> str:
    """A two-letter ISO 3166 country code, uppercased."""
    code = (raw or "").strip().upper()
    if code and (len(code) != 2 or code not in phonenumbers.SUPPORTED_REGIONS | _EXTRA_COUNTRIES):
        raise ValidationError(_("Enter a two-letter country code, e.g. PL."))
    return code


def normalize_fields(values: dict[str, Any], rules: dict[str, Callable[[Any], str]]) -> dict:
    """`values` with each field named in `rules` normalised; every bad field reported at once."""
    result = dict(values)
    errors: dict[str, list[str]] = {}
    for name, normalise in rules.items():
        if name not in result:
            continue
        try:
            result[name] = normalise(result[name])
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
    return result
