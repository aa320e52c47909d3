"""Every write to the product catalogue and to the lines of a deal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from lejek.core.events import changed, record_event, snapshot
from lejek.core.records import apply_values, ensure_editable, record_create
from lejek.pipeline.models import Deal
from lejek.pipeline.services import deal_update
from lejek.sales.models import DealLine, DealPricing, Product
from lejek.sales.totals import compute_totals
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


# Deal lines ------------------------------------------------------------------------------

LINE_FIELDS = ["product", "name", "quantity", "unit", "unit_price", "discount", "vat_rate"]
# What a person may change on a line once it is on the deal; the product link stays.
LINE_EDITABLE = ["name", "quantity", "unit", "unit_price", "discount", "vat_rate"]


def _lock_deal(deal: Deal) -> None:
    """Serialise line changes of one deal, so positions and the amount stay consistent."""
    Deal.objects.select_for_update().filter(pk=deal.pk).first()
    deal.refresh_from_db()


def _line_event(actor, deal: Deal, verb: str, before: dict | None, after: dict | None) -> None:
    record_event(actor=actor, verb=verb, obj=deal, before=before, after=after)


def _normalise(line: DealLine) -> None:
    # Stored with fixed places anyway; doing it now keeps "3" and "3.000" from reading as a
    # change in the event log.
    for field in ("quantity", "unit_price", "discount", "vat_rate"):
        value = getattr(line, field)
        if isinstance(value, Decimal):
            places = DealLine._meta.get_field(field).decimal_places
            setattr(line, field, value.quantize(Decimal(1).scaleb(-places)))


def _line_snapshot(line: DealLine) -> dict[str, Any]:
    return {"line": line.pk, **snapshot(line, LINE_FIELDS)}


def deal_pricing(deal: Deal) -> DealPricing:
    """The deal's pricing settings; a deal without a row follows its lines (the default)."""
    pricing = DealPricing.objects.filter(deal=deal).first()
    return pricing or DealPricing(deal=deal)


def deal_amount_sync(*, actor, deal: Deal) -> None:
    """Set the deal's amount to the net total of its lines, unless it is set by hand.

    An amount that differs from what the lines last wrote was typed by someone on the deal
    form; from then on the lines leave it alone (amount_from_lines switches off) until a
    person switches it back on.
    """
    pricing = deal_pricing(deal)
    if not pricing.amount_from_lines:
        return
    if pricing.synced_amount is not None and deal.amount != pricing.synced_amount:
        pricing.amount_from_lines = False
        pricing.save()
        _line_event(actor, deal, "deal.amount_manual", None, {"amount": deal.amount})
        return
    total = compute_totals(deal.lines.all()).net
    if deal.amount != total:
        deal_update(actor=actor, deal=deal, values={"amount": total})
    pricing.synced_amount = total
    pricing.save()


@transaction.atomic
def deal_pricing_set(*, actor, deal: Deal, amount_from_lines: bool) -> DealPricing:
    """Switch whether the deal's amount follows its lines; switching on recomputes it now."""
    ensure_editable(actor, deal)
    _lock_deal(deal)
    pricing = deal_pricing(deal)
    before = pricing.amount_from_lines
    pricing.amount_from_lines = amount_from_lines
    # Forget the last synced figure: the current amount is now the agreed starting point.
    pricing.synced_amount = deal.amount if amount_from_lines else None
    pricing.save()
    if before != amount_from_lines:
        _line_event(
            actor,
            deal,
            "deal.pricing_updated",
            {"amount_from_lines": before},
            {"amount_from_lines": amount_from_lines},
        )
    deal_amount_sync(actor=actor, deal=deal)
    return pricing


def _check_product(deal: Deal, product: Product) -> None:
    if not product.active:
        raise ValidationError(
            {"product": _("“%(name)s” is switched off in the catalogue.") % {"name": product}}
        )
    if product.currency != deal.currency:
        raise ValidationError(
            {
                "product": _("“%(name)s” is priced in %(product)s and the deal is in %(deal)s.")
                % {"name": product, "product": product.currency, "deal": deal.currency}
            }
        )


@transaction.atomic
def deal_line_add(
    *,
    actor,
    deal: Deal,
    product: Product,
    quantity: Decimal = Decimal(1),
    discount: Decimal = Decimal(0),
) -> DealLine:
    """Put a catalogue product on the deal, copying its name, unit, price and VAT rate."""
    ensure_editable(actor, deal)
    _lock_deal(deal)
    _check_product(deal, product)
    last = deal.lines.aggregate(last=Max("position"))["last"]
    line = DealLine(
        deal=deal,
        product=product,
        name=product.name,
        unit=product.unit,
        unit_price=product.net_price,
        vat_rate=product.vat_rate,
        quantity=quantity,
        discount=discount,
        position=0 if last is None else last + 1,
    )
    line.full_clean()
    _normalise(line)
    line.save()
    _line_event(actor, deal, "deal.line_added", None, _line_snapshot(line))
    deal_amount_sync(actor=actor, deal=deal)
    return line


@transaction.atomic
def deal_line_update(*, actor, line: DealLine, values: dict[str, Any]) -> DealLine:
    deal = line.deal
    ensure_editable(actor, deal)
    _lock_deal(deal)
    unknown = set(values) - set(LINE_EDITABLE)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    before = _line_snapshot(line)
    apply_values(line, values)
    line.full_clean()
    _normalise(line)
    old, new = changed(before, _line_snapshot(line))
    if not new:
        return line
    line.save(update_fields=list(new))
    _line_event(
        actor, deal, "deal.line_updated", {"line": line.pk, **old}, {"line": line.pk, **new}
    )
    deal_amount_sync(actor=actor, deal=deal)
    return line


@transaction.atomic
def deal_line_remove(*, actor, line: DealLine) -> None:
    deal = line.deal
    ensure_editable(actor, deal)
    _lock_deal(deal)
    _line_event(actor, deal, "deal.line_removed", _line_snapshot(line), None)
    line.delete()
    deal_amount_sync(actor=actor, deal=deal)


@transaction.atomic
def deal_lines_reorder(*, actor, deal: Deal, line_ids: list[int]) -> None:
    """Put the deal's lines in the order of `line_ids`, which must name each line once."""
    ensure_editable(actor, deal)
    _lock_deal(deal)
    lines = {line.pk: line for line in deal.lines.all()}
    if sorted(line_ids) != sorted(lines):
        raise ValidationError(_("The list of lines has changed; reload the page and try again."))
    before = [line.pk for line in sorted(lines.values(), key=lambda x: (x.position, x.pk))]
    for position, pk in enumerate(line_ids):
        lines[pk].position = position
    DealLine.objects.bulk_update(lines.values(), ["position"])
    if before != list(line_ids):
        _line_event(actor, deal, "deal.lines_reordered", {"order": before}, {"order": line_ids})
