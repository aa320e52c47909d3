"""Every error is an RFC 9457 problem with a useful status, and bad input never becomes a 500."""

from __future__ import annotations

import base64
import json
import logging

import pytest

from lejek.core.models import CustomField
from lejek.leads.models import Lead
from lejek.pipeline.services import pipeline_create
from tests.factories import make_company, make_contact, make_deal, make_lead
from tests.test_api_support import (
    Api,
    assert_problem,
    error_fields,
)


@pytest.fixture(autouse=True)
def no_unhandled_errors(request, caplog):
    """Common bad input must be answered by its own handler, never by the catch-all."""
    caplog.set_level(logging.ERROR, logger="lejek.api")
    yield
    if "catch_all" not in request.node.name:
        assert not [r for r in caplog.records if r.name == "lejek.api"], caplog.text


def post_raw(api, path, raw: bytes):
    return api.client.post(
        "/api/v1" + path,
        raw,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )


def test_invalid_json_is_400_problem(rep):
    body = assert_problem(post_raw(Api(rep), "/leads", b'{"first_name": "Jan",'), 400)
    assert body["type"] == "urn:lejek:problem:malformed-body"
    assert "JSON" in body["detail"]
    assert not Lead.objects.exists()


def test_body_that_is_not_an_object_is_422(rep):
    assert_problem(post_raw(Api(rep), "/leads", b"[1, 2]"), 422)


def test_empty_body_is_422_naming_required_fields(rep):
    errors = error_fields(post_raw(Api(rep), "/companies", b""))
    assert errors == {None: "Send the fields as a JSON object in the request body."}
    assert error_fields(Api(rep).post("/companies", {})) == {"name": "This field is required."}


def test_wrong_type_is_422_naming_the_field(rep):
    errors = error_fields(Api(rep).post("/leads", {"last_name": "Nowak", "owner": "Rita"}))
    assert list(errors) == ["owner"]


def test_missing_required_field_is_422(rep):
    errors = error_fields(Api(rep).post("/contacts", {"first_name": "Anna"}))
    assert errors == {"last_name": "This field is required."}


def test_unknown_choice_value_is_422(rep):
    response = Api(rep).post("/leads", {"last_name": "Nowak", "status": "bogus"})
    body = assert_problem(response, 422)
    assert body["type"] == "urn:lejek:problem:validation"
    assert [e["field"] for e in body["errors"]] == ["status"]
    assert "'mql'" in body["errors"][0]["message"]


def test_unknown_body_key_is_refused_not_ignored(rep):
    lead = make_lead(rep)
    errors = error_fields(Api(rep).patch(f"/leads/{lead.pk}", {"titel": "CEO"}))
    assert errors == {"titel": "Unknown field."}


def test_model_validation_from_the_service_is_422(rep):
    errors = error_fields(Api(rep).post("/leads", {"email": "not-an-email"}))
    assert "email" in errors


def test_unknown_foreign_key_is_422_naming_the_field(rep):
    errors = error_fields(Api(rep).post("/contacts", {"last_name": "Nowak", "company": 999999}))
    assert errors == {"company": "There is no company with id 999999."}


def test_huge_foreign_key_is_422_not_a_crash(rep):
    errors = error_fields(
        Api(rep).post("/leads", {"last_name": "Nowak", "company": 10**30, "team": 2**63})
    )
    assert set(errors) == {"company", "team"}


def test_foreign_key_to_a_record_you_cannot_see_reads_as_unknown(rep, other_rep):
    theirs = make_company(other_rep)
    errors = error_fields(Api(rep).post("/contacts", {"last_name": "N", "company": theirs.pk}))
    assert errors == {"company": f"There is no company with id {theirs.pk}."}


def test_stage_from_another_pipeline_is_422(rep, pipeline):
    other = pipeline_create(actor=None, name="Renewals", stages=[{"name": "Open"}])
    foreign_stage = other.stages.get()
    api = Api(rep)
    errors = error_fields(
        api.post("/deals", {"title": "X", "pipeline": pipeline.pk, "stage": foreign_stage.pk})
    )
    assert list(errors) == ["stage"]
    deal = make_deal(rep, pipeline)
    errors = error_fields(api.post(f"/deals/{deal.pk}/move", {"stage": foreign_stage.pk}))
    assert list(errors) == ["stage"]
    errors = error_fields(api.post(f"/deals/{deal.pk}/move", {"stage": 999999}))
    assert list(errors) == ["stage"]


def test_changing_stage_by_patch_points_to_move(rep, pipeline):
    deal = make_deal(rep, pipeline)
    other_stage = pipeline.stages.get(name="Proposal")
    errors = error_fields(Api(rep).patch(f"/deals/{deal.pk}", {"stage": other_stage.pk}))
    assert "/move" in errors["stage"]


def test_moving_to_lost_without_reason_is_422(rep, pipeline):
    deal = make_deal(rep, pipeline)
    lost = pipeline.stages.get(name="Lost")
    errors = error_fields(Api(rep).post(f"/deals/{deal.pk}/move", {"stage": lost.pk}))
    assert list(errors) == ["lost_reason"]


def test_negative_amount_is_422(rep, pipeline):
    errors = error_fields(Api(rep).post("/deals", {"title": "X", "amount": "-5"}))
    assert list(errors) == ["amount"]


def test_bad_custom_field_value_is_422_on_its_key(rep):
    CustomField.objects.create(entity="lead", key="budget", label="Budget", type="number")
    api = Api(rep)
    errors = error_fields(api.post("/leads", {"last_name": "N", "custom": {"budget": "lots"}}))
    assert errors == {"custom.budget": "Enter a whole number."}
    lead = make_lead(rep)
    errors = error_fields(api.patch(f"/leads/{lead.pk}", {"custom": {"nope": 1}}))
    assert errors == {"custom.nope": "Unknown field."}


def test_missing_record_is_404(rep):
    body = assert_problem(Api(rep).get("/leads/999999"), 404)
    assert body["type"] == "about:blank"
    assert_problem(Api(rep).get(f"/deals/{10**30}"), 404)


def test_record_of_another_team_is_404_exactly_like_a_missing_one(rep, other_rep):
    lead = make_lead(other_rep)
    hidden = Api(rep).get(f"/leads/{lead.pk}")
    missing = Api(rep).get("/leads/999999")
    assert_problem(hidden, 404)
    assert hidden.json() == missing.json()
    assert lead.email not in hidden.content.decode()


def test_visible_but_not_editable_record_is_403(rep, marketer, pipeline):
    deal = make_deal(rep, pipeline)
    body = assert_problem(Api(marketer).patch(f"/deals/{deal.pk}", {"title": "x"}), 403)
    assert body["detail"] == "You are not allowed to change this record."


def test_stale_version_is_409_and_nothing_is_written(rep, manager):
    lead = make_lead(rep)
    assert Api(rep).patch(f"/leads/{lead.pk}", {"title": "CEO", "version": 1}).status_code == 200
    response = Api(manager).patch(f"/leads/{lead.pk}", {"title": "CTO", "version": 1})
    body = assert_problem(response, 409)
    assert body["type"] == "urn:lejek:problem:conflict"
    assert "changed this record" in body["detail"]
    assert Lead.objects.get(pk=lead.pk).title == "CEO"


def test_stale_if_match_is_409(rep):
    lead = make_lead(rep)
    api = Api(rep)
    api.patch(f"/leads/{lead.pk}", {"title": "CEO"})
    assert_problem(api.patch(f"/leads/{lead.pk}", {"title": "CTO"}, if_match='"1"'), 409)


def test_stale_version_on_deal_move_and_task_is_409(rep, pipeline):
    from tests.factories import make_task

    api = Api(rep)
    deal = make_deal(rep, pipeline)
    api.patch(f"/deals/{deal.pk}", {"title": "Nowa nazwa"})
    proposal = pipeline.stages.get(name="Proposal")
    assert_problem(api.post(f"/deals/{deal.pk}/move", {"stage": proposal.pk, "version": 1}), 409)
    task = make_task(rep, deal)
    api.patch(f"/tasks/{task.pk}", {"title": "Nowy"})
    assert_problem(api.patch(f"/tasks/{task.pk}", {"done": True, "version": 1}), 409)
    task.refresh_from_db()
    assert task.done_at is None


def test_malformed_if_match_is_422(rep):
    lead = make_lead(rep)
    errors = error_fields(Api(rep).patch(f"/leads/{lead.pk}", {"title": "x"}, if_match="abc"))
    assert list(errors) == ["If-Match"]


def test_activity_needs_exactly_one_subject(rep):
    lead, contact = make_lead(rep), make_contact(rep)
    api = Api(rep)
    assert_problem(api.post("/activities", {"kind": "note"}), 422)
    both = api.post("/activities", {"kind": "note", "lead": lead.pk, "contact": contact.pk})
    assert error_fields(both) == {None: "Give exactly one of lead, contact, company or deal."}


def test_bad_query_parameters_are_422(rep):
    api = Api(rep)
    assert list(error_fields(api.get("/leads", {"limit": 500}))) == ["limit"]
    assert list(error_fields(api.get("/leads", {"ordering": "password"}))) == ["ordering"]
    assert list(error_fields(api.get("/leads", {"owner": "someone"}))) == ["owner"]
    assert list(error_fields(api.get("/leads", {"created_after": "yesterday"}))) == [
        "created_after"
    ]
    assert list(error_fields(api.get("/leads", {"cursor": "garbage!"}))) == ["cursor"]


@pytest.mark.parametrize("value", ["not a number", {"a": 1}, [1]])
def test_tampered_cursor_is_422(rep, value):
    raw = json.dumps({"o": "-score", "v": value, "k": 1}).encode()
    cursor = base64.urlsafe_b64encode(raw).decode()
    errors = error_fields(Api(rep).get("/leads", {"ordering": "-score", "cursor": cursor}))
    assert list(errors) == ["cursor"]


def test_cursor_from_another_ordering_is_refused(rep):
    for _ in range(3):
        make_lead(rep)
    api = Api(rep)
    next_link = api.get("/leads", {"limit": 1}).json()["next"]
    cursor = next_link.split("cursor=")[1]
    errors = error_fields(api.get("/leads", {"limit": 1, "cursor": cursor, "ordering": "score"}))
    assert list(errors) == ["cursor"]


def test_unknown_endpoint_and_method_are_problems(rep):
    api = Api(rep)
    body = assert_problem(api.get("/nothing-here"), 404)
    assert "/api/v1/openapi.json" in body["detail"]
    assert_problem(api.get("/"), 404)
    response = api.client.put(
        "/api/v1/leads",
        "{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )
    assert_problem(response, 405)
    assert "POST" in response["Allow"]


def test_catch_all_logs_and_answers_500_problem(rep, monkeypatch, caplog):
    def explode(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("lejek.leads.api.lead_create", explode)
    response = Api(rep).post("/leads", {"last_name": "Nowak"})
    body = assert_problem(response, 500)
    assert "disk on fire" not in body["detail"]
    assert any(
        "disk on fire" in (r.exc_text or "") for r in caplog.records if r.name == "lejek.api"
    )
