"""The funnel figures over the JSON API: list, one figure, filters, errors, visibility."""

from __future__ import annotations

import pytest
from django.test import Client

from lejek.analytics.figures import FIGURES
from lejek.pipeline.services import deal_move_to_stage
from tests.factories import make_deal
from tests.test_api_support import Api, assert_problem, error_fields


@pytest.fixture
def deals(rep, other_rep, pipeline):
    proposal = pipeline.stages.get(name="Proposal")
    for owner in (rep, rep, other_rep):
        deal_move_to_stage(actor=owner, deal=make_deal(owner, pipeline), stage=proposal)
    make_deal(rep, pipeline)


def rows_by_step(body):
    return {row["step"]: row for row in body["figure"]["rows"]}


def test_list_names_every_figure_with_its_section(admin):
    response = Api(admin).get("/analytics/")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["key"] for item in items] == list(FIGURES)
    funnel = next(item for item in items if item["key"] == "deal_funnel")
    assert funnel["section"] == "funnel"
    assert funnel["title"]


def test_one_figure_returns_its_table_and_the_scope_used(admin, deals):
    response = Api(admin).get("/analytics/deal_funnel")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"]["period"] == "12m"
    assert body["scope"]["grain"] == "month"
    assert body["scope"]["owner"] is None
    assert body["scope"]["currency"] == "PLN"
    figure = body["figure"]
    assert figure["key"] == "deal_funnel"
    assert [c["key"] for c in figure["columns"]][:3] == ["step", "now", "reached"]
    assert rows_by_step(body)["Qualified"]["reached"] == 4
    assert rows_by_step(body)["Proposal"]["reached"] == 3


def test_filters_narrow_the_figure(admin, rep, deals):
    response = Api(admin).get("/analytics/deal_funnel", {"owner": rep.pk, "period": "30d"})
    body = response.json()
    assert body["scope"]["owner"] == rep.pk
    assert body["scope"]["period"] == "30d"
    assert rows_by_step(body)["Proposal"]["reached"] == 2


def test_custom_period_is_spelled_out_in_the_scope(admin, deals):
    response = Api(admin).get(
        "/analytics/lead_funnel", {"period": "custom", "start": "2020-01-01", "end": "2020-03-31"}
    )
    scope = response.json()["scope"]
    assert (scope["start"], scope["end"]) == ("2020-01-01", "2020-03-31")


def test_rep_sees_only_their_own_numbers(rep, deals):
    body = Api(rep).get("/analytics/deal_funnel").json()
    assert rows_by_step(body)["Proposal"]["reached"] == 2


def test_bad_parameters_are_422_with_one_error_per_field(admin, other_rep):
    response = Api(admin).get(
        "/analytics/deal_funnel",
        {
            "period": "forever",
            "pipeline": "abc",
            "segment": "nothing",
            "grain": "day",
            "split": "no_such_field",
        },
    )
    errors = error_fields(response)
    assert set(errors) == {"period", "pipeline", "segment", "grain", "split"}
    assert all(errors.values())


def test_custom_period_without_dates_is_a_request_wide_error(admin):
    errors = error_fields(Api(admin).get("/analytics/lead_funnel", {"period": "custom"}))
    assert None in errors


def test_rep_filtering_on_another_rep_is_refused(rep, other_rep):
    errors = error_fields(Api(rep).get("/analytics/deal_funnel", {"owner": other_rep.pk}))
    assert set(errors) == {"owner"}


def test_unknown_figure_is_404(admin):
    assert_problem(Api(admin).get("/analytics/no_such_figure"), 404)


def test_without_a_token_the_api_answers_401(db):
    response = Client().get("/api/v1/analytics/deal_funnel")
    assert_problem(response, 401)


def test_signed_in_browser_session_works_too(client_for, manager, deals):
    response = client_for(manager).get("/api/v1/analytics/lead_funnel")
    assert response.status_code == 200
    assert response.json()["figure"]["key"] == "lead_funnel"


def test_figures_appear_in_the_openapi_document(admin):
    schema = Api(admin).get("/openapi.json").json()
    operation = schema["paths"]["/api/v1/analytics/{key}"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"key", "period", "start", "end", "owner", "segment"} <= names


def test_customer_value_by_segment_over_the_api(admin, deals):
    from lejek.core.models import CustomField
    from lejek.core.services_custom_fields import custom_field_create

    custom_field_create(
        actor=admin, entity=CustomField.Entity.DEAL, key="tier", label="Tier", type="text"
    )
    response = Api(admin).get("/analytics/clv_by_segment", {"split": "tier"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"]["split"] == "tier"
    assert body["figure"]["title"] == "Customer value by Tier"
