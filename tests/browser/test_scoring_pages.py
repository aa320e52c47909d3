"""Lead scoring set up in a real browser: a fit rule added in Settings changes a lead's score
and the explanation on its page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from lejek.scoring.models import FitRule, LeadScore
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tests.factories import make_lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Background work runs inside the request, so the page after "Recompute" shows the result.
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def score_panel(page):
    return page.locator(".score-panel")


def test_admin_adds_a_fit_rule_and_the_lead_page_explains_the_new_score(page, admin, rep, settings):
    settings.TASKS = IMMEDIATE
    polish = make_lead(rep, first_name="Zofia", last_name="Nowak", country="PL")
    german = make_lead(rep, first_name="Hans", last_name="Weber", country="DE")
    log_in(page, admin.email, PASSWORD)

    page.goto(polish.get_absolute_url())
    expect(page.locator(".record-score")).to_have_text("Score 0/100")
    expect(score_panel(page)).to_contain_text("No rule gives this lead points yet.")

    page.goto("/settings/scoring/")
    page.get_by_role("link", name=re.compile("New fit rule")).click()
    page.get_by_label("Name").fill("Polish companies")
    page.get_by_label("Points").fill("15")
    first_row = page.get_by_role("group", name="Condition 1")
    first_row.get_by_label("Field").select_option(label="Country")
    first_row.get_by_label("Comparison").select_option("eq")
    first_row.get_by_label("Value").fill("PL")
    page.get_by_role("button", name="Add rule").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Lead scoring")
    expect(page.locator(".messages")).to_contain_text("Polish companies")
    rules = page.get_by_role("table", name="Fit rules")
    expect(rules).to_contain_text("Country is PL")
    expect(rules).to_contain_text("+15")
    assert FitRule.objects.get().conditions == [{"field": "country", "op": "eq", "value": "PL"}]

    page.get_by_role("button", name="Recompute all scores").click()
    expect(page.locator(".messages")).to_contain_text("Recomputing all scores")

    page.goto(polish.get_absolute_url())
    expect(page.locator(".record-score")).to_have_text("Score 15/100")
    explanation = score_panel(page).get_by_role("table", name="What makes up the score")
    expect(explanation.get_by_role("row")).to_have_count(1)
    expect(explanation).to_contain_text("Polish companies")
    expect(explanation).to_contain_text("+15")

    page.goto(german.get_absolute_url())
    expect(page.locator(".record-score")).to_have_text("Score 0/100")
    expect(score_panel(page)).to_contain_text("No rule gives this lead points yet.")
    assert LeadScore.objects.get(lead=polish).score == 15
    assert LeadScore.objects.get(lead=german).score == 0


def test_a_rule_with_bad_points_is_refused_next_to_the_field(page, admin, settings):
    settings.TASKS = IMMEDIATE
    log_in(page, admin.email, PASSWORD)
    page.goto("/settings/scoring/rules/new/")

    page.get_by_label("Name").fill("Too generous")
    page.get_by_label("Points").fill("500")
    page.get_by_role("button", name="Add rule").click()

    points = page.locator(".field", has=page.get_by_label("Points"))
    expect(points.locator(".errorlist")).to_contain_text("100")
    expect(page.get_by_label("Name")).to_have_value("Too generous")
    assert not FitRule.objects.exists()
