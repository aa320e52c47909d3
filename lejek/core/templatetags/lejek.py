from __future__ import annotations

import datetime

from django import template
from django.contrib.humanize.templatetags.humanize import NaturalTimeFormatter, naturaltime
from django.utils import formats, timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince, timeuntil

from lejek.core.money import format_money

register = template.Library()


@register.filter
def money(amount, currency="PLN"):
    """`{{ deal.amount|money:deal.currency }}`"""
    return format_money(amount, currency or "PLN", translation.get_language() or "pl")


def relative(value: datetime.datetime) -> str:
    """ "3 days ago", "2 hours ago": one unit only, so it fits a table cell."""
    now = timezone.now()
    if abs(now - value) < datetime.timedelta(days=1):
        return naturaltime(value)
    strings = NaturalTimeFormatter.time_strings
    if value < now:
        delta = timesince(value, now, time_strings=NaturalTimeFormatter.past_substrings, depth=1)
        return strings["past-day"] % {"delta": delta}
    delta = timeuntil(value, now, time_strings=NaturalTimeFormatter.future_substrings, depth=1)
    return strings["future-day"] % {"delta": delta}


@register.simple_tag
def when(value):
    """A <time> element: relative when recent ("3 days ago"), absolute on hover and when old."""
    if not value:
        return "—"
    if isinstance(value, datetime.datetime):
        local = timezone.localtime(value)
        absolute = formats.date_format(local, "DATETIME_FORMAT")
        recent = abs(timezone.now() - value) < datetime.timedelta(days=7)
        shown = relative(value) if recent else formats.date_format(local, "DATE_FORMAT")
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


@register.simple_tag
def icon(name: str, label: str = ""):
    """An icon from the local sprite; decorative unless a label is given."""
    from django.templatetags.static import static

    href = f"{static('core/icons.svg')}#{name}"
    if label:
        return format_html(
            '<svg class="i" role="img" aria-label="{}"><use href="{}"></use></svg>', label, href
        )
    return format_html('<svg class="i" aria-hidden="true"><use href="{}"></use></svg>', href)


@register.inclusion_tag("core/saved_views.html", takes_context=True)
def saved_views(context):
    """The saved-views menu of a record list: open, save the current state, remove."""
    from lejek.core.saved_views import clean_query, views_for
    from lejek.users.models import Role

    request = context["request"]
    user = request.user
    return {
        "views": list(views_for(user, request.path)),
        "path": request.path,
        "query": clean_query(request.GET.urlencode()),
        "user": user,
        "can_share": user.role in (Role.ADMIN, Role.MANAGER),
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def reason_options(kind: str, element_id: str, suffix=""):
    """A <datalist> of the reasons offered for `kind`, for a free-text reason input.

    Its id is `element_id`, or `element_id-suffix` when one page shows several.
    """
    if suffix != "":
        element_id = f"{element_id}-{suffix}"
    from lejek.core.reasons import offered

    labels = offered(kind).values_list("label", flat=True)
    options = format_html_join("", '<option value="{}">', ((label,) for label in labels))
    return format_html('<datalist id="{}">{}</datalist>', element_id, options)
