"""Settings → Pipelines: admins shape pipelines and stages; every change leaves an Event."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from lejek.core.events import events_for
from lejek.core.models import Event
from lejek.pipeline.models import Pipeline, Stage
from lejek.pipeline.services import (
    deal_move_to_stage,
    pipeline_create,
    pipeline_update,
    stage_create,
    stage_delete,
    stage_move,
    stage_update,
)
from tests.factories import make_deal

pytestmark = pytest.mark.django_db


def names(pipeline) -> list[str]:
    return list(pipeline.stages.order_by("position").values_list("name", flat=True))


# Services ---------------------------------------------------------------------------------


def test_pipeline_update_renames_sets_rotting_and_records_an_event(admin, pipeline):
    pipeline_update(actor=admin, pipeline=pipeline, values={"name": "Sales", "rotting_days": 14})
    pipeline.refresh_from_db()
    assert (pipeline.name, pipeline.rotting_days) == ("Sales", 14)
    event = events_for(pipeline).get(verb="pipeline.updated")
    assert event.actor == admin
    assert event.before == {"name": "New business", "rotting_days": 30}
    assert event.after == {"name": "Sales", "rotting_days": 14}


def test_making_a_pipeline_default_takes_the_flag_from_the_old_one(admin, pipeline):
    renewals = pipeline_create(actor=admin, name="Renewals", stages=[{"name": "Due"}])
    pipeline_update(actor=admin, pipeline=renewals, values={"is_default": True})
    assert list(Pipeline.objects.filter(is_default=True)) == [renewals]


def test_the_default_pipeline_cannot_just_stop_being_default(admin, pipeline):
    with pytest.raises(ValidationError) as refused:
        pipeline_update(actor=admin, pipeline=pipeline, values={"is_default": False})
    assert "is_default" in refused.value.message_dict
    assert Pipeline.objects.get(pk=pipeline.pk).is_default


def test_only_admins_change_pipelines_and_stages(manager, rep, pipeline):
    qualified = pipeline.stages.get(name="Qualified")
    for person in (manager, rep):
        with pytest.raises(PermissionDenied):
            pipeline_update(actor=person, pipeline=pipeline, values={"name": "Mine"})
        with pytest.raises(PermissionDenied):
            stage_create(actor=person, pipeline=pipeline, values={"name": "Demo"})
        with pytest.raises(PermissionDenied):
            stage_update(actor=person, stage=qualified, values={"probability": 50})
        with pytest.raises(PermissionDenied):
            stage_move(actor=person, stage=qualified, position=2)
        with pytest.raises(PermissionDenied):
            stage_delete(actor=person, stage=qualified)
    assert names(pipeline)[0] == "Qualified"


def test_new_open_stage_goes_before_won_and_lost(admin, pipeline):
    stage = stage_create(
        actor=admin,
        pipeline=pipeline,
        values={"name": "Contract", "probability": 90, "required_fields": ["amount"]},
    )
    assert names(pipeline) == ["Qualified", "Proposal", "Negotiation", "Contract", "Won", "Lost"]
    assert stage.required_fields == ["amount"]
    assert events_for(stage).get(verb="stage.created").after["name"] == "Contract"


def test_new_stage_at_a_given_position(admin, pipeline):
    stage_create(actor=admin, pipeline=pipeline, values={"name": "Lead in"}, position=0)
    assert names(pipeline)[:2] == ["Lead in", "Qualified"]
    positions = list(pipeline.stages.order_by("position").values_list("position", flat=True))
    assert positions == list(range(6))


def test_stage_move_reorders_and_records_an_event(admin, pipeline):
    negotiation = pipeline.stages.get(name="Negotiation")
    stage_move(actor=admin, stage=negotiation, position=0)
    assert names(pipeline) == ["Negotiation", "Qualified", "Proposal", "Won", "Lost"]
    event = events_for(negotiation).get(verb="stage.moved")
    assert (event.before, event.after) == ({"position": 2}, {"position": 0})


def test_stage_update_changes_name_probability_and_gates(admin, pipeline):
    proposal = pipeline.stages.get(name="Proposal")
    stage_update(
        actor=admin,
        stage=proposal,
        values={"name": "Offer", "probability": 55, "required_fields": ["amount", "amount"]},
    )
    proposal.refresh_from_db()
    assert (proposal.name, proposal.probability, proposal.required_fields) == (
        "Offer",
        55,
        ["amount"],
    )
    assert events_for(proposal).get(verb="stage.updated").after["probability"] == 55


def test_probability_over_100_is_refused(admin, pipeline):
    with pytest.raises(ValidationError) as refused:
        stage_update(
            actor=admin, stage=pipeline.stages.get(name="Proposal"), values={"probability": 120}
        )
    assert "probability" in refused.value.message_dict


def test_won_flag_cannot_flip_under_deals_sitting_in_the_stage(admin, rep, pipeline):
    proposal = pipeline.stages.get(name="Proposal")
    make_deal(rep, pipeline, stage=proposal)
    with pytest.raises(ValidationError) as refused:
        stage_update(actor=admin, stage=proposal, values={"is_won": True})
    assert "Move the deals out" in refused.value.messages[0]


def test_stage_with_deals_in_it_is_not_deleted_and_says_why(admin, rep, pipeline):
    proposal = pipeline.stages.get(name="Proposal")
    make_deal(rep, pipeline, stage=proposal)
    make_deal(rep, pipeline, stage=proposal)
    with pytest.raises(ValidationError) as refused:
        stage_delete(actor=admin, stage=proposal)
    assert refused.value.messages == [
        "2 deals are in this stage. Move them to another stage first."
    ]
    assert Stage.objects.filter(pk=proposal.pk).exists()


def test_stage_in_the_history_of_a_deal_is_kept(admin, rep, pipeline):
    proposal = pipeline.stages.get(name="Proposal")
    deal = make_deal(rep, pipeline, stage=proposal)
    deal_move_to_stage(actor=rep, deal=deal, stage=pipeline.stages.get(name="Negotiation"))
    with pytest.raises(ValidationError) as refused:
        stage_delete(actor=admin, stage=proposal)
    assert "passed through this stage" in refused.value.messages[0]


def test_unused_stage_is_deleted_and_the_rest_renumbered(admin, pipeline):
    extra = stage_create(actor=admin, pipeline=pipeline, values={"name": "Demo"}, position=1)
    extra_pk = extra.pk
    stage_delete(actor=admin, stage=extra)
    assert names(pipeline) == ["Qualified", "Proposal", "Negotiation", "Won", "Lost"]
    positions = list(pipeline.stages.order_by("position").values_list("position", flat=True))
    assert positions == [0, 1, 2, 3, 4]
    event = Event.objects.get(verb="stage.deleted", object_id=extra_pk)
    assert event.before["name"] == "Demo" and event.actor == admin


# Pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["manager", "rep", "marketer"])
def test_settings_pages_are_for_admins_only(request, client_for, pipeline, persona):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("pipeline-list")).status_code == 403
    assert client.get(reverse("pipeline-edit", args=[pipeline.pk])).status_code == 403
    response = client.post(reverse("stage-create", args=[pipeline.pk]), {"new-name": "X"})
    assert response.status_code == 403


def test_admin_sees_the_pipeline_list(client_for, admin, rep, pipeline):
    make_deal(rep, pipeline)
    html = client_for(admin).get(reverse("pipeline-list")).content.decode()
    assert "New business" in html and "default" in html and "30 days" in html


def test_admin_creates_a_pipeline_with_starter_stages(client_for, admin, pipeline):
    response = client_for(admin).post(
        reverse("pipeline-create"), {"name": "Renewals", "rotting_days": "60"}
    )
    renewals = Pipeline.objects.get(name="Renewals")
    assert response.status_code == 302
    assert response["Location"] == reverse("pipeline-edit", args=[renewals.pk])
    assert renewals.rotting_days == 60 and not renewals.is_default
    assert names(renewals) == ["New", "Won", "Lost"]


def test_admin_edits_the_pipeline_and_empty_rotting_means_never(client_for, admin, pipeline):
    url = reverse("pipeline-edit", args=[pipeline.pk])
    response = client_for(admin).post(
        url, {"name": "New business", "is_default": "on", "rotting_days": ""}
    )
    assert response.status_code == 302
    pipeline.refresh_from_db()
    assert pipeline.rotting_days is None


def test_pipeline_form_errors_are_shown_next_to_the_field(client_for, admin, pipeline):
    url = reverse("pipeline-edit", args=[pipeline.pk])
    response = client_for(admin).post(url, {"name": "", "rotting_days": "-3", "is_default": "on"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html
    assert "Ensure this value is greater than or equal to 1." in html


def test_admin_adds_a_stage_with_required_fields_from_the_page(client_for, admin, pipeline):
    url = reverse("stage-create", args=[pipeline.pk])
    response = client_for(admin).post(
        url,
        {
            "new-name": "Contract",
            "new-probability": "90",
            "new-outcome": "open",
            "new-required_fields": ["amount", "expected_close_date"],
        },
    )
    assert response.status_code == 302
    stage = pipeline.stages.get(name="Contract")
    assert stage.required_fields == ["amount", "expected_close_date"]
    page = client_for(admin).get(reverse("pipeline-edit", args=[pipeline.pk])).content.decode()
    assert "amount, expected close date" in page


def test_admin_edits_a_stage_outcome_and_probability(client_for, admin, pipeline):
    proposal = pipeline.stages.get(name="Proposal")
    response = client_for(admin).post(
        reverse("stage-edit", args=[proposal.pk]),
        {"name": "Offer sent", "probability": "45", "outcome": "open"},
    )
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert (proposal.name, proposal.probability) == ("Offer sent", 45)


def test_stage_edit_refusal_is_shown_on_the_form(client_for, admin, rep, pipeline):
    proposal = pipeline.stages.get(name="Proposal")
    make_deal(rep, pipeline, stage=proposal)
    response = client_for(admin).post(
        reverse("stage-edit", args=[proposal.pk]),
        {"name": "Proposal", "probability": "40", "outcome": "won"},
    )
    assert response.status_code == 400
    assert "Move the deals out of this stage" in response.content.decode()


def test_admin_moves_a_stage_with_the_arrow_buttons(client_for, admin, pipeline):
    proposal = pipeline.stages.get(name="Proposal")
    client = client_for(admin)
    client.post(reverse("stage-move", args=[proposal.pk]), {"position": "0"})
    assert names(pipeline)[:2] == ["Proposal", "Qualified"]
    client.post(reverse("stage-move", args=[proposal.pk]), {"position": "2"})
    assert names(pipeline)[:3] == ["Qualified", "Negotiation", "Proposal"]


def test_delete_page_refuses_a_stage_with_deals_and_links_to_them(client_for, admin, rep, pipeline):
    proposal = pipeline.stages.get(name="Proposal")
    make_deal(rep, pipeline, stage=proposal)
    client = client_for(admin)
    url = reverse("stage-delete", args=[proposal.pk])
    assert f"?stage={proposal.pk}" in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 400
    assert "1 deal is in this stage. Move it to another stage first." in (response.content.decode())
    assert Stage.objects.filter(pk=proposal.pk).exists()


def test_delete_page_deletes_an_unused_stage(client_for, admin, pipeline):
    extra = stage_create(actor=admin, pipeline=pipeline, values={"name": "Demo"})
    response = client_for(admin).post(reverse("stage-delete", args=[extra.pk]))
    assert response.status_code == 302
    assert not Stage.objects.filter(pk=extra.pk).exists()
