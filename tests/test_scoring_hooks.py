"""Scores follow their inputs: creating or changing a lead, or logging an activity on it,
rescores that lead in the background once the change is committed."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from lejek.activities.services import activity_log
from lejek.core.models import CustomField
from lejek.core.services_custom_fields import custom_field_create
from lejek.leads.services import lead_create, lead_update
from lejek.scoring.models import LeadScore
from lejek.scoring.services import fit_rule_create

pytestmark = pytest.mark.django_db
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = IMMEDIATE


def poland_is_worth_30(manager) -> None:
    fit_rule_create(
        actor=manager,
        name="Poland",
        conditions=[{"field": "country", "op": "eq", "value": "PL"}],
        points=30,
    )


def test_a_new_lead_is_scored_once_it_is_saved(
    immediate_tasks, manager, rep, django_capture_on_commit_callbacks
):
    poland_is_worth_30(manager)
    with django_capture_on_commit_callbacks(execute=True):
        lead = lead_create(actor=rep, last_name="Lis", country="PL")
    assert LeadScore.objects.get(lead=lead).score >= 30


def test_a_change_and_an_activity_rescore_the_lead(
    immediate_tasks, admin, manager, rep, django_capture_on_commit_callbacks
):
    custom_field_create(
        actor=admin, entity=CustomField.Entity.LEAD, key="budget", label="Budget", type="number"
    )
    fit_rule_create(
        actor=manager,
        name="Budget",
        conditions=[{"field": "custom.budget", "op": "gte", "value": "10000"}],
        points=40,
    )
    lead = lead_create(actor=rep, last_name="Lis")
    with django_capture_on_commit_callbacks(execute=True):
        lead_update(actor=rep, lead=lead, values={"custom": {"budget": 20000}})
    before = LeadScore.objects.get(lead=lead).score
    assert before >= 40
    with django_capture_on_commit_callbacks(execute=True):
        activity_log(actor=rep, subject=lead, kind="call", subject_line="Discovery call")
    assert LeadScore.objects.get(lead=lead).score > before


def test_the_leads_of_one_transaction_are_scored_by_one_task(
    rep, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        first = lead_create(actor=rep, last_name="Lis")
        second = lead_create(actor=rep, last_name="Wilk")
        lead_update(actor=rep, lead=first, values={"country": "PL"})
    # (Ids that earlier tests left uncommitted may ride along: they name no lead.)
    [task] = DBTaskResult.objects.filter(task_path="lejek.scoring.tasks.rescore_changed")
    assert {first.pk, second.pk} <= set(task.args_kwargs["args"][0])


def test_a_rolled_back_lead_is_not_lost_or_kept_and_the_next_commit_is_scored(
    immediate_tasks, manager, rep, django_capture_on_commit_callbacks
):
    poland_is_worth_30(manager)
    with pytest.raises(RuntimeError), transaction.atomic():
        lead_create(actor=rep, last_name="Cofnięty", country="PL")
        raise RuntimeError("rolled back")
    with django_capture_on_commit_callbacks(execute=True):
        kept = lead_create(actor=rep, last_name="Lis", country="PL")
    assert LeadScore.objects.get(lead=kept).score == 30
    assert LeadScore.objects.count() == 1
