from __future__ import annotations

import datetime

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import formats, timezone, translation
from django.utils.html import format_html

from lejek.core.money import format_money

register = template.Library()


@register.filter
def money(amount, currency="PLN"):
    """`{{ deal.amount|money:deal.currency }}`"""
    return format_money(amount, currency or "PLN", translation.get_language() or "pl")


@register.simple_tag
def when(value):
    """A <time> element: relative when recent ("3 days ago"), absolute on hover and when old."""
    if not value:
        return "—"
    if isinstance(value, datetime.datetime):
        local = timezone.localtime(value)
        absolute = formats.date_format(local, "DATETIME_FORMAT")
        recent = abs(timezone.now() - value) < datetime.timedelta(days=7)
        shown = naturaltime(value) if recent else formats.date_format(local, "DATE_FORMAT")
        return format_html(
            '<time datetime="{}" title="{}">{}</time>', local.isoformat(), absolute, shown
        )
    absolute = formats.date_format(value, "DATE_FORMAT")
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), absolute)


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (None or "" removes them)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
