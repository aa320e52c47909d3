"""Record pickers with more records than a select can carry: a search box asks for the rest."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lejek.contacts import forms as record_forms
from tests.factories import make_company

pytestmark = pytest.mark.django_db


def test_lookup_finds_visible_records_by_every_word(client_for, rep, other_rep):
    make_company(rep, name="Łódzkie Młyny", city="Łódź")
    make_company(rep, name="Młyny Gdańskie", city="Gdańsk")
    make_company(other_rep, name="Młyny Południa")
    answer = client_for(rep).get(reverse("lookup", args=["company"]), {"q": "Młyny Łódź"})
    assert answer.status_code == 200
    assert "Łódzkie Młyny" in answer.text
    assert "Gdańskie" not in answer.text
    everyone = client_for(rep).get(reverse("lookup", args=["company"]), {"q": "Młyny"}).text
    assert "Południa" not in everyone


def test_lookup_says_when_there_is_more_or_nothing(client_for, rep, monkeypatch):
    from lejek.core import views

    monkeypatch.setattr(views, "LOOKUP_LIMIT", 2)
    for n in range(3):
        make_company(rep, name=f"Firma {n}")
    text = client_for(rep).get(reverse("lookup", args=["company"]), {"q": "firma"}).text
    assert text.count('<option value="') == 3  # two rows and the "type more" hint
    assert "type more" in text
    none = client_for(rep).get(reverse("lookup", args=["company"]), {"q": "zzz"}).text
    assert "Nothing found" in none


def test_lookup_of_an_unknown_kind_is_not_found(client_for, rep):
    assert client_for(rep).get(reverse("lookup", args=["user"])).status_code == 404


def test_long_selects_carry_a_lookup_and_short_ones_do_not(client_for, rep, monkeypatch):
    monkeypatch.setattr(record_forms, "MAX_OPTIONS", 3)
    make_company(rep, name="Only one")
    short = client_for(rep).get(reverse("contact-create")).text
    assert "data-lookup" not in short
    for n in range(4):
        make_company(rep, name=f"Firma {n}")
    long = client_for(rep).get(reverse("contact-create")).text
    assert f'data-lookup="{reverse("lookup", args=["company"])}"' in long


def test_a_record_beyond_the_first_options_is_still_accepted(client_for, rep, monkeypatch):
    monkeypatch.setattr(record_forms, "MAX_OPTIONS", 2)
    companies = [make_company(rep, name=f"Firma {n}") for n in range(5)]
    answer = client_for(rep).post(
        reverse("contact-create"),
        {"last_name": "Lis", "company": companies[-1].pk, "owner": rep.pk, "team": rep.team_ids[0]},
    )
    assert answer.status_code == 302
    from lejek.contacts.models import Contact

    assert Contact.objects.get(last_name="Lis").company == companies[-1]
