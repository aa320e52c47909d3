"""The Export menu of a record list: the current list, as CSV or XLSX."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()

# The lists that can be exported, by URL name, and the kind of records each shows.
EXPORTABLE = {
    "lead-list": "leads",
    "contact-list": "contacts",
    "company-list": "companies",
    "deal-list": "deals",
}


@register.inclusion_tag("core/list_export.html", takes_context=True)
def export_menu(context):
    """Links that export the list exactly as shown: its filters, search and sort travel along
    in the query; the page number does not, as an export holds every page."""
    request = context["request"]
    match = getattr(request, "resolver_match", None)
    kind = EXPORTABLE.get(getattr(match, "url_name", None) or "")
    if kind is None:
        return {"links": []}
    try:
        base = reverse("list-export", kwargs={"kind": kind})
    except NoReverseMatch:
        return {"links": []}  # exports are not mounted on this site
    query = request.GET.copy()
    query.pop("page", None)
    links = []
    for fmt in ("csv", "xlsx"):
        query["format"] = fmt
        links.append((fmt.upper(), f"{base}?{query.urlencode()}"))
    return {"links": links}
