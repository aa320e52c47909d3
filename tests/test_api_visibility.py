"""Who sees and changes what through the API: exactly the rules of the screens.

A record the caller may not see is a 404 (never its data); one they may see but not change is
a 403; lists hold only what the caller may see."""

from __future__ import annotations

import pytest

from lejek.activities.models import Activity
from lejek.leads.models import Lead
from lejek.pipeline.models import Deal
from lejek.users.models import Role
from lejek.users.services import user_create
from tests.factories import make_deal, make_lead
from tests.test_api_support import (
    EDITS,
    Api,
    assert_problem,
    records_of,
)


def stage_named(pipeline, name):
    return pipeline.stages.get(name=name)


@pytest.mark.parametrize("resource", sorted(EDITS))
def test_other_teams_record_is_404_on_read_edit_and_delete(rep, other_rep, pipeline, resource):
    record = records_of(rep, pipeline)[resource]
    api = Api(other_rep)
    path = f"/{resource}/{record.pk}"
    assert_problem(api.get(path), 404)
    assert_problem(api.patch(path, EDITS[resource]), 404)
    assert_problem(api.delete(path), 404)
    assert api.get(f"/{resource}").json()["count"] == 0
    assert type(record).objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize("resource", sorted(EDITS))
def test_teammate_does_not_see_records_owned_by_a_colleague(rep, teammate, pipeline, resource):
    record = records_of(rep, pipeline)[resource]
    assert_problem(Api(teammate).get(f"/{resource}/{record.pk}"), 404)


@pytest.mark.parametrize("persona", ["admin", "manager"])
@pytest.mark.parametrize("resource", sorted(EDITS))
def test_admin_and_team_manager_see_and_edit_reps_records(
    request, rep, pipeline, resource, persona
):
    record = records_of(rep, pipeline)[resource]
    api = Api(request.getfixturevalue(persona))
    path = f"/{resource}/{record.pk}"
    assert api.get(path).status_code == 200
    assert api.get(f"/{resource}").json()["count"] >= 1
    if resource == "activities":
        return  # only the author (or an admin) edits an activity
    assert api.patch(path, EDITS[resource]).status_code == 200


def test_manager_of_another_team_sees_nothing(rep, south, pipeline):
    stranger = user_create(
        actor=None, email="sam@example.com", password=None, role=Role.MANAGER, teams=[south]
    )
    records = records_of(rep, pipeline)
    api = Api(stranger)
    for resource, record in records.items():
        assert_problem(api.get(f"/{resource}/{record.pk}"), 404)


def test_marketer_creates_and_edits_leads(rep, marketer):
    api = Api(marketer)
    created = api.post("/leads", {"company_name": "Targi Poznań", "team": rep.team_ids[0]})
    assert created.status_code == 201, created.content
    lead = make_lead(rep)
    assert api.patch(f"/leads/{lead.pk}", {"status": "mql"}).status_code == 200
    assert Lead.objects.get(pk=lead.pk).status == "mql"


def test_marketer_reads_deals_but_cannot_create_or_edit_them(rep, marketer, pipeline):
    api = Api(marketer)
    deal = make_deal(rep, pipeline)
    assert api.get(f"/deals/{deal.pk}").status_code == 200
    assert_problem(api.post("/deals", {"title": "Nowy"}), 403)
    assert_problem(api.patch(f"/deals/{deal.pk}", {"title": "Zmiana"}), 403)
    proposal = stage_named(pipeline, "Proposal")
    assert_problem(api.post(f"/deals/{deal.pk}/move", {"stage": proposal.pk}), 403)
    assert_problem(api.delete(f"/deals/{deal.pk}"), 403)
    deal.refresh_from_db()
    assert deal.title != "Zmiana"
    assert deal.stage_id != proposal.pk
    assert deal.version == 1
    assert Deal.objects.count() == 1


def test_marketer_cannot_log_activity_on_a_deal(rep, marketer, pipeline):
    deal = make_deal(rep, pipeline)
    response = Api(marketer).post("/activities", {"deal": deal.pk, "kind": "note"})
    assert_problem(response, 403)
    assert not Activity.objects.exists()


def test_rep_cannot_attach_activity_to_a_record_they_cannot_see(rep, other_rep):
    lead = make_lead(other_rep)
    response = Api(rep).post("/activities", {"lead": lead.pk, "kind": "note"})
    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["lead"]
    assert not Activity.objects.exists()


def test_lists_show_only_visible_records(rep, other_rep, manager, pipeline):
    mine, theirs = records_of(rep, pipeline), records_of(other_rep, pipeline)
    for resource in EDITS:
        ids = {item["id"] for item in Api(rep).get(f"/{resource}").json()["items"]}
        assert mine[resource].pk in ids
        assert theirs[resource].pk not in ids
        ids = {item["id"] for item in Api(manager).get(f"/{resource}").json()["items"]}
        assert (mine[resource].pk in ids, theirs[resource].pk in ids) == (True, False)
