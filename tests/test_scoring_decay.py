"""Engagement points fade with a half-life; activities, form submissions and page visits
recorded through the API all count."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from lejek.core.models import Event
from lejek.leads.models import FormSubmission, WebForm
from lejek.scoring.models import Engagement, LeadScore
from lejek.scoring.rules import decayed
from lejek.scoring.services import engagement_rules_save, lead_rescore
from lejek.users.services import token_create
from tests.factories import make_activity, make_lead

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def days_ago(n: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=n)


@pytest.fixture
def rules(manager):
    engagement_rules_save(
        actor=manager,
        rules={
            "call": (8, 14),
            "meeting": (20, 30),
            "email": (0, 14),
            "note": (0, 14),
            "form_submitted": (10, 7),
            "page_visit": (3, 7),
        },
    )


def api(user) -> dict:
    _token, raw = token_create(actor=user, user=user, name="tracking")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_points_halve_every_half_life():
    assert decayed(8, 0, 14) == 8
    assert decayed(8, 14, 14) == pytest.approx(4)
    assert decayed(8, 28, 14) == pytest.approx(2)
    assert decayed(10, -3, 7) == 10


def test_an_old_call_counts_less_than_a_fresh_one(rep, rules):
    fresh, old = make_lead(rep), make_lead(rep)
    make_activity(rep, fresh, kind="call", occurred_at=timezone.now())
    make_activity(rep, old, kind="call", occurred_at=days_ago(28))

    assert lead_rescore(fresh.pk).engagement_points == pytest.approx(8, abs=0.01)
    assert lead_rescore(old.pk).engagement_points == pytest.approx(2, abs=0.01)


def test_engagement_adds_up_across_kinds_and_is_explained_per_kind(rep, rules):
    lead = make_lead(rep)
    make_activity(rep, lead, kind="meeting", occurred_at=days_ago(30))
    make_activity(rep, lead, kind="call", occurred_at=days_ago(14))
    make_activity(rep, lead, kind="call", occurred_at=days_ago(0))
    form = WebForm.objects.create(name="Contact us")
    FormSubmission.objects.create(form=form, key="k1", body_hash="x", lead=lead)

    scored = lead_rescore(lead.pk)

    assert scored.score == 32  # 10 (meeting) + 12 (calls) + 10 (form)
    assert {line["label"]: line["points"] for line in scored.explanation} == {
        "call": 12.0,
        "meeting": 10.0,
        "form_submitted": 10.0,
    }


def test_a_page_visit_through_the_api_is_stored_and_rescored(
    rep, rules, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    lead = make_lead(rep)
    at = days_ago(7)
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            f"/api/v1/leads/{lead.pk}/engagements",
            {"kind": "page_visit", "at": at.isoformat(), "url": "https://example.com/pricing"},
            content_type="application/json",
            **api(rep),
        )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["lead"], body["kind"], body["url"]) == (
        lead.pk,
        "page_visit",
        "https://example.com/pricing",
    )
    assert Engagement.objects.get(lead=lead).occurred_at == at
    assert Event.objects.filter(verb="lead.engaged", object_id=lead.pk).exists()
    assert LeadScore.objects.get(pk=lead.pk).engagement_points == pytest.approx(1.5, abs=0.01)


def test_the_api_hides_other_teams_leads_and_refuses_bad_engagement(rep, other_rep, rules):
    theirs = make_lead(other_rep)
    mine = make_lead(rep)
    client, auth = Client(), api(rep)

    hidden = client.post(
        f"/api/v1/leads/{theirs.pk}/engagements",
        {"kind": "page_visit"},
        content_type="application/json",
        **auth,
    )
    unknown_kind = client.post(
        f"/api/v1/leads/{mine.pk}/engagements",
        {"kind": "dance"},
        content_type="application/json",
        **auth,
    )
    future = client.post(
        f"/api/v1/leads/{mine.pk}/engagements",
        {"kind": "page_visit", "at": (timezone.now() + datetime.timedelta(days=2)).isoformat()},
        content_type="application/json",
        **auth,
    )

    assert hidden.status_code == 404
    assert unknown_kind.status_code in (400, 422)
    assert future.status_code in (400, 422)
    assert "at" in future.content.decode()
    assert not Engagement.objects.exists()
