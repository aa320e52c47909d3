"""How a figure's values read on the page: money in the house currency, percents, days.

The figures hand over plain values (ints, floats, Decimals, dates); this is the one place that
turns them into text for the page language, so the dashboard's tables, tiles and chart labels
agree with each other.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import template
from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _

from lejek.core.money import format_money

register = template.Library()

NUMERIC_KINDS = frozenset({"int", "number", "money", "percent", "days"})
MISSING = "—"


def _number(value: Any, decimals: int | None) -> str:
    return formats.number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def _decimals(value: Any) -> int:
    """Whole numbers without decimals, fractions with one (two for small ones)."""
    if isinstance(value, int) or float(value) == int(value):
        return 0
    return 2 if abs(float(value)) < 1 else 1


def format_value(value: Any, kind: str, currency: str | None = None) -> str:
    """`value` as text for a column of `kind` (see lejek.analytics.tables.Column)."""
    if value is None or value == "":
        return MISSING
    try:
        return _format(value, kind, currency)
    except (TypeError, ValueError, ArithmeticError):
        # A value of an unexpected type still shows, as it is, rather than breaking the page.
        return str(value)


def _format(value: Any, kind: str, currency: str | None) -> str:
    if kind == "money":
        language = translation.get_language() or settings.LANGUAGE_CODE
        return format_money(value, currency or settings.LEJEK_CURRENCY, language)
    if kind == "int":
        return _number(round(value), 0)
    if kind == "number":
        return _number(value, _decimals(value))
    if kind == "percent":
        return _("%(value)s%%") % {"value": _number(value, 1 if _decimals(value) else 0)}
    if kind == "days":
        return _("%(value)s d") % {"value": _number(value, _decimals(value))}
    if kind == "date" and isinstance(value, datetime.date):
        return formats.date_format(value, "DATE_FORMAT")
    if kind == "month" and isinstance(value, datetime.date):
        return formats.date_format(value, "YEAR_MONTH_FORMAT")
    return str(value)


def chart_number(value: Any) -> float | int | None:
    """A value as a chart reads it: a plain number, or nothing (a gap) when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        return float(value)
    return None


@register.filter
def figure_value(value: Any, kind: str) -> str:
    """`{{ cell.value|figure_value:column.kind }}`"""
    return format_value(value, kind)


@register.filter
def is_numeric_kind(kind: str) -> bool:
    return kind in NUMERIC_KINDS
