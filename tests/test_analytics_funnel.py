"""Funnel figures against an independent computation over generated histories."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict

import pytest
from django.utils import timezone

from lejek.analytics.figures import FIGURES, compute
from lejek.analytics.figures.funnel import LEAD_STEPS, funnel_stages
from lejek.analytics.scope import Scope
from lejek.leads import status_history
from lejek.leads.models import Lead, LeadStatusChange
from lejek.pipeline.models import Deal, StageChange
from tests.analytics_history import deal_history, lead_history


def year_scope(user, **filters) -> Scope:
    today = timezone.localdate()
    return Scope(user=user, start=today - datetime.timedelta(days=364), end=today, **filters)


def in_period(moment, scope: Scope) -> bool:
    return scope.since <= moment < scope.until


def expected_reached(tops: list[int], steps: int) -> list[int]:
    # Every record reached the first step by being created.
    return [sum(1 for top in tops if max(top, 0) >= i) for i in range(steps)]


@pytest.fixture
def deals(admin, pipeline):
    return deal_history(admin, pipeline, count=60, seed=3)


def test_deal_funnel_counts_the_furthest_stage_each_deal_reached(admin, pipeline, deals):
    scope = year_scope(admin)
    table = compute("deal_funnel", scope)
    stages = funnel_stages(pipeline)
    rank = {stage.pk: i for i, stage in enumerate(stages)}
    cohort = [d for d in Deal.objects.all() if in_period(d.created_at, scope)]
    assert 0 < len(cohort) < len(deals), "the period must cut the history"
    visited = defaultdict(set)
    for change in StageChange.objects.all():
        visited[change.deal_id].add(change.to_stage_id)
    tops = [max(rank.get(s, -1) for s in visited[d.pk] | {d.stage_id}) for d in cohort]
    reached = expected_reached(tops, len(stages))
    assert [row["reached"] for row in table.rows] == reached
    now = Counter(d.stage_id for d in cohort)
    assert [row["now"] for row in table.rows] == [now[s.pk] for s in stages]
    drops = [reached[i] - reached[i + 1] for i in range(len(stages) - 1)]
    assert [row["drop"] for row in table.rows[:-1]] == drops
    assert table.highlight == drops.index(max(drops))
    first = table.rows[0]
    assert first["conversion"] == round(100 * reached[1] / reached[0], 1)


def test_deal_funnel_drill_lists_exactly_the_deals_behind_each_number(admin, pipeline, deals):
    scope = year_scope(admin)
    table = compute("deal_funnel", scope)
    drill = FIGURES["deal_funnel"].drill
    for stage, row in zip(funnel_stages(pipeline), table.rows, strict=True):
        assert drill(scope, str(stage.pk), "reached").count() == row["reached"]
        assert drill(scope, str(stage.pk), "now").count() == row["now"]
        if row["drop"] is not None:
            assert drill(scope, str(stage.pk), "drop").count() == row["drop"]
    assert not drill(scope, "nonsense", "reached").exists()


def test_moves_in_the_period_split_forward_backward_and_lost(admin, pipeline, deals):
    scope = year_scope(admin)
    table = compute("deal_transitions", scope)
    stages = funnel_stages(pipeline)
    rank = {stage.pk: i for i, stage in enumerate(stages)}
    lost = set(pipeline.stages.filter(is_lost=True).values_list("pk", flat=True))
    expected = {s.pk: Counter() for s in stages}
    for change in StageChange.objects.filter(from_stage__isnull=False):
        if not in_period(change.changed_at, scope) or change.from_stage_id not in rank:
            continue
        if change.to_stage_id in lost:
            expected[change.from_stage_id]["lost"] += 1
        elif rank[change.to_stage_id] > rank[change.from_stage_id]:
            expected[change.from_stage_id]["forward"] += 1
        else:
            expected[change.from_stage_id]["backward"] += 1
    for stage, row in zip(stages, table.rows, strict=True):
        moves = expected[stage.pk]
        assert (row["forward"], row["backward"], row["lost"]) == (
            moves["forward"],
            moves["backward"],
            moves["lost"],
        )
    assert sum(row["backward"] for row in table.rows) > 0, "the history has backward moves"
    drill = FIGURES["deal_transitions"].drill
    leaky = max(stages, key=lambda stage: expected[stage.pk]["lost"])
    lost_from_it = {
        change.deal_id
        for change in StageChange.objects.filter(from_stage=leaky, to_stage__in=lost)
        if in_period(change.changed_at, scope)
    }
    assert lost_from_it
    assert set(drill(scope, str(leaky.pk), "lost").values_list("pk", flat=True)) == lost_from_it


def test_lead_funnel_counts_skipped_steps_as_passed(admin):
    lead_history(admin, count=80, seed=5)
    # Imported without history, already out of the funnel: it still entered it.
    outside = lead_history(admin, count=1, seed=6)[0]
    Lead.objects.filter(pk=outside.pk).update(status=Lead.Status.DISQUALIFIED)
    LeadStatusChange.objects.filter(lead=outside).delete()
    status_history.relink([outside.pk])  # as every direct writer of history must
    scope = year_scope(admin)
    table = compute("lead_funnel", scope)
    rank = {status.value: i for i, status in enumerate(LEAD_STEPS)}
    cohort = [lead for lead in Lead.objects.all() if in_period(lead.created_at, scope)]
    visited = defaultdict(set)
    for change in LeadStatusChange.objects.all():
        visited[change.lead_id].add(change.to_status)
    tops = [max(rank.get(s, -1) for s in visited[x.pk] | {x.status}) for x in cohort]
    assert [row["reached"] for row in table.rows] == expected_reached(tops, len(LEAD_STEPS))
    now = Counter(lead.status for lead in cohort)
    assert [row["now"] for row in table.rows] == [now[s.value] for s in LEAD_STEPS]
    drill = FIGURES["lead_funnel"].drill
    for step, row in zip(LEAD_STEPS, table.rows, strict=True):
        assert drill(scope, step.value, "reached").count() == row["reached"]


def test_leads_entering_each_status_per_month(admin):
    lead_history(admin, count=50, seed=9)
    scope = year_scope(admin)
    table = compute("lead_statuses_over_time", scope)
    expected = defaultdict(set)
    for change in LeadStatusChange.objects.all():
        if in_period(change.changed_at, scope):
            month = timezone.localtime(change.changed_at).date().replace(day=1)
            expected[(month, change.to_status)].add(change.lead_id)
    got = {
        (row["period"], status.value): row[status.value]
        for row in table.rows
        for status in (*LEAD_STEPS, Lead.Status.DISQUALIFIED)
        if row[status.value]
    }
    assert got == {key: len(ids) for key, ids in expected.items()}


def test_a_rep_counts_only_their_own_deals(admin, rep, other_rep, pipeline):
    deal_history(admin, pipeline, count=8, seed=1, owner=rep)
    deal_history(admin, pipeline, count=5, seed=2, owner=other_rep)
    mine = Deal.objects.filter(owner=rep)
    scope = year_scope(rep)
    first = compute("deal_funnel", scope).rows[0]
    assert first["reached"] == sum(1 for d in mine if in_period(d.created_at, scope))
    admin_first = compute("deal_funnel", year_scope(admin, owner=rep)).rows[0]
    assert admin_first["reached"] == first["reached"]
