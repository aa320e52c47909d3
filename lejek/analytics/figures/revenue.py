"""Wins, losses and money: win rate, deal values, lost reasons, pipeline value, won revenue.

- A deal counts as won (lost) in the period when it is in a won (lost) stage now and was
  closed in the period; a deal won and then reopened is open, not won.
- Win rate = won ÷ (won + lost), of the deals closed in the period.
- Money sums amounts in the house currency only (see analytics/money.py).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Avg, Count, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from lejek.analytics.figures import drill_url, figure
from lejek.analytics.figures.funnel import funnel_pipeline, funnel_stages
from lejek.analytics.money import (
    CENT,
    in_house,
    label_missing,
    left_out,
    median,
    note_left_out,
    share,
)
from lejek.analytics.scope import Scope
from lejek.analytics.tables import Chart, Column, Table, period_kind
from lejek.pipeline.models import Deal


def closed_in_period(scope: Scope) -> QuerySet[Deal]:
    return scope.deals().filter(closed_at__gte=scope.since, closed_at__lt=scope.until)


def won_in_period(scope: Scope) -> QuerySet[Deal]:
    return closed_in_period(scope).filter(scope.won())


def lost_in_period(scope: Scope) -> QuerySet[Deal]:
    return closed_in_period(scope).filter(scope.lost())


def _summary_drill(scope: Scope, row: str, column: str) -> QuerySet[Deal]:
    if row == "lost":
        return lost_in_period(scope)
    if row in ("won", "revenue", "average", "median"):
        return won_in_period(scope)
    if row == "win_rate":
        return closed_in_period(scope).filter(scope.won() | scope.lost())
    return Deal.objects.none()


@figure(
    "win_rate", title=_("Wins and losses in the period"), section="revenue", drill=_summary_drill
)
def win_rate(scope: Scope) -> Table:
    """Deals won and lost in the period, the win rate, and what a won deal is worth."""
    priced = won_in_period(scope).filter(in_house(scope))
    is_won = scope.won()
    counts = closed_in_period(scope).aggregate(
        won=Count("pk", filter=is_won),
        lost=Count("pk", filter=scope.lost()),
        priced=Count("pk", filter=is_won & in_house(scope)),
        revenue=Sum("amount", filter=is_won & in_house(scope)),
        average=Avg("amount", filter=is_won & in_house(scope)),
        **left_out(scope, among=is_won),
    )
    table = Table(
        key="win_rate",
        columns=[Column("metric", _("Figure"), "text"), Column("value", _("Value"), "number")],
    )
    rows = [
        ("won", _("Deals won"), counts["won"]),
        ("lost", _("Deals lost"), counts["lost"]),
        ("win_rate", _("Win rate (%)"), share(counts["won"], counts["won"] + counts["lost"])),
        ("revenue", _("Won revenue"), counts["revenue"] or 0),
        ("average", _("Average won deal"), counts["average"]),
        ("median", _("Median won deal"), median(priced, "amount", count=counts["priced"])),
    ]
    for i, (key, label, value) in enumerate(rows):
        table.rows.append({"metric": label, "value": value, "key": key})
        table.links[i] = {"value": drill_url(scope, "win_rate", key, "value")}
    note_left_out(table, scope, [counts])
    return table


def _reason_drill(scope: Scope, row: str, column: str) -> QuerySet[Deal]:
    return lost_in_period(scope).filter(lost_reason=row)


@figure("lost_reasons", title=_("Lost reasons"), section="revenue", drill=_reason_drill)
def lost_reasons(scope: Scope) -> Table:
    """Why deals were lost in the period: how many, their share, and the value lost."""
    lost = lost_in_period(scope)
    rows = (
        lost.order_by()
        .values("lost_reason")
        .annotate(n=Count("pk"), value=Sum("amount", filter=in_house(scope)), **left_out(scope))
        .order_by("-n", "lost_reason")
    )
    everything = sum(row["n"] for row in rows)
    table = Table(
        key="lost_reasons",
        columns=[
            Column("reason", _("Reason"), "text"),
            Column("deals", _("Deals")),
            Column("share", _("Share (%)"), "percent"),
            Column("value", _("Value lost"), "money"),
        ],
        chart=Chart("bar", "reason", ("deals",)),
    )
    for i, row in enumerate(rows):
        table.rows.append(
            {
                "reason": label_missing(row["lost_reason"]),
                "deals": row["n"],
                "share": share(row["n"], everything),
                "value": row["value"] or 0,
            }
        )
        table.links[i] = {"deals": drill_url(scope, "lost_reasons", row["lost_reason"], "deals")}
    note_left_out(table, scope, rows)
    return table


def _open_in_stage(scope: Scope, row: str) -> QuerySet[Deal]:
    if not row.isdigit():
        return Deal.objects.none()
    return scope.deals().filter(scope.open(), stage_id=int(row))


@figure(
    "pipeline_value",
    title=_("Open pipeline per stage (now)"),
    section="revenue",
    drill=lambda scope, row, column: _open_in_stage(scope, row),
)
def pipeline_value(scope: Scope) -> Table:
    """Open deals per stage now: how many, their value, and their value weighted by the
    stage's win probability."""
    pipeline = funnel_pipeline(scope)
    table = Table(
        key="pipeline_value",
        columns=[
            Column("stage", _("Stage"), "text"),
            Column("deals", _("Open deals")),
            Column("value", _("Value"), "money"),
            Column("weighted", _("Weighted value"), "money"),
        ],
        chart=Chart("bar", "stage", ("value", "weighted")),
    )
    if pipeline is None:
        return table
    open_deals = scope.deals().filter(scope.open(), pipeline=pipeline)
    per_stage = {
        row["stage"]: row
        for row in open_deals.order_by()
        .values("stage")
        .annotate(n=Count("pk"), value=Sum("amount", filter=in_house(scope)), **left_out(scope))
    }
    stages = [stage for stage in funnel_stages(pipeline) if not stage.is_won]
    for i, stage in enumerate(stages):
        row = per_stage.get(stage.pk, {})
        value = row.get("value") or Decimal(0)
        table.rows.append(
            {
                "stage": stage.name,
                "deals": row.get("n", 0),
                "value": value,
                # One probability per stage: the weighted sum is the stage's sum times it.
                "weighted": (value * stage.probability / 100).quantize(CENT),
            }
        )
        table.links[i] = {"deals": drill_url(scope, "pipeline_value", stage.pk, "deals")}
    table.footer = {
        "stage": _("Total"),
        "deals": sum(r["deals"] for r in table.rows),
        "value": sum(r["value"] for r in table.rows),
        "weighted": sum(r["weighted"] for r in table.rows),
    }
    table.notes.append(_("Pipeline: %(name)s") % {"name": pipeline.name})
    note_left_out(table, scope, per_stage.values())
    return table


def _won_bucket_drill(scope: Scope, row: str, column: str) -> QuerySet[Deal]:
    if not row.isdigit() or int(row) >= len(scope.buckets()):
        return Deal.objects.none()
    return won_in_period(scope).alias(bucket=scope.bucket_of("closed_at")).filter(bucket=int(row))


@figure("won_per_period", title=_("Won per period"), section="revenue", drill=_won_bucket_drill)
def won_per_period(scope: Scope) -> Table:
    """Deals won and revenue won in each week or month of the period."""
    won = won_in_period(scope)
    per_bucket = {
        row["bucket"]: row
        for row in won.annotate(bucket=scope.bucket_of("closed_at"))
        .order_by()
        .values("bucket")
        .annotate(n=Count("pk"), revenue=Sum("amount", filter=in_house(scope)), **left_out(scope))
    }
    table = Table(
        key="won_per_period",
        columns=[
            Column("period", _("Period"), period_kind(scope)),
            Column("deals", _("Deals won")),
            Column("revenue", _("Revenue"), "money"),
        ],
        chart=Chart("bar", "period", ("revenue",)),
    )
    for i, start in enumerate(scope.buckets()):
        row = per_bucket.get(i, {})
        table.rows.append(
            {"period": start, "deals": row.get("n", 0), "revenue": row.get("revenue") or 0}
        )
        table.links[i] = {"deals": drill_url(scope, "won_per_period", i, "deals")}
    table.footer = {
        "period": _("Total"),
        "deals": sum(r["deals"] for r in table.rows),
        "revenue": sum(r["revenue"] for r in table.rows),
    }
    note_left_out(table, scope, per_bucket.values())
    return table
