"""The product catalogue: everyone reads it; admins and managers add, edit and switch off."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from lejek.core.models import Event
from lejek.sales.models import Product
from lejek.sales.services import product_create

pytestmark = pytest.mark.django_db

EDITORS = {"admin", "manager"}


@pytest.fixture
def licence(admin):
    return product_create(
        actor=admin,
        name="CRM licence",
        sku="LIC-1",
        unit="month",
        net_price=Decimal("1234.50"),
        vat_rate=Decimal("23"),
    )


@pytest.fixture
def training(admin):
    return product_create(
        actor=admin,
        name="Onboarding training",
        sku="TRN-7",
        unit="h",
        net_price=Decimal("300"),
        vat_rate=Decimal("8"),
        active=False,
    )


def product_data(**changes) -> dict:
    data = {
        "name": "Support plan",
        "sku": "SUP-1",
        "unit": "month",
        "net_price": "99.90",
        "vat_rate": "23",
        "currency": "PLN",
        "active": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def errors_on(response, name: str) -> list[str]:
    return response.context["form"].errors.get(name, [])


# Who may -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["admin", "manager", "rep", "marketer"])
def test_everyone_reads_the_catalogue_and_only_editors_see_edit_controls(
    request, client_for, persona, licence
):
    response = client_for(request.getfixturevalue(persona)).get(reverse("product-list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "CRM licence" in html and "LIC-1" in html
    may_edit = persona in EDITORS
    assert (reverse("product-create") in html) is may_edit
    assert (reverse("product-edit", args=[licence.pk]) in html) is may_edit
    assert (reverse("product-set-active", args=[licence.pk]) in html) is may_edit


@pytest.mark.parametrize("persona", ["rep", "marketer"])
def test_readers_get_403_on_every_form_and_action(request, client_for, persona, licence):
    client = client_for(request.getfixturevalue(persona))
    edit = reverse("product-edit", args=[licence.pk])
    for url in (reverse("product-create"), edit):
        assert client.get(url).status_code == 403
    assert client.post(reverse("product-create"), product_data()).status_code == 403
    assert client.post(edit, product_data(sku="LIC-1", net_price="0")).status_code == 403
    toggle = reverse("product-set-active", args=[licence.pk])
    assert client.post(toggle, {"active": "0"}).status_code == 403
    licence.refresh_from_db()
    assert licence.active and licence.net_price == Decimal("1234.50")
    assert Product.objects.count() == 1


def test_products_are_in_settings_not_in_the_main_navigation(client_for, rep):
    html = client_for(rep).get(reverse("settings")).content.decode()
    assert reverse("product-list") in html
    sidebar = html.split('class="sidebar"')[1].split("</nav>")[0]
    assert reverse("product-list") not in sidebar


# List ----------------------------------------------------------------------------------------


def test_list_shows_money_right_aligned_and_the_vat_rate(client_for, rep, licence):
    html = client_for(rep).get(reverse("product-list")).content.decode()
    assert '<td class="num">PLN\xa01,234.50</td>' in html
    assert "23%" in html


def test_polish_user_sees_polish_money(client_for, rep, licence):
    rep.language = "pl"
    rep.save(update_fields=["language"])
    html = client_for(rep).get(reverse("product-list")).content.decode()
    assert "1\xa0234,50\xa0zł" in html


def test_search_by_name_or_sku_and_filter_by_status(client_for, rep, licence, training):
    client = client_for(rep)

    def names(query: str) -> list[str]:
        rows = client.get(reverse("product-list") + query).context["listing"].rows
        return [product.name for product in rows]

    assert names("") == ["CRM licence", "Onboarding training"]
    assert names("?q=licence") == ["CRM licence"]
    assert names("?q=trn-7") == ["Onboarding training"]
    assert names("?active=yes") == ["CRM licence"]
    assert names("?active=no") == ["Onboarding training"]
    assert names("?q=licence&active=no") == []
    assert names("?sort=-price") == ["CRM licence", "Onboarding training"]


def test_empty_catalogue_offers_the_first_step(client_for, manager, rep):
    html = client_for(manager).get(reverse("product-list")).content.decode()
    assert "No products yet" in html and reverse("product-create") in html
    html = client_for(rep).get(reverse("product-list")).content.decode()
    assert "No products yet" in html and reverse("product-create") not in html


# Create and edit -----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", sorted(EDITORS))
def test_editors_add_and_edit_products(request, client_for, persona):
    user = request.getfixturevalue(persona)
    client = client_for(user)
    response = client.post(reverse("product-create"), product_data())
    assert response.status_code == 302
    product = Product.objects.get(sku="SUP-1")
    assert (product.net_price, product.vat_rate, product.active) == (
        Decimal("99.90"),
        Decimal("23.00"),
        True,
    )
    assert Event.objects.get(verb="product.created", object_id=product.pk).actor == user

    response = client.post(
        reverse("product-edit", args=[product.pk]), product_data(net_price="120", vat_rate="8")
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.net_price == Decimal("120.00") and product.vat_rate == Decimal("8.00")
    event = Event.objects.get(verb="product.updated", object_id=product.pk)
    assert event.before["net_price"] == "99.90" and event.after["net_price"] == "120.00"


def test_price_can_be_typed_the_polish_way(client_for, manager):
    manager.language = "pl"
    manager.save(update_fields=["language"])
    response = client_for(manager).post(
        reverse("product-create"), product_data(net_price="1 234,50", vat_rate="5,5")
    )
    assert response.status_code == 302
    product = Product.objects.get()
    assert (product.net_price, product.vat_rate) == (Decimal("1234.50"), Decimal("5.50"))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sku": "lic-1"}, "sku"),
        ({"net_price": "-0.01"}, "net_price"),
        ({"net_price": "9" * 20}, "net_price"),
        ({"net_price": ""}, "net_price"),
        ({"vat_rate": "101"}, "vat_rate"),
        ({"vat_rate": "-1"}, "vat_rate"),
        ({"vat_rate": "23.555"}, "vat_rate"),
        ({"name": ""}, "name"),
        ({"currency": "XYZ"}, "currency"),
    ],
)
def test_bad_product_input_is_a_field_error_not_a_crash(
    client_for, admin, licence, training, changes, field
):
    client = client_for(admin)
    response = client.post(reverse("product-create"), product_data(**changes))
    assert response.status_code == 400
    assert errors_on(response, field)
    assert 'class="field has-error' in response.content.decode()
    assert Product.objects.count() == 2
    # The same input on another product's edit form: refused, and the product is unchanged.
    response = client.post(
        reverse("product-edit", args=[training.pk]),
        product_data(**{"name": "Onboarding training", "sku": "TRN-7", **changes}),
    )
    assert response.status_code == 400
    assert errors_on(response, field)
    training.refresh_from_db()
    assert (training.sku, training.net_price) == ("TRN-7", Decimal("300.00"))


def test_a_product_keeps_its_own_sku_when_edited(client_for, admin, licence):
    response = client_for(admin).post(
        reverse("product-edit", args=[licence.pk]),
        product_data(name="CRM licence", sku="LIC-1", net_price="1300"),
    )
    assert response.status_code == 302


# Switch off and on ---------------------------------------------------------------------------


def test_switching_a_product_off_and_on_from_the_list(client_for, manager, licence):
    client = client_for(manager)
    toggle = reverse("product-set-active", args=[licence.pk])
    back = reverse("product-list") + "?q=licence"
    response = client.post(toggle, {"active": "0", "next": back})
    assert response.status_code == 302 and response.url == back
    licence.refresh_from_db()
    assert not licence.active
    event = Event.objects.filter(verb="product.updated", object_id=licence.pk).get()
    assert (event.before["active"], event.after["active"], event.actor) == (True, False, manager)

    response = client.post(toggle, {"active": "1", "next": "https://evil.example/"})
    assert response.url == reverse("product-list")
    licence.refresh_from_db()
    assert licence.active


def test_switching_is_post_only(client_for, manager, licence):
    url = reverse("product-set-active", args=[licence.pk])
    assert client_for(manager).get(url).status_code == 405


def test_filtering_with_htmx_swaps_only_the_results(client_for, rep, licence, training):
    response = client_for(rep).get(
        reverse("product-list") + "?active=no", headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="list-results"')
    assert "Onboarding training" in html and "CRM licence" not in html
