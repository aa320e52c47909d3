"""Rule-based lead score: fit rules on any lead field, the explanation, the MQL threshold, and
keeping scores current."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from lejek.core.models import Event
from lejek.core.services_custom_fields import custom_field_create
from lejek.leads.models import Lead
from lejek.leads.services import lead_update
from lejek.scoring.models import LeadScore
from lejek.scoring.services import (
    engagement_rules_save,
    fit_rule_create,
    lead_rescore,
    rescore_all,
    schedule_rescore,
    scoring_settings_update,
)
from tests.factories import make_lead

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def industry(admin):
    return custom_field_create(
        actor=admin,
        entity="lead",
        key="industry",
        label="Industry",
        type="choice",
        choices=["software", "retail"],
    )


@pytest.fixture
def no_engagement_points(manager):
    engagement_rules_save(
        actor=manager,
        rules={k: (0, 30) for k in ("note", "call", "meeting", "email", "form_submitted")}
        | {"page_visit": (0, 30)},
    )


def rule(manager, name, points, *conditions):
    return fit_rule_create(
        actor=manager,
        name=name,
        points=points,
        conditions=[{"field": f, "op": op, "value": v} for f, op, v in conditions],
    )


def test_fit_rules_on_standard_and_custom_fields_add_up_with_their_explanation(
    manager, industry, no_engagement_points
):
    rule(manager, "Software", 25, ("custom.industry", "eq", "software"))
    rule(manager, "Poland", 15, ("country", "eq", "PL"))
    rule(manager, "Mid-size", 20, ("company_size", "gte", "50"), ("company_size", "lte", "500"))
    rule(manager, "Decision maker", 10, ("title", "contains", "CEO"))
    rule(manager, "Germany", 30, ("country", "eq", "DE"))
    lead = make_lead(
        manager, country="PL", company_size=120, title="CEO", custom={"industry": "software"}
    )

    scored = lead_rescore(lead.pk)

    assert scored.score == 70
    assert {line["label"]: line["points"] for line in scored.explanation} == {
        "Software": 25,
        "Mid-size": 20,
        "Poland": 15,
        "Decision maker": 10,
    }
    assert LeadScore.objects.get(lead=lead).score == 70


def test_negative_points_never_take_the_score_below_zero_nor_above_100(
    manager, no_engagement_points
):
    rule(manager, "Free mailbox", -40, ("email_kind", "eq", "free"))
    rule(manager, "Everyone", 10)
    rule(manager, "Polish company", 95, ("email_domain", "contains", ".pl"))
    free = make_lead(manager, email="someone@gmail.com")
    corporate = make_lead(manager, email="ceo@fabryka.pl")

    assert lead_rescore(free.pk).score == 0
    assert lead_rescore(corporate.pk).score == 100
    assert LeadScore.objects.get(pk=corporate.pk).fit_points == 105


def test_a_condition_on_an_unknown_field_is_refused_by_number(manager):
    with pytest.raises(ValidationError) as refused:
        rule(manager, "Bad", 10, ("country", "eq", "PL"), ("shoe_size", "eq", "44"))
    assert "Condition 2" in refused.value.message_dict["conditions"][0]


def test_points_out_of_range_are_refused(manager):
    with pytest.raises(ValidationError) as refused:
        rule(manager, "Too much", 250, ("country", "eq", "PL"))
    assert "points" in refused.value.message_dict


def test_reps_cannot_change_scoring_rules(rep):
    with pytest.raises(PermissionDenied):
        rule(rep, "Mine", 10)


def test_reaching_the_threshold_makes_a_new_lead_marketing_qualified(manager, no_engagement_points):
    scoring_settings_update(actor=manager, mql_threshold=60)
    rule(manager, "Poland", 70, ("country", "eq", "PL"))
    qualifies = make_lead(manager, country="PL")
    below = make_lead(manager, country="CZ")

    lead_rescore(qualifies.pk)
    lead_rescore(below.pk)

    qualifies.refresh_from_db()
    below.refresh_from_db()
    assert qualifies.status == Lead.Status.MQL
    assert below.status == Lead.Status.NEW
    event = Event.objects.get(verb="lead.qualified_by_score", object_id=qualifies.pk)
    assert event.after == {"score": 70, "threshold": 60}
    assert Event.objects.filter(verb="lead.updated", object_id=qualifies.pk).exists()


def test_threshold_leaves_sales_qualified_leads_and_an_empty_threshold_alone(
    manager, no_engagement_points
):
    rule(manager, "Everyone", 90)
    sql = make_lead(manager, status=Lead.Status.SQL)
    lead_rescore(sql.pk)
    scoring_settings_update(actor=manager, mql_threshold=None)
    new = make_lead(manager)
    lead_rescore(new.pk)

    sql.refresh_from_db()
    new.refresh_from_db()
    assert (sql.status, new.status) == (Lead.Status.SQL, Lead.Status.NEW)


def test_schedule_rescore_runs_in_the_background_after_the_commit(
    manager, no_engagement_points, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    rule(manager, "Poland", 30, ("country", "eq", "PL"))
    lead = make_lead(manager, country="CZ")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        # The change schedules the rescore itself (scoring subscribes to lead events).
        lead_update(actor=manager, lead=lead, values={"country": "PL"})
        assert not LeadScore.objects.filter(pk=lead.pk).exists()
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        schedule_rescore(lead.pk)
    assert len(callbacks) == 1
    assert LeadScore.objects.get(pk=lead.pk).score == 30


def test_rescore_all_in_batches_gives_what_each_lead_gets_alone(manager, no_engagement_points):
    rule(manager, "Poland", 30, ("country", "eq", "PL"))
    rule(manager, "Big", 25, ("company_size", "gte", "100"))
    leads = [
        make_lead(manager, country=c, company_size=s)
        for c, s in [("PL", 10), ("PL", 500), ("DE", 500), ("DE", None), ("PL", None)]
    ]

    assert rescore_all(batch=2) == 5
    in_bulk = {s.pk: (s.score, s.explanation) for s in LeadScore.objects.all()}
    alone = {lead.pk: lead_rescore(lead.pk) for lead in leads}
    assert in_bulk == {pk: (s.score, s.explanation) for pk, s in alone.items()}
    assert sorted(score for score, _ in in_bulk.values()) == [0, 25, 30, 30, 55]


def test_rescore_command_recomputes_every_lead(manager, no_engagement_points, capsys):
    rule(manager, "Everyone", 12)
    make_lead(manager)
    make_lead(manager)

    call_command("scoring", "rescore")

    assert "Rescored 2 leads" in capsys.readouterr().out
    assert list(LeadScore.objects.values_list("score", flat=True)) == [12, 12]
