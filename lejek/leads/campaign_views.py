"""Settings → Sources and Campaigns: where leads come from, and what bringing them cost.

Everyone signed in reads both lists (reps want to know what a source means); marketing,
managers and admins create and edit them.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from lejek.leads.campaign_forms import CampaignForm, SourceForm
from lejek.leads.models import Campaign, Lead, Source
from lejek.leads.services import campaign_create, campaign_update, source_create, source_update
from lejek.users.models import Role

# The same people the services let through (see leads.services._ensure_marketing_admin).
EDITORS = (Role.ADMIN, Role.MANAGER, Role.MARKETING)


def can_manage(user) -> bool:
    return user.role in EDITORS


def _ensure_can_manage(user) -> None:
    if not can_manage(user):
        raise PermissionDenied(
            _("Only marketing, managers and admins manage sources and campaigns.")
        )


def lead_counts(user, field: str) -> dict[int, int]:
    """Leads the user can see, counted per source or campaign id, in one grouped query.

    Counted over the visible leads so the number matches the lead list each row links to.
    """
    rows = (
        Lead.objects.visible_to(user)
        .filter(**{f"{field}__isnull": False})
        .order_by()
        .values_list(field)
        .annotate(n=Count("id"))
    )
    return dict(rows)


def _leads_url(param: str, pk: int) -> str:
    return f"{reverse('lead-list')}?{param}={pk}"


def _put_errors(form: forms.Form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def _save(form: forms.Form, obj: Model | None, call) -> Model | None:
    """Run the service; its refusals go next to the fields, the record stays as saved."""
    try:
        return call()
    except ValidationError as exc:
        if obj is not None:
            obj.refresh_from_db()
        _put_errors(form, exc)
    return None


def _form_page(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    status = 400 if context["form"].errors else 200
    return render(request, template, context, status=status)


# Sources ------------------------------------------------------------------------------------


@login_required
@require_GET
def source_list(request: HttpRequest) -> HttpResponse:
    counts = lead_counts(request.user, "source")
    sources = list(Source.objects.annotate(campaign_count=Count("campaigns")).order_by("name"))
    for source in sources:
        source.lead_count = counts.get(source.pk, 0)
        source.leads_url = _leads_url("source", source.pk)
    context = {"sources": sources, "can_manage": can_manage(request.user)}
    return render(request, "leads/source_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def source_create_view(request: HttpRequest) -> HttpResponse:
    _ensure_can_manage(request.user)
    form = SourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        source = _save(form, None, lambda: source_create(actor=request.user, **form.cleaned_data))
        if source is not None:
            messages.success(request, _("Source “%(name)s” added.") % {"name": source})
            return redirect("source-list")
    return _form_page(request, "leads/source_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_can_manage(request.user)
    source = get_object_or_404(Source, pk=pk)
    form = SourceForm(request.POST or None, instance=source)
    if request.method == "POST" and form.is_valid():
        saved = _save(
            form,
            source,
            lambda: source_update(actor=request.user, source=source, values=form.cleaned_data),
        )
        if saved is not None:
            messages.success(request, _("Source “%(name)s” saved.") % {"name": saved})
            return redirect("source-list")
    context = {"form": form, "source": source}
    return _form_page(request, "leads/source_form.html", context)


# Campaigns ----------------------------------------------------------------------------------


def _cost_per_lead(campaign: Campaign) -> Decimal | None:
    if not campaign.lead_count or not campaign.cost:
        return None
    return (campaign.cost / campaign.lead_count).quantize(Decimal("0.01"))


@login_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    counts = lead_counts(request.user, "campaign")
    campaigns = list(Campaign.objects.select_related("source"))
    for campaign in campaigns:
        campaign.lead_count = counts.get(campaign.pk, 0)
        campaign.cost_per_lead = _cost_per_lead(campaign)
        campaign.leads_url = _leads_url("campaign", campaign.pk)
    context = {"campaigns": campaigns, "can_manage": can_manage(request.user)}
    return render(request, "leads/campaign_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create_view(request: HttpRequest) -> HttpResponse:
    _ensure_can_manage(request.user)
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        campaign = _save(form, None, lambda: campaign_create(actor=request.user, **form.values()))
        if campaign is not None:
            messages.success(request, _("Campaign “%(name)s” added.") % {"name": campaign})
            return redirect("campaign-list")
    return _form_page(request, "leads/campaign_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_can_manage(request.user)
    campaign = get_object_or_404(Campaign.objects.select_related("source"), pk=pk)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        saved = _save(
            form,
            campaign,
            lambda: campaign_update(actor=request.user, campaign=campaign, values=form.values()),
        )
        if saved is not None:
            messages.success(request, _("Campaign “%(name)s” saved.") % {"name": saved})
            return redirect("campaign-list")
    context = {"form": form, "campaign": campaign}
    return _form_page(request, "leads/campaign_form.html", context)
