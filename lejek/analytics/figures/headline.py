"""The dashboard's headline numbers, each beside the same number for the period before."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Avg, Count, Sum
from django.utils.translation import gettext_lazy as _

from lejek.analytics.figures import drill_url, figure
from lejek.analytics.figures.funnel import cohort_leads
from lejek.analytics.figures.revenue import closed_in_period
from lejek.analytics.money import in_house, share
from lejek.analytics.scope import Scope
from lejek.analytics.sql import Days
from lejek.analytics.tables import Column, Table


def _numbers(scope: Scope) -> dict:
    closed = closed_in_period(scope).aggregate(
        won=Count("pk", filter=scope.won()),
        lost=Count("pk", filter=scope.lost()),
        revenue=Sum("amount", filter=scope.won() & in_house(scope)),
        cycle=Avg(Days("closed_at", "created_at"), filter=scope.won()),
    )
    cycle = closed["cycle"]
    return {
        "leads": cohort_leads(scope).count(),
        "won": closed["won"],
        "revenue": closed["revenue"] or Decimal(0),
        "win_rate": share(closed["won"], closed["won"] + closed["lost"]),
        "cycle": None if cycle is None else round(cycle, 1),
    }


def _headline_drill(scope: Scope, row: str, column: str):
    if row == "leads":
        return cohort_leads(scope)
    if row in ("won", "revenue", "cycle"):
        return closed_in_period(scope).filter(scope.won())
    if row == "win_rate":
        return closed_in_period(scope)
    return cohort_leads(scope).none()


@figure(
    "headline",
    title=_("This period against the one before"),
    section="headline",
    drill=_headline_drill,
)
def headline(scope: Scope) -> Table:
    now, before = _numbers(scope), _numbers(scope.previous())
    table = Table(
        key="headline",
        columns=[
            Column("metric", _("Figure"), "text"),
            Column("value", _("Now"), "number"),
            Column("previous", _("Before"), "number"),
            Column("change", _("Change (%)"), "percent"),
        ],
    )
    labels = {
        "leads": _("New leads"),
        "won": _("Deals won"),
        "revenue": _("Won revenue"),
        "win_rate": _("Win rate (%)"),
        "cycle": _("Days to win"),
    }
    kinds = {"revenue": "money", "win_rate": "percent", "cycle": "days"}
    for i, (key, label) in enumerate(labels.items()):
        value, previous = now[key], before[key]
        change = None
        if value is not None and previous:
            change = round(100 * (float(value) - float(previous)) / float(previous), 1)
        table.rows.append(
            {
                "metric": label,
                "value": value,
                "previous": previous,
                "change": change,
                "key": key,
                "kind": kinds.get(key, "int"),
            }
        )
        table.links[i] = {"value": drill_url(scope, "headline", key, "value")}
    return table
