"""The hot-leads queue in a real browser: log a call from it, keyboard moves, a phone's width."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import include, path
from django.utils import timezone
from playwright.sync_api import expect

from lejek.activities.models import Activity
from lejek.leads.models import Lead
from lejek.scoring.models import LeadScore
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tests.factories import make_lead, make_task

urlpatterns = [path("leads/", include("lejek.leads.queue_urls")), path("", include("lejek.urls"))]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls(__name__),
]


def queue_of(rep) -> tuple[Lead, Lead]:
    urgent = make_lead(rep, first_name="Zofia", last_name="Żółkiewska", company_name="Młyny S.A.")
    make_task(
        rep,
        urgent,
        title="Send the price list",
        due_date=timezone.localdate() - datetime.timedelta(days=3),
    )
    calm = make_lead(rep, first_name="Adam", last_name="Spokojny")
    LeadScore.objects.create(lead=calm, score=90)
    return urgent, calm


def test_rep_logs_a_call_from_the_queue_and_sees_it_on_the_row_and_timeline(page, rep):
    urgent, _calm = queue_of(rep)
    log_in(page, rep.email, PASSWORD)
    page.goto("/leads/queue/")

    rows = page.locator(".queue-row")
    expect(rows).to_have_count(2)
    first = rows.first
    expect(first).to_contain_text("Zofia Żółkiewska")  # overdue beats the higher score
    expect(first).to_contain_text("overdue 3 d")
    expect(first.locator(".q-touch")).to_contain_text("not contacted yet")

    first.get_by_role("link", name=re.compile("^Log call")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Log a call with Zofia Żółkiewska")
    dialog.get_by_label("Subject").fill("Price list walk-through")
    dialog.get_by_label("Details").fill("Wants 200 units in March.")
    url_before = page.url
    dialog.get_by_role("button", name="Log call").click()

    expect(page.locator("#queue-status")).to_have_text("Call logged.")
    expect(dialog).to_be_hidden()
    row = page.locator(f"#queue-lead-{urgent.pk}")
    expect(row.locator(".q-touch")).not_to_contain_text("not contacted yet")
    expect(row.locator(".q-touch time")).to_be_visible()
    assert page.url == url_before
    activity = Activity.objects.get(lead=urgent)
    assert (activity.kind, activity.author, activity.subject_line) == (
        "call",
        rep,
        "Price list walk-through",
    )

    row.get_by_role("link", name="Zofia Żółkiewska", exact=True).click()
    expect(page.locator("#timeline .timeline")).to_contain_text("Price list walk-through")


def test_keyboard_moves_between_rows_and_opens_the_call_dialog(page, rep):
    urgent, calm = queue_of(rep)
    log_in(page, rep.email, PASSWORD)
    page.goto("/leads/queue/")

    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.textContent") == str(urgent)
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.textContent") == str(calm)
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.textContent") == str(urgent)

    page.keyboard.press("c")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(str(urgent))
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert not Activity.objects.exists()


def test_a_bad_call_shows_the_error_in_the_dialog_and_saves_nothing(page, rep):
    urgent, _calm = queue_of(rep)
    log_in(page, rep.email, PASSWORD)
    page.goto("/leads/queue/")

    page.locator(f"#queue-lead-{urgent.pk} .q-call").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Duration (minutes)").fill("99999")
    dialog.get_by_role("button", name="Log call").click()

    expect(dialog.get_by_role("alert")).to_contain_text("1440")
    expect(dialog).to_be_visible()
    assert not Activity.objects.exists()


def test_the_queue_fits_a_phone(page, rep):
    queue_of(rep)
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, rep.email, PASSWORD)
    page.goto("/leads/queue/")

    expect(page.locator(".queue-row").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    expect(
        page.locator(".queue-row").first.get_by_role("link", name=re.compile("^E-mail"))
    ).to_be_visible()


def test_disqualifying_from_the_queue_comes_back_to_the_queue(page, rep, manager):
    from lejek.core.models import Reason
    from lejek.core.reasons import reason_create

    reason_create(actor=manager, kind=Reason.Kind.LEAD_DISQUALIFIED, label="No budget")
    urgent, calm = queue_of(rep)
    log_in(page, rep.email, PASSWORD)
    page.goto("/leads/queue/")

    page.locator(f"#queue-lead-{calm.pk}").get_by_role(
        "link", name=re.compile("^Disqualify")
    ).click()
    expect(page.get_by_role("heading", name="Disqualify lead")).to_be_visible()
    page.get_by_label("Reason").select_option(label="No budget")
    page.get_by_role("button", name="Disqualify").click()

    expect(page).to_have_url(re.compile(r"/leads/queue/$"))
    expect(page.locator(".queue-row")).to_have_count(1)
    expect(page.locator(f"#queue-lead-{urgent.pk}")).to_be_visible()
    calm.refresh_from_db()
    assert (calm.status, calm.disqualified_reason) == (Lead.Status.DISQUALIFIED, "No budget")
