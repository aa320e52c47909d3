"""One record's history, newest first: activities, comments, tasks, stage moves, field changes."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from lejek.activities.models import Activity, Comment, Task
from lejek.core.events import events_for

KINDS = ("activity", "comment", "task", "stage", "change")


@dataclass(frozen=True)
class Entry:
    kind: str  # one of KINDS
    at: datetime.datetime
    actor: Any
    item: Any


def timeline_for(subject, *, kinds: set[str] | None = None, limit: int = 100) -> list[Entry]:
    kinds = set(kinds or KINDS)
    entries: list[Entry] = []
    if "activity" in kinds:
        for a in Activity.objects.about(subject).select_related("author", "sent_email")[:limit]:
            entries.append(Entry("activity", a.occurred_at, a.author, a))
    if "comment" in kinds:
        for c in Comment.objects.about(subject).select_related("author")[:limit]:
            entries.append(Entry("comment", c.created_at, c.author, c))
    if "task" in kinds:
        for t in (
            Task.objects.about(subject)
            .select_related("assignee", "created_by")
            .order_by("-created_at")[:limit]
        ):
            entries.append(Entry("task", t.created_at, t.created_by, t))
    if "stage" in kinds and subject._meta.model_name == "deal":
        changes = subject.stage_changes.select_related("from_stage", "to_stage", "actor").order_by(
            "-changed_at"
        )
        for s in changes[:limit]:
            entries.append(Entry("stage", s.changed_at, s.actor, s))
    if "change" in kinds:
        name = subject._meta.model_name
        verbs = {f"{name}.updated", f"{name}.created", f"{name}.assigned"}
        for e in events_for(subject).filter(verb__in=verbs)[:limit]:
            entries.append(Entry("change", e.created_at, e.actor, e))
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]
