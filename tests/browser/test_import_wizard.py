"""A marketer imports an event list in a real browser: upload, map, dry run, import for real."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from lejek.imports.models import ImportJob
from lejek.imports.tasks import run_import_job
from lejek.leads.models import Campaign, Lead, Source
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ATTENDEES = (
    "Imię,Nazwisko,E-mail,Firma,Telefon komórkowy\n"
    "Zofia,Żółkiewska,zofia@przyklad.pl,Łódzkie Młyny,+48 601 100 200\n"
    "Jan,Nowak,jan@przyklad.pl,Nowak Sp. z o.o.,+48 602 300 400\n"
    ",,,,+48 603 500 600\n"
    "Ewa,Lis,ewa@przyklad.pl,Lis i Syn,+48 604 700 800\n"
)


@pytest.fixture(autouse=True)
def imports_run_in_the_request(settings, tmp_path):
    # The live server answers from another thread; the immediate backend runs each import
    # inside the request that queues it, so no worker process is needed.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.MEDIA_ROOT = tmp_path / "media"


def test_marketer_imports_leads_with_a_dry_run_first(page, marketer, settings, tmp_path):
    csv_path = tmp_path / "targi.csv"
    csv_path.write_text(ATTENDEES, encoding="utf-8")
    log_in(page, marketer.email, PASSWORD)

    page.goto("/imports/")
    expect(page.get_by_text("No imports yet")).to_be_visible()
    page.get_by_role("link", name="+ Import", exact=True).click()
    page.get_by_label("What the file holds").select_option("lead")
    page.get_by_label(re.compile(r"^File")).set_input_files(str(csv_path))
    campaign = page.get_by_label("Campaign", exact=True)
    expect(campaign).to_be_hidden()  # only an event list asks for its campaign
    page.get_by_label("This is an event attendee list").check()
    campaign.fill("Targi Poznań 2026")
    page.get_by_role("button", name="Upload and map columns").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("targi.csv")
    expect(page.get_by_text("Event attendee list: every lead gets")).to_contain_text(
        "Targi Poznań 2026"
    )
    expect(page.get_by_label("Import “E-mail” into")).to_have_value("email")
    expect(page.get_by_label("Import “Nazwisko” into")).to_have_value("last_name")
    phone = page.get_by_label("Import “Telefon komórkowy” into")
    expect(phone).to_have_value("")  # not recognised: left out unless chosen
    expect(page.locator(".import-samples").nth(2)).to_contain_text("zofia@przyklad.pl")
    phone.select_option("phone")
    page.get_by_role("button", name="Check (dry run)").click()

    expect(page.locator("#import-progress")).to_be_visible()
    dry = ImportJob.objects.get()
    assert dry.status == ImportJob.Status.DONE, dry.message
    expect(page.get_by_role("heading", level=2)).to_contain_text("Dry run finished")
    expect(page.locator('[data-count="created"]')).to_have_text("3")
    expect(page.locator('[data-count="rejected"]')).to_have_text("1")
    rejected = page.locator(".import-rejected table")
    expect(rejected).to_contain_text("+48 603 500 600")
    expect(rejected.locator("td.import-reason")).not_to_be_empty()
    expect(page.get_by_role("link", name="Download the error report")).to_be_visible()
    assert not Lead.objects.exists()

    # The real run waits for a worker, as it does in production; the open page follows it.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    page.get_by_role("button", name="Import for real").click()
    expect(page.get_by_role("heading", level=2)).to_contain_text("Waiting for a worker")
    page.evaluate("window.sameDocument = true")
    real = ImportJob.objects.get(dry_run=False)
    run_import_job.call(real.pk)

    expect(page.get_by_role("heading", level=2)).to_contain_text("Import finished.")
    assert page.evaluate("window.sameDocument === true")  # updated by polling, not reloaded
    bar = page.locator("progress#import-bar")
    expect(bar).to_have_attribute("value", "4")
    expect(bar).to_have_attribute("max", "4")
    expect(page.locator('[data-count="created"]')).to_have_text("3")
    real.refresh_from_db()
    assert real.status == ImportJob.Status.DONE
    assert Lead.objects.get(email="zofia@przyklad.pl").phone.replace(" ", "").endswith("601100200")

    campaign = Campaign.objects.get(name="Targi Poznań 2026")
    assert set(Lead.objects.values_list("campaign", flat=True)) == {campaign.pk}
    assert set(Lead.objects.values_list("source__kind", flat=True)) == {Source.Kind.EVENT}

    page.get_by_role("link", name=re.compile("^See the leads")).click()
    expect(page).to_have_url(re.compile(rf"/leads/\?campaign={campaign.pk}$"))
    for name in ("Zofia Żółkiewska", "Jan Nowak", "Ewa Lis"):
        expect(page.get_by_role("main")).to_contain_text(name)

    page.goto("/imports/")
    expect(page.locator("table.import-table tbody tr")).to_have_count(2)
