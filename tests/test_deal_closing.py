"""Closing a deal: won with its final amount and date, lost with a reason from the list."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from lejek.activities.models import Activity
from lejek.core.errors import ConflictError
from lejek.core.models import Event, Reason
from lejek.core.reasons import reason_create, reason_update
from lejek.pipeline.closing import deal_lose, deal_win
from lejek.pipeline.customers import customer_companies
from lejek.pipeline.models import Deal, StageChange
from tests.factories import make_company, make_deal, set_language

pytestmark = pytest.mark.django_db


@pytest.fixture
def reasons(manager):
    for label in ("Price", "Competitor", "No budget"):
        reason_create(actor=manager, kind=Reason.Kind.DEAL_LOST, label=label)


def test_winning_records_amount_date_stage_history_and_a_customer(rep, pipeline):
    created = timezone.now() - datetime.timedelta(days=40)
    acme = make_company(rep, name="Acme")
    deal = make_deal(rep, pipeline, company=acme, amount=Decimal("1000"), when=created)
    day = timezone.localdate() - datetime.timedelta(days=5)
    deal_win(actor=rep, deal=deal, amount=Decimal("1200.50"), closed_on=day)
    deal = Deal.objects.get(pk=deal.pk)
    assert deal.stage.is_won
    assert deal.amount == Decimal("1200.50")
    assert timezone.localtime(deal.closed_at).date() == day
    last_move = StageChange.objects.filter(deal=deal).last()
    assert last_move.to_stage.is_won
    assert timezone.localtime(last_move.changed_at).date() == day
    event = Event.objects.get(verb="deal.won", object_id=deal.pk)
    assert event.after == {"amount": "1200.50", "currency": "PLN", "closed_on": day.isoformat()}
    assert list(customer_companies(rep)) == [acme]


@pytest.mark.parametrize(
    ("amount", "days_ahead", "field"),
    [(None, 0, "amount"), (Decimal("5"), 1, "closed_on"), (Decimal("5"), -400, "closed_on")],
)
def test_winning_refuses_missing_amount_and_impossible_dates(
    rep, pipeline, amount, days_ahead, field
):
    deal = make_deal(rep, pipeline)
    day = timezone.localdate() + datetime.timedelta(days=days_ahead)
    with pytest.raises(ValidationError) as refused:
        deal_win(actor=rep, deal=deal, amount=amount, closed_on=day)
    assert field in refused.value.message_dict
    assert not Deal.objects.get(pk=deal.pk).stage.is_closed


def test_losing_takes_a_reason_from_the_list_and_keeps_the_comment(rep, pipeline, reasons):
    deal = make_deal(rep, pipeline)
    with pytest.raises(ValidationError):
        deal_lose(actor=rep, deal=deal, reason="Bad weather")
    deal_lose(actor=rep, deal=deal, reason="Price", comment="Went with a cheaper offer.")
    deal = Deal.objects.get(pk=deal.pk)
    assert deal.stage.is_lost
    assert deal.lost_reason == "Price"
    note = Activity.objects.get(deal=deal)
    assert note.body == "Went with a cheaper offer."
    assert Event.objects.get(verb="deal.lost").after["reason"] == "Price"


def test_without_a_list_any_reason_is_accepted_but_not_none(rep, pipeline):
    deal = make_deal(rep, pipeline)
    with pytest.raises(ValidationError):
        deal_lose(actor=rep, deal=deal, reason="  ")
    deal_lose(actor=rep, deal=deal, reason="Project cancelled")
    assert Deal.objects.get(pk=deal.pk).lost_reason == "Project cancelled"


def test_an_inactive_reason_is_no_longer_offered(rep, manager, pipeline, reasons):
    price = Reason.objects.get(label="Price")
    reason_update(actor=manager, reason=price, label="Price", active=False)
    with pytest.raises(ValidationError):
        deal_lose(actor=rep, deal=make_deal(rep, pipeline), reason="Price")


def test_closing_from_a_stale_page_or_someone_elses_deal_is_refused(rep, other_rep, pipeline):
    deal = make_deal(rep, pipeline, amount=Decimal("10"))
    with pytest.raises(ConflictError):
        deal_win(
            actor=rep,
            deal=deal,
            amount=None,
            closed_on=timezone.localdate(),
            expected_version=deal.version - 1,
        )
    with pytest.raises(PermissionDenied):
        deal_lose(actor=other_rep, deal=deal, reason="Price")
    assert not Deal.objects.get(pk=deal.pk).stage.is_closed


def test_win_dialog_takes_a_polish_amount(client_for, rep, pipeline):
    deal = make_deal(rep, pipeline)
    set_language(rep, "pl")
    client = client_for(rep)
    page = client.get(reverse("deal-win", args=[deal.pk]))
    assert page.status_code == 200
    answer = client.post(
        reverse("deal-win", args=[deal.pk]),
        {
            "amount": "12 345,50",
            "closed_on": timezone.localdate().isoformat(),
            "version": deal.version,
        },
    )
    assert answer.status_code == 302
    assert Deal.objects.get(pk=deal.pk).amount == Decimal("12345.50")


def test_lose_dialog_offers_the_list_and_reports_errors(client_for, rep, pipeline, reasons):
    deal = make_deal(rep, pipeline)
    client = client_for(rep)
    page = client.get(reverse("deal-lose", args=[deal.pk]))
    assert '<option value="Competitor">' in page.text
    refused = client.post(
        reverse("deal-lose", args=[deal.pk]), {"reason": "", "version": deal.version}
    )
    assert refused.status_code == 400
    assert not Deal.objects.get(pk=deal.pk).stage.is_closed
    client.post(
        reverse("deal-lose", args=[deal.pk]), {"reason": "Competitor", "version": deal.version}
    )
    assert Deal.objects.get(pk=deal.pk).lost_reason == "Competitor"


def test_managers_keep_the_lists_and_reps_may_not(client_for, manager, rep):
    client = client_for(manager)
    client.post(reverse("reason-list"), {"kind": "deal_lost", "label": "Price"})
    duplicate = client.post(reverse("reason-list"), {"kind": "deal_lost", "label": "Price"})
    assert duplicate.status_code == 400
    assert "already on the list" in duplicate.text
    assert Reason.objects.count() == 1
    assert client_for(rep).get(reverse("reason-list")).status_code == 403
    with pytest.raises(PermissionDenied):
        reason_create(actor=rep, kind=Reason.Kind.DEAL_LOST, label="Timing")


def test_every_way_to_won_goes_through_the_win_dialog(client_for, rep, pipeline):
    deal = make_deal(rep, pipeline, amount=Decimal("10"))
    won = pipeline.stages.get(is_won=True)
    client = client_for(rep)
    data = {"stage": won.pk, "version": deal.version}
    from_page = client.post(reverse("deal-move", args=[deal.pk]), data)
    assert from_page["Location"] == reverse("deal-win", args=[deal.pk])
    from_board = client.post(
        reverse("deal-board-move", args=[deal.pk]), data, headers={"HX-Request": "true"}
    )
    assert from_board["HX-Redirect"] == reverse("deal-win", args=[deal.pk])
    assert not Deal.objects.get(pk=deal.pk).stage.is_won


def test_the_stage_control_keeps_to_the_list_of_lost_reasons(client_for, rep, pipeline, reasons):
    deal = make_deal(rep, pipeline)
    lost = pipeline.stages.get(is_lost=True)
    client = client_for(rep)
    page = client.get(deal.get_absolute_url())
    assert '<datalist id="lost-reasons"><option value="Price">' in page.text
    refused = client.post(
        reverse("deal-move", args=[deal.pk]),
        {"stage": lost.pk, "version": deal.version, "lost_reason": "Bad weather"},
    )
    assert "Choose one of the reasons on the list." in refused.text
    assert not Deal.objects.get(pk=deal.pk).stage.is_lost
