"""Win rate, deal values, lost reasons, pipeline value and won revenue, checked by hand."""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.utils import timezone

from lejek.analytics.figures import FIGURES, compute
from lejek.pipeline.models import Deal
from tests.analytics_history import assert_stage_entries_match_histories, deal_history
from tests.test_analytics_funnel import in_period, year_scope


@pytest.fixture
def deals(admin, pipeline):
    return deal_history(admin, pipeline, count=70, seed=11)


def closed(scope):
    return [
        d
        for d in Deal.objects.select_related("stage")
        if d.closed_at is not None and in_period(d.closed_at, scope)
    ]


def in_house(deal) -> bool:
    return deal.currency == "PLN" and deal.amount is not None


def test_win_rate_and_won_deal_values(admin, deals):
    scope = year_scope(admin)
    table = compute("win_rate", scope)
    values = {row["key"]: row["value"] for row in table.rows}
    won = [d for d in closed(scope) if d.stage.is_won]
    lost = [d for d in closed(scope) if d.stage.is_lost]
    assert won and lost
    assert values["won"] == len(won)
    assert values["lost"] == len(lost)
    assert values["win_rate"] == round(100 * len(won) / (len(won) + len(lost)), 1)
    amounts = [d.amount for d in won if in_house(d)]
    assert values["revenue"] == sum(amounts)
    assert values["average"] == pytest.approx(sum(amounts) / len(amounts))
    assert values["median"] == statistics.median(amounts)
    assert any("other currenc" in note or "no amount" in note for note in table.notes)
    drill = FIGURES["win_rate"].drill
    assert drill(scope, "won", "value").count() == len(won)


def test_a_deal_won_then_reopened_is_not_won(admin, pipeline, deals):
    reopened = [
        d
        for d in Deal.objects.select_related("stage")
        if not d.stage.is_won and d.stage_changes.filter(to_stage__is_won=True).exists()
    ]
    assert reopened, "the history has reopened deals"
    scope = year_scope(admin)
    won_ids = set(FIGURES["win_rate"].drill(scope, "won", "value").values_list("pk", flat=True))
    assert not won_ids & {d.pk for d in reopened}


def test_lost_reasons_with_share_and_value(admin, deals):
    scope = year_scope(admin)
    table = compute("lost_reasons", scope)
    lost = [d for d in closed(scope) if d.stage.is_lost]
    counts = Counter(d.lost_reason for d in lost)
    values = defaultdict(Decimal)
    for d in lost:
        if in_house(d):
            values[d.lost_reason] += d.amount
    got = {row["reason"]: (row["deals"], row["share"], row["value"]) for row in table.rows}
    assert got == {
        reason: (n, round(100 * n / len(lost), 1), values[reason]) for reason, n in counts.items()
    }
    drill = FIGURES["lost_reasons"].drill
    assert drill(scope, "Price", "deals").count() == counts["Price"]


def test_open_pipeline_value_and_weighted_value_per_stage(admin, pipeline, deals):
    scope = year_scope(admin)
    table = compute("pipeline_value", scope)
    open_deals = [d for d in Deal.objects.select_related("stage") if not d.stage.is_closed]
    stages = [s for s in pipeline.stages.order_by("position") if not s.is_closed]
    for stage, row in zip(stages, table.rows, strict=True):
        here = [d for d in open_deals if d.stage_id == stage.pk]
        value = sum((d.amount for d in here if in_house(d)), Decimal(0))
        assert row["deals"] == len(here)
        assert row["value"] == value
        assert row["weighted"] == (value * stage.probability / 100).quantize(Decimal("0.01"))
    assert table.footer["deals"] == len(open_deals)


def test_won_revenue_per_month(admin, deals):
    scope = year_scope(admin)
    table = compute("won_per_period", scope)
    expected = defaultdict(lambda: [0, Decimal(0)])
    for d in closed(scope):
        if d.stage.is_won:
            month = timezone.localtime(d.closed_at).date().replace(day=1)
            expected[month][0] += 1
            if in_house(d):
                expected[month][1] += d.amount
    got = {row["period"]: [row["deals"], row["revenue"]] for row in table.rows if row["deals"]}
    assert got == dict(expected)
    assert [row["period"] for row in table.rows] == scope.buckets()
    busiest = max(range(len(table.rows)), key=lambda i: table.rows[i]["deals"])
    drill = FIGURES["won_per_period"].drill
    assert drill(scope, str(busiest), "deals").count() == table.rows[busiest]["deals"]


def test_cycle_length_mean_median_and_distribution(admin, deals):
    scope = year_scope(admin)
    won = [d for d in closed(scope) if d.stage.is_won]
    days = [(d.closed_at - d.created_at).total_seconds() / 86400 for d in won]
    table = compute("cycle_length", scope)
    created = table.rows[0]
    assert created["deals"] == len(won)
    assert created["mean"] == pytest.approx(round(statistics.mean(days), 1), abs=0.05)
    assert created["median"] == pytest.approx(round(statistics.median(days), 1), abs=0.05)
    buckets = compute("cycle_distribution", scope)
    assert sum(row["deals"] for row in buckets.rows) == len(won)
    assert buckets.rows[1]["deals"] == sum(1 for d in days if 7 < d <= 14)
    drill = FIGURES["cycle_distribution"].drill
    assert drill(scope, "1", "deals").count() == buckets.rows[1]["deals"]


def test_time_in_each_stage_counts_stays_that_ended_in_the_period(admin, pipeline, deals):
    from lejek.pipeline.models import StageChange

    scope = year_scope(admin)
    stays = defaultdict(list)
    by_deal = defaultdict(list)
    for change in StageChange.objects.order_by("changed_at", "id"):
        by_deal[change.deal_id].append(change)
    for changes in by_deal.values():
        for here, following in itertools.pairwise(changes):
            if in_period(following.changed_at, scope):
                days = (following.changed_at - here.changed_at).total_seconds() / 86400
                stays[here.to_stage_id].append(days)
    assert_stage_entries_match_histories()  # what the services wrote
    table = compute("time_in_stage", scope)
    stages = pipeline.stages.filter(is_won=False, is_lost=False).order_by("position")
    for stage, row in zip(stages, table.rows, strict=True):
        assert row["stays"] == len(stays[stage.pk])
        if stays[stage.pk]:
            assert row["mean"] == pytest.approx(statistics.mean(stays[stage.pk]), abs=0.06)
            assert row["median"] == pytest.approx(statistics.median(stays[stage.pk]), abs=0.06)
