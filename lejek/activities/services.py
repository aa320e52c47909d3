"""Every write to activities, tasks and comments."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from lejek.activities.models import SUBJECTS, Activity, Comment, Task
from lejek.core.events import record_event, snapshot
from lejek.core.records import (
    apply_values,
    ensure_editable,
    record_create,
    record_delete,
    record_update,
)
from lejek.users.models import User
from lejek.users.services import notify

ACTIVITY_FIELDS = [
    "kind",
    "subject_line",
    "body",
    "occurred_at",
    "duration_minutes",
    "author",
    *SUBJECTS,
]
TASK_FIELDS = ["title", "notes", "due_date", "assignee", "done_at", *SUBJECTS]
MENTION = re.compile(r"(?<![\w.])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")


def subject_kwargs(subject) -> dict[str, Any]:
    name = subject._meta.model_name
    if name not in SUBJECTS:
        raise ValidationError(
            _("Activities can be attached to leads, contacts, companies or deals.")
        )
    return {name: subject}


def ensure_visible(actor, subject) -> None:
    if not type(subject)._default_manager.visible_to(actor).filter(pk=subject.pk).exists():
        raise PermissionDenied(_("You are not allowed to see this record."))


@transaction.atomic
def activity_log(*, actor, subject, kind: str, **values: Any) -> Activity:
    """Log a note, call, meeting or e-mail on a record the actor may edit."""
    ensure_editable(actor, subject)
    activity = Activity(kind=kind, author=actor, **subject_kwargs(subject))
    apply_values(activity, values)
    return record_create(actor=actor, obj=activity, fields=ACTIVITY_FIELDS, verb="activity.logged")


def ensure_activity_editable(actor, activity: Activity) -> None:
    if activity.author_id != actor.pk and not actor.is_admin:
        raise PermissionDenied(_("Only the author can change an activity."))
    ensure_editable(actor, activity.subject)


@transaction.atomic
def activity_update(*, actor, activity: Activity, values: dict[str, Any]) -> Activity:
    ensure_activity_editable(actor, activity)
    values = {k: v for k, v in values.items() if k not in (*SUBJECTS, "author")}
    before = snapshot(activity, ACTIVITY_FIELDS)
    apply_values(activity, values)
    activity.full_clean()
    activity.save()
    record_event(
        actor=actor,
        verb="activity.updated",
        obj=activity,
        before=before,
        after=snapshot(activity, ACTIVITY_FIELDS),
    )
    return activity


@transaction.atomic
def activity_delete(*, actor, activity: Activity) -> None:
    ensure_activity_editable(actor, activity)
    record_delete(actor=actor, obj=activity, fields=ACTIVITY_FIELDS, verb="activity.deleted")


@transaction.atomic
def task_create(*, actor, subject, title: str, assignee: User | None = None, **values: Any) -> Task:
    ensure_editable(actor, subject)
    task = Task(
        title=title, assignee=assignee or actor, created_by=actor, **subject_kwargs(subject)
    )
    apply_values(task, values)
    record_create(actor=actor, obj=task, fields=TASK_FIELDS, verb="task.created")
    if task.assignee_id != actor.pk:
        with translation.override(task.assignee.language):
            text = _("%(actor)s gave you a task: %(title)s") % {"actor": actor, "title": task.title}
        notify(
            recipient=task.assignee,
            actor=actor,
            kind="task.assigned",
            text=text,
            url=task.subject.get_absolute_url(),
        )
    return task


def ensure_task_editable(actor, task: Task) -> None:
    if task.assignee_id == actor.pk:
        return
    ensure_editable(actor, task.subject)


@transaction.atomic
def task_update(
    *, actor, task: Task, values: dict[str, Any], expected_version: int | None = None
) -> Task:
    ensure_task_editable(actor, task)
    values = {k: v for k, v in values.items() if k not in SUBJECTS}
    return record_update(
        actor=actor,
        obj=task,
        values=values,
        fields=TASK_FIELDS,
        expected_version=expected_version,
        verb="task.updated",
    )


@transaction.atomic
def task_set_done(*, actor, task: Task, done: bool = True) -> Task:
    ensure_task_editable(actor, task)
    if task.is_done == done:
        return task
    return record_update(
        actor=actor,
        obj=task,
        values={"done_at": timezone.now() if done else None},
        fields=TASK_FIELDS,
        expected_version=None,
        verb="task.completed" if done else "task.reopened",
    )


@transaction.atomic
def task_delete(*, actor, task: Task) -> None:
    ensure_task_editable(actor, task)
    record_delete(actor=actor, obj=task, fields=TASK_FIELDS, verb="task.deleted")


def mentioned_users(body: str) -> list[User]:
    """People named as @handle (the part of their e-mail before @) or @full@email."""
    handles = {m.lower() for m in MENTION.findall(body)}
    if not handles:
        return []
    matches = Q()
    for handle in handles:
        matches |= Q(email__iexact=handle) if "@" in handle else Q(email__istartswith=f"{handle}@")
    return list(User.objects.filter(matches, is_active=True))


@transaction.atomic
def comment_add(*, actor, subject, body: str) -> Comment:
    """Comment on any record the actor can see; notify each @mentioned person who can see it too."""
    ensure_visible(actor, subject)
    if not body.strip():
        raise ValidationError({"body": _("Write something first.")})
    comment = Comment(body=body.strip(), author=actor, **subject_kwargs(subject))
    record_create(actor=actor, obj=comment, fields=["body", *SUBJECTS], verb="comment.added")
    model = type(subject)._default_manager
    for user in mentioned_users(body):
        if not model.visible_to(user).filter(pk=subject.pk).exists():
            continue
        comment.mentions.add(user)
        with translation.override(user.language):
            text = _("%(actor)s mentioned you on %(record)s: %(body)s") % {
                "actor": actor,
                "record": subject,
                "body": comment.body[:120],
            }
        notify(
            recipient=user, actor=actor, kind="mention", text=text, url=subject.get_absolute_url()
        )
    return comment
