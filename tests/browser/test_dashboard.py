"""The reports dashboard in a real browser: the cards fill in, charts drawn, filters in the
URL, drill-down, and a card whose request failed offers to try again."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from lejek.analytics.figures import FIGURES
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


CARDS = [key for key in FIGURES if key != "headline"]

# Chart.js has drawn into the canvas: some pixel is not transparent.
DRAWN = """(canvas) => {
    const context = canvas.getContext("2d");
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
    return false;
}"""


def card_request(key: str) -> re.Pattern:
    return re.compile(rf"/reports/card/{key}/")


def test_the_page_fills_in_card_by_card(page, manager, deals):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    log_in(page, manager.email, PASSWORD)
    page.goto("/reports/?period=30d")

    # Every placeholder is replaced: no "Computing…" is left, nothing is busy.
    expect(page.locator("[data-placeholder]")).to_have_count(0)
    expect(page.locator("[aria-busy=true]")).to_have_count(0)
    expect(page.get_by_text("Computing…")).to_have_count(0)
    expect(page.locator("article.report-card")).to_have_count(len(CARDS))
    expect(page.locator(".report-tiles .tile")).to_have_count(5)
    expect(page.locator(".figure-failed, .report-load-failed")).to_have_count(0)
    # One request per figure, each with the page's filters.
    cards = [url for url in requested if "/reports/card/" in url]
    assert len(cards) == len(FIGURES)
    assert all("period=30d" in url for url in cards)

    # Every chart that came with a card is drawn (a card has a chart only when it has rows).
    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() > 3
    for index in range(canvases.count()):
        canvas = canvases.nth(index)
        expect(canvas).to_be_visible()
        expect(canvas).to_have_attribute("data-drawn", "1")
        assert page.evaluate(DRAWN, canvas.element_handle())
    # The downloads are still in the cards.
    expect(page.locator("#figure-deal_funnel").get_by_role("link", name="CSV")).to_have_attribute(
        "href", re.compile(r"/reports/deal_funnel\.csv\?period=30d")
    )


def test_a_card_whose_request_fails_offers_to_try_again(page, manager, deals):
    log_in(page, manager.email, PASSWORD)
    page.route(card_request("deal_funnel"), lambda route: route.abort())
    page.route(
        card_request("headline"),
        lambda route: route.fulfill(status=500, body="Server Error", content_type="text/html"),
    )
    page.goto("/reports/")

    funnel = page.locator("#figure-deal_funnel")
    retry = funnel.get_by_role("button", name="Try again")
    expect(retry).to_be_visible()
    expect(funnel.get_by_role("alert")).to_contain_text("could not be loaded")
    expect(funnel.get_by_text("Computing…")).to_be_hidden()
    expect(funnel).to_have_attribute("aria-busy", "false")
    headline = page.locator("#report-tiles")
    expect(headline.get_by_role("button", name="Try again")).to_be_visible()
    # The other cards are not affected.
    expect(page.locator("#figure-lead_funnel canvas[data-chart]")).to_be_visible()

    page.unroute(card_request("deal_funnel"))
    retry.click()
    canvas = page.locator("#figure-deal_funnel canvas[data-chart]")
    expect(canvas).to_be_visible()
    expect(canvas).to_have_attribute("data-drawn", "1")
    expect(reached(page, "Proposal")).to_have_text("2")
    expect(page.locator("#figure-deal_funnel")).not_to_have_attribute("aria-busy", "false")
    expect(page.get_by_role("button", name="Try again")).to_have_count(1)  # the headline's

    page.unroute(card_request("headline"))
    page.get_by_role("button", name="Try again").click()
    expect(page.locator(".report-tiles .tile")).to_have_count(5)
    expect(page.get_by_role("button", name="Try again")).to_have_count(0)


def test_a_card_asked_after_signing_out_sends_the_page_to_log_in(page, manager, deals):
    log_in(page, manager.email, PASSWORD)
    page.route(card_request("deal_funnel"), lambda route: route.abort())
    page.goto("/reports/")
    retry = page.locator("#figure-deal_funnel").get_by_role("button", name="Try again")
    expect(retry).to_be_visible()
    expect(page.locator("[data-placeholder]")).to_have_count(1)

    page.context.clear_cookies()
    page.unroute(card_request("deal_funnel"))
    retry.click()
    # Not a log-in form inside the card: the page itself goes to log in.
    page.wait_for_url("**/login/?next=/reports/")
    expect(page.get_by_label("Password")).to_have_count(1)


def test_dashboard_draws_charts_and_filters_by_period_through_the_url(page, manager, deals):
    log_in(page, manager.email, PASSWORD)
    page.goto("/reports/")

    canvas = page.locator("#figure-deal_funnel canvas[data-chart]")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box["width"] > 0 and box["height"] > 0
    assert page.evaluate(DRAWN, canvas.element_handle())
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


def test_without_javascript_a_link_shows_every_figure_at_once(
    browser, live_server, served_requests, manager, deals
):
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        log_in(page, manager.email, PASSWORD)
        page.goto("/reports/?period=30d")
        page.get_by_role("link", name="Show every figure in one page").click()
        page.wait_for_url("**/reports/?period=30d&all=1")
        expect(page.locator("[data-placeholder]")).to_have_count(0)
        expect(page.locator("article.report-card")).to_have_count(len(CARDS))
        expect(reached(page, "Proposal")).to_have_text("1")
        # Filtering again keeps every figure in the page.
        page.get_by_label("Period", exact=True).select_option(label="Last 12 months")
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url("**/reports/?all=1&period=12m*")
        expect(reached(page, "Proposal")).to_have_text("2")
    finally:
        context.close()
        served_requests.wait_until_idle()
