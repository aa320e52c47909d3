"""The funnel: how many leads and deals reach each step, and where they drop out.

Definitions (docs/metrics.md explains them with examples):

- A lead or deal *reached* a step if it was ever moved to that step or to a later one
  (skipping a step passes it); every record reached the first step by being created. Lost
  stages and "disqualified" are not steps: they are where records leave.
- Cohort view: the records created in the period, by the furthest step each reached.
  Conversion from step N to N+1 = reached(N+1) / reached(N); drop-off = 1 - conversion.
- Period view (deals): the moves out of each stage made in the period, forward (to a later
  stage or won), backward, or to lost; conversion = forward / (forward + lost).
"""

from __future__ import annotations

import itertools
from collections import Counter

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils.translation import gettext_lazy as _

from lejek.analytics.figures import drill_url, figure
from lejek.analytics.money import share
from lejek.analytics.scope import Scope, bucket_case, midnight
from lejek.analytics.tables import Chart, Column, Table, period_kind
from lejek.leads.models import LEAD_STEPS, Lead
from lejek.leads.status_history import STEP
from lejek.pipeline.models import Deal, Pipeline, Stage, StageChange, visited_ids


def cohort_leads(scope: Scope) -> QuerySet[Lead]:
    return scope.leads().filter(created_at__gte=scope.since, created_at__lt=scope.until)


def cohort_deals(scope: Scope, pipeline: Pipeline) -> QuerySet[Deal]:
    return scope.deals().filter(
        pipeline=pipeline, created_at__gte=scope.since, created_at__lt=scope.until
    )


def funnel_pipeline(scope: Scope) -> Pipeline | None:
    """Stage figures need one pipeline: the chosen one, else the default."""
    if scope.pipeline is not None:
        return scope.pipeline
    return Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()


def funnel_stages(pipeline: Pipeline) -> list[Stage]:
    """The pipeline's steps in order: open stages by position, then won; lost ones left out."""
    stages = [s for s in pipeline.stages.order_by("position") if not s.is_lost]
    return [s for s in stages if not s.is_won] + [s for s in stages if s.is_won]


def _steps_table(
    *,
    key: str,
    scope: Scope,
    labels: list[str],
    row_keys: list[str],
    now: list[int],
    reached_counts: dict[int, int],
) -> Table:
    """Rows per step: in it now, reached, conversion to the next, drop-off; the biggest drop
    highlighted."""
    steps = len(labels)
    reached = [sum(n for top, n in reached_counts.items() if top >= i) for i in range(steps)]
    table = Table(
        key=key,
        columns=[
            Column("step", _("Step"), "text"),
            Column("now", _("There now")),
            Column("reached", _("Reached")),
            Column("conversion", _("To next step (%)"), "percent"),
            Column("drop", _("Dropped here")),
            Column("drop_rate", _("Drop-off (%)"), "percent"),
        ],
        chart=Chart("funnel", "step", ("reached",)),
    )
    biggest = None
    for i, label in enumerate(labels):
        following = reached[i + 1] if i + 1 < steps else None
        drop = reached[i] - following if following is not None else None
        conversion = share(following, reached[i]) if following is not None else None
        table.rows.append(
            {
                "step": label,
                "now": now[i],
                "reached": reached[i],
                "conversion": conversion,
                "drop": drop,
                "drop_rate": None if conversion is None else round(100 - conversion, 1),
            }
        )
        table.links[i] = {
            column: drill_url(scope, key, row_keys[i], column)
            for column in ("now", "reached", "drop")
            if column != "drop" or drop is not None
        }
        if drop and (biggest is None or drop > table.rows[biggest]["drop"]):
            biggest = i
    table.highlight = biggest
    return table


# Leads ----------------------------------------------------------------------------------------


def _lead_steps(scope: Scope) -> tuple[Counter, dict[int, int]]:
    """The cohort's leads by status now, and {step rank: leads that got furthest to it}, from
    one grouped count: a lead got as far as the further of its status and its
    `furthest_status` (the step it was sent back or disqualified from), so its history is
    not read."""
    pairs = cohort_leads(scope).order_by().values_list("status", "furthest_status")
    now: Counter = Counter()
    reached: dict[int, int] = {}
    # COUNT(*), not COUNT(id): PostgreSQL then answers from the index alone (here and in the
    # other single-table counts of the figures).
    for status, furthest, n in pairs.annotate(n=Count("*")):  # at most 6 x 6 rows
        now[status] += n
        top = max(STEP.get(status, 0), STEP.get(furthest, 0))
        reached[top] = reached.get(top, 0) + n
    return now, reached


def _steps_drill(
    records: QuerySet, steps: list, row: str, column: str, *, current: str, history: str
) -> QuerySet:
    """The records of a funnel row: in step `row` now, that reached it, or that dropped there.

    `steps` are the step values in order, `current` the record's field holding its step and
    `history` the lookup of the steps it has been in (its history, or a field keeping the
    furthest).
    """
    if row not in steps:
        return records.none()
    rank = steps.index(row)
    if column == "now":
        return records.filter(**{current: row})

    def passed(later: list) -> QuerySet:
        moved = Q(**{f"{current}__in": later}) | Q(**{f"{history}__in": later})
        return records.filter(moved).values("pk")

    # Every record reached the first step by being created.
    reached = records if rank == 0 else records.filter(pk__in=passed(steps[rank:]))
    if column == "reached":
        return reached
    if column == "drop" and rank + 1 < len(steps):
        return reached.exclude(pk__in=passed(steps[rank + 1 :]))
    return records.none()


def _lead_drill(scope: Scope, row: str, column: str) -> QuerySet[Lead]:
    steps = [step.value for step in LEAD_STEPS]
    return _steps_drill(
        cohort_leads(scope),
        steps,
        row,
        column,
        current="status",
        history="furthest_status",
    )


@figure(
    "lead_funnel",
    title=_("Lead funnel (leads created in the period)"),
    section="funnel",
    drill=_lead_drill,
)
def lead_funnel(scope: Scope) -> Table:
    """Leads created in the period, by the furthest lifecycle step they reached."""
    now, reached = _lead_steps(scope)
    table = _steps_table(
        key="lead_funnel",
        scope=scope,
        labels=[str(step.label) for step in LEAD_STEPS],
        row_keys=[step.value for step in LEAD_STEPS],
        now=[now[step.value] for step in LEAD_STEPS],
        reached_counts=reached,
    )
    disqualified = now[Lead.Status.DISQUALIFIED]
    if disqualified:
        table.notes.append(
            _("%(n)s of these leads are disqualified; each counts up to the step it reached.")
            % {"n": disqualified}
        )
    return table


# Deals ----------------------------------------------------------------------------------------


def _deal_drill(scope: Scope, row: str, column: str) -> QuerySet[Deal]:
    pipeline = funnel_pipeline(scope)
    if pipeline is None or not row.isdigit():
        return Deal.objects.none()
    steps = [stage.pk for stage in funnel_stages(pipeline)]
    return _steps_drill(
        cohort_deals(scope, pipeline),
        steps,
        int(row),
        column,
        current="stage",
        history="stage_changes__to_stage",
    )


@figure(
    "deal_funnel",
    title=_("Deal funnel (deals created in the period)"),
    section="funnel",
    drill=_deal_drill,
)
def deal_funnel(scope: Scope) -> Table:
    """Deals created in the period, by the furthest stage of the pipeline they reached."""
    pipeline = funnel_pipeline(scope)
    if pipeline is None:
        return Table(key="deal_funnel", columns=[Column("step", _("Step"), "text")])
    stages = funnel_stages(pipeline)
    rank = {stage.pk: i for i, stage in enumerate(stages)}  # a lost stage ranks -1
    paths = (
        cohort_deals(scope, pipeline)
        .order_by()
        .values_list("stage", "stages_visited")
        .annotate(n=Count("*"))
    )
    now, reached_counts = Counter(), Counter()
    for stage_id, visited, n in paths:  # one row per stage and set of stages been in
        rank_now = rank.get(stage_id, -1)
        furthest = max((rank.get(pk, -1) for pk in visited_ids(visited)), default=-1)
        now[rank_now] += n
        # At least the first step, which every deal reached by being created.
        reached_counts[max(furthest, rank_now, 0)] += n
    table = _steps_table(
        key="deal_funnel",
        scope=scope,
        labels=[stage.name for stage in stages],
        row_keys=[str(stage.pk) for stage in stages],
        now=[now[rank] for rank in range(len(stages))],
        reached_counts=reached_counts,
    )
    table.notes.append(_("Pipeline: %(name)s") % {"name": pipeline.name})
    lost = now[-1]  # in a lost stage: the funnel's stages are every other one
    if lost:
        table.notes.append(
            _("%(n)s of these deals are lost; each counts up to the stage it reached.")
            % {"n": lost}
        )
    return table


def _moves_in_period(scope: Scope, pipeline: Pipeline) -> QuerySet[StageChange]:
    moves = StageChange.objects.filter(
        from_stage_id__in=list(pipeline.stages.values_list("pk", flat=True)),
        changed_at__gte=scope.since,
        changed_at__lt=scope.until,
        from_stage__isnull=False,
    )
    return scope.only_deals(moves, "deal")


def _transition_drill(scope: Scope, row: str, column: str) -> QuerySet[Deal]:
    pipeline = funnel_pipeline(scope)
    if pipeline is None or not row.isdigit():
        return Deal.objects.none()
    stages = funnel_stages(pipeline)
    rank = {stage.pk: i for i, stage in enumerate(stages)}
    stage_id = int(row)
    if stage_id not in rank:
        return Deal.objects.none()
    moves = _moves_in_period(scope, pipeline).filter(from_stage_id=stage_id)
    later = [s.pk for s in stages if rank[s.pk] > rank[stage_id]]
    earlier = [s.pk for s in stages if rank[s.pk] < rank[stage_id]]
    chosen = {
        "forward": moves.filter(to_stage__in=later),
        "backward": moves.filter(to_stage__in=earlier),
        "lost": moves.filter(to_stage__is_lost=True),
    }.get(column)
    if chosen is None:
        return Deal.objects.none()
    return scope.deals().filter(pk__in=chosen.values("deal_id"))


@figure(
    "deal_transitions",
    title=_("Moves out of each stage in the period"),
    section="funnel",
    drill=_transition_drill,
)
def deal_transitions(scope: Scope) -> Table:
    """Moves out of each stage made in the period: forward, backward, or lost."""
    pipeline = funnel_pipeline(scope)
    table = Table(
        key="deal_transitions",
        columns=[
            Column("step", _("Stage"), "text"),
            Column("forward", _("Forward")),
            Column("backward", _("Backward")),
            Column("lost", _("Lost")),
            Column("conversion", _("Forward of forward + lost (%)"), "percent"),
        ],
        chart=Chart("bar", "step", ("forward", "lost"), stacked=True),
    )
    if pipeline is None:
        return table
    stages = funnel_stages(pipeline)
    rank = {stage.pk: i for i, stage in enumerate(stages)}
    lost_ids = set(pipeline.stages.filter(is_lost=True).values_list("pk", flat=True))
    counts = (
        _moves_in_period(scope, pipeline)
        .order_by()
        .values_list("from_stage", "to_stage")
        .annotate(n=Count("*"))
    )
    per_stage = {stage.pk: {"forward": 0, "backward": 0, "lost": 0} for stage in stages}
    for from_id, to_id, n in counts:  # one row per (from, to) pair: a handful, not per deal
        if from_id not in per_stage:
            continue
        if to_id in lost_ids:
            per_stage[from_id]["lost"] += n
        elif to_id in rank:
            direction = "forward" if rank[to_id] > rank[from_id] else "backward"
            per_stage[from_id][direction] += n
    for i, stage in enumerate(stages):
        moves = per_stage[stage.pk]
        table.rows.append(
            {
                "step": stage.name,
                **moves,
                "conversion": share(moves["forward"], moves["forward"] + moves["lost"]),
            }
        )
        table.links[i] = {
            column: drill_url(scope, "deal_transitions", stage.pk, column)
            for column in ("forward", "backward", "lost")
        }
    table.notes.append(_("Pipeline: %(name)s") % {"name": pipeline.name})
    return table


@figure("lead_statuses_over_time", title=_("Leads entering each status"), section="funnel")
def lead_statuses_over_time(scope: Scope) -> Table:
    """How many leads entered each lifecycle status, per week or month of the period."""
    statuses = [*LEAD_STEPS, Lead.Status.DISQUALIFIED]
    grid: dict = {}
    for bucket, status, n in _entries_per_bucket(scope, statuses):  # a few dozen rows
        grid.setdefault(bucket, {})[status] = n
    table = Table(
        key="lead_statuses_over_time",
        columns=[
            Column("period", _("Period"), period_kind(scope)),
            *[Column(status.value, status.label) for status in statuses],
        ],
        chart=Chart("bar", "period", tuple(status.value for status in statuses)),
    )
    for i, start in enumerate(scope.buckets()):
        counts = grid.get(i, {})
        table.rows.append({"period": start, **{s.value: counts.get(s, 0) for s in statuses}})
    return table


def _entries_per_bucket(scope: Scope, statuses: list) -> list[tuple[int, str, int]]:
    """[(bucket, status, leads that entered it there)]: per week or month, the changes into a
    status that are their lead's first into it within that week or month of the period
    (`previous_entry_at` before it starts), so a lead moving twice into one status counts
    once.

    Over every lead: one index range per bucket, all in one query. Over some leads (a rep's,
    a manager's, a filter's): one pass over the period with each change's bucket worked out
    in SQL, so the leads in scope are looked up once, not once per bucket (a manager's
    figure at a million leads: 2.4 s to 0.5 s on PostgreSQL, 1.4 s to 0.9 s on SQLite).
    """
    changes = scope.status_changes().filter(to_status__in=statuses).order_by()
    edges = [max(midnight(day), scope.since) for day in scope.buckets()] + [scope.until]
    if not scope.sees_all_leads():
        bucket_start = Case(
            *[When(changed_at__lt=end, then=Value(edges[i])) for i, end in enumerate(edges[1:-1])],
            default=Value(edges[-2]),
            output_field=DateTimeField(),
        )
        return list(
            changes.filter(changed_at__gte=scope.since, changed_at__lt=scope.until)
            .alias(bucket_start=bucket_start)
            .filter(Q(previous_entry_at__isnull=True) | Q(previous_entry_at__lt=F("bucket_start")))
            .annotate(bucket=bucket_case("changed_at", scope.buckets()))
            .values_list("bucket", "to_status")
            .annotate(n=Count("*"))
        )
    parts = [
        changes.filter(changed_at__gte=start, changed_at__lt=end)
        .filter(Q(previous_entry_at__isnull=True) | Q(previous_entry_at__lt=start))
        .values_list("to_status")
        .annotate(bucket=Value(i), n=Count("*"))
        .values_list("bucket", "to_status", "n")
        for i, (start, end) in enumerate(itertools.pairwise(edges))
    ]
    return list(parts[0].union(*parts[1:], all=True).order_by())
