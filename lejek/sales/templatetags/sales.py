"""Tags for line items and offers: the deal page's panel, quantities, and version changes."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import translation
from django.utils.translation import gettext as _

from lejek.core.money import format_money
from lejek.sales.panel import panel_context

register = template.Library()


def format_decimal(value: Decimal | str | None, language: str) -> str:
    """2.500 → "2,5" in Polish, "2.5" in English: no trailing zeros, no exponent."""
    if value is None or value == "":
        return "—"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = f"{number:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",") if language.startswith("pl") else text


def _language() -> str:
    return translation.get_language() or "pl"


@register.filter
def qty(value) -> str:
    """`{{ line.quantity|qty }}`"""
    return format_decimal(value, _language())


@register.filter
def percent(value) -> str:
    """`{{ line.discount|percent }}` → "12,5%"."""
    return f"{format_decimal(value, _language())}%"


def change_text(change: dict, currency: str, language: str) -> str:
    """One entry of Offer.changes as a sentence, e.g. "Price of Licence: 1 200,00 zł → …"."""
    name = change.get("name", "")
    before, after = change.get("before"), change.get("after")
    kind = change.get("kind")
    if kind == "price":
        values = {"name": name, "before": format_money(before, currency, language),
                  "after": format_money(after, currency, language)}  # fmt: skip
        return _("Price of %(name)s: %(before)s → %(after)s") % values
    if kind in ("discount", "vat_rate"):
        values = {"name": name, "before": f"{format_decimal(before, language)}%",
                  "after": f"{format_decimal(after, language)}%"}  # fmt: skip
        if kind == "discount":
            return _("Discount on %(name)s: %(before)s → %(after)s") % values
        return _("VAT rate of %(name)s: %(before)s → %(after)s") % values
    if kind == "quantity":
        values = {"name": name, "before": format_decimal(before, language),
                  "after": format_decimal(after, language)}  # fmt: skip
        return _("Quantity of %(name)s: %(before)s → %(after)s") % values
    if kind == "added":
        values = {"name": name, "net": format_money(after, currency, language)}
        return _("Added %(name)s (%(net)s net)") % values
    if kind == "removed":
        values = {"name": name, "net": format_money(before, currency, language)}
        return _("Removed %(name)s (%(net)s net)") % values
    if kind == "terms":
        return _("Terms changed")
    return str(kind)


@register.simple_tag
def offer_change(change: dict, currency: str) -> str:
    """`{% offer_change change offer.currency %}`"""
    return change_text(change, currency, _language())


@register.inclusion_tag("sales/deal_panel.html", takes_context=True)
def deal_sales_panel(context, deal):
    """`{% deal_sales_panel deal %}`: lines, totals and offers of a deal, for its page."""
    request = context["request"]
    return panel_context(request, deal)
