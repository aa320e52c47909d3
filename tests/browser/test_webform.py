"""A marketer builds a web form; a visitor without JavaScript sends it; the lead arrives.

The worker that turns the stored submission into a lead is run in the test process, where
`lejek worker` would run it in production."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from lejek.leads.capture import submissions_process
from lejek.leads.models import Consent, FormSubmission, Lead, WebForm
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_marketer_builds_a_form_and_a_visitor_without_javascript_sends_it(
    page, browser, live_server, marketer, north
):
    cache.clear()
    log_in(page, marketer.email, PASSWORD)
    page.goto("/settings/forms/")
    page.get_by_role("link", name=re.compile("Build the first form|New form")).first.click()
    page.get_by_label(re.compile(r"^Name\b")).fill("Demo request")
    page.get_by_label("Phone on the form").check()
    page.get_by_label("Phone required").check()
    page.get_by_label("Label for Phone").fill("Mobile number")
    page.get_by_label("Company on the form").check()
    page.get_by_label("Default team").select_option(label="North")
    page.get_by_label("Consent text").fill("I agree that Lejek contacts me about the demo.")
    page.get_by_label("Consent is required to send the form").check()
    page.get_by_label("Thank-you message").fill("Thank you, we will call within a day.")
    page.get_by_role("button", name="Create form").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Demo request")
    form = WebForm.objects.get()
    expect(page.locator("#webform-snippet")).to_contain_text(f"/f/{form.key}/")

    visitor = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        public = visitor.new_page()
        public.goto(f"/f/{form.key}/?utm_source=newsletter")
        public.get_by_label("First name").fill("Zofia")
        public.get_by_label("Last name").fill("Żółkiewska")
        public.get_by_label("E-mail").fill("zofia@przyklad.pl")
        public.get_by_label("Company").fill("Łódzkie Młyny S.A.")
        public.get_by_role("button", name="Send").click()
        # Consent is required and the phone missing: the form comes back with messages.
        expect(public.locator("body")).to_contain_text("Please agree to the consent")
        expect(public.locator("body")).to_contain_text("This field is required.")
        assert not Lead.objects.exists()
        expect(public.get_by_label("E-mail")).to_have_value("zofia@przyklad.pl")

        public.get_by_label("Mobile number").fill("601 234 567")
        public.get_by_label(re.compile("I agree that Lejek contacts me")).check()
        public.get_by_role("button", name="Send").click()
        expect(public.get_by_role("status")).to_contain_text(
            "Thank you, we will call within a day."
        )
    finally:
        visitor.close()

    assert FormSubmission.objects.get().status == FormSubmission.Status.QUEUED
    assert submissions_process().created == 1
    lead = Lead.objects.get()
    assert (lead.first_name, lead.phone, lead.team) == ("Zofia", "+48601234567", north)
    assert lead.utm_source == "newsletter"
    assert lead.source.name == "Web form"
    assert Consent.objects.get().lead == lead

    page.goto(lead.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_contain_text("Zofia Żółkiewska")


def test_the_form_builder_fits_a_phone(page, marketer, north):
    from tests.test_webforms import make_form

    form = make_form(marketer, team=north)
    log_in(page, marketer.email, PASSWORD)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"/settings/forms/{form.pk}/")

    expect(page.get_by_role("heading", name=form.name)).to_be_visible()
    # The field table scrolls inside its frame; the page itself does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
