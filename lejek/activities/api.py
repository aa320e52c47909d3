"""Activities and tasks over the JSON API. Each belongs to exactly one lead, contact, company
or deal (its subject), which the caller must be able to see."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import AwareDatetime

from lejek.activities.models import SUBJECTS, Activity, Task
from lejek.activities.services import (
    activity_delete,
    activity_log,
    activity_update,
    task_create,
    task_delete,
    task_set_done,
    task_update,
)
from lejek.api.access import References, any_user, resolve_references, visible, visible_or_404
from lejek.api.listing import aware, by_owner, text_search
from lejek.api.pagination import PageParams, orderings, page_schema, paginate
from lejek.api.replies import created, no_content, with_etag
from lejek.api.schemas import VERSION_FIELD, InputSchema, choice, partial, responses
from lejek.api.versions import expected_version
from lejek.contacts.models import Company, Contact
from lejek.leads.models import Lead
from lejek.pipeline.models import Deal

activities_router = Router(tags=["activities and tasks"])
tasks_router = Router(tags=["activities and tasks"])

ActivityKind = choice(Activity.Kind)
ActivityOrdering = orderings("occurred_at", "created_at")
TaskOrdering = orderings("due_date", "created_at", "updated_at")

SUBJECT_REFERENCES: References = {
    "lead": visible(Lead),
    "contact": visible(Contact),
    "company": visible(Company),
    "deal": visible(Deal),
}
SUBJECT_HELP = "Give exactly one of lead, contact, company or deal."


class SubjectIds(InputSchema):
    lead: int | None = Field(None, description=f"A lead id. {SUBJECT_HELP}")
    contact: int | None = Field(None, description=f"A contact id. {SUBJECT_HELP}")
    company: int | None = Field(None, description=f"A company id. {SUBJECT_HELP}")
    deal: int | None = Field(None, description=f"A deal id. {SUBJECT_HELP}")


class SubjectOut(Schema):
    lead: int | None = Field(validation_alias="lead_id")
    contact: int | None = Field(validation_alias="contact_id")
    company: int | None = Field(validation_alias="company_id")
    deal: int | None = Field(validation_alias="deal_id")


def subject_of(user, values: dict[str, Any]):
    """Take the subject id out of `values` and fetch it as `user` sees it."""
    given = {name: values.pop(name) for name in SUBJECTS if values.get(name) is not None}
    for name in SUBJECTS:
        values.pop(name, None)
    if len(given) != 1:
        raise ValidationError(_("Give exactly one of lead, contact, company or deal."))
    name = next(iter(given))
    return resolve_references(user, given, SUBJECT_REFERENCES)[name]


class SubjectFilters(PageParams):
    lead: int | None = Field(None, description="A lead id.")
    contact: int | None = Field(None, description="A contact id.")
    company: int | None = Field(None, description="A company id.")
    deal: int | None = Field(None, description="A deal id.")
    q: str | None = Field(None, max_length=200, description="Text to look for.")


def by_subject(rows, filters: SubjectFilters):
    for name in SUBJECTS:
        value = getattr(filters, name)
        if value is not None:
            rows = rows.filter(**{f"{name}_id": value})
    return rows


class ActivityFields(InputSchema):
    kind: ActivityKind
    subject_line: str = ""
    body: str = ""
    occurred_at: AwareDatetime | None = Field(None, description="With a time zone; default now.")
    duration_minutes: int | None = Field(None, ge=0)


class ActivityIn(ActivityFields, SubjectIds):
    pass


ActivityPatch = partial(ActivityFields, "ActivityPatch")


class ActivityOut(SubjectOut):
    id: int
    kind: ActivityKind
    subject_line: str
    body: str
    occurred_at: datetime.datetime
    duration_minutes: int | None
    author: int | None = Field(validation_alias="author_id")
    created_at: datetime.datetime


class ActivityFilters(SubjectFilters):
    kind: ActivityKind | None = None
    author: str | None = Field(None, pattern=r"^(me|\d+)$", description='A user id or "me".')
    occurred_after: datetime.datetime | None = None
    occurred_before: datetime.datetime | None = None
    ordering: ActivityOrdering = "-occurred_at"


class TaskFields(InputSchema):
    title: str
    notes: str = ""
    due_date: datetime.date | None = None
    assignee: int | None = Field(None, description="A user id; by default you.")


class TaskIn(TaskFields, SubjectIds):
    pass


TaskPatch = partial(
    TaskFields,
    "TaskPatch",
    version=VERSION_FIELD,
    done=(bool | None, Field(None, description="true completes the task, false reopens it.")),
)


class TaskOut(SubjectOut):
    id: int
    title: str
    notes: str
    due_date: datetime.date | None
    assignee: int | None = Field(validation_alias="assignee_id")
    created_by: int | None = Field(validation_alias="created_by_id")
    done: bool = Field(validation_alias="is_done")
    done_at: datetime.datetime | None
    is_overdue: bool
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class TaskFilters(SubjectFilters):
    assignee: str | None = Field(
        None, pattern=r"^(me|none|\d+)$", description='A user id, "me" or "none".'
    )
    done: bool | None = None
    due_after: datetime.date | None = Field(None, description="Due on or after this day.")
    due_before: datetime.date | None = Field(None, description="Due on or before this day.")
    ordering: TaskOrdering = "due_date"


@activities_router.get("", response=responses({200: page_schema(ActivityOut, "ActivityPage")}))
def list_activities(request: HttpRequest, filters: Query[ActivityFilters]):
    """Activities on records you can see."""
    rows = by_subject(Activity.objects.visible_to(request.auth), filters)
    rows = text_search(rows, filters.q, ["subject_line", "body"])
    rows = by_owner(rows, request.auth, filters.author, field="author")
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.occurred_after is not None:
        rows = rows.filter(occurred_at__gte=aware(filters.occurred_after))
    if filters.occurred_before is not None:
        rows = rows.filter(occurred_at__lt=aware(filters.occurred_before))
    return paginate(request, rows, filters, filters.ordering)


@activities_router.post("", response=responses({201: ActivityOut}))
def log_activity(request: HttpRequest, payload: ActivityIn, response: HttpResponse):
    """Log a note, call, meeting or e-mail on a record you may edit."""
    values = payload.model_dump(exclude_unset=True)
    subject = subject_of(request.auth, values)
    if values.get("occurred_at") is None:
        values.pop("occurred_at", None)
    activity = activity_log(actor=request.auth, subject=subject, **values)
    return created(response, activity, "get_activity", activity_id=activity.pk)


@activities_router.get("/{activity_id}", response=responses({200: ActivityOut}))
def get_activity(request: HttpRequest, activity_id: int):
    return visible_or_404(Activity.objects, request.auth, activity_id)


@activities_router.patch("/{activity_id}", response=responses({200: ActivityOut}))
def update_activity(request: HttpRequest, activity_id: int, payload: ActivityPatch):
    """Only the author (or an admin) changes an activity; its subject stays."""
    activity = visible_or_404(Activity.objects, request.auth, activity_id)
    values = payload.model_dump(exclude_unset=True)
    return activity_update(actor=request.auth, activity=activity, values=values)


@activities_router.delete("/{activity_id}", response=responses({204: None}))
def delete_activity(request: HttpRequest, activity_id: int):
    activity = visible_or_404(Activity.objects, request.auth, activity_id)
    activity_delete(actor=request.auth, activity=activity)
    return no_content()


@tasks_router.get("", response=responses({200: page_schema(TaskOut, "TaskPage")}))
def list_tasks(request: HttpRequest, filters: Query[TaskFilters]):
    """Tasks assigned to you or on records you can see."""
    rows = by_subject(Task.objects.visible_to(request.auth), filters)
    rows = text_search(rows, filters.q, ["title", "notes"])
    rows = by_owner(rows, request.auth, filters.assignee, field="assignee")
    if filters.done is not None:
        rows = rows.filter(done_at__isnull=not filters.done)
    if filters.due_after is not None:
        rows = rows.filter(due_date__gte=filters.due_after)
    if filters.due_before is not None:
        rows = rows.filter(due_date__lte=filters.due_before)
    return paginate(request, rows, filters, filters.ordering)


@tasks_router.post("", response=responses({201: TaskOut}))
def create_task(request: HttpRequest, payload: TaskIn, response: HttpResponse):
    values = payload.model_dump(exclude_unset=True)
    subject = subject_of(request.auth, values)
    values = resolve_references(request.auth, values, {"assignee": any_user})
    task = task_create(actor=request.auth, subject=subject, **values)
    return created(response, task, "get_task", task_id=task.pk)


@tasks_router.get("/{task_id}", response=responses({200: TaskOut}))
def get_task(request: HttpRequest, task_id: int, response: HttpResponse):
    return with_etag(response, visible_or_404(Task.objects, request.auth, task_id))


@tasks_router.patch("/{task_id}", response=responses({200: TaskOut}))
def update_task(request: HttpRequest, task_id: int, payload: TaskPatch, response: HttpResponse):
    """Change the fields sent; `done: true/false` completes or reopens the task."""
    task = visible_or_404(Task.objects, request.auth, task_id)
    values = payload.model_dump(exclude_unset=True)
    done = values.pop("done", None)
    version = expected_version(request, values.pop("version", None))
    values = resolve_references(request.auth, values, {"assignee": any_user})
    # Both or neither: a refused edit must not leave the task completed.
    with transaction.atomic():
        if values or version is not None:
            task = task_update(
                actor=request.auth, task=task, values=values, expected_version=version
            )
        if done is not None:
            task = task_set_done(actor=request.auth, task=task, done=done)
    return with_etag(response, task)


@tasks_router.delete("/{task_id}", response=responses({204: None}))
def delete_task(request: HttpRequest, task_id: int):
    task_delete(actor=request.auth, task=visible_or_404(Task.objects, request.auth, task_id))
    return no_content()
