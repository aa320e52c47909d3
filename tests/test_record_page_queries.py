"""The deal and lead pages carry many panels (lines, offers, files, score, consents, timeline):
their query count must not grow with what is in them."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lejek.sales.offers import offer_create
from lejek.sales.services import deal_line_add, product_create
from tests.factories import make_activity, make_deal, make_lead

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def fill(rep, deal, lead, product) -> None:
    deal_line_add(actor=rep, deal=deal, product=product)
    make_activity(rep, lead)
    make_activity(rep, deal)
    valid_until = timezone.localdate() + datetime.timedelta(days=5)
    offer_create(actor=rep, deal=deal, valid_until=valid_until)


def test_deal_and_lead_pages_do_not_query_per_item(client_for, admin, rep, pipeline):
    client = client_for(rep)
    product = product_create(actor=admin, sku="A", name="A", net_price=Decimal("10"))
    deal, lead = make_deal(rep, pipeline), make_lead(rep)
    fill(rep, deal, lead, product)
    few = (queries(client, deal.get_absolute_url()), queries(client, lead.get_absolute_url()))
    for _ in range(5):
        fill(rep, deal, lead, product)
    many = (queries(client, deal.get_absolute_url()), queries(client, lead.get_absolute_url()))
    assert many == few
