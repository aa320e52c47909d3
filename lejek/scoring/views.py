"""Settings → Lead scoring: fit rules, engagement rules, the MQL threshold, recomputing all
scores and the predictive model's status. Managers and admins only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from lejek.contacts.forms import attach_errors
from lejek.leads.assignment import custom_field_keys
from lejek.scoring import services
from lejek.scoring.forms import EngagementRulesForm, FitRuleForm, ScoringSettingsForm
from lejek.scoring.models import FitRule, ScoringModel, ScoringSettings
from lejek.scoring.rules import describe


def _ensure_can_configure(user) -> None:
    if not services.can_configure(user):
        raise PermissionDenied(_("Only managers and admins set up lead scoring."))


def _fit_rules() -> list[FitRule]:
    labels = custom_field_keys()
    rules = list(FitRule.objects.order_by("-points", "id"))
    for rule in rules:
        rule.words = [describe(c, labels) for c in rule.conditions or []]
    return rules


def _page(request: HttpRequest, threshold_form=None, engagement_form=None, status=200):
    settings = ScoringSettings.current()
    context = {
        "settings": settings,
        "rules": _fit_rules(),
        "threshold_form": threshold_form
        or ScoringSettingsForm(initial={"mql_threshold": settings.mql_threshold}),
        "engagement_form": engagement_form or EngagementRulesForm(),
        "model": ScoringModel.objects.defer("payload").order_by("-version").first(),
        "busy": settings.rescore_state != ScoringSettings.Work.IDLE,
    }
    if request.htmx and request.GET.get("part") == "progress":
        return render(request, "scoring/settings.html#progress", context)
    return render(request, "scoring/settings.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def scoring_settings(request: HttpRequest) -> HttpResponse:
    _ensure_can_configure(request.user)
    if request.method == "GET":
        return _page(request)
    if request.POST.get("action") == "engagement":
        form = EngagementRulesForm(request.POST)
        if form.is_valid():
            try:
                services.engagement_rules_save(actor=request.user, rules=form.values())
            except ValidationError as exc:
                attach_errors(form, exc)
            else:
                messages.success(request, _("Engagement rules saved."))
                return redirect("scoring-settings")
        return _page(request, engagement_form=form, status=400)
    form = ScoringSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.scoring_settings_update(
                actor=request.user, mql_threshold=form.cleaned_data["mql_threshold"]
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("MQL threshold saved."))
            return redirect("scoring-settings")
    return _page(request, threshold_form=form, status=400)


@login_required
@require_POST
def recompute(request: HttpRequest) -> HttpResponse:
    _ensure_can_configure(request.user)
    services.rescore_request(actor=request.user)
    messages.success(
        request, _("Recomputing all scores in the background. You can leave this page.")
    )
    return redirect("scoring-settings")


@login_required
@require_POST
def train(request: HttpRequest) -> HttpResponse:
    _ensure_can_configure(request.user)
    services.training_request(actor=request.user)
    messages.success(request, _("Training a new model in the background."))
    return redirect("scoring-settings")


def _rule_form_page(request, form: FitRuleForm, rule: FitRule | None) -> HttpResponse:
    status = 400 if form.errors else 200
    return render(
        request, "scoring/fit_rule_form.html", {"form": form, "rule": rule}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def fit_rule_create(request: HttpRequest) -> HttpResponse:
    _ensure_can_configure(request.user)
    form = FitRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.fit_rule_create(actor=request.user, **form.values())
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("Rule “%(name)s” added.") % {"name": rule.name})
            return redirect("scoring-settings")
    return _rule_form_page(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def fit_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_can_configure(request.user)
    rule = get_object_or_404(FitRule, pk=pk)
    form = FitRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        try:
            services.fit_rule_update(actor=request.user, rule=rule, **form.values())
        except ValidationError as exc:
            rule.refresh_from_db()
            attach_errors(form, exc)
        else:
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
            return redirect("scoring-settings")
    return _rule_form_page(request, form, rule)


@login_required
@require_POST
def fit_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_can_configure(request.user)
    rule = get_object_or_404(FitRule, pk=pk)
    services.fit_rule_delete(actor=request.user, rule=rule)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("scoring-settings")
