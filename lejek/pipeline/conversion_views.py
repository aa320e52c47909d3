"""The "Convert to deal" page of a lead: what will be linked or created, then one click."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from lejek.contacts.forms import save_through
from lejek.contacts.views import can_edit
from lejek.core.fields import CURRENCIES
from lejek.core.widgets import DateInput
from lejek.leads.models import Lead
from lejek.pipeline.conversion import CLOSED_STATUSES, default_title, lead_convert, plan_conversion
from lejek.pipeline.forms import AmountField
from lejek.pipeline.models import Deal, Pipeline
from lejek.users.visibility import can_create


class ConvertForm(forms.Form):
    title = forms.CharField(label=_("Deal title"), max_length=200)
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"), queryset=Pipeline.objects.all(), empty_label=None
    )
    amount = AmountField(
        label=_("Amount"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        localize=True,
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCIES)
    expected_close_date = forms.DateField(
        label=_("Expected close"), required=False, widget=DateInput()
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


@login_required
@require_http_methods(["GET", "POST"])
def lead_convert_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(
        Lead.objects.visible_to(request.user).select_related("contact", "company", "source"),
        pk=pk,
    )
    if not can_edit(request.user, lead) or not can_create(request.user, Deal):
        raise PermissionDenied(gettext("You are not allowed to convert this lead."))
    if lead.status in CLOSED_STATUSES:
        messages.info(request, gettext("This lead is already closed."))
        return redirect(lead)
    default_pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    form = ConvertForm(
        request.POST or None,
        initial={
            "title": default_title(lead),
            "pipeline": default_pipeline,
            "currency": settings.LEJEK_CURRENCY,
            "version": lead.version,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = save_through(
            form,
            lambda: lead_convert(
                actor=request.user,
                lead=lead,
                title=data["title"],
                pipeline=data["pipeline"],
                amount=data["amount"],
                currency=data["currency"],
                expected_close_date=data["expected_close_date"],
                expected_version=data["version"],
            ),
        )
        if result is not None:
            messages.success(request, gettext("The lead is now a deal."))
            return redirect(result.deal)
    context = {"lead": lead, "form": form, "plan": plan_conversion(lead)}
    return render(
        request, "pipeline/lead_convert.html", context, status=400 if form.errors else 200
    )
