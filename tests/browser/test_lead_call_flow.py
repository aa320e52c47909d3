"""The path every rep walks on day one, in a real browser: log in, add a lead, log a call."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from lejek.activities.models import Activity
from lejek.leads.models import Lead
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_creates_a_lead_and_logs_a_call_on_its_timeline(page, rep):
    log_in(page, rep.email, PASSWORD)

    page.get_by_role("link", name="Leads", exact=True).first.click()
    page.get_by_role("link", name=re.compile("New lead|Add a lead|Create", re.I)).first.click()
    page.get_by_label("First name").fill("Zofia")
    page.get_by_label("Last name").fill("Żółkiewska")
    page.get_by_label("E-mail").fill("zofia@przyklad.pl")
    page.get_by_label("Company", exact=True).fill("Łódzkie Młyny S.A.")
    page.get_by_role("button", name=re.compile("Create|Save", re.I)).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Zofia Żółkiewska")
    lead = Lead.objects.get(email="zofia@przyklad.pl")
    assert lead.owner == rep
    assert page.url.endswith(f"/leads/{lead.pk}/")

    page.locator("label", has_text=re.compile(r"^Call$")).first.click()
    call_form = page.locator("form.f-call")
    call_form.get_by_label("Subject").fill("Discovery call about packaging line")
    call_form.get_by_label("Details").fill("Budget confirmed, wants an offer by Friday.")
    url_before = page.url
    call_form.get_by_role("button").click()

    timeline = page.locator("#timeline .timeline")
    expect(timeline).to_contain_text("Discovery call about packaging line")
    expect(timeline).to_contain_text("Budget confirmed, wants an offer by Friday.")
    assert page.url == url_before  # swapped in place by htmx, no full reload
    activity = Activity.objects.get(lead=lead)
    assert activity.kind == "call"
    assert activity.author == rep


def test_phone_width_shell_has_no_horizontal_scroll(page, rep):
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, rep.email, PASSWORD)
    page.goto("/leads/")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 375
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "global-search"
