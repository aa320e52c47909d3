"""Scores as fields like any other: the lead list's win-probability column, score and
probability filters, the hand-off filter, and the same over the JSON API."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from lejek.leads.models import Handoff, Lead
from lejek.leads.services import source_create
from lejek.scoring.models import LeadScore
from lejek.scoring.rules import clean_fit_condition
from tests.factories import make_lead
from tests.test_api_support import Api


def scored(actor, name: str, score: int, probability: float | None) -> Lead:
    lead = make_lead(actor, last_name=name)
    LeadScore.objects.update_or_create(
        lead=lead, defaults={"score": score, "probability": probability}
    )
    return lead


@pytest.fixture
def three(rep):
    return [
        scored(rep, "Cold", 10, 0.05),
        scored(rep, "Warm", 55, 0.42),
        scored(rep, "Unmodelled", 80, None),
    ]


def names(client: Client, query: str) -> list[str]:
    response = client.get("/leads/" + query)
    assert response.status_code == 200
    return [lead.last_name for lead in response.context["listing"].rows]


# --- the lead list ---------------------------------------------------------------------------


def test_score_bounds_filter_the_list(client_for, rep, three):
    client = client_for(rep)
    assert sorted(names(client, "?score_min=50")) == ["Unmodelled", "Warm"]
    assert names(client, "?score_min=50&score_max=60") == ["Warm"]
    assert names(client, "?score_max=10") == ["Cold"]


def test_probability_filter_takes_a_percentage(client_for, rep, three):
    client = client_for(rep)
    assert names(client, "?probability_min=40") == ["Warm"]
    assert names(client, "?probability_min=42") == ["Warm"]
    assert names(client, "?probability_min=42.5") == []


def test_win_probability_sorts_with_unscored_leads_last(client_for, rep, three):
    client = client_for(rep)
    assert names(client, "?sort=-probability") == ["Warm", "Cold", "Unmodelled"]
    assert names(client, "?sort=probability") == ["Cold", "Warm", "Unmodelled"]


def test_win_probability_column_shows_a_percentage(client_for, rep, three):
    page = client_for(rep).get("/leads/?sort=-probability").content.decode()
    assert "Win probability" in page
    assert "42 %" in page
    assert "?sort=probability" in page  # the header links to the other direction


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?score_min=abc", "Score from: Enter a whole number from 0 to 100."),
        ("?score_max=150", "Score to: Enter a whole number from 0 to 100."),
        ("?score_min=4.5", "Score from: Enter a whole number from 0 to 100."),
        ("?probability_min=-1", "Win probability from (%): Enter a number from 0 to 100."),
        ("?probability_min=NaN", "Win probability from (%): Enter a number from 0 to 100."),
    ],
)
def test_bad_score_values_are_explained_not_applied(client_for, rep, three, query, message):
    response = client_for(rep).get("/leads/" + query)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert len(response.context["listing"].rows) == 3


def test_score_filter_shows_a_chip(client_for, rep, three):
    response = client_for(rep).get("/leads/?score_min=50")
    labels = [chip.label for chip in response.context["listing"].chips]
    assert labels == ["Score from: 50"]


@pytest.fixture
def handoffs(rep):
    now = timezone.now()
    hour = datetime.timedelta(hours=1)
    waiting, overdue = make_lead(rep, last_name="Waiting"), make_lead(rep, last_name="Overdue")
    accepted, rejected = make_lead(rep, last_name="Accepted"), make_lead(rep, last_name="Rejected")
    make_lead(rep, last_name="Never offered")
    Handoff.objects.create(lead=waiting, due_at=now + hour)
    Handoff.objects.create(lead=overdue, due_at=now - hour)
    # Rejected once, accepted later: the latest answer counts.
    Handoff.objects.create(
        lead=accepted, offered_at=now - 5 * hour, due_at=now - 4 * hour, outcome="rejected"
    )
    Handoff.objects.create(
        lead=accepted, offered_at=now - 3 * hour, due_at=now - 2 * hour, outcome="accepted"
    )
    Handoff.objects.create(
        lead=rejected, offered_at=now - 3 * hour, due_at=now - 2 * hour, outcome="rejected"
    )


@pytest.mark.parametrize("value", ["waiting", "overdue", "accepted", "rejected"])
def test_handoff_filter(client_for, rep, handoffs, value):
    assert names(client_for(rep), f"?handoff={value}") == [value.capitalize()]


def test_handoff_report_link_combines_with_source(client_for, rep, admin, handoffs):
    source = source_create(actor=admin, name="Targi")
    lead = Lead.objects.get(last_name="Overdue")
    Lead.objects.filter(pk=lead.pk).update(source=source)
    assert names(client_for(rep), f"?handoff=overdue&source={source.pk}") == ["Overdue"]
    assert names(client_for(rep), "?handoff=overdue&source=999999") == []


def test_unknown_handoff_value_is_ignored(client_for, rep, handoffs):
    assert len(names(client_for(rep), "?handoff=lost")) == 5


def test_rep_filtering_by_score_still_sees_only_their_leads(client_for, rep, other_rep, three):
    scored(other_rep, "Theirs", 99, 0.99)
    assert "Theirs" not in names(client_for(rep), "?score_min=90&probability_min=0")


# --- the API ---------------------------------------------------------------------------------


def test_api_lead_has_win_probability_in_percent(rep, three):
    cold, _warm, unmodelled = three
    api = Api(rep)
    assert api.get(f"/leads/{cold.pk}").json()["win_probability"] == 5.0
    assert api.get(f"/leads/{unmodelled.pk}").json()["win_probability"] is None
    items = {item["last_name"]: item for item in api.get("/leads").json()["items"]}
    assert items["Warm"]["win_probability"] == 42.0
    assert items["Warm"]["score"] == 55
    assert items["Unmodelled"]["win_probability"] is None


def test_api_filters_by_score_and_probability(rep, three):
    api = Api(rep)

    def found(params):
        response = api.get("/leads", params)
        assert response.status_code == 200, response.content
        return sorted(item["last_name"] for item in response.json()["items"])

    assert found({"score_min": 50}) == ["Unmodelled", "Warm"]
    assert found({"score_max": 50}) == ["Cold"]
    assert found({"probability_min": 10}) == ["Warm"]


@pytest.mark.parametrize(
    "params", [{"score_min": 101}, {"score_max": -1}, {"probability_min": 150}, {"score_min": "x"}]
)
def test_api_refuses_out_of_range_score_filters(rep, params):
    response = Api(rep).get("/leads", params)
    assert response.status_code == 422
    assert next(iter(params)) in response.content.decode()


def test_api_orders_by_win_probability_across_cursor_pages(rep, three):
    api = Api(rep)
    first = api.get("/leads", {"ordering": "-win_probability", "limit": 2}).json()
    assert [item["last_name"] for item in first["items"]] == ["Warm", "Cold"]
    second = Client().get(first["next"], HTTP_AUTHORIZATION=f"Bearer {api.token}").json()
    assert [item["last_name"] for item in second["items"]] == ["Unmodelled"]
    ascending = api.get("/leads", {"ordering": "win_probability"}).json()["items"]
    assert [item["last_name"] for item in ascending] == ["Unmodelled", "Cold", "Warm"]


def test_openapi_describes_the_score_fields(db):
    schema = Client().get("/api/v1/openapi.json").json()
    lead = schema["components"]["schemas"]["LeadOut"]["properties"]
    assert "win_probability" in lead
    parameters = {p["name"] for p in schema["paths"]["/api/v1/leads"]["get"]["parameters"]}
    assert {"score_min", "score_max", "probability_min"} <= parameters


# --- rule conditions -------------------------------------------------------------------------


def test_score_is_not_a_fit_rule_condition(db):
    # A fit rule feeds the score; testing the score in one would make it chase itself.
    with pytest.raises(ValidationError):
        clean_fit_condition({"field": "score", "op": "gte", "value": "50"})
