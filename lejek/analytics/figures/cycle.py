"""How long selling takes: the sales cycle of won deals, and the time deals spend per stage.

- Sales cycle of a deal won in the period: days from the deal's creation to its close, and
  from first contact (its lead's creation, else the deal's) to its close.
- Time in stage: for every stay in a stage that ended in the period (the deal moved on), the
  days from entering to leaving; mean and median per stage.
"""

from __future__ import annotations

import datetime

from django.db import connection
from django.db.models import Avg, Case, Count, DurationField, ExpressionWrapper, F, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from lejek.analytics.figures import drill_url, figure
from lejek.analytics.figures.funnel import funnel_pipeline
from lejek.analytics.figures.revenue import won_in_period
from lejek.analytics.money import days_between, median
from lejek.analytics.scope import Scope
from lejek.analytics.tables import Chart, Column, Table
from lejek.pipeline.models import Deal, StageChange

# Upper bounds (days, inclusive) of the cycle-length distribution; the last bucket is open.
BUCKETS = (7, 14, 30, 60, 90, 180, 365)


def _days(delta: datetime.timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 86400, 1)


def cycles(scope: Scope):
    """Won deals with `from_created` and `from_contact` durations annotated."""
    return won_in_period(scope).annotate(
        from_created=ExpressionWrapper(F("closed_at") - F("created_at"), DurationField()),
        from_contact=ExpressionWrapper(
            F("closed_at") - Coalesce("lead__created_at", "created_at"), DurationField()
        ),
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
    rows = cycles(scope)
    if low:
        rows = rows.filter(from_created__gt=datetime.timedelta(days=low))
    if high is not None:
        rows = rows.filter(from_created__lte=datetime.timedelta(days=high))
    return rows


@figure("cycle_length", section="cycle", drill=_cycle_drill)
def cycle_length(scope: Scope) -> Table:
    """Mean and median days to win, from the deal's creation and from first contact."""
    won = cycles(scope)
    means = won.aggregate(n=Count("pk"), created=Avg("from_created"), contact=Avg("from_contact"))
    table = Table(
        key="cycle_length",
        title=_("Sales cycle of deals won in the period"),
        columns=[
            Column("measure", _("Measured from"), "text"),
            Column("deals", _("Deals")),
            Column("mean", _("Mean (days)"), "days"),
            Column("median", _("Median (days)"), "days"),
        ],
    )
    for key, label, field in (
        ("created", _("Deal created"), "from_created"),
        ("contact", _("First contact"), "from_contact"),
    ):
        table.rows.append(
            {
                "measure": label,
                "deals": means["n"],
                "mean": _days(means[key]),
                "median": _days(median(won, field)),
            }
        )
        table.links[len(table.rows) - 1] = {"deals": drill_url(scope, "cycle_length", key, "deals")}
    return table


@figure("cycle_distribution", section="cycle", drill=_cycle_drill)
def cycle_distribution(scope: Scope) -> Table:
    """How many deals won in the period took up to a week, two weeks, a month… to win."""
    won = cycles(scope)
    whens = [
        When(from_created__lte=datetime.timedelta(days=high), then=Value(i))
        for i, high in enumerate(BUCKETS)
    ]
    counts = dict(
        won.annotate(bucket=Case(*whens, default=Value(len(BUCKETS))))
        .order_by()
        .values_list("bucket")
        .annotate(n=Count("pk"))
    )
    table = Table(
        key="cycle_distribution",
        title=_("How long winning took"),
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


def _stays_sql(scope: Scope) -> tuple[str, list]:
    """Each stay in a stage: the stage, and the days it lasted, for stays ending in the period."""
    changes = StageChange.objects.filter(deal__in=scope.deals().values("pk"))
    ids_sql, ids_params = changes.values("pk").query.sql_with_params()
    table = connection.ops.quote_name(StageChange._meta.db_table)
    days = days_between("t.left_at", "t.changed_at")
    sql = f"""
        SELECT t.to_stage_id, {days} AS days
        FROM (
            SELECT s.to_stage_id, s.changed_at,
                   LEAD(s.changed_at) OVER (PARTITION BY s.deal_id ORDER BY s.changed_at, s.id)
                   AS left_at
            FROM {table} s
            WHERE s.id IN ({ids_sql})
        ) t
        WHERE t.left_at >= %s AND t.left_at < %s
    """
    adapt = connection.ops.adapt_datetimefield_value
    return sql, [*ids_params, adapt(scope.since), adapt(scope.until)]


@figure("time_in_stage", section="cycle")
def time_in_stage(scope: Scope) -> Table:
    """Mean and median days a deal stayed in each stage (stays that ended in the period)."""
    pipeline = funnel_pipeline(scope)
    table = Table(
        key="time_in_stage",
        title=_("Time spent in each stage"),
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
    stays, params = _stays_sql(scope)
    sql = f"""
        SELECT to_stage_id, COUNT(*), AVG(days) FROM ({stays}) x GROUP BY to_stage_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        per_stage = {stage: (n, mean) for stage, n, mean in cursor.fetchall()}
    for stage in pipeline.stages.filter(is_won=False, is_lost=False).order_by("position"):
        n, mean = per_stage.get(stage.pk, (0, None))
        table.rows.append(
            {
                "stage": stage.name,
                "stays": n,
                "mean": None if mean is None else round(float(mean), 1),
                "median": _median_stay(stays, params, stage.pk, n),
            }
        )
    return table


def _median_stay(stays: str, params: list, stage_id: int, n: int) -> float | None:
    """The median of one stage's stays, by ORDER BY … OFFSET in the database."""
    if not n:
        return None
    sql = f"""
        SELECT days FROM ({stays}) x WHERE to_stage_id = %s ORDER BY days
        LIMIT {2 - n % 2} OFFSET {(n - 1) // 2}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, stage_id])
        middle = [float(days) for (days,) in cursor.fetchall()]
    return round(sum(middle) / len(middle), 1)
