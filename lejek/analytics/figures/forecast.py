"""What the coming months should bring, beside what the past months actually brought.

For each month of expected close (this month and the next five; open deals whose expected
close date has passed count in this month), the open deals' value three ways:

- weighted by the probability set on their stage;
- weighted by this company's own history: for each stage, of the closed deals that were ever
  in it, the share that was won (the stage's own probability where no deal has closed yet);
- weighted by the predictive win probability of the deal's lead where it has one, else by
  the history rate.

For the six months before this one: the revenue actually won in each. House currency only.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lejek.analytics.figures import drill_url, figure
from lejek.analytics.money import CENT, in_house, left_out, note_left_out
from lejek.analytics.scope import Scope, bucket_case, midnight
from lejek.analytics.tables import Chart, Column, Table
from lejek.pipeline.models import Deal, visited_ids
from lejek.scoring.models import LeadScore

AHEAD = 6
BEHIND = 6


def add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def history_win_rates(scope: Scope) -> dict[int, float]:
    """Per stage: won ÷ (won + lost) among closed deals that were ever in it (0-1).

    Each deal counts once per stage it was in. The stages a deal has been in are kept on it
    (`stages_visited`), so closed deals that went through the same stages are counted in one
    row, instead of reading every deal's changes.
    """
    paths = (
        scope.deals()
        .filter(scope.won() | scope.lost())
        .order_by()
        .values_list("stage", "stages_visited")
        .annotate(n=Count("*"))
    )
    won_stages = set(scope.stage_ids("won"))
    won, closed = Counter(), Counter()
    for stage_now, visited, n in paths:  # one row per outcome and set of stages been in
        for stage in visited_ids(visited):
            closed[stage] += n
            if stage_now in won_stages:
                won[stage] += n
    rates = {stage: won[stage] / closed[stage] for stage in closed}
    for stage, probability in scope.stage_probabilities().items():
        rates.setdefault(stage, probability / 100)
    return rates


def _open_ahead(scope: Scope, this_month: datetime.date) -> QuerySet[Deal]:
    last = add_months(this_month, AHEAD)
    return scope.deals().filter(
        scope.open(), expected_close_date__isnull=False, expected_close_date__lt=last
    )


def _forecast_drill(scope: Scope, row: str, column: str) -> QuerySet[Deal]:
    try:
        month = datetime.date.fromisoformat(row)
    except ValueError:
        return Deal.objects.none()
    this_month = timezone.localdate().replace(day=1)
    if column == "won":
        return (
            scope.deals()
            .filter(scope.won())
            .filter(closed_at__gte=midnight(month), closed_at__lt=midnight(add_months(month, 1)))
        )
    rows = _open_ahead(scope, this_month)
    if month == this_month:
        return rows.filter(expected_close_date__lt=add_months(month, 1))
    return rows.filter(expected_close_date__gte=month, expected_close_date__lt=add_months(month, 1))


@figure(
    "forecast",
    title=_("Forecast by month of expected close, and what was won"),
    section="forecast",
    drill=_forecast_drill,
)
def forecast(scope: Scope) -> Table:
    this_month = timezone.localdate().replace(day=1)
    months = [add_months(this_month, n) for n in range(-BEHIND, AHEAD)]
    rates = history_win_rates(scope)
    probabilities = scope.stage_probabilities()
    ahead = _open_ahead(scope, this_month)
    per_month = defaultdict(lambda: defaultdict(Decimal))
    counts = defaultdict(int)
    future = months[BEHIND:]
    # Each deal weighted by its lead's predicted probability, read straight from the score row
    # by the deal's lead id (through the lead it costs one more lookup per deal), else by its
    # stage's history rate. The subquery is mentioned once: SQLite and PostgreSQL run it
    # once per mention.
    probability = Subquery(
        LeadScore.objects.filter(lead_id=OuterRef("lead_id")).values("probability")
    )
    history_rate = Case(
        *[When(stage_id=stage, then=Value(rate)) for stage, rate in rates.items()],
        default=Value(0.0),
        output_field=FloatField(),
    )
    grouped = list(
        ahead.annotate(month=bucket_case("expected_close_date", future, dates=True))
        .order_by()
        .values("month", "stage")
        .annotate(
            n=Count("pk"),
            overdue=Count("pk", filter=Q(expected_close_date__lt=this_month)),
            **left_out(scope),
            value=Sum("amount", filter=in_house(scope)),
            predicted=Sum(
                ExpressionWrapper(
                    F("amount") * Coalesce(probability, history_rate), output_field=FloatField()
                ),
                filter=in_house(scope),
            ),
        )
    )
    for row in grouped:  # one row per (month, stage): a few dozen, not one per deal
        month = future[row["month"]]  # deals already past their date are in this month
        value = row["value"] or Decimal(0)
        rate = Decimal(str(rates.get(row["stage"], 0)))
        sums = per_month[month]
        counts[month] += row["n"]
        sums["value"] += value
        sums["stage"] += value * probabilities[row["stage"]] / 100
        sums["history"] += value * rate
        sums["predictive"] += Decimal(str(row["predicted"] or 0))
    past = months[: BEHIND + 1]
    won = dict(
        scope.deals()
        .filter(scope.won())
        .filter(closed_at__gte=midnight(months[0]), closed_at__lt=midnight(this_month))
        .filter(in_house(scope))
        .annotate(month=bucket_case("closed_at", past))
        .order_by()
        .values_list("month")
        .annotate(s=Sum("amount"))
    )
    won = {past[index]: amount for index, amount in won.items()}
    table = Table(
        key="forecast",
        columns=[
            Column("month", _("Month"), "month"),
            Column("deals", _("Open deals")),
            Column("value", _("Value"), "money"),
            Column("weighted_stage", _("Weighted by stage"), "money"),
            Column("weighted_history", _("Weighted by history"), "money"),
            Column("weighted_predictive", _("Weighted by prediction"), "money"),
            Column("won", _("Won"), "money"),
        ],
        chart=Chart(
            "bar+line",
            "month",
            ("won", "weighted_stage", "weighted_history", "weighted_predictive"),
        ),
    )
    for i, month in enumerate(months):
        sums = per_month.get(month, {})
        past = month < this_month
        table.rows.append(
            {
                "month": month,
                "deals": None if past else counts.get(month, 0),
                "value": None if past else _cents(sums.get("value")),
                "weighted_stage": None if past else _cents(sums.get("stage")),
                "weighted_history": None if past else _cents(sums.get("history")),
                "weighted_predictive": None if past else _cents(sums.get("predictive")),
                "won": won.get(month, Decimal(0)) if past else None,
            }
        )
        column = "won" if past else "deals"
        table.links[i] = {column: drill_url(scope, "forecast", month.isoformat(), column)}
    overdue = sum(row["overdue"] for row in grouped)
    if overdue:
        table.notes.append(
            ngettext(
                "%(n)s open deal is past its expected close date; it counts in this month.",
                "%(n)s open deals are past their expected close date; they count in this month.",
                overdue,
            )
            % {"n": overdue}
        )
    note_left_out(table, scope, grouped)
    return table


def _cents(value) -> Decimal:
    return (value or Decimal(0)).quantize(CENT)
