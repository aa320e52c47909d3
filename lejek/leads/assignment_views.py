"""Settings → Lead assignment: the ordered rules, each team's strategy, who takes leads,
a dry run on a lead, and the reassign page for a single lead.

Admins and managers (for their teams) change rules and teams; reps see the page only to mark
themselves available or not.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lejek.contacts.forms import attach_errors
from lejek.leads import assignment, scores
from lejek.leads.assignment_forms import (
    AvailabilityForm,
    ReassignForm,
    RuleForm,
    TeamAssignmentForm,
    TryLeadForm,
)
from lejek.leads.models import AssignmentRule, Lead
from lejek.users.models import Role, Team, User


def _ensure_manager(user) -> None:
    if user.role not in (Role.ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only managers and admins set up lead assignment."))


def _ensure_page(user) -> None:
    if user.role == Role.MARKETING:
        raise PermissionDenied(_("Lead assignment is set up by managers and admins."))


def _rules_for_page(user) -> list[AssignmentRule]:
    labels = assignment.custom_field_keys()
    rules = list(AssignmentRule.objects.select_related("team").order_by("position", "id"))
    for rule in rules:
        rule.words = [assignment.describe_condition(c, labels) for c in rule.conditions or []]
        rule.can_edit = assignment.can_manage_team(user, rule.team)
    return rules


def _teams_for_page(user) -> list[Team]:
    teams = list(assignment.manageable_teams(user).prefetch_related("members"))
    for team in teams:
        team.people = [
            person
            for person in team.members.all()
            if person.is_active and person.role in (Role.REP, Role.MANAGER)
        ]
        team.form = TeamAssignmentForm(
            initial={
                "assignment_strategy": team.assignment_strategy,
                "is_default_pool": team.is_default_pool,
            },
            prefix=f"team{team.pk}",
        )
    return teams


@login_required
@require_GET
def assignment_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    _ensure_page(user)
    can_manage = user.role in (Role.ADMIN, Role.MANAGER)
    context = {
        "can_manage": can_manage,
        "is_admin": user.role == Role.ADMIN,
        "rules": _rules_for_page(user) if can_manage else [],
        "teams": _teams_for_page(user) if can_manage else [],
        "try_form": TryLeadForm(),
    }
    return render(request, "leads/assignment_index.html", context)


def _rule_form_page(request, form, rule=None) -> HttpResponse:
    status = 400 if form.errors else 200
    context = {"form": form, "rule": rule}
    return render(request, "leads/assignment_rule_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def rule_create_view(request: HttpRequest) -> HttpResponse:
    _ensure_manager(request.user)
    form = RuleForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            rule = assignment.rule_create(actor=request.user, **form.values())
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("Rule “%(name)s” added.") % {"name": rule})
            return redirect("assignment")
    return _rule_form_page(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_manager(request.user)
    rule = get_object_or_404(AssignmentRule.objects.select_related("team"), pk=pk)
    if not assignment.can_manage_team(request.user, rule.team):
        raise PermissionDenied(_("Only admins and the team's managers change its assignment."))
    form = RuleForm(request.POST or None, actor=request.user, instance=rule)
    if request.method == "POST" and form.is_valid():
        try:
            assignment.rule_update(actor=request.user, rule=rule, **form.values())
        except ValidationError as exc:
            rule.refresh_from_db()
            attach_errors(form, exc)
        else:
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule})
            return redirect("assignment")
    return _rule_form_page(request, form, rule)


@login_required
@require_http_methods(["GET", "POST"])
def rule_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_manager(request.user)
    rule = get_object_or_404(AssignmentRule.objects.select_related("team"), pk=pk)
    if request.method == "POST":
        assignment.rule_delete(actor=request.user, rule=rule)
        messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule})
        return redirect("assignment")
    if not assignment.can_manage_team(request.user, rule.team):
        raise PermissionDenied(_("Only admins and the team's managers change its assignment."))
    return render(request, "leads/assignment_rule_delete.html", {"rule": rule})


@login_required
@require_POST
def rule_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_manager(request.user)
    rule = get_object_or_404(AssignmentRule.objects.select_related("team"), pk=pk)
    assignment.rule_move(actor=request.user, rule=rule, up=request.POST.get("direction") == "up")
    return redirect("assignment")


@login_required
@require_POST
def team_settings_view(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_manager(request.user)
    team = get_object_or_404(Team, pk=pk)
    form = TeamAssignmentForm(request.POST, prefix=f"team{team.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose how the team shares new leads."))
        return redirect("assignment")
    # Only admins see the default-pool box; for others the flag is left as it is.
    pool = form.cleaned_data["is_default_pool"] if request.user.role == Role.ADMIN else None
    try:
        assignment.team_set_assignment(
            actor=request.user,
            team=team,
            strategy=form.cleaned_data["assignment_strategy"],
            is_default_pool=pool,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Team “%(name)s” saved.") % {"name": team})
    return redirect("assignment")


@login_required
@require_POST
def availability_view(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(User, pk=pk, is_active=True)
    form = AvailabilityForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Capacity must be a number from 0 to 32767."))
        return redirect("assignment")
    try:
        assignment.user_set_availability(
            actor=request.user,
            user=person,
            is_available=form.cleaned_data["is_available"],
            lead_capacity=form.cleaned_data["lead_capacity"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Saved for %(name)s.") % {"name": person})
    return redirect("assignment")


def _dry_run(user, form: TryLeadForm) -> dict | None:
    """Which rule would match and who would get the lead; nothing is written."""
    if not form.is_valid():
        return None
    number = form.cleaned_data.get("lead")
    if number:
        lead = Lead.objects.visible_to(user).select_related("source", "campaign", "owner")
        lead = lead.filter(pk=number).first()
        if lead is None:
            form.add_error("lead", _("There is no lead with this number that you can see."))
            return None
    else:
        lead = form.typed_lead()
    rule, team = assignment.route(lead)
    rep = assignment.preview_rep(team) if (rule is not None and team is not None) else None
    return {
        "lead": lead if lead.pk else None,
        "rule": rule,
        "team": team,
        "rep": rep,
        "scores": scores.scores_of(lead),
    }


@login_required
@require_GET
def try_lead_view(request: HttpRequest) -> HttpResponse:
    _ensure_manager(request.user)
    form = TryLeadForm(request.GET or None)
    result = _dry_run(request.user, form) if request.GET else None
    context = {"try_form": form, "result": result}
    status = 400 if form.errors else 200
    return render(request, "leads/assignment_try.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def reassign_view(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_manager(request.user)
    lead = get_object_or_404(
        Lead.objects.visible_to(request.user).select_related("owner", "team"), pk=pk
    )
    form = ReassignForm(
        request.POST or None,
        actor=request.user,
        initial={"owner": lead.owner_id, "team": lead.team_id},
    )
    if request.method == "POST" and form.is_valid():
        try:
            assignment.lead_reassign(actor=request.user, lead=lead, **form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(
                request, _("Lead handed to %(name)s.") % {"name": form.cleaned_data["owner"]}
            )
            return redirect(lead.get_absolute_url())
    status = 400 if form.errors else 200
    context = {"form": form, "lead": lead}
    return render(request, "leads/assignment_reassign.html", context, status=status)
