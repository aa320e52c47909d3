"""How long selling takes: the sales cycle of won deals, and the time deals spend per stage.

- Sales cycle of a deal won in the period: days from the deal's creation to its close, and
  from first contact (its lead's creation, else the deal's) to its close.
- Time in stage: for every stay in a stage that ended in the period (the deal moved on), the
  days from entering to leaving; mean and median per stage.
"""

from __future__ import annotations

from django.db.models import (
    Avg,
    Case,
    Count,
    F,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from lejek.analytics.figures import drill_url, figure
from lejek.analytics.figures.funnel import funnel_pipeline
from lejek.analytics.figures.revenue import won_in_period
from lejek.analytics.money import median
from lejek.analytics.scope import Scope
from lejek.analytics.sql import Days, Median, medians_in_aggregates
from lejek.analytics.tables import Chart, Column, Table
from lejek.pipeline.models import Deal, StageChange

# Upper bounds (days, inclusive) of the cycle-length distribution; the last bucket is open.
BUCKETS = (7, 14, 30, 60, 90, 180, 365)


def _days(days: float | None) -> float | None:
    return None if days is None else round(days, 1)


def cycles_from_created(scope: Scope):
    """Won deals with `from_created` annotated, in days (no join to their leads)."""
    return won_in_period(scope).annotate(from_created=Days("closed_at", "created_at"))


def cycles(scope: Scope):
    """Won deals with `from_created` and `from_contact` annotated, in days."""
    return cycles_from_created(scope).annotate(
        from_contact=Days("closed_at", Coalesce("lead__created_at", "created_at")),
    )


def _bucket_bounds(row: str) -> tuple[int, int | None] | None:
    try:
        index = int(row)
    except ValueError:
        return None
    if not 0 <= index <= len(BUCKETS):
        return None
    low = BUCKETS[index - 1] if index else 0
    high = BUCKETS[index] if index < len(BUCKETS) else None
    return low, high


def _cycle_drill(scope: Scope, row: str, column: str):
    if column in ("deals", "mean", "median") and row in ("created", "contact"):
        return won_in_period(scope)
    bounds = _bucket_bounds(row)
    if bounds is None:
        return Deal.objects.none()
    low, high = bounds
    rows = cycles_from_created(scope)
    if low:
        rows = rows.filter(from_created__gt=low)
    if high is not None:
        rows = rows.filter(from_created__lte=high)
    return rows


@figure(
    "cycle_length",
    title=_("Sales cycle of deals won in the period"),
    section="cycle",
    drill=_cycle_drill,
)
def cycle_length(scope: Scope) -> Table:
    """Mean and median days to win, from the deal's creation and from first contact."""
    won = cycles(scope)
    aggregates = {"n": Count("pk"), "created": Avg("from_created"), "contact": Avg("from_contact")}
    if medians_in_aggregates():  # both medians in the same pass over the won deals
        aggregates |= {
            "created_median": Median("from_created"),
            "contact_median": Median("from_contact"),
        }
    means = won.aggregate(**aggregates)
    table = Table(
        key="cycle_length",
        columns=[
            Column("measure", _("Measured from"), "text"),
            Column("deals", _("Deals")),
            Column("mean", _("Mean (days)"), "days"),
            Column("median", _("Median (days)"), "days"),
        ],
    )
    for key, label, field, queryset in (
        ("created", _("Deal created"), "from_created", cycles_from_created(scope)),
        ("contact", _("First contact"), "from_contact", won),
    ):
        if f"{key}_median" in means:
            middle = means[f"{key}_median"]
        else:
            middle = median(queryset, field, count=means["n"])
        table.rows.append(
            {
                "measure": label,
                "deals": means["n"],
                "mean": _days(means[key]),
                "median": _days(middle),
            }
        )
        table.links[len(table.rows) - 1] = {"deals": drill_url(scope, "cycle_length", key, "deals")}
    return table


@figure("cycle_distribution", title=_("How long winning took"), section="cycle", drill=_cycle_drill)
def cycle_distribution(scope: Scope) -> Table:
    """How many deals won in the period took up to a week, two weeks, a month… to win."""
    won = cycles_from_created(scope)
    whens = [When(from_created__lte=high, then=Value(i)) for i, high in enumerate(BUCKETS)]
    counts = dict(
        won.annotate(bucket=Case(*whens, default=Value(len(BUCKETS))))
        .order_by()
        .values_list("bucket")
        .annotate(n=Count("pk"))
    )
    table = Table(
        key="cycle_distribution",
        columns=[Column("range", _("Days to win"), "text"), Column("deals", _("Deals"))],
        chart=Chart("bar", "range", ("deals",)),
    )
    low = 0
    for i in range(len(BUCKETS) + 1):
        if i < len(BUCKETS):
            label = f"{low + 1 if low else 0}-{BUCKETS[i]}"
            low = BUCKETS[i]
        else:
            label = f"> {BUCKETS[-1]}"
        table.rows.append({"range": label, "deals": counts.get(i, 0)})
        table.links[i] = {"deals": drill_url(scope, "cycle_distribution", i, "deals")}
    return table


def _stays(scope: Scope, stage_ids: list[int]) -> QuerySet[StageChange]:
    """Each stay in a stage that ended in the period, with the days it lasted.

    A stay ends with a stage change out of it (its `from_stage`), which keeps when the deal
    entered that stage (`from_stage_entered_at`).
    """
    ends = StageChange.objects.filter(
        changed_at__gte=scope.since,
        changed_at__lt=scope.until,
        from_stage__in=stage_ids,
        from_stage_entered_at__isnull=False,
    )
    return (
        scope.only_deals(ends, "deal")
        .order_by()
        .annotate(days=Days(F("changed_at"), F("from_stage_entered_at")))
    )


@figure("time_in_stage", title=_("Time spent in each stage"), section="cycle")
def time_in_stage(scope: Scope) -> Table:
    """Mean and median days a deal stayed in each stage (stays that ended in the period)."""
    pipeline = funnel_pipeline(scope)
    table = Table(
        key="time_in_stage",
        columns=[
            Column("stage", _("Stage"), "text"),
            Column("stays", _("Stays ended")),
            Column("mean", _("Mean (days)"), "days"),
            Column("median", _("Median (days)"), "days"),
        ],
        chart=Chart("bar", "stage", ("mean", "median")),
    )
    if pipeline is None:
        return table
    stages = list(pipeline.stages.filter(is_won=False, is_lost=False).order_by("position"))
    stays = _stays(scope, [stage.pk for stage in stages])
    aggregates = {"n": Count("*"), "mean": Avg("days")}
    if medians_in_aggregates():  # every stage's median in the same pass over the stays
        aggregates["median"] = Median("days")
    per_stage = {
        row["from_stage"]: row for row in stays.values("from_stage").annotate(**aggregates)
    }
    for stage in stages:
        row = per_stage.get(stage.pk, {"n": 0, "mean": None})
        if "median" in row:
            middle = row["median"]
        else:
            # On SQLite by ORDER BY ... OFFSET per stage: a window function ranking every
            # stay took several times as long.
            middle = median(stays.filter(from_stage=stage), "days", count=row["n"])
        table.rows.append(
            {
                "stage": stage.name,
                "stays": row["n"],
                "mean": None if row["mean"] is None else round(float(row["mean"]), 1),
                "median": None if middle is None else round(float(middle), 1),
            }
        )
    return table
