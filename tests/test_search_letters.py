"""Searching ignores letter case, Polish letters included, on SQLite as on PostgreSQL: the
lead list, the global search, record pickers and the API all follow lejek.core.search."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from lejek.core.search import spellings
from tests.factories import make_lead
from tests.test_api_support import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads(rep):
    return {
        "zofia": make_lead(
            rep, first_name="Zofia", last_name="Żółkiewska", company_name="Młyny Łódź S.A."
        ),
        "adam": make_lead(rep, first_name="Adam", last_name="Nowak", company_name="Acme"),
    }


@pytest.mark.parametrize("typed", ["żółkiewska", "ŻÓŁKIEWSKA", "Żółkiewska", "łódź zofia"])
def test_the_lead_list_finds_polish_names_in_any_case(typed, rep, leads, client_for):
    page = client_for(rep).get(reverse("lead-list"), {"q": typed}).content.decode()
    assert "Żółkiewska" in page
    assert "Nowak" not in page


def test_the_global_search_and_the_api_find_the_same_lead(rep, leads, client_for):
    page = client_for(rep).get(reverse("search"), {"q": "łódź"}).content.decode()
    assert "Żółkiewska" in page and "Nowak" not in page

    found = Api(rep).get("/leads", {"q": "ŁÓDŹ"}).json()["items"]
    assert [lead["id"] for lead in found] == [leads["zofia"].pk]


def test_every_word_must_match_somewhere(rep, leads, client_for):
    page = client_for(rep).get(reverse("lead-list"), {"q": "łódź nowak"}).content.decode()
    assert "Żółkiewska" not in page and "Nowak" not in page


def test_other_letters_get_their_case_forms_only_where_the_database_needs_them():
    assert spellings("kowalski") == {"kowalski"}
    forms = {"łÓdź", "łódź", "ŁÓDŹ", "Łódź"} if connection.vendor == "sqlite" else {"łÓdź"}
    assert spellings("łÓdź") == forms
