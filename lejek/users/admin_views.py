"""Settings → Users and teams: the admin's pages for people, their roles, teams and access."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lejek.users.admin_forms import SetPasswordForm, TeamForm, UserCreateForm, UserEditForm
from lejek.users.models import Role, Team, User
from lejek.users.services import (
    team_create,
    team_rename,
    team_set_members,
    user_create,
    user_set_active,
    user_set_password,
    user_update,
)


def _require_admin(user) -> None:
    if user.role != Role.ADMIN:
        raise PermissionDenied(_("Only admins can open this page."))


def _put_errors(form: forms.Form, exc: ValidationError, *, aliases: dict | None = None) -> None:
    """A service's refusal, next to the fields it names (`aliases` maps model to form names)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    aliases = aliases or {}
    for name, errors in exc.message_dict.items():
        name = aliases.get(name, name)
        form.add_error(name if name in form.fields else None, errors)


def _render_form(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    status = 400 if context["form"].errors else 200
    return render(request, template, context, status=status)


# People -------------------------------------------------------------------------------------


@login_required
@require_GET
def users_and_teams(request: HttpRequest) -> HttpResponse:
    _require_admin(request.user)
    users = User.objects.prefetch_related("teams").order_by(
        "-is_active", "first_name", "last_name", "email"
    )
    teams = Team.objects.prefetch_related("members").order_by("name")
    context = {"users": users, "teams": teams}
    return render(request, "users/admin_users.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def user_create_view(request: HttpRequest) -> HttpResponse:
    _require_admin(request.user)
    initial = {"role": Role.REP, "language": settings.LANGUAGE_CODE}
    form = UserCreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            person = user_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            # The username is the e-mail, so a clash on either is the e-mail's.
            _put_errors(form, exc, aliases={"username": "email"})
        else:
            if person.has_usable_password():
                text = _("%(name)s can sign in now.")
            else:
                text = _("%(name)s is added. Set a password when they are ready to sign in.")
            messages.success(request, text % {"name": person})
            return redirect("settings-users")
    return _render_form(request, "users/admin_user_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request.user)
    person = get_object_or_404(User.objects.prefetch_related("teams"), pk=pk)
    form = UserEditForm(request.POST or None, initial=UserEditForm.initial_for(person))
    if request.method == "POST" and form.is_valid():
        try:
            user_update(actor=request.user, user=person, **form.cleaned_data)
        except ValidationError as exc:
            person.refresh_from_db()  # the heading shows what is saved, not the refused input
            _put_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": person})
            return redirect("settings-users")
    context = {"form": form, "person": person, "is_self": person.pk == request.user.pk}
    return _render_form(request, "users/admin_user_form.html", context)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request.user)
    person = get_object_or_404(User, pk=pk)
    form = SetPasswordForm(request.POST or None, user=person)
    if request.method == "POST" and form.is_valid():
        try:
            user_set_password(
                actor=request.user, user=person, password=form.cleaned_data["password"]
            )
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            if person.pk == request.user.pk:
                # A new password ends the other sessions; this one carries on.
                update_session_auth_hash(request, person)
            messages.success(request, _("%(name)s has a new password.") % {"name": person})
            return redirect("settings-user-edit", pk=person.pk)
    context = {"form": form, "person": person}
    return _render_form(request, "users/admin_user_password.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def user_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deactivates."""
    _require_admin(request.user)
    person = get_object_or_404(User, pk=pk)
    if request.method == "POST":
        try:
            user_set_active(actor=request.user, user=person, active=False)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("%(name)s can no longer sign in.") % {"name": person})
        return redirect("settings-users")
    context = {"person": person, "is_self": person.pk == request.user.pk}
    return render(request, "users/admin_user_deactivate.html", context)


@login_required
@require_POST
def user_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request.user)
    person = get_object_or_404(User, pk=pk)
    user_set_active(actor=request.user, user=person, active=True)
    messages.success(request, _("%(name)s can sign in again.") % {"name": person})
    return redirect("settings-users")


# Teams --------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def team_create_view(request: HttpRequest) -> HttpResponse:
    _require_admin(request.user)
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                team = team_create(actor=request.user, name=form.cleaned_data["name"])
                team_set_members(
                    actor=request.user, team=team, members=form.cleaned_data["members"]
                )
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Team “%(name)s” created.") % {"name": team})
            return redirect("settings-users")
    return _render_form(request, "users/admin_team_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request.user)
    team = get_object_or_404(Team, pk=pk)
    initial = {"name": team.name, "members": list(team.members.values_list("pk", flat=True))}
    form = TeamForm(request.POST or None, initial=initial, team=team)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                team_rename(actor=request.user, team=team, name=form.cleaned_data["name"])
                team_set_members(
                    actor=request.user, team=team, members=form.cleaned_data["members"]
                )
        except ValidationError as exc:
            team.refresh_from_db()
            _put_errors(form, exc)
        else:
            messages.success(request, _("Team “%(name)s” saved.") % {"name": team})
            return redirect("settings-users")
    return _render_form(request, "users/admin_team_form.html", {"form": form, "team": team})
