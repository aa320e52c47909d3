"""Products on a deal: copied from the catalogue, totals, the deal amount, permissions, pages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from lejek.core.models import Event
from lejek.pipeline.services import deal_update
from lejek.sales.models import DealLine
from lejek.sales.services import (
    deal_line_add,
    deal_line_remove,
    deal_line_update,
    deal_lines_reorder,
    deal_pricing_set,
    product_create,
    product_update,
)
from tests.factories import make_deal


def make_product(admin, name="Licence", price="1200.00", vat="23", **values):
    values.setdefault("sku", name.upper().replace(" ", "-")[:60])
    return product_create(
        actor=admin,
        name=name,
        unit=values.pop("unit", "szt."),
        net_price=Decimal(price),
        vat_rate=Decimal(vat),
        currency=values.pop("currency", "PLN"),
        active=values.pop("active", True),
        **values,
    )


@pytest.fixture
def licence(admin):
    return make_product(admin)


@pytest.fixture
def training(admin):
    return make_product(admin, name="Training", price="450.50", vat="8", unit="h")


@pytest.fixture
def deal(rep, pipeline):
    return make_deal(rep, pipeline)


def test_adding_a_product_copies_its_name_unit_price_and_vat(rep, deal, training):
    line = deal_line_add(actor=rep, deal=deal, product=training, quantity=Decimal("2.5"))
    line.refresh_from_db()
    assert (line.name, line.unit, line.unit_price, line.vat_rate) == (
        "Training",
        "h",
        Decimal("450.50"),
        Decimal("8.00"),
    )
    assert line.net == Decimal("1126.25")


def test_a_later_catalogue_price_change_leaves_existing_lines_alone(admin, rep, deal, licence):
    line = deal_line_add(actor=rep, deal=deal, product=licence)
    product_update(actor=admin, product=licence, values={"net_price": Decimal("999.00")})
    line.refresh_from_db()
    assert line.unit_price == Decimal("1200.00")


def test_a_switched_off_product_cannot_be_added(admin, rep, deal):
    old = make_product(admin, name="Old thing", active=False)
    with pytest.raises(ValidationError) as error:
        deal_line_add(actor=rep, deal=deal, product=old)
    assert "switched off" in str(error.value.message_dict["product"])
    assert not DealLine.objects.exists()


def test_a_product_in_another_currency_is_refused(admin, rep, deal):
    euro = make_product(admin, name="Euro support", currency="EUR")
    with pytest.raises(ValidationError) as error:
        deal_line_add(actor=rep, deal=deal, product=euro)
    assert "EUR" in str(error.value.message_dict["product"])


def test_the_deal_amount_follows_the_net_total_of_its_lines(rep, deal, licence, training):
    first = deal_line_add(actor=rep, deal=deal, product=licence, discount=Decimal(10))
    deal_line_add(actor=rep, deal=deal, product=training, quantity=Decimal(2))
    deal.refresh_from_db()
    assert deal.amount == Decimal("1080.00") + Decimal("901.00")
    deal_line_remove(actor=rep, line=first)
    deal.refresh_from_db()
    assert deal.amount == Decimal("901.00")


def test_an_amount_typed_by_hand_is_no_longer_overwritten(rep, deal, licence, training):
    deal_line_add(actor=rep, deal=deal, product=licence)
    deal.refresh_from_db()
    deal_update(actor=rep, deal=deal, values={"amount": Decimal("5000.00")})
    deal_line_add(actor=rep, deal=deal, product=training)
    deal.refresh_from_db()
    assert deal.amount == Decimal("5000.00")
    assert deal.pricing.amount_from_lines is False
    assert Event.objects.filter(verb="deal.amount_manual", object_id=deal.pk).exists()


def test_switching_back_to_the_lines_recomputes_the_amount(rep, deal, licence):
    deal_line_add(actor=rep, deal=deal, product=licence)
    deal_pricing_set(actor=rep, deal=deal, amount_from_lines=False)
    deal.refresh_from_db()
    deal_update(actor=rep, deal=deal, values={"amount": Decimal("1.00")})
    deal_pricing_set(actor=rep, deal=deal, amount_from_lines=True)
    deal.refresh_from_db()
    assert deal.amount == Decimal("1200.00")


def test_every_line_change_records_an_event_on_the_deal(rep, deal, licence, training):
    a = deal_line_add(actor=rep, deal=deal, product=licence)
    b = deal_line_add(actor=rep, deal=deal, product=training)
    deal_line_update(actor=rep, line=a, values={"quantity": Decimal(3)})
    deal_lines_reorder(actor=rep, deal=deal, line_ids=[b.pk, a.pk])
    deal_line_remove(actor=rep, line=b)
    verbs = list(
        Event.objects.filter(object_id=deal.pk, verb__startswith="deal.line")
        .order_by("id")
        .values_list("verb", flat=True)
    )
    assert verbs == [
        "deal.line_added",
        "deal.line_added",
        "deal.line_updated",
        "deal.lines_reordered",
        "deal.line_removed",
    ]
    updated = Event.objects.get(verb="deal.line_updated")
    assert updated.before == {"line": a.pk, "quantity": "1.000"}
    assert updated.after == {"line": a.pk, "quantity": "3.000"}


def test_a_rep_cannot_change_lines_of_another_teams_deal(other_rep, deal, licence):
    with pytest.raises(PermissionDenied):
        deal_line_add(actor=other_rep, deal=deal, product=licence)
    assert not DealLine.objects.exists()


def test_a_discount_over_100_is_refused_by_field(rep, deal, licence):
    line = deal_line_add(actor=rep, deal=deal, product=licence)
    with pytest.raises(ValidationError) as error:
        deal_line_update(actor=rep, line=line, values={"discount": Decimal(120)})
    assert "discount" in error.value.message_dict
    line.refresh_from_db()
    assert line.discount == Decimal(0)


def test_the_product_link_cannot_be_changed_on_a_line(rep, deal, licence, training):
    line = deal_line_add(actor=rep, deal=deal, product=licence)
    with pytest.raises(ValidationError):
        deal_line_update(actor=rep, line=line, values={"product": training})


def test_reordering_needs_every_line_exactly_once(rep, deal, licence, training):
    a = deal_line_add(actor=rep, deal=deal, product=licence)
    b = deal_line_add(actor=rep, deal=deal, product=training)
    with pytest.raises(ValidationError):
        deal_lines_reorder(actor=rep, deal=deal, line_ids=[a.pk])
    deal_lines_reorder(actor=rep, deal=deal, line_ids=[b.pk, a.pk])
    assert list(deal.lines.order_by("position").values_list("pk", flat=True)) == [b.pk, a.pk]


# Pages ---------------------------------------------------------------------------------


def test_adding_a_line_from_the_page_shows_it_with_totals(client_for, rep, deal, licence):
    client = client_for(rep)
    url = reverse("deal-products", args=[deal.pk])
    response = client.post(
        reverse("deal-line-add", args=[deal.pk]),
        {"line-product": licence.pk, "line-quantity": "2", "line-discount": "10", "next": url},
    )
    assert response.status_code == 302
    assert response["Location"] == url
    html = client.get(url).content.decode()
    assert "Licence" in html
    assert "PLN\u00a02,160.00" in html  # net
    assert "PLN\u00a02,656.80" in html  # gross


def test_a_bad_quantity_is_explained_next_to_the_field(client_for, rep, deal, licence):
    response = client_for(rep).post(
        reverse("deal-line-add", args=[deal.pk]),
        {"line-product": licence.pk, "line-quantity": "0", "line-discount": "0"},
    )
    assert response.status_code == 400
    assert "The quantity must be more than zero." in response.content.decode()
    assert not DealLine.objects.exists()


def test_switched_off_products_are_not_offered_on_the_page(client_for, admin, rep, deal, licence):
    make_product(admin, name="Retired widget", active=False)
    html = client_for(rep).get(reverse("deal-products", args=[deal.pk])).content.decode()
    assert "Licence" in html
    assert "Retired widget" not in html


def test_a_line_is_edited_and_removed_from_the_page(client_for, rep, deal, licence):
    line = deal_line_add(actor=rep, deal=deal, product=licence)
    client = client_for(rep)
    edit = reverse("deal-line-edit", args=[deal.pk, line.pk])
    assert client.get(edit).status_code == 200
    values = {
        "name": "Licence (annual)",
        "quantity": "3",
        "unit": "szt.",
        "unit_price": "1,100.00",
        "discount": "5",
        "vat_rate": "23",
    }
    assert client.post(edit, values).status_code == 302
    line.refresh_from_db()
    assert (line.name, line.quantity, line.unit_price) == (
        "Licence (annual)",
        Decimal(3),
        Decimal("1100.00"),
    )
    assert client.post(reverse("deal-line-remove", args=[deal.pk, line.pk])).status_code == 302
    assert not DealLine.objects.exists()


def test_moving_a_line_up_from_the_page(client_for, rep, deal, licence, training):
    a = deal_line_add(actor=rep, deal=deal, product=licence)
    b = deal_line_add(actor=rep, deal=deal, product=training)
    client_for(rep).post(reverse("deal-line-move", args=[deal.pk, b.pk]), {"direction": "up"})
    assert list(deal.lines.order_by("position").values_list("pk", flat=True)) == [b.pk, a.pk]


def test_a_stranger_sees_nothing_and_changes_nothing(client_for, other_rep, rep, deal, licence):
    line = deal_line_add(actor=rep, deal=deal, product=licence)
    client = client_for(other_rep)
    assert client.get(reverse("deal-products", args=[deal.pk])).status_code == 404
    remove = client.post(reverse("deal-line-remove", args=[deal.pk, line.pk]))
    assert remove.status_code == 404
    assert DealLine.objects.filter(pk=line.pk).exists()


def test_a_marketer_reads_the_panel_but_cannot_add(client_for, marketer, rep, deal, licence):
    client = client_for(marketer)
    html = client.get(reverse("deal-products", args=[deal.pk])).content.decode()
    assert "Products and offers" in html
    assert "Add product" not in html
    response = client.post(
        reverse("deal-line-add", args=[deal.pk]),
        {"line-product": licence.pk, "line-quantity": "1", "line-discount": "0"},
    )
    assert response.status_code == 403


def test_the_panel_tag_renders_lines_and_the_empty_offer_list(rep, deal, licence):
    deal_line_add(actor=rep, deal=deal, product=licence)
    request = RequestFactory().get(deal.get_absolute_url())
    request.user = rep
    html = Template("{% load sales %}{% deal_sales_panel deal %}").render(
        Context({"deal": deal, "request": request})
    )
    assert 'id="sales-panel"' in html
    assert "Licence" in html
    assert "No offers yet." in html
    assert reverse("offer-create", args=[deal.pk]) in html


def test_the_products_page_query_count_does_not_grow_with_lines(
    client_for, rep, deal, licence, training, django_assert_max_num_queries
):
    for product in (licence, training, licence, training):
        deal_line_add(actor=rep, deal=deal, product=product)
    client = client_for(rep)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("deal-products", args=[deal.pk])).status_code == 200


def test_htmx_changes_answer_with_the_fresh_panel(client_for, rep, deal, licence):
    client = client_for(rep)
    headers = {"HX-Request": "true"}
    next_url = deal.get_absolute_url()
    response = client.post(
        reverse("deal-line-add", args=[deal.pk]),
        {"line-product": licence.pk, "line-quantity": "1", "line-discount": "", "next": next_url},
        headers=headers,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="panel sales-panel" id="sales-panel"')
    assert "<html" not in html
    assert "PLN\u00a01,476.00" in html  # 1200 + 23% VAT
    assert f'name="next" value="{next_url}"' in html
    line = DealLine.objects.get()
    response = client.post(
        reverse("deal-line-remove", args=[deal.pk, line.pk]), {"next": next_url}, headers=headers
    )
    assert "No products on this deal yet." in response.content.decode()


def test_htmx_add_with_a_bad_quantity_returns_the_panel_with_the_error(
    client_for, rep, deal, licence
):
    response = client_for(rep).post(
        reverse("deal-line-add", args=[deal.pk]),
        {"line-product": licence.pk, "line-quantity": "-1", "line-discount": "0"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200  # htmx swaps only successful answers
    assert "The quantity must be more than zero." in response.content.decode()
    assert not DealLine.objects.exists()
