"""The board: columns, totals, cards, filters, visibility, moves and their refusals."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lejek.pipeline.board import CARDS_PER_PAGE
from lejek.pipeline.models import Deal, StageChange
from lejek.pipeline.services import deal_move_to_stage, pipeline_update, stage_update
from tests.factories import make_company, make_deal, make_task

pytestmark = pytest.mark.django_db

BOARD = reverse("deal-board")


def money(text: str) -> str:
    """Amounts are rendered with a non-breaking space between currency and number."""
    return text.replace(" ", "\xa0")


def stage(pipeline, name):
    return pipeline.stages.get(name=name)


def column(response, pipeline, name) -> str:
    """The HTML of one column (its header and cards)."""
    html = response.content.decode()
    pk = stage(pipeline, name).pk
    start = html.index(f'aria-labelledby="col-title-{pk}"')
    end = html.find("<section", start)
    return html[start : end if end != -1 else len(html)]


def card(response, deal) -> str:
    html = response.content.decode()
    start = html.index(f'id="deal-card-{deal.pk}"')
    return html[start : html.index("</li>", start)]


def age(deal, days: int) -> None:
    entered = timezone.now() - datetime.timedelta(days=days, hours=1)
    Deal.objects.filter(pk=deal.pk).update(stage_entered_at=entered)


def move(client, deal, stage, *, version=None, lost_reason="", htmx=True, board=""):
    data = {
        "stage": stage.pk,
        "version": deal.version if version is None else version,
        "lost_reason": lost_reason,
        "board": board,
    }
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("deal-board-move", args=[deal.pk]), data, headers=headers)


# Columns and totals -----------------------------------------------------------------------


def test_board_shows_one_column_per_stage_with_count_total_and_weighted(client_for, rep, pipeline):
    proposal = stage(pipeline, "Proposal")
    make_deal(rep, pipeline, title="Alpha", amount=Decimal("1000"), stage=proposal)
    make_deal(rep, pipeline, title="Beta", amount=Decimal("3000"), stage=proposal)
    response = client_for(rep).get(BOARD)
    assert response.status_code == 200
    html = column(response, pipeline, "Proposal")
    assert "2 deals" in html
    assert money("PLN 4,000.00") in html
    assert money("PLN 1,600.00") + " weighted" in html  # 40 % of 4,000
    assert "Alpha" in html and "Beta" in html
    assert "0 deals" in column(response, pipeline, "Qualified")


def test_column_totals_are_kept_apart_per_currency(client_for, rep, pipeline):
    negotiation = stage(pipeline, "Negotiation")
    make_deal(rep, pipeline, amount=Decimal("1000"), currency="PLN", stage=negotiation)
    make_deal(rep, pipeline, amount=Decimal("500"), currency="EUR", stage=negotiation)
    make_deal(rep, pipeline, amount=Decimal("250"), currency="EUR", stage=negotiation)
    html = column(client_for(rep).get(BOARD), pipeline, "Negotiation")
    assert "3 deals" in html
    assert money("PLN 1,000.00") in html
    assert money("EUR 750.00") in html
    assert money("PLN 700.00") + " weighted" in html  # 70 % of 1,000
    assert "1,750" not in html  # currencies are never added together


def test_card_shows_title_company_amount_owner_initials_and_next_open_task(
    client_for, rep, pipeline
):
    company = make_company(rep, name="Młyny Łódzkie")
    deal = make_deal(rep, pipeline, title="Packaging line", company=company, amount=Decimal("9"))
    later = timezone.localdate() + datetime.timedelta(days=9)
    sooner = timezone.localdate() + datetime.timedelta(days=2)
    make_task(rep, deal, title="Later", due_date=later)
    make_task(rep, deal, title="Sooner", due_date=sooner)
    html = card(client_for(rep).get(BOARD), deal)
    assert "Packaging line" in html
    assert "Młyny Łódzkie" in html
    assert money("PLN 9.00") in html
    assert ">RR<" in html  # Rita Rep's initials
    assert f'datetime="{sooner.isoformat()}"' in html
    assert "task overdue" not in html
    assert "0 days in stage" in html


def test_rotting_card_is_red_and_says_so_in_words(client_for, rep, pipeline):
    pipeline_update(actor=None, pipeline=pipeline, values={"rotting_days": 10})
    fresh = make_deal(rep, pipeline, title="Fresh")
    stale = make_deal(rep, pipeline, title="Stale")
    age(fresh, 10)
    age(stale, 12)
    response = client_for(rep).get(BOARD)
    stale_html, fresh_html = card(response, stale), card(response, fresh)
    assert "is-rotting" in stale_html and "rotting 12 d" in stale_html
    assert "is-rotting" not in fresh_html and "10 days in stage" in fresh_html
    assert "1 rotting" in column(response, pipeline, "Qualified")


def test_pipeline_without_rotting_days_never_rots(client_for, rep, pipeline):
    pipeline_update(actor=None, pipeline=pipeline, values={"rotting_days": None})
    deal = make_deal(rep, pipeline)
    age(deal, 400)
    html = card(client_for(rep).get(BOARD), deal)
    assert "rotting" not in html and "400 days in stage" in html


def test_overdue_next_task_is_said_in_words(client_for, rep, pipeline):
    deal = make_deal(rep, pipeline, title="Late")
    make_task(rep, deal, due_date=timezone.localdate() - datetime.timedelta(days=1))
    html = card(client_for(rep).get(BOARD), deal)
    assert "task overdue" in html and "is-overdue" in html


def test_done_tasks_do_not_count_as_next_task(client_for, rep, pipeline):
    deal = make_deal(rep, pipeline)
    task = make_task(rep, deal, due_date=timezone.localdate() - datetime.timedelta(days=3))
    type(task).objects.filter(pk=task.pk).update(done_at=timezone.now())
    html = card(client_for(rep).get(BOARD), deal)
    assert "No open task" in html and "task overdue" not in html


def test_closed_columns_are_collapsed_and_hold_only_recently_closed_deals(
    client_for, rep, pipeline
):
    won = stage(pipeline, "Won")
    recent = make_deal(rep, pipeline, title="Recent win")
    old = make_deal(rep, pipeline, title="Old win")
    deal_move_to_stage(actor=rep, deal=recent, stage=won)
    deal_move_to_stage(
        actor=rep, deal=old, stage=won, when=timezone.now() - datetime.timedelta(days=45)
    )
    client = client_for(rep)
    html = column(client.get(BOARD), pipeline, "Won")
    assert "1 deal" in html and "Show deals" in html
    assert "Recent win" not in html  # collapsed until asked for
    shown = client.get(
        reverse("deal-board-column", args=[won.pk]),
        {"pipeline": pipeline.pk, "offset": 0},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "Recent win" in shown and "Old win" not in shown


def test_column_shows_a_first_page_and_the_rest_on_show_more(client_for, rep, pipeline):
    for i in range(CARDS_PER_PAGE + 5):
        make_deal(rep, pipeline, title=f"Bulk {i}")
    client = client_for(rep)
    response = client.get(BOARD)
    html = column(response, pipeline, "Qualified")
    assert html.count('id="deal-card-') == CARDS_PER_PAGE
    assert f"{CARDS_PER_PAGE + 5} deals" in html and "Show more" in html
    qualified = stage(pipeline, "Qualified")
    more = client.get(
        reverse("deal-board-column", args=[qualified.pk]),
        {"pipeline": pipeline.pk, "offset": CARDS_PER_PAGE},
        headers={"HX-Request": "true"},
    )
    assert more.status_code == 200
    assert more.content.decode().count('id="deal-card-') == 5
    assert "Show more" not in more.content.decode()
    assert "Bulk 0" in more.content.decode()  # the oldest arrivals come last


def test_pipeline_switcher_shows_the_chosen_pipeline(client_for, admin, pipeline):
    from lejek.pipeline.services import pipeline_create

    renewals = pipeline_create(
        actor=admin, name="Renewals", stages=[{"name": "Due"}, {"name": "Renewed", "is_won": True}]
    )
    make_deal(admin, renewals, title="Renewal 2027")
    make_deal(admin, pipeline, title="New logo")
    client = client_for(admin)
    default = client.get(BOARD).content.decode()
    assert "New logo" in default and "Renewal 2027" not in default
    assert "Board: New business" in default
    chosen = client.get(BOARD, {"pipeline": renewals.pk}).content.decode()
    assert "Renewal 2027" in chosen and "New logo" not in chosen
    assert f'<option value="{renewals.pk}" selected>' in chosen


def test_board_without_pipelines_says_what_to_do(client_for, admin):
    response = client_for(admin).get(BOARD)
    assert response.status_code == 200
    assert "No pipeline yet" in response.content.decode()


# Filters ----------------------------------------------------------------------------------


def test_filters_narrow_the_cards_and_totals(client_for, manager, rep, teammate, pipeline):
    mine = make_deal(manager, pipeline, title="Managers deal", amount=Decimal("100"))
    ritas = make_deal(rep, pipeline, title="Ritas deal", amount=Decimal("200"))
    toms = make_deal(
        teammate,
        pipeline,
        title="Toms deal",
        amount=Decimal("300"),
        expected_close_date=datetime.date(2027, 3, 1),
    )
    client = client_for(manager)

    def titles(**params):
        html = client.get(BOARD, params).content.decode()
        return {d.title for d in (mine, ritas, toms) if d.title in html}, html

    assert titles()[0] == {"Managers deal", "Ritas deal", "Toms deal"}
    shown, html = titles(owner="me")
    assert shown == {"Managers deal"} and "Owner: me" in html
    assert money("PLN 100.00") in column(client.get(BOARD, {"owner": "me"}), pipeline, "Qualified")
    assert titles(owner=str(rep.pk))[0] == {"Ritas deal"}
    assert titles(q="toms")[0] == {"Toms deal"}
    assert titles(close_from="2027-01-01", close_to="2027-12-31")[0] == {"Toms deal"}
    Deal.objects.filter(pk=ritas.pk).update(owner=None)
    assert titles(owner="unassigned")[0] == {"Ritas deal"}


def test_team_and_source_filters(client_for, admin, rep, other_rep, north, pipeline):
    from lejek.leads.models import Source

    web = Source.objects.create(name="Web form")
    make_deal(rep, pipeline, title="North deal", source=web)
    make_deal(other_rep, pipeline, title="South deal")
    client = client_for(admin)
    by_team = client.get(BOARD, {"team": north.pk}).content.decode()
    assert "North deal" in by_team and "South deal" not in by_team
    by_source = client.get(BOARD, {"source": web.pk}).content.decode()
    assert "North deal" in by_source and "South deal" not in by_source


# Visibility -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("admin", {"Rita", "Tom", "Oskar"}),
        ("manager", {"Rita", "Tom"}),
        ("rep", {"Rita"}),
        ("other_rep", {"Oskar"}),
        ("marketer", {"Rita", "Tom", "Oskar"}),
    ],
)
def test_board_shows_only_what_each_persona_may_see(
    request, client_for, rep, teammate, other_rep, pipeline, persona, sees
):
    make_deal(rep, pipeline, title="Rita's deal", amount=Decimal("10"))
    make_deal(teammate, pipeline, title="Tom's deal", amount=Decimal("20"))
    make_deal(other_rep, pipeline, title="Oskar's deal", amount=Decimal("40"))
    user = request.getfixturevalue(persona)
    html = client_for(user).get(BOARD).content.decode()
    shown = {name for name in ("Rita", "Tom", "Oskar") if f"{name}&#x27;s deal" in html}
    assert shown == sees
    assert f"{len(sees)} deal" in column_text(html, pipeline)


def column_text(html: str, pipeline) -> str:
    pk = stage(pipeline, "Qualified").pk
    start = html.index(f'id="col-head-{pk}"')
    return html[start : html.index("</header>", start)]


def test_marketing_sees_the_board_without_move_controls(client_for, marketer, rep, pipeline):
    make_deal(rep, pipeline, title="Read only")
    html = client_for(marketer).get(BOARD).content.decode()
    assert "Read only" in html and "Move to…" not in html


# Query count ------------------------------------------------------------------------------


def board_queries(client, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(BOARD, params or {})
    assert response.status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_the_number_of_deals(client_for, manager, rep, pipeline):
    stages = list(pipeline.stages.filter(is_won=False, is_lost=False))
    client = client_for(manager)

    def add(n):
        for i in range(n):
            deal = make_deal(rep, pipeline, stage=stages[i % len(stages)], amount=Decimal(i))
            if i % 3 == 0:
                make_task(rep, deal, due_date=timezone.localdate())

    add(10)
    small = board_queries(client)
    add(190)
    large = board_queries(client)
    assert small == large
    assert board_queries(client, {"owner": "me", "q": "deal"}) <= large + 1


# Moving cards -----------------------------------------------------------------------------


def test_moving_a_card_records_the_stage_change_and_returns_new_headers(client_for, rep, pipeline):
    deal = make_deal(rep, pipeline, title="Mover", amount=Decimal("1000"))
    proposal = stage(pipeline, "Proposal")
    response = move(client_for(rep), deal, proposal)
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == proposal and deal.version == 2
    change = StageChange.objects.filter(deal=deal).latest("id")
    assert change.to_stage == proposal and change.actor == rep
    html = response.content.decode()
    assert f'id="col-head-{proposal.pk}" class="board-column-head" hx-swap-oob="true"' in html
    assert money("PLN 400.00") + " weighted" in html
    assert 'data-version="2"' in html
    assert "“Mover” moved to Proposal." in html
    event = json.loads(response["HX-Trigger-After-Swap"])["lejek:moved"]
    assert event == {"deal": deal.pk, "stage": proposal.pk}


def test_headers_after_a_move_keep_the_board_filters(client_for, rep, pipeline):
    deal = make_deal(rep, pipeline, title="Filtered", amount=Decimal("100"))
    make_deal(
        rep, pipeline, title="Other", amount=Decimal("5000"), stage=stage(pipeline, "Proposal")
    )
    response = move(
        client_for(rep),
        deal,
        stage(pipeline, "Proposal"),
        board=f"pipeline={pipeline.pk}&q=filtered",
    )
    html = response.content.decode()
    assert money("PLN 100.00") in html and money("PLN 5,100.00") not in html


def test_a_move_without_javascript_redirects_back_to_the_board_with_a_message(
    client_for, rep, pipeline
):
    deal = make_deal(rep, pipeline, title="No script")
    client = client_for(rep)
    response = move(client, deal, stage(pipeline, "Proposal"), htmx=False, board="owner=me&x=1")
    assert response.status_code == 302
    assert response["Location"] == f"{BOARD}?owner=me"
    page = client.get(response["Location"]).content.decode()
    assert "“No script” moved to Proposal." in page
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal"


def test_conflicting_move_is_refused_with_a_message_and_the_card_goes_back(
    client_for, rep, teammate, manager, pipeline
):
    deal = make_deal(rep, pipeline, title="Contested")
    stale_version = deal.version
    deal_move_to_stage(actor=manager, deal=deal, stage=stage(pipeline, "Proposal"))
    response = move(client_for(rep), deal, stage(pipeline, "Negotiation"), version=stale_version)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else changed this record" in html
    assert json.loads(response["HX-Trigger"])["lejek:moveRefused"]["deal"] == deal.pk
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal"
    assert f'<input type="hidden" name="version" value="{deal.version}">' in html


def test_gate_refusal_names_the_missing_fields_on_the_card(client_for, rep, pipeline):
    negotiation = stage(pipeline, "Negotiation")
    stage_update(
        actor=None,
        stage=negotiation,
        values={"required_fields": ["amount", "expected_close_date"]},
    )
    deal = make_deal(rep, pipeline, title="Ungated")
    response = move(client_for(rep), deal, negotiation)
    html = response.content.decode()
    assert "To enter Negotiation, fill in: amount, expected close date." in html
    assert 'class="board-status is-error"' in html
    assert "lejek:moveRefused" in response["HX-Trigger"]
    deal.refresh_from_db()
    assert deal.stage.name == "Qualified"


def test_moving_to_lost_asks_for_the_reason_next_to_the_field(client_for, rep, pipeline):
    deal = make_deal(rep, pipeline)
    lost = stage(pipeline, "Lost")
    client = client_for(rep)
    html = move(client, deal, lost).content.decode()
    assert "Say why the deal was lost." in html
    assert "needs-reason" in html and f'<option value="{lost.pk}" data-lost selected>' in html
    deal.refresh_from_db()
    moved = move(client, deal, lost, lost_reason="Budget cut")
    assert "lejek:moved" in moved["HX-Trigger-After-Swap"]
    deal.refresh_from_db()
    assert deal.stage == lost and deal.lost_reason == "Budget cut"


def test_reopening_a_lost_deal_from_the_board_is_recorded(client_for, rep, pipeline):
    from lejek.core.events import events_for

    deal = make_deal(rep, pipeline, title="Comeback")
    deal_move_to_stage(actor=rep, deal=deal, stage=stage(pipeline, "Lost"), lost_reason="Price")
    deal.refresh_from_db()
    response = move(client_for(rep), deal, stage(pipeline, "Proposal"))
    assert "lejek:moved" in response["HX-Trigger-After-Swap"]
    deal.refresh_from_db()
    assert deal.closed_at is None and deal.lost_reason == ""
    assert events_for(deal).filter(verb="deal.reopened").count() == 1
    page = client_for(rep).get(deal.get_absolute_url()).content.decode()
    assert "Reopened" in page


def test_people_cannot_move_deals_they_cannot_see_or_edit(
    client_for, rep, other_rep, marketer, pipeline
):
    deal = make_deal(rep, pipeline)
    assert move(client_for(other_rep), deal, stage(pipeline, "Proposal")).status_code == 404
    assert move(client_for(marketer), deal, stage(pipeline, "Proposal")).status_code == 403
    deal.refresh_from_db()
    assert deal.stage.name == "Qualified"


def test_moving_to_a_stage_of_another_pipeline_is_refused(client_for, admin, rep, pipeline):
    from lejek.pipeline.services import pipeline_create

    other = pipeline_create(actor=admin, name="Renewals", stages=[{"name": "Due"}])
    deal = make_deal(rep, pipeline)
    response = move(client_for(rep), deal, other.stages.get())
    assert "lejek:moveRefused" in response["HX-Trigger"]
    deal.refresh_from_db()
    assert deal.stage.pipeline == pipeline


def test_deal_list_links_to_the_board(client_for, rep, pipeline):
    html = client_for(rep).get(reverse("deal-list")).content.decode()
    assert f'href="{BOARD}"' in html


def test_move_to_form_loads_into_the_card_with_the_current_stage_chosen(client_for, rep, pipeline):
    deal = make_deal(rep, pipeline, stage=stage(pipeline, "Proposal"))
    url = reverse("deal-board-move", args=[deal.pk])
    response = client_for(rep).get(url, {"owner": "me"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<form" in html and "<html" not in html
    assert f'<option value="{stage(pipeline, "Proposal").pk}" selected>' in html
    assert 'name="board" value="owner=me"' in html
    assert f'name="version" value="{deal.version}"' in html


def test_move_to_form_is_a_page_of_its_own_without_javascript(client_for, rep, pipeline):
    deal = make_deal(rep, pipeline, title="Standalone")
    response = client_for(rep).get(reverse("deal-board-move", args=[deal.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Move “Standalone”" in html and "Back to the board" in html


def test_marketing_gets_no_move_form(client_for, marketer, rep, pipeline):
    deal = make_deal(rep, pipeline)
    response = client_for(marketer).get(reverse("deal-board-move", args=[deal.pk]))
    assert response.status_code == 403
