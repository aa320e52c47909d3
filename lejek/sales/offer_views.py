"""Offer pages: create from the deal's lines, view a version, new version, status, PDF, send."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lejek.contacts.forms import save_through
from lejek.contacts.views import can_edit, ensure_can_edit
from lejek.pipeline.models import Deal
from lejek.sales.forms import OfferEmailForm, OfferForm, OfferStatusForm
from lejek.sales.line_views import visible_deal
from lejek.sales.models import Offer
from lejek.sales.offers import (
    allowed_statuses,
    offer_create,
    offer_email_defaults,
    offer_is_latest,
    offer_new_version,
    offer_send,
    offer_set_status,
)
from lejek.sales.pdf import offer_filename, offer_pdf
from lejek.sales.totals import compute_totals

DEFAULT_VALIDITY = datetime.timedelta(days=30)


def _offer(deal: Deal, pk: int) -> Offer:
    return get_object_or_404(Offer.objects.filter(deal=deal).select_related("created_by"), pk=pk)


def _offer_form_page(
    request: HttpRequest, deal: Deal, form: OfferForm, *, previous: Offer | None = None
) -> HttpResponse:
    context = {
        "deal": deal,
        "form": form,
        "previous": previous,
        "lines": list(deal.lines.order_by("position", "id")),
    }
    context["totals"] = compute_totals(context["lines"])
    status = 400 if form.errors else 200
    return render(request, "sales/offer_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def offer_create_view(request: HttpRequest, deal_pk: int) -> HttpResponse:
    deal = visible_deal(request, deal_pk)
    ensure_can_edit(request.user, deal)
    initial = {
        "valid_until": timezone.localdate() + DEFAULT_VALIDITY,
        "language": (get_language() or "pl")[:2],
    }
    form = OfferForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        offer = save_through(
            form, lambda: offer_create(actor=request.user, deal=deal, **form.cleaned_data)
        )
        if offer is not None:
            messages.success(request, _("Offer %(number)s created.") % {"number": offer.number})
            return redirect(offer)
    return _offer_form_page(request, deal, form)


@login_required
@require_http_methods(["GET", "POST"])
def offer_version_view(request: HttpRequest, deal_pk: int, pk: int) -> HttpResponse:
    deal = visible_deal(request, deal_pk)
    ensure_can_edit(request.user, deal)
    previous = _offer(deal, pk)
    initial = {
        "valid_until": max(previous.valid_until, timezone.localdate() + DEFAULT_VALIDITY),
        "language": previous.language,
        "terms": previous.terms,
    }
    form = OfferForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        offer = save_through(
            form,
            lambda: offer_new_version(actor=request.user, offer=previous, **form.cleaned_data),
        )
        if offer is not None:
            text = _("Version %(version)s of offer %(number)s created.")
            messages.success(request, text % {"version": offer.version, "number": offer.number})
            return redirect(offer)
    return _offer_form_page(request, deal, form, previous=previous)


@login_required
@require_GET
def offer_detail(request: HttpRequest, deal_pk: int, pk: int) -> HttpResponse:
    deal = visible_deal(request, deal_pk)
    offer = _offer(deal, pk)
    lines = list(offer.lines.order_by("position", "id"))
    versions = Offer.objects.filter(number=offer.number).order_by("-version")
    context = {
        "deal": deal,
        "offer": offer,
        "lines": lines,
        "totals": compute_totals(lines),
        "versions": list(versions),
        "is_latest": offer_is_latest(offer),
        "statuses": [Offer.Status(s) for s in allowed_statuses(offer)],
        "can_edit": can_edit(request.user, deal),
    }
    return render(request, "sales/offer_detail.html", context)


@login_required
@require_POST
def offer_status_view(request: HttpRequest, deal_pk: int, pk: int) -> HttpResponse:
    deal = visible_deal(request, deal_pk)
    offer = _offer(deal, pk)
    form = OfferStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status from the list."))
        return redirect(offer)
    try:
        offer = offer_set_status(
            actor=request.user, offer=offer, status=form.cleaned_data["status"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(offer)
    text = _("Offer %(offer)s is now “%(status)s”.")
    messages.success(request, text % {"offer": offer, "status": offer.get_status_display()})
    return redirect(offer)


@login_required
@require_GET
def offer_pdf_view(request: HttpRequest, deal_pk: int, pk: int) -> HttpResponse:
    deal = visible_deal(request, deal_pk)
    offer = _offer(deal, pk)
    response = HttpResponse(offer_pdf(offer), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{offer_filename(offer)}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def offer_send_view(request: HttpRequest, deal_pk: int, pk: int) -> HttpResponse:
    deal = visible_deal(request, deal_pk)
    ensure_can_edit(request.user, deal)
    offer = _offer(deal, pk)
    form = OfferEmailForm(request.POST or None, initial=offer_email_defaults(offer))
    if request.method == "POST" and form.is_valid():
        sent = save_through(
            form, lambda: offer_send(actor=request.user, offer=offer, **form.cleaned_data)
        )
        if sent is not None:
            text = _("Offer %(offer)s sent to %(to)s.")
            to = ", ".join(form.cleaned_data["to"])
            messages.success(request, text % {"offer": offer, "to": to})
            return redirect(offer)
    context = {"deal": deal, "offer": offer, "form": form, "filename": offer_filename(offer)}
    return render(request, "sales/offer_send.html", context, status=400 if form.errors else 200)
