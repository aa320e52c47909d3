"""Each status change remembers the lead's previous entry into its status, whoever writes it,
and "leads entering each status" counts each lead once per week or month from it."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import replace

import pytest
from django.utils import timezone

from lejek.analytics.figures import compute
from lejek.analytics.figures.funnel import LEAD_STEPS
from lejek.analytics.scope import Scope
from lejek.contacts.merge import merge_undo, record_merge
from lejek.core.models import Reason
from lejek.core.reasons import reason_create
from lejek.leads import status_history
from lejek.leads.models import Lead, LeadStatusChange
from lejek.leads.services import lead_disqualify, lead_update
from tests.analytics_history import assert_status_summaries_match_histories, lead_history
from tests.factories import make_lead

S = Lead.Status
pytestmark = pytest.mark.django_db


def entries(lead) -> list[tuple[str, datetime.datetime | None]]:
    return list(
        LeadStatusChange.objects.filter(lead=lead)
        .order_by("changed_at", "pk")
        .values_list("to_status", "previous_entry_at")
    )


def changed_at(lead, status: str) -> list[datetime.datetime]:
    rows = LeadStatusChange.objects.filter(lead=lead, to_status=status).order_by("changed_at")
    return list(rows.values_list("changed_at", flat=True))


def expected_entries(scope: Scope) -> dict[tuple[datetime.date, str], int]:
    """Distinct leads per (week or month, status), counted from the raw history in Python,
    over the leads the scope sees."""
    starts = scope.buckets()
    seen = set(scope.leads().values_list("pk", flat=True))
    leads = defaultdict(set)
    for change in LeadStatusChange.objects.all():
        if not scope.since <= change.changed_at < scope.until or change.lead_id not in seen:
            continue
        day = timezone.localtime(change.changed_at).date()
        bucket = max(start for start in starts if start <= day)
        leads[(bucket, change.to_status)].add(change.lead_id)
    return {key: len(ids) for key, ids in leads.items()}


def counted(scope: Scope) -> dict[tuple[datetime.date, str], int]:
    table = compute("lead_statuses_over_time", scope)
    return {
        (row["period"], status.value): row[status.value]
        for row in table.rows
        for status in (*LEAD_STEPS, S.DISQUALIFIED)
        if row[status.value]
    }


def year(user, grain: str = "month") -> Scope:
    today = timezone.localdate()
    return Scope(user=user, start=today - datetime.timedelta(days=364), end=today, grain=grain)


def test_a_live_move_back_into_a_status_remembers_when_the_lead_was_last_there(marketer):
    lead = make_lead(marketer)
    lead = lead_update(actor=marketer, lead=lead, values={"status": S.MQL})
    lead = lead_update(actor=marketer, lead=lead, values={"status": S.NEW})
    lead = lead_update(actor=marketer, lead=lead, values={"status": S.MQL})

    new_at, mql_at = changed_at(lead, S.NEW), changed_at(lead, S.MQL)
    assert entries(lead) == [(S.NEW, None), (S.MQL, None), (S.NEW, new_at[0]), (S.MQL, mql_at[0])]


@pytest.fixture
def reasons(manager):
    reason_create(actor=manager, kind=Reason.Kind.LEAD_DISQUALIFIED, label="No budget")


def test_a_lead_sent_back_or_disqualified_keeps_the_furthest_step_it_reached(
    marketer, rep, reasons
):
    sent_back = make_lead(marketer)
    for status in (S.CONTACTED, S.MQL, S.NEW):
        sent_back = lead_update(actor=marketer, lead=sent_back, values={"status": status})
    walked_on = make_lead(rep, status=S.SQL)
    disqualified = lead_disqualify(actor=rep, lead=walked_on, reason="No budget")

    assert Lead.objects.get(pk=sent_back.pk).furthest_status == S.MQL
    assert Lead.objects.get(pk=disqualified.pk).furthest_status == S.SQL
    # Moving forward writes nothing: its status is as far as it got.
    forward = make_lead(rep)
    forward = lead_update(actor=rep, lead=forward, values={"status": S.CONTACTED})
    assert Lead.objects.get(pk=forward.pk).furthest_status == ""
    assert_status_summaries_match_histories()
    reached = {row["step"]: row["reached"] for row in compute("lead_funnel", year(rep)).rows}
    assert reached[str(S.SQL.label)] == 1  # the disqualified lead got that far


@pytest.mark.parametrize("grain", ["month", "week"])
def test_leads_entering_a_status_twice_in_a_period_count_once(admin, grain):
    lead_history(admin, count=60, seed=5)
    scope = year(admin, grain)
    assert counted(scope) == expected_entries(scope)


@pytest.mark.parametrize("grain", ["month", "week"])
def test_a_rep_a_manager_and_a_filter_count_entries_of_the_leads_they_see(
    admin, manager, rep, other_rep, north, grain
):
    lead_history(admin, count=30, seed=6, owner=rep)
    lead_history(admin, count=20, seed=7, owner=other_rep)
    lead_history(admin, count=10, seed=8)
    for scope in (year(rep, grain), year(manager, grain), replace(year(admin, grain), team=north)):
        assert not scope.sees_all_leads()
        assert counted(scope) == expected_entries(scope), scope.user
    assert counted(year(rep, grain)) != counted(year(admin, grain))


def test_a_lead_back_in_a_status_within_the_same_week_counts_once_there(admin):
    lead = make_lead(admin)
    monday = timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday() + 14)
    at = timezone.make_aware(datetime.datetime.combine(monday, datetime.time(9)))
    LeadStatusChange.objects.filter(lead=lead).delete()
    for hours, (before, after) in enumerate(
        [("", S.NEW), (S.NEW, S.CONTACTED), (S.CONTACTED, S.NEW), (S.NEW, S.CONTACTED)]
    ):
        LeadStatusChange.objects.create(
            lead=lead,
            from_status=before,
            to_status=after,
            changed_at=at + datetime.timedelta(days=hours),
        )
    status_history.relink([lead.pk])

    scope = year(admin, "week")
    assert counted(scope) == {(monday, S.NEW.value): 1, (monday, S.CONTACTED.value): 1}
    assert counted(scope) == expected_entries(scope)


def test_relink_repairs_every_lead_when_asked_for_all(admin):
    leads = lead_history(admin, count=20, seed=3)
    right = {lead.pk: entries(lead) for lead in leads}
    furthest = dict(Lead.objects.values_list("pk", "furthest_status"))
    LeadStatusChange.objects.update(previous_entry_at=None)
    Lead.objects.update(furthest_status="")

    status_history.relink()

    assert {lead.pk: entries(lead) for lead in leads} == right
    assert dict(Lead.objects.values_list("pk", "furthest_status")) == furthest
    assert any(previous for rows in right.values() for _status, previous in rows)
    assert any(furthest.values())
    assert_status_summaries_match_histories()


def test_merging_leads_relinks_the_survivors_history_and_undo_relinks_both(admin):
    survivor, other = lead_history(admin, count=2, seed=11)
    # Both went through "new" and "contacted": merged, the later entries are repeats.
    for lead, days in ((survivor, 20), (other, 18)):
        LeadStatusChange.objects.filter(lead=lead).delete()
        start = timezone.now() - datetime.timedelta(days=days)
        for step, (before, after) in enumerate([("", S.NEW), (S.NEW, S.CONTACTED)]):
            LeadStatusChange.objects.create(
                lead=lead,
                from_status=before,
                to_status=after,
                changed_at=start + datetime.timedelta(days=step),
            )
    status_history.relink([survivor.pk, other.pk])
    alone = {lead.pk: entries(lead) for lead in (survivor, other)}
    survivor_new, survivor_contacted = (
        changed_at(survivor, S.NEW),
        changed_at(survivor, S.CONTACTED),
    )

    merge = record_merge(actor=admin, survivor=survivor, other=other)

    merged = entries(survivor)
    assert [status for status, _previous in merged] == [S.NEW, S.CONTACTED, S.NEW, S.CONTACTED]
    assert merged[2:] == [(S.NEW, survivor_new[0]), (S.CONTACTED, survivor_contacted[0])]
    for grain in ("month", "week"):
        assert counted(year(admin, grain)) == expected_entries(year(admin, grain))

    assert_status_summaries_match_histories()

    merge_undo(actor=admin, merge=merge)

    assert {lead.pk: entries(lead) for lead in (survivor, other)} == alone
    assert_status_summaries_match_histories()


def test_merging_brings_the_other_leads_furthest_step_to_the_survivor(admin):
    survivor = make_lead(admin)
    other = make_lead(admin, email="other@example.pl", status=S.SQL)

    merge = record_merge(actor=admin, survivor=survivor, other=other)

    assert Lead.objects.get(pk=survivor.pk).furthest_status == S.SQL
    assert_status_summaries_match_histories()
    merge_undo(actor=admin, merge=merge)
    assert Lead.objects.get(pk=survivor.pk).furthest_status == ""
    assert_status_summaries_match_histories()
