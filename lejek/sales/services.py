"""Every write to the product catalogue."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from lejek.core.events import record_event, snapshot
from lejek.core.records import apply_values, record_create
from lejek.sales.models import Product
from lejek.users.models import Role

PRODUCT_FIELDS = ["name", "sku", "unit", "net_price", "vat_rate", "currency", "active"]


def _ensure_catalogue_editor(actor) -> None:
    if actor is not None and actor.role not in (Role.ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only admins and managers edit the product catalogue."))


@transaction.atomic
def product_create(*, actor, **values: Any) -> Product:
    _ensure_catalogue_editor(actor)
    product = Product()
    apply_values(product, values)
    return record_create(actor=actor, obj=product, fields=PRODUCT_FIELDS, verb="product.created")


@transaction.atomic
def product_update(*, actor, product: Product, values: dict[str, Any]) -> Product:
    _ensure_catalogue_editor(actor)
    before = snapshot(product, PRODUCT_FIELDS)
    apply_values(product, values)
    product.full_clean()
    product.save()
    record_event(
        actor=actor,
        verb="product.updated",
        obj=product,
        before=before,
        after=snapshot(product, PRODUCT_FIELDS),
    )
    return product
