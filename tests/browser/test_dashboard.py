"""The reports dashboard in a real browser: charts drawn, filters in the URL, drill-down."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from lejek.pipeline.services import deal_move_to_stage
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tests.factories import make_deal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def deals(manager, rep, pipeline):
    proposal = pipeline.stages.get(name="Proposal")
    old = make_deal(rep, pipeline, title="Old deal", when=timezone.now() - timezone.timedelta(60))
    deal_move_to_stage(actor=rep, deal=old, stage=proposal)
    fresh = make_deal(rep, pipeline, title="Fresh deal")
    deal_move_to_stage(actor=rep, deal=fresh, stage=proposal)
    return {"old": old, "fresh": fresh}


def reached(page, step: str):
    row = page.locator("#figure-deal_funnel tbody tr", has=page.get_by_role("rowheader", name=step))
    return row.locator("td").nth(1)


def test_dashboard_draws_charts_and_filters_by_period_through_the_url(page, manager, deals):
    log_in(page, manager.email, PASSWORD)
    page.goto("/reports/")

    canvas = page.locator("#figure-deal_funnel canvas[data-chart]")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box["width"] > 0 and box["height"] > 0
    # Chart.js has drawn into the canvas: some pixel is not transparent.
    assert page.evaluate(
        """(canvas) => {
            const context = canvas.getContext("2d");
            const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
            return false;
        }""",
        canvas.element_handle(),
    )
    expect(canvas).to_have_attribute(
        "aria-label",
        "Chart: Deal funnel (deals created in the period). The table below gives the same numbers.",
    )
    expect(reached(page, "Proposal")).to_have_text("2")

    page.get_by_label("Period", exact=True).select_option(label="Last 30 days")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/reports/?period=30d*")
    expect(reached(page, "Proposal")).to_have_text("1")
    expect(page.get_by_label("Period", exact=True)).to_have_value("30d")


def test_typing_a_custom_date_switches_the_period_to_custom(page, manager, deals):
    log_in(page, manager.email, PASSWORD)
    page.goto("/reports/")
    start = (timezone.localdate() - timezone.timedelta(days=90)).isoformat()
    end = (timezone.localdate() - timezone.timedelta(days=30)).isoformat()
    page.get_by_label("From", exact=True).fill(start)
    page.get_by_label("To", exact=True).fill(end)
    expect(page.get_by_label("Period", exact=True)).to_have_value("custom")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"**start={start}*")
    expect(reached(page, "Proposal")).to_have_text("1")


def test_clicking_a_number_opens_the_records_behind_it(page, manager, deals):
    log_in(page, manager.email, PASSWORD)
    page.goto("/reports/?period=30d")
    reached(page, "Proposal").get_by_role("link").click()
    page.wait_for_url("**/reports/drill/deal_funnel/*")
    expect(page.locator("#drill-count")).to_have_text("1 deal")
    expect(page.get_by_role("link", name="Fresh deal")).to_be_visible()
    expect(page.get_by_role("link", name="Old deal")).to_have_count(0)
    page.get_by_role("link", name="Fresh deal").click()
    page.wait_for_url(f"**/deals/{deals['fresh'].pk}/")


def test_millions_in_the_headline_stay_inside_their_tiles(page, manager, rep, pipeline):
    from decimal import Decimal

    won = pipeline.stages.get(name="Won")
    for amount in ("1747700.00", "2250000.00"):
        deal = make_deal(rep, pipeline, amount=Decimal(amount))
        deal_move_to_stage(actor=rep, deal=deal, stage=won)
    log_in(page, manager.email, PASSWORD)
    page.goto("/reports/")

    expect(page.locator(".report-tiles")).to_contain_text("3,997,700.00")
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('.report-tiles .tile')]
                 .filter(tile => tile.scrollWidth > tile.clientWidth).length"""
    )
    assert overflowing == 0
