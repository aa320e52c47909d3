"""Customer lifetime value, historical and predicted, against a hand computation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

import pytest
from django.utils import timezone

from lejek.analytics.figures import FIGURES, compute
from lejek.analytics.figures.customers import predicted_clv
from lejek.contacts.models import Company
from lejek.core.models import CustomField
from lejek.core.services_custom_fields import custom_field_create
from lejek.leads.services import source_create
from lejek.pipeline.models import Deal
from tests.analytics_history import deal_history
from tests.factories import make_company, make_contact
from tests.test_analytics_funnel import year_scope


@pytest.fixture
def customers(admin, pipeline):
    deals = deal_history(admin, pipeline, count=60, seed=31)
    companies = [make_company(admin) for _ in range(5)]
    person = make_contact(admin)
    web = source_create(actor=admin, name="Web")
    fair = source_create(actor=admin, name="Fair")
    for n, deal in enumerate(deals):
        company = companies[n % len(companies)] if n % 7 else None
        Deal.objects.filter(pk=deal.pk).update(
            company=company,
            contact=person if company is None else None,
            source=web if n % 2 else fair,
        )
    return deals


def won_in_house():
    return [
        d
        for d in Deal.objects.select_related("stage")
        if d.stage.is_won and d.currency == "PLN" and d.amount is not None
    ]


def customer_of(deal):
    return ("company", deal.company_id) if deal.company_id else ("contact", deal.contact_id)


def by_customer(deals):
    grouped = defaultdict(list)
    for deal in deals:
        grouped[customer_of(deal)].append(deal)
    return grouped


def expected_predicted(deals, lifespan_from=None):
    grouped = by_customer(deals)
    now = timezone.now()
    tenure = [
        (now - min(d.closed_at for d in ds)).total_seconds() / 86400 / 365.25
        for ds in grouped.values()
    ]
    source = by_customer(lifespan_from) if lifespan_from is not None else grouped
    spans = [
        (max(d.closed_at for d in ds) - min(d.closed_at for d in ds)).total_seconds()
        / 86400
        / 365.25
        for ds in source.values()
        if len(ds) > 1
    ]
    return predicted_clv(
        sum(d.amount for d in deals),
        len(deals),
        len(grouped),
        sum(tenure) / len(tenure),
        sum(spans) / len(spans) if spans else 0,
    )


def test_historical_and_predicted_clv(admin, customers):
    won = won_in_house()
    grouped = by_customer(won)
    assert any(len(ds) > 1 for ds in grouped.values()), "some customers bought again"
    table = compute("clv_summary", year_scope(admin))
    values = [row["value"] for row in table.rows]
    revenue = sum(d.amount for d in won)
    assert values[:3] == [len(grouped), len(won), revenue]
    assert values[3] == (revenue / len(grouped)).quantize(Decimal("0.01"))
    assert values[4] == expected_predicted(won)


def test_predicted_clv_formula_by_hand():
    # 10 purchases worth 50,000 by 4 customers, 2 years on average since their first
    # purchase, repeat buyers stay 3 years: 5,000 * (10 / 4 / 2) * 3 = 18,750.
    assert predicted_clv(Decimal(50_000), 10, 4, 2.0, 3.0) == Decimal("18750.00")
    # Short histories count as one year: 5,000 * 2.5 * 1.
    assert predicted_clv(Decimal(50_000), 10, 4, 0.2, 0.1) == Decimal("12500.00")
    assert predicted_clv(Decimal(0), 0, 0, None, None) is None


def test_clv_per_source(admin, customers):
    table = compute("clv_by_source", year_scope(admin))
    won = won_in_house()
    rows = {row["name"]: row for row in table.rows}
    for name in ("Web", "Fair"):
        mine = [d for d in won if d.source.name == name]
        grouped = by_customer(mine)
        assert rows[name]["customers"] == len(grouped)
        assert rows[name]["revenue"] == sum(d.amount for d in mine)
        assert rows[name]["historical"] == (sum(d.amount for d in mine) / len(grouped)).quantize(
            Decimal("0.01")
        )
        assert rows[name]["predicted"] == expected_predicted(mine, lifespan_from=won)


def test_top_customers_and_their_drill(admin, customers):
    scope = year_scope(admin)
    table = compute("top_customers", scope)
    grouped = by_customer(won_in_house())
    best = max(grouped.values(), key=lambda ds: sum(d.amount for d in ds))
    assert table.rows[0]["revenue"] == sum(d.amount for d in best)
    assert table.rows[0]["purchases"] == len(best)
    kind, pk = customer_of(best[0])
    drill = FIGURES["top_customers"].drill
    # The drill lists every won deal of the customer, in any currency and with or without an
    # amount; the revenue above counts only the PLN ones with an amount.
    every_win = [
        d
        for d in Deal.objects.select_related("stage")
        if d.stage.is_won and customer_of(d) == (kind, pk)
    ]
    drilled = drill(scope, f"{kind}:{pk}", "purchases")
    assert set(drilled.values_list("pk", flat=True)) == {d.pk for d in every_win}


# Customer value by segment --------------------------------------------------------------------


def segment_of(deal) -> str | None:
    """The deal's own value, else its lead's, else its company's (as the figure reads it)."""
    for custom in (deal.custom, deal.lead.custom if deal.lead else {}, company_custom(deal)):
        if (custom or {}).get("industry") is not None:
            return custom["industry"]
    return None


def company_custom(deal) -> dict:
    return deal.company.custom if deal.company else {}


@pytest.fixture
def industries(admin, customers):
    for entity in (CustomField.Entity.COMPANY, CustomField.Entity.DEAL):
        custom_field_create(
            actor=admin, entity=entity, key="industry", label="Industry", type="text"
        )
    for n, company in enumerate(Company.objects.order_by("pk")):
        Company.objects.filter(pk=company.pk).update(
            custom={"industry": "IT" if n % 2 else "Retail"}
        )
    # A few deals say otherwise themselves; the contact's deals have no company at all.
    for deal in Deal.objects.order_by("pk")[::5]:
        Deal.objects.filter(pk=deal.pk).update(custom={"industry": "Energy"})
    return customers


def test_clv_per_segment_of_a_custom_field(admin, industries):
    table = compute("clv_by_segment", replace(year_scope(admin), split="industry"))

    assert table.title == "Customer value by Industry"
    won = [
        d
        for d in Deal.objects.select_related("stage", "lead", "company")
        if d.stage.is_won and d.currency == "PLN" and d.amount is not None
    ]
    expected = defaultdict(list)
    for deal in won:
        expected[segment_of(deal) or "(none)"].append(deal)
    assert {"IT", "Retail", "Energy"} <= set(expected)
    rows = {row["name"]: row for row in table.rows}
    assert set(rows) == set(expected)
    for name, deals in expected.items():
        grouped = by_customer(deals)
        revenue = sum(d.amount for d in deals)
        assert rows[name]["customers"] == len(grouped), name
        assert rows[name]["revenue"] == revenue
        assert rows[name]["historical"] == (revenue / len(grouped)).quantize(Decimal("0.01"))


def test_without_a_chosen_field_the_segment_table_says_how_to_get_one(admin, industries):
    table = compute("clv_by_segment", year_scope(admin))
    assert table.rows == []
    assert "Customer value by" in table.notes[0]


def test_the_split_is_a_filter_choice_kept_in_the_url(client_for, admin, industries):
    page = client_for(admin).get("/reports/", {"split": "industry"})
    assert page.status_code == 200
    text = page.content.decode()
    assert '<option value="industry" selected>Industry</option>' in text
    assert "/reports/card/clv_by_segment/?" in text
    assert "split=industry" in text  # the card's placeholder asks with it
    card = client_for(admin).get("/reports/card/clv_by_segment/", {"split": "industry"})
    text = card.content.decode()
    assert "Customer value by Industry" in text
    assert "split=industry" in text  # the export and drill links keep it

    bad = client_for(admin).get("/reports/", {"split": "no_such_field"})
    assert bad.status_code == 200
    assert "Select a valid choice" in bad.content.decode()
