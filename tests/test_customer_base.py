"""The customer base: a won deal makes a customer; repeat purchases add up; visibility holds."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lejek.pipeline.customers import customer_companies, customer_people
from lejek.pipeline.services import deal_move_to_stage
from tests.factories import make_company, make_contact, make_deal

pytestmark = pytest.mark.django_db


def stage(pipeline, name):
    return pipeline.stages.get(name=name)


def won(actor, pipeline, when: datetime.datetime, **values):
    deal = make_deal(actor, pipeline, **values)
    deal_move_to_stage(actor=actor, deal=deal, stage=stage(pipeline, "Won"), when=when)
    return deal


def test_won_deals_make_customers_and_repeat_purchases_add_up(rep, pipeline):
    acme = make_company(rep, name="Acme")
    make_company(rep, name="Prospect only")
    first = timezone.now() - datetime.timedelta(days=200)
    last = timezone.now() - datetime.timedelta(days=3)
    won(rep, pipeline, first, company=acme, amount=Decimal("1000.00"))
    won(rep, pipeline, last, company=acme, amount=Decimal("250.50"))
    won(rep, pipeline, last, company=acme, amount=Decimal("99.00"), currency="EUR")
    make_deal(rep, pipeline, company=acme, amount=Decimal("5000.00"))  # still open
    lost = make_deal(rep, pipeline, company=acme, amount=Decimal("7000.00"))
    deal_move_to_stage(actor=rep, deal=lost, stage=stage(pipeline, "Lost"), lost_reason="Price")

    [customer] = customer_companies(rep)
    assert customer == acme
    assert customer.won_deals == 3
    assert customer.revenue == Decimal("1250.50")
    assert customer.foreign_deals == 1
    assert customer.first_purchase == first
    assert customer.last_purchase == last
    assert customer.open_deals == 1


def test_reopening_the_only_win_takes_the_customer_back(rep, pipeline):
    acme = make_company(rep, name="Acme")
    deal = won(rep, pipeline, timezone.now(), company=acme, amount=Decimal("10"))
    assert list(customer_companies(rep)) == [acme]
    deal.refresh_from_db()
    deal_move_to_stage(actor=rep, deal=deal, stage=stage(pipeline, "Negotiation"))
    assert not customer_companies(rep).exists()


def test_people_buying_without_a_company_are_customers_too(rep, pipeline):
    person = make_contact(rep, last_name="Lis")
    won(rep, pipeline, timezone.now(), contact=person, amount=Decimal("300"))
    employee = make_contact(rep, last_name="Kot")
    won(rep, pipeline, timezone.now(), contact=employee, company=make_company(rep))
    assert list(customer_people(rep)) == [person]


def test_customers_page_lists_sorts_and_hides_other_teams(client_for, rep, other_rep, pipeline):
    now = timezone.now()
    big = make_company(rep, name="Big")
    small = make_company(rep, name="Small")
    theirs = make_company(other_rep, name="Theirs")
    won(rep, pipeline, now, company=big, amount=Decimal("9000"))
    won(rep, pipeline, now, company=small, amount=Decimal("10"))
    won(other_rep, pipeline, now, company=theirs, amount=Decimal("1"))
    page = client_for(rep).get(reverse("customer-list"))
    assert page.status_code == 200
    text = page.text.replace("\xa0", " ")
    assert text.index(">Big<") < text.index(">Small<")
    assert "Theirs" not in text
    assert "PLN 9,000.00" in text
    by_name = client_for(rep).get(reverse("customer-list"), {"sort": "name"}).text
    assert by_name.index(">Big<") < by_name.index(">Small<")
    by_revenue_up = client_for(rep).get(reverse("customer-list"), {"sort": "revenue"}).text
    assert by_revenue_up.index(">Small<") < by_revenue_up.index(">Big<")


def test_an_empty_customer_base_says_what_belongs_there(client_for, rep, pipeline):
    page = client_for(rep).get(reverse("customer-list"), {"kind": "people"})
    assert page.status_code == 200
    assert "No customers yet" in page.text


def test_customers_page_queries_do_not_grow_with_customers(client_for, rep, pipeline):
    client = client_for(rep)

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("customer-list")).status_code == 200
        return len(captured)

    won(rep, pipeline, timezone.now(), company=make_company(rep), amount=Decimal("1"))
    few = queries_for_page()
    for _ in range(12):
        won(rep, pipeline, timezone.now(), company=make_company(rep), amount=Decimal("1"))
    assert queries_for_page() == few
