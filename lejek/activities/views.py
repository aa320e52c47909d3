"""The record timeline's composer and filters, and the tasks page.

Every write answers an htmx request with the part of the page it changed, and a plain form
post with a redirect back to where the person was, so everything works without JavaScript.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from lejek.activities.forms import (
    ACTIVITY_TABS,
    ActivityForm,
    CommentForm,
    TaskEditForm,
    TaskForm,
    apply_service_errors,
    assignable_users,
)
from lejek.activities.models import SUBJECTS, Task
from lejek.activities.services import (
    activity_log,
    comment_add,
    ensure_task_editable,
    task_create,
    task_set_done,
    task_update,
)
from lejek.activities.templatetags.timeline import entries_context, panel_context, task_row
from lejek.contacts.models import Company, Contact
from lejek.core.errors import ConflictError
from lejek.leads.models import Lead
from lejek.pipeline.models import Deal
from lejek.users.models import Role

SUBJECT_MODELS = {"lead": Lead, "contact": Contact, "company": Company, "deal": Deal}
PANEL = "activities/timeline_panel.html#panel"
DONE_RECENTLY = datetime.timedelta(days=7)


def get_subject(request: HttpRequest, kind: str, pk: int):
    """The record a timeline belongs to, if the user may see it (404 otherwise)."""
    model = SUBJECT_MODELS.get(kind)
    if model is None:
        raise Http404
    return get_object_or_404(model.objects.visible_to(request.user), pk=pk)


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# Timeline ----------------------------------------------------------------------------------


@login_required
@require_GET
def timeline(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The filtered entries for htmx; without it, the record page shows the same filter."""
    subject = get_subject(request, kind, pk)
    if not request.htmx:
        query = request.GET.urlencode()
        return redirect(f"{subject.get_absolute_url()}{'?' + query if query else ''}#timeline")
    return render(
        request, "activities/timeline_panel.html#entries", entries_context(request, subject)
    )


def _composer_saved(request: HttpRequest, subject, *, tab: str, status: str) -> HttpResponse:
    if request.htmx:
        return render(
            request, PANEL, panel_context(request, subject, active_tab=tab, status=status)
        )
    messages.success(request, status)
    return redirect(f"{subject.get_absolute_url()}#timeline")


def _composer_invalid(request: HttpRequest, subject, *, tab: str, form) -> HttpResponse:
    context = panel_context(request, subject, bound={tab: form}, active_tab=tab)
    if request.htmx:
        # htmx swaps only successful responses; the errors are the content to show.
        return render(request, PANEL, context)
    return render(request, "activities/composer_page.html", context, status=400)


@login_required
@require_POST
def activity_create(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    subject = get_subject(request, kind, pk)
    activity_kind = request.POST.get("kind", "")
    if activity_kind not in ACTIVITY_TABS:
        raise Http404
    form = ActivityForm(request.POST, kind=activity_kind)
    if form.is_valid():
        try:
            activity_log(
                actor=request.user,
                subject=subject,
                kind=activity_kind,
                **form.service_values(),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            status = {
                "note": _("Note saved."),
                "call": _("Call logged."),
                "meeting": _("Meeting logged."),
            }[activity_kind]
            return _composer_saved(request, subject, tab=activity_kind, status=status)
    return _composer_invalid(request, subject, tab=activity_kind, form=form)


@login_required
@require_POST
def task_add(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    subject = get_subject(request, kind, pk)
    form = TaskForm(request.POST, actor=request.user)
    if form.is_valid():
        try:
            task_create(actor=request.user, subject=subject, **form.service_values())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _composer_saved(request, subject, tab="task", status=_("Task added."))
    return _composer_invalid(request, subject, tab="task", form=form)


@login_required
@require_POST
def comment_create(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    subject = get_subject(request, kind, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comment_add(actor=request.user, subject=subject, body=form.cleaned_data["body"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _composer_saved(request, subject, tab="comment", status=_("Comment posted."))
    return _composer_invalid(request, subject, tab="comment", form=form)


# Tasks -------------------------------------------------------------------------------------


def visible_tasks(user):
    return Task.objects.visible_to(user).select_related(*SUBJECTS, "assignee", "created_by")


def group_open_tasks(tasks) -> list[dict]:
    today = timezone.localdate()
    groups = {
        "overdue": {"key": "overdue", "label": _("Overdue"), "tasks": []},
        "today": {"key": "today", "label": _("Today"), "tasks": []},
        "upcoming": {"key": "upcoming", "label": _("Upcoming"), "tasks": []},
        "none": {"key": "none", "label": _("No date"), "tasks": []},
    }
    for task in tasks:
        if task.due_date is None:
            key = "none"
        elif task.due_date < today:
            key = "overdue"
        elif task.due_date == today:
            key = "today"
        else:
            key = "upcoming"
        groups[key]["tasks"].append(task)
    return list(groups.values())


def assignee_choices(user):
    """Whose tasks the user may look at: managers their teams', admins everyone's."""
    if user.role in (Role.MANAGER, Role.ADMIN):
        return list(assignable_users(user))
    return []


@login_required
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    people = assignee_choices(user)
    assignee = user
    wanted = request.GET.get("assignee", "")
    if wanted:
        assignee = next((p for p in people if str(p.pk) == wanted), user)
    tasks = visible_tasks(user).filter(assignee=assignee)
    open_tasks = tasks.open().order_by("due_date", "id")[:500]
    done = tasks.filter(done_at__gte=timezone.now() - DONE_RECENTLY).order_by("-done_at")[:20]
    context = {
        "assignee": assignee,
        "people": people,
        "groups": group_open_tasks(open_tasks),
        "done": done,
        "next_url": request.get_full_path(),
    }
    return render(request, "activities/task_list.html", context)


@login_required
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Tick a task off (done=1) or reopen it (done=0)."""
    task = get_object_or_404(visible_tasks(request.user), pk=pk)
    done = request.POST.get("done", "1") != "0"
    task = task_set_done(actor=request.user, task=task, done=done)
    next_url = safe_next(request, "")
    if request.htmx:
        if request.POST.get("render") == "timeline":
            context = {"row": task_row(request.user, task), "subject": task.subject}
            return render(request, "activities/timeline_panel.html#entry", context)
        context = {"task": task, "next_url": next_url}
        return render(request, "activities/task_list.html#task-row", context)
    return redirect(next_url or "task-list")


@login_required
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(visible_tasks(request.user), pk=pk)
    ensure_task_editable(request.user, task)
    initial = {
        "title": task.title,
        "due_date": task.due_date,
        "notes": task.notes,
        "version": task.version,
    }
    form = TaskEditForm(request.POST or None, initial=initial)
    next_url = safe_next(request, "")
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            task_update(
                actor=request.user,
                task=task,
                values=values,
                expected_version=form.cleaned_data["version"],
            )
        except ConflictError as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Task saved."))
            return redirect(next_url or "task-list")
    context = {"task": task, "form": form, "next_url": next_url}
    return render(request, "activities/task_edit.html", context)
