"""The forecast three ways, against a hand computation over the same deals."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.utils import timezone

from lejek.analytics.figures import FIGURES, compute
from lejek.analytics.figures.forecast import history_win_rates
from lejek.pipeline.models import Deal, StageChange
from lejek.scoring.models import LeadScore
from tests.analytics_history import deal_history
from tests.factories import make_lead
from tests.test_analytics_funnel import year_scope


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(day: datetime.date, n: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + n
    return datetime.date(index // 12, index % 12 + 1, 1)


@pytest.fixture
def history(admin, pipeline):
    deals = deal_history(admin, pipeline, count=60, seed=21)
    # Two open deals carry a lead with a predictive win probability.
    scored = [d for d in deals if not d.stage.is_closed and d.amount and d.currency == "PLN"][:2]
    for deal, probability in zip(scored, (0.25, 0.8), strict=False):
        lead = make_lead(admin)
        LeadScore.objects.create(lead=lead, probability=probability)
        Deal.objects.filter(pk=deal.pk).update(
            lead=lead, expected_close_date=timezone.localdate() + datetime.timedelta(days=20)
        )
    return deals


def expected_rates(pipeline) -> dict[int, float]:
    seen = defaultdict(set)
    for change in StageChange.objects.all():
        seen[change.to_stage_id].add(change.deal_id)
    deals = {d.pk: d for d in Deal.objects.select_related("stage")}
    rates = {}
    for stage in pipeline.stages.all():
        closed = [deals[i] for i in seen[stage.pk] if deals[i].stage.is_closed]
        won = sum(1 for d in closed if d.stage.is_won)
        rates[stage.pk] = won / len(closed) if closed else stage.probability / 100
    return rates


def test_stage_win_rates_come_from_the_company_history(admin, pipeline, history):
    rates = history_win_rates(year_scope(admin))
    for stage_id, rate in expected_rates(pipeline).items():
        assert rates[stage_id] == pytest.approx(rate)


def test_forecast_per_month_weighted_three_ways_and_won_beside_it(admin, pipeline, history):
    scope = year_scope(admin)
    table = compute("forecast", scope)
    this_month = month_start(timezone.localdate())
    rates = expected_rates(pipeline)
    expected = defaultdict(lambda: defaultdict(Decimal))
    for deal in Deal.objects.select_related("stage", "lead__lead_score"):
        close = deal.expected_close_date
        if deal.stage.is_closed or close is None or close >= add_months(this_month, 6):
            continue
        month = max(month_start(close), this_month)
        expected[month]["deals"] += 1
        if deal.currency != "PLN" or deal.amount is None:
            continue
        rate = Decimal(str(rates[deal.stage_id]))
        score = getattr(getattr(deal.lead, "lead_score", None), "probability", None)
        expected[month]["value"] += deal.amount
        expected[month]["stage"] += deal.amount * deal.stage.probability / 100
        expected[month]["history"] += deal.amount * rate
        expected[month]["predictive"] += (
            deal.amount * Decimal(str(score)) if score is not None else deal.amount * rate
        )
    won = defaultdict(Decimal)
    for deal in Deal.objects.select_related("stage"):
        if deal.stage.is_won and deal.currency == "PLN" and deal.amount is not None:
            won[month_start(timezone.localtime(deal.closed_at).date())] += deal.amount
    rows = {row["month"]: row for row in table.rows}
    assert len(rows) == 12
    for month, row in rows.items():
        if month < this_month:
            assert row["won"] == won[month]
            continue
        sums = expected[month]
        assert row["deals"] == sums["deals"]
        assert row["value"] == sums["value"]
        cent = Decimal("0.01")
        assert row["weighted_stage"] == sums["stage"].quantize(cent)
        assert abs(row["weighted_history"] - sums["history"]) <= cent
        assert abs(row["weighted_predictive"] - sums["predictive"]) <= cent
    assert any(rows[m]["deals"] for m in rows if m >= this_month)
    drill = FIGURES["forecast"].drill
    assert drill(scope, this_month.isoformat(), "deals").count() == rows[this_month]["deals"]
