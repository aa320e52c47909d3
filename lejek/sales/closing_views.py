"""Winning a deal (final amount and date), and its purchase confirmation: PDF and sending."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from lejek.contacts.forms import save_through
from lejek.pipeline.closing_views import editable_deal
from lejek.pipeline.forms import WinForm
from lejek.pipeline.models import Deal
from lejek.sales.forms import OfferEmailForm
from lejek.sales.pdf import confirmation_filename, confirmation_pdf
from lejek.sales.winning import confirmation_email_defaults, confirmation_send, deal_close_won


@login_required
@require_http_methods(["GET", "POST"])
def deal_win_view(request: HttpRequest, pk: int) -> HttpResponse:
    deal = editable_deal(request, pk)
    initial = {"amount": deal.amount, "closed_on": timezone.localdate(), "version": deal.version}
    form = WinForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        win = save_through(
            form,
            lambda: deal_close_won(
                actor=request.user,
                deal=deal,
                amount=data["amount"],
                closed_on=data["closed_on"],
                expected_version=data["version"],
            ),
        )
        if win is not None:
            text = _("Won. Congratulations! Purchase confirmation %(number)s is ready to send.")
            messages.success(request, text % {"number": win.confirmation.number})
            return redirect(win.deal)
    context = {"deal": deal, "form": form, "won": True}
    return render(request, "pipeline/deal_close.html", context, status=400 if form.errors else 200)


def _confirmation(request: HttpRequest, deal_pk: int, pk: int):
    deal = get_object_or_404(Deal.objects.visible_to(request.user), pk=deal_pk)
    return get_object_or_404(deal.purchase_confirmations.select_related("deal"), pk=pk)


@login_required
@require_GET
def confirmation_pdf_view(request: HttpRequest, deal_pk: int, pk: int) -> HttpResponse:
    confirmation = _confirmation(request, deal_pk, pk)
    response = HttpResponse(confirmation_pdf(confirmation), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{confirmation_filename(confirmation)}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def confirmation_send_view(request: HttpRequest, deal_pk: int, pk: int) -> HttpResponse:
    deal = editable_deal(request, deal_pk)
    confirmation = _confirmation(request, deal.pk, pk)
    form = OfferEmailForm(request.POST or None, initial=confirmation_email_defaults(confirmation))
    if request.method == "POST" and form.is_valid():
        sent = save_through(
            form,
            lambda: confirmation_send(
                actor=request.user, confirmation=confirmation, **form.cleaned_data
            ),
        )
        if sent is not None:
            to = ", ".join(form.cleaned_data["to"])
            messages.success(request, _("Confirmation sent to %(to)s.") % {"to": to})
            return redirect(deal)
    context = {
        "deal": deal,
        "confirmation": confirmation,
        "form": form,
        "filename": confirmation_filename(confirmation),
    }
    return render(
        request, "sales/confirmation_send.html", context, status=400 if form.errors else 200
    )
