"""Sources, campaigns, reps and the headline numbers, against a hand computation."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest

from lejek.analytics.figures import FIGURES, compute
from lejek.leads.models import Lead
from lejek.leads.services import campaign_create, source_create
from lejek.pipeline.models import Deal
from tests.analytics_history import deal_history
from tests.factories import make_activity, make_lead
from tests.test_analytics_funnel import in_period, year_scope


@pytest.fixture
def history(admin, rep, teammate, pipeline):
    web = source_create(actor=admin, name="Web")
    fair = source_create(actor=admin, name="Fair")
    spring = campaign_create(actor=admin, name="Spring", cost=Decimal("3000"), currency="PLN")
    deals = deal_history(admin, pipeline, count=50, seed=41)
    for n, deal in enumerate(deals):
        lead = make_lead(
            admin,
            source=web if n % 3 else fair,
            campaign=spring if n % 2 else None,
            owner=rep if n % 2 else teammate,
            assign=False,
        )
        Lead.objects.filter(pk=lead.pk).update(created_at=deal.created_at)
        Deal.objects.filter(pk=deal.pk).update(lead=lead, owner=lead.owner)
    for _n in range(3):
        make_activity(rep, make_lead(rep))
    return deals


def cohort(scope):
    return [lead for lead in Lead.objects.all() if in_period(lead.created_at, scope)]


def won_deals_of(lead):
    return [d for d in lead.deals.select_related("stage") if d.stage.is_won]


def test_sources_leads_won_and_revenue(admin, history):
    scope = year_scope(admin)
    table = compute("sources", scope)
    expected = defaultdict(lambda: [0, 0, Decimal(0)])
    for lead in cohort(scope):
        name = lead.source.name if lead.source else "(none)"
        won = won_deals_of(lead)
        expected[name][0] += 1
        expected[name][1] += bool(won)
        expected[name][2] += sum(
            (d.amount for d in won if d.currency == "PLN" and d.amount), Decimal(0)
        )
    got = {row["name"]: [row["leads"], row["won"], row["revenue"]] for row in table.rows}
    assert got == {name: values for name, values in expected.items()}
    web = next(row for row in table.rows if row["name"] == "Web")
    assert web["conversion"] == round(100 * web["won"] / web["leads"], 1)


def test_campaign_cost_per_lead_per_won_and_return(admin, history):
    scope = year_scope(admin)
    row = next(row for row in compute("campaigns", scope).rows if row["name"] == "Spring")
    leads = [lead for lead in cohort(scope) if lead.campaign_id]
    won = [lead for lead in leads if won_deals_of(lead)]
    revenue = sum(
        (d.amount for lead in won for d in won_deals_of(lead) if d.currency == "PLN" and d.amount),
        Decimal(0),
    )
    assert (row["leads"], row["won"], row["revenue"]) == (len(leads), len(won), revenue)
    assert row["cost_per_lead"] == (Decimal(3000) / len(leads)).quantize(Decimal("0.01"))
    assert row["cost_per_won"] == (Decimal(3000) / len(won)).quantize(Decimal("0.01"))
    assert row["roi"] == round(100 * float(revenue - 3000) / 3000, 1)
    drill = FIGURES["campaigns"].drill
    spring = leads[0].campaign_id
    assert drill(scope, str(spring), "won").count() == len(won)


def test_reps_win_rate_revenue_activities_and_velocity(admin, rep, history):
    scope = year_scope(admin)
    row = next(row for row in compute("reps", scope).rows if row["rep"] == str(rep))
    mine = list(Deal.objects.filter(owner=rep).select_related("stage"))
    closed = [d for d in mine if d.closed_at and in_period(d.closed_at, scope)]
    won = [d for d in closed if d.stage.is_won]
    lost = [d for d in closed if d.stage.is_lost]
    money = [d.amount for d in won if d.currency == "PLN" and d.amount is not None]
    assert row["open"] == sum(1 for d in mine if not d.stage.is_closed)
    assert (row["won"], row["lost"]) == (len(won), len(lost))
    assert row["win_rate"] == round(100 * len(won) / (len(won) + len(lost)), 1)
    assert row["revenue"] == sum(money)
    assert row["activities"] == 3
    days = sum((d.closed_at - d.created_at).total_seconds() for d in won) / len(won) / 86400
    assert row["cycle"] == pytest.approx(days, abs=0.06)
    velocity = row["open"] * (len(won) / (len(won) + len(lost))) * float(sum(money) / len(money))
    assert float(row["velocity"]) == pytest.approx(velocity / days, rel=1e-3)


def test_headline_numbers_against_the_period_before(admin, history):
    scope = year_scope(admin)
    table = compute("headline", scope)
    values = {row["key"]: row for row in table.rows}
    assert values["leads"]["value"] == len(cohort(scope))
    before = scope.previous()
    assert before.end == scope.start - datetime.timedelta(days=1)
    previous_leads = sum(1 for lead in Lead.objects.all() if in_period(lead.created_at, before))
    assert values["leads"]["previous"] == previous_leads
    won = compute("win_rate", scope).rows
    assert values["won"]["value"] == won[0]["value"]
    assert values["revenue"]["value"] == won[3]["value"]
