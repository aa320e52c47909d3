"""Saved views of the record lists: a name for a list's filters, search and sort.

A view stores the list's path and query string; opening it is following a link. People keep
their own views; managers and admins may share a view with everyone.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lejek.core.events import record_event
from lejek.core.models import SavedView
from lejek.users.models import Role

# The list pages a view can be saved for (URL names).
LIST_PAGES = {"lead-list", "contact-list", "company-list", "deal-list", "customer-list"}
# Parameters that describe where one is in a list, not what the list shows.
NOT_SAVED = {"page"}


def is_list_page(path: str) -> bool:
    try:
        return resolve(path).url_name in LIST_PAGES
    except Resolver404:
        return False


def clean_query(query: str) -> str:
    params = QueryDict(query, mutable=True)
    for name in NOT_SAVED:
        params.pop(name, None)
    for name in [name for name, values in params.lists() if not any(values)]:
        params.pop(name)
    return params.urlencode()


def views_for(user, path: str) -> QuerySet[SavedView]:
    """The views of a list the user may open: their own and the shared ones."""
    return SavedView.objects.filter(Q(owner=user) | Q(shared=True), path=path)


@transaction.atomic
def saved_view_create(
    *, actor, path: str, name: str, query: str, shared: bool = False
) -> SavedView:
    name = (name or "").strip()
    if not is_list_page(path):
        raise ValidationError({"path": _("Views can be saved for record lists only.")})
    if not name:
        raise ValidationError({"name": _("Give the view a name.")})
    if shared and actor.role not in (Role.ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only managers and admins share views with everyone."))
    view = SavedView(owner=actor, path=path, name=name, query=clean_query(query), shared=shared)
    view.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            view.save()
    except IntegrityError as exc:
        raise ValidationError({"name": _("You already have a view with this name here.")}) from exc
    record_event(
        actor=actor,
        verb="saved_view.created",
        obj=view,
        after={"path": path, "name": name, "query": view.query, "shared": shared},
    )
    return view


@transaction.atomic
def saved_view_delete(*, actor, view: SavedView) -> None:
    if view.owner_id != actor.pk and actor.role != Role.ADMIN:
        raise PermissionDenied(_("Only the person who saved a view, or an admin, removes it."))
    record_event(
        actor=actor,
        verb="saved_view.deleted",
        obj=view,
        before={"path": view.path, "name": view.name, "query": view.query},
    )
    view.delete()


def _back(request: HttpRequest, path: str, query: str = "") -> HttpResponse:
    target = f"{path}?{query}" if query else path
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


@login_required
@require_POST
def save_view(request: HttpRequest) -> HttpResponse:
    path = request.POST.get("path", "")
    query = request.POST.get("query", "")[:2000]
    try:
        view = saved_view_create(
            actor=request.user,
            path=path,
            name=request.POST.get("name", "")[:80],
            query=query,
            shared=request.POST.get("shared") == "on",
        )
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
        return _back(request, path if is_list_page(path) else "/", query)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return _back(request, view.path, view.query)


@login_required
@require_POST
def delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    view = get_object_or_404(
        SavedView.objects.filter(Q(owner=request.user) | Q(shared=True)), pk=pk
    )
    saved_view_delete(actor=request.user, view=view)
    messages.success(request, _("View “%(name)s” removed.") % {"name": view.name})
    return _back(request, view.path)
