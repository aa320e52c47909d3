"""Stage gates: a deal enters a stage only with the fields that stage requires."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from lejek.core.models import CustomField
from lejek.pipeline.models import Deal, StageChange
from lejek.pipeline.services import deal_create, deal_move_to_stage, deal_update, stage_update
from tests.factories import make_company, make_deal

pytestmark = pytest.mark.django_db


def stage(pipeline, name):
    return pipeline.stages.get(name=name)


def gate(pipeline, name, fields):
    return stage_update(actor=None, stage=stage(pipeline, name), values={"required_fields": fields})


def test_deal_cannot_enter_negotiation_without_amount_and_close_date(rep, pipeline):
    negotiation = gate(pipeline, "Negotiation", ["amount", "expected_close_date"])
    deal = make_deal(rep, pipeline)
    with pytest.raises(ValidationError) as refused:
        deal_move_to_stage(actor=rep, deal=deal, stage=negotiation)
    assert refused.value.message_dict == {
        "stage": ["To enter Negotiation, fill in: amount, expected close date."]
    }
    stored = Deal.objects.get(pk=deal.pk)
    assert stored.stage.name == "Qualified" and stored.version == 1
    assert StageChange.objects.filter(deal=deal).count() == 1


def test_message_names_only_what_is_still_missing(rep, pipeline):
    negotiation = gate(pipeline, "Negotiation", ["amount", "expected_close_date"])
    deal = make_deal(rep, pipeline, amount=Decimal("100"))
    with pytest.raises(ValidationError) as refused:
        deal_move_to_stage(actor=rep, deal=deal, stage=negotiation)
    assert refused.value.messages == ["To enter Negotiation, fill in: expected close date."]


def test_deal_with_the_fields_filled_in_enters_the_gated_stage(rep, pipeline):
    negotiation = gate(pipeline, "Negotiation", ["amount", "expected_close_date"])
    deal = make_deal(
        rep, pipeline, amount=Decimal("100"), expected_close_date=datetime.date(2027, 1, 31)
    )
    change = deal_move_to_stage(actor=rep, deal=deal, stage=negotiation)
    assert change is not None and change.to_stage == negotiation


def test_amount_of_zero_counts_as_filled_in(rep, pipeline):
    proposal = gate(pipeline, "Proposal", ["amount"])
    deal = make_deal(rep, pipeline, amount=Decimal("0"))
    assert deal_move_to_stage(actor=rep, deal=deal, stage=proposal) is not None


def test_every_kind_of_required_field_is_checked(rep, pipeline):
    fields = ["contact", "company", "lead", "source", "owner"]
    proposal = gate(pipeline, "Proposal", fields)
    deal = make_deal(rep, pipeline)
    Deal.objects.filter(pk=deal.pk).update(owner=None)
    deal.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        deal_move_to_stage(actor=None, deal=deal, stage=proposal)
    assert refused.value.messages == [
        "To enter Proposal, fill in: contact, company, lead, source, owner."
    ]


def test_custom_fields_can_be_required_and_are_named_by_label(rep, pipeline):
    CustomField.objects.create(entity="deal", key="po_number", label="PO number", type="text")
    proposal = gate(pipeline, "Proposal", ["custom:po_number"])
    deal = make_deal(rep, pipeline)
    with pytest.raises(ValidationError) as refused:
        deal_move_to_stage(actor=rep, deal=deal, stage=proposal)
    assert refused.value.messages == ["To enter Proposal, fill in: PO number."]
    deal = deal_update(actor=rep, deal=deal, values={"custom": {"po_number": "PO-7"}})
    assert deal_move_to_stage(actor=rep, deal=deal, stage=proposal) is not None


def test_deal_create_in_a_gated_stage_is_refused_and_nothing_is_written(rep, pipeline):
    negotiation = gate(pipeline, "Negotiation", ["amount"])
    with pytest.raises(ValidationError) as refused:
        deal_create(actor=rep, title="Straight in", pipeline=pipeline, stage=negotiation)
    assert refused.value.messages == ["To enter Negotiation, fill in: amount."]
    assert not Deal.objects.filter(title="Straight in").exists()


def test_deal_create_meets_an_owner_gate_with_the_rep_who_creates_it(rep, pipeline):
    qualified = gate(pipeline, "Qualified", ["owner"])
    deal = deal_create(actor=rep, title="Mine", pipeline=pipeline, stage=qualified)
    assert deal.owner == rep


def test_import_style_call_with_when_still_honours_gates(rep, pipeline):
    proposal = gate(pipeline, "Proposal", ["company"])
    company = make_company(rep)
    when = datetime.datetime(2026, 1, 5, 9, tzinfo=datetime.UTC)
    deal = deal_create(
        actor=rep, when=when, title="Imported", pipeline=pipeline, stage=proposal, company=company
    )
    assert deal.stage_entered_at == when
    with pytest.raises(ValidationError):
        deal_create(actor=rep, when=when, title="No company", pipeline=pipeline, stage=proposal)


def test_gates_apply_on_entering_not_while_sitting_in_the_stage(rep, pipeline):
    deal = make_deal(rep, pipeline, amount=Decimal("5"), stage=stage(pipeline, "Proposal"))
    gate(pipeline, "Proposal", ["amount", "contact"])
    deal = deal_update(actor=rep, deal=deal, values={"title": "Still here"})
    assert deal.stage.name == "Proposal"
    assert deal.contact is None


def test_gate_also_guards_reopening_a_lost_deal(rep, pipeline):
    proposal = gate(pipeline, "Proposal", ["amount"])
    deal = make_deal(rep, pipeline)
    deal_move_to_stage(actor=rep, deal=deal, stage=stage(pipeline, "Lost"), lost_reason="No budget")
    with pytest.raises(ValidationError):
        deal_move_to_stage(actor=rep, deal=deal, stage=proposal)


def test_deal_page_shows_the_gate_refusal_next_to_the_stage_control(client_for, rep, pipeline):
    negotiation = gate(pipeline, "Negotiation", ["amount", "expected_close_date"])
    deal = make_deal(rep, pipeline)
    response = client_for(rep).post(
        reverse("deal-move", args=[deal.pk]), {"stage": negotiation.pk, "version": deal.version}
    )
    html = response.content.decode()
    control = html[
        html.index('class="stage-control') : html.index(
            "</form>", html.index('class="stage-control')
        )
    ]
    assert "To enter Negotiation, fill in: amount, expected close date." in control


def test_deal_page_tells_which_stages_have_requirements(client_for, rep, pipeline):
    gate(pipeline, "Negotiation", ["amount", "expected_close_date"])
    deal = make_deal(rep, pipeline)
    html = client_for(rep).get(deal.get_absolute_url()).content.decode()
    assert "Negotiation needs: amount, expected close date" in html


def test_new_deal_form_shows_the_gate_refusal(client_for, rep, pipeline):
    negotiation = gate(pipeline, "Negotiation", ["amount"])
    response = client_for(rep).post(
        reverse("deal-create"),
        {"title": "Gated", "pipeline": pipeline.pk, "stage": negotiation.pk, "currency": "PLN"},
    )
    assert response.status_code == 200
    assert "To enter Negotiation, fill in: amount." in response.content.decode()
    assert not Deal.objects.filter(title="Gated").exists()


def test_unknown_required_field_is_refused(pipeline):
    with pytest.raises(ValidationError) as refused:
        gate(pipeline, "Proposal", ["amount", "shoe_size"])
    assert "shoe_size" in refused.value.message_dict["required_fields"][0]


def test_api_move_into_a_gated_stage_is_refused_with_the_missing_fields(rep, pipeline):
    from tests.test_api_support import Api

    negotiation = gate(pipeline, "Negotiation", ["amount", "expected_close_date"])
    deal = make_deal(rep, pipeline)
    response = Api(rep).post(f"/deals/{deal.pk}/move", {"stage": negotiation.pk, "version": 1})
    assert 400 <= response.status_code < 500
    assert (
        "To enter Negotiation, fill in: amount, expected close date." in response.content.decode()
    )
    assert Deal.objects.get(pk=deal.pk).stage.name == "Qualified"
