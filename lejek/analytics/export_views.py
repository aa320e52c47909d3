"""Export a record list as it is shown: same filters, search, sort and visibility."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from lejek.analytics.exports import UnknownFields, spec_for
from lejek.core import exporting
from lejek.core.listing import Listing


def listing_for(kind: str) -> Listing:
    """The list page declaration whose state an export of `kind` follows."""
    if kind == "leads":
        from lejek.leads.views import LEADS

        return LEADS
    if kind == "deals":
        from lejek.pipeline.views import DEALS

        return DEALS
    from lejek.contacts.views import COMPANIES, CONTACTS

    return {"contacts": CONTACTS, "companies": COMPANIES}[kind]


@login_required
@require_GET
def list_export(request: HttpRequest, kind: str) -> HttpResponse:
    try:
        spec = spec_for(kind)
    except KeyError:
        raise Http404 from None
    fmt = request.GET.get("format", "csv").lower()
    if fmt not in ("csv", "xlsx"):
        return HttpResponseBadRequest(
            _("Export as csv or xlsx."), content_type="text/plain; charset=utf-8"
        )
    names = [n.strip() for n in request.GET.get("fields", "").split(",") if n.strip()]
    rows = listing_for(kind).filtered(request, spec.base(request.user))
    try:
        table = spec.table(rows, names or None)
    except UnknownFields as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    return exporting.response(table, fmt, kind)
