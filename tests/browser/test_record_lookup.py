"""A company picker longer than a select can carry: type, pick, save."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from lejek.contacts import forms as record_forms
from lejek.contacts.models import Contact
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tests.factories import make_company

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_finds_a_company_beyond_the_first_options(page, rep, monkeypatch):
    monkeypatch.setattr(record_forms, "MAX_OPTIONS", 3)
    for n in range(6):
        make_company(rep, name=f"Firma {n}")
    target = make_company(rep, name="Żuławskie Młyny")
    log_in(page, rep.email, PASSWORD)
    page.goto("/contacts/new/")
    company = page.locator("select[data-lookup]")
    expect(company.locator("option", has_text="Żuławskie Młyny")).to_have_count(0)
    page.locator("input.lookup-search").fill("Młyny")
    expect(company.locator("option", has_text="Żuławskie Młyny")).to_have_count(1)
    company.select_option(str(target.pk))
    page.get_by_label("Last name").fill("Lis")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/contacts/*/")
    assert Contact.objects.get(last_name="Lis").company == target
