"""The board in a real browser: drag a card with the mouse, or move it with the keyboard."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from lejek.pipeline.models import Deal
from lejek.pipeline.services import stage_update
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tests.factories import make_deal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def drag(page, source, target) -> None:
    """Drag with real mouse steps, as a person does (press, move in steps, release)."""
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + 10)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 5, start["y"] + 15, steps=3)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 30, steps=15)
    page.mouse.up()


def test_rep_drags_a_card_to_another_stage_and_it_stays_there(page, rep, pipeline):
    deal = make_deal(rep, pipeline, title="Packaging line", amount=Decimal("1000"))
    proposal = pipeline.stages.get(name="Proposal")
    log_in(page, rep.email, PASSWORD)
    page.goto("/deals/board/")

    card = page.locator(f"#deal-card-{deal.pk}")
    drag(page, card.locator(".card-meta"), page.locator(f"#col-cards-{proposal.pk}"))

    expect(page.locator("#board-status")).to_contain_text("moved to Proposal")
    expect(page.locator(f"#col-head-{proposal.pk}")).to_contain_text("1 deal")
    expect(page.locator(f"#col-head-{proposal.pk}")).to_contain_text("400.00")
    assert Deal.objects.get(pk=deal.pk).stage == proposal

    page.reload()
    expect(page.locator(f"#col-cards-{proposal.pk} #deal-card-{deal.pk}")).to_be_visible()


def test_gate_refusal_puts_the_dragged_card_back_and_says_what_is_missing(page, rep, pipeline):
    negotiation = pipeline.stages.get(name="Negotiation")
    stage_update(actor=None, stage=negotiation, values={"required_fields": ["amount"]})
    deal = make_deal(rep, pipeline, title="No amount yet")
    qualified = pipeline.stages.get(name="Qualified")
    log_in(page, rep.email, PASSWORD)
    page.goto("/deals/board/")

    card = page.locator(f"#deal-card-{deal.pk}")
    drag(page, card.locator(".card-meta"), page.locator(f"#col-cards-{negotiation.pk}"))

    message = "To enter Negotiation, fill in: amount."
    expect(page.locator("#board-status")).to_contain_text(message)
    expect(page.locator(f"#col-cards-{qualified.pk} #deal-card-{deal.pk}")).to_contain_text(message)
    assert Deal.objects.get(pk=deal.pk).stage == qualified


def test_keyboard_moves_a_card_with_its_move_to_control(page, rep, pipeline):
    deal = make_deal(rep, pipeline, title="Keyboard deal")
    proposal = pipeline.stages.get(name="Proposal")
    log_in(page, rep.email, PASSWORD)
    page.goto("/deals/board/")

    card = page.locator(f"#deal-card-{deal.pk}")
    card.get_by_role("link", name="Move to…").focus()
    page.keyboard.press("Enter")  # loads the form into the card, the stage select focused
    stage_select = card.get_by_label("Stage")
    expect(stage_select).to_be_focused()
    # The form arrived by htmx; faster than htmx can wire it, a keypress submits it plainly
    # (which works too, see the no-JavaScript test) and the board shows no status line.
    page.wait_for_function(
        "() => document.querySelector('form.card-move-form')?.['htmx-internal-data'] !== undefined"
    )
    stage_select.select_option(label="Proposal")
    page.keyboard.press("Tab")
    expect(card.get_by_role("button", name="Move")).to_be_focused()
    page.keyboard.press("Enter")

    moved = page.locator(f"#col-cards-{proposal.pk} #deal-card-{deal.pk}")
    expect(moved).to_be_visible()
    expect(page.locator("#board-status")).to_contain_text("moved to Proposal")
    page.reload()
    expect(moved).to_be_visible()
    assert Deal.objects.get(pk=deal.pk).stage == proposal


def test_move_to_control_works_without_javascript(browser, live_server, rep, pipeline):
    deal = make_deal(rep, pipeline, title="Plain form")
    proposal = pipeline.stages.get(name="Proposal")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, rep.email, PASSWORD)
        page.goto("/deals/board/")
        page.locator(f"#deal-card-{deal.pk}").get_by_role("link", name="Move to…").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Move “Plain form”")
        page.get_by_label("Stage").select_option(label="Proposal")
        page.get_by_role("button", name="Move").click()
        expect(page.locator(".messages")).to_contain_text("moved to Proposal")
        expect(page.locator(f"#col-cards-{proposal.pk} #deal-card-{deal.pk}")).to_be_visible()
    finally:
        context.close()


def test_board_at_phone_width_scrolls_its_columns_not_the_page(page, rep, pipeline):
    make_deal(rep, pipeline, title="Small screen", amount=Decimal("10"))
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, rep.email, PASSWORD)
    page.goto("/deals/board/")
    expect(page.get_by_role("link", name="Small screen", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_cards_title_opens_the_deal_in_a_drawer_and_escape_closes_it(page, rep, pipeline):
    deal = make_deal(rep, pipeline, title="Crane retrofit", amount=Decimal("1200"))
    log_in(page, rep.email, PASSWORD)
    page.goto("/deals/board/")

    title = page.locator(f"#deal-card-{deal.pk} .card-title a")
    title.focus()
    page.keyboard.press("Enter")  # the keyboard way; a click does the same

    drawer = page.locator("#deal-drawer")
    expect(drawer).to_be_visible()
    expect(drawer.locator("#deal-drawer-title")).to_have_text("Crane retrofit")
    expect(drawer).to_contain_text("1,200.00")
    expect(drawer.get_by_role("link", name="Open the deal")).to_have_attribute(
        "href", deal.get_absolute_url()
    )
    assert page.url.endswith("/deals/board/")  # still on the board

    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(title).to_be_focused()

    title.click()
    expect(drawer).to_be_visible()
    drawer.get_by_role("button", name="Close").click()
    expect(drawer).to_be_hidden()
