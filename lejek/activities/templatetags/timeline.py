"""The record timeline as people read it: `{% load timeline %}{% timeline_panel object %}`.

The same context feeds the inclusion tag on record pages and the htmx partials the timeline
views return, so both always show the same thing.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import prefetch_related_objects
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lejek.activities.forms import ACTIVITY_TABS, ActivityForm, CommentForm, TaskForm
from lejek.activities.models import Activity, Comment, Task
from lejek.activities.services import MENTION
from lejek.activities.timeline import KINDS, Entry, timeline_for
from lejek.core.models import CustomField
from lejek.core.money import format_money
from lejek.users.models import User

register = template.Library()

LIMIT = 100
ICONS = {  # names in lejek/core/static/core/icons.svg
    "note": "note",
    "call": "call",
    "meeting": "meeting",
    "email": "email",
    "comment": "comment",
    "task": "task",
    "stage": "stage",
    "change": "change",
    "created": "created",
}
# (value of ?timeline=, label, only for these record kinds)
FILTERS = (
    ("", gettext_lazy("All"), None),
    ("note", gettext_lazy("Notes"), None),
    ("call", gettext_lazy("Calls"), None),
    ("meeting", gettext_lazy("Meetings"), None),
    ("email", gettext_lazy("E-mails"), None),
    ("task", gettext_lazy("Tasks"), None),
    ("comment", gettext_lazy("Comments"), None),
    ("stage", gettext_lazy("Stage changes"), {"deal"}),
    ("change", gettext_lazy("Field changes"), None),
)
TAB_LABELS = {
    "note": (gettext_lazy("Note"), gettext_lazy("Save note")),
    "call": (gettext_lazy("Call"), gettext_lazy("Log call")),
    "meeting": (gettext_lazy("Meeting"), gettext_lazy("Log meeting")),
    "task": (gettext_lazy("Task"), gettext_lazy("Add task")),
    "comment": (gettext_lazy("Comment"), gettext_lazy("Post comment")),
}


@dataclass
class Row:
    """One timeline entry with what the template needs to show it."""

    kind: str
    at: datetime.datetime
    actor: Any
    item: Any
    icon: str
    label: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    created: bool = False
    note: str = ""
    can_toggle: bool = False

    @property
    def dom_id(self) -> str:
        return f"tl-{self.kind}-{self.item.pk}"


def subject_kind(subject) -> str:
    return subject._meta.model_name


def can_edit(user, subject) -> bool:
    return type(subject)._default_manager.editable_by(user).filter(pk=subject.pk).exists()


def filter_choices(subject) -> list[tuple[str, str]]:
    kind = subject_kind(subject)
    return [(value, label) for value, label, only in FILTERS if only is None or kind in only]


def timeline_entries(subject, chosen: str) -> list[Entry]:
    """Entries for the chosen filter: a type of activity, or one of the timeline's kinds."""
    if chosen in {str(k) for k in Activity.Kind.values}:
        activities = Activity.objects.about(subject).filter(kind=chosen)
        rows = activities.select_related("author", "sent_email")[:LIMIT]
        return [Entry("activity", a.occurred_at, a.author, a) for a in rows]
    kinds = {chosen} if chosen in KINDS else None
    return timeline_for(subject, kinds=kinds, limit=LIMIT)


# Field changes ---------------------------------------------------------------------------


def _empty(value) -> bool:
    return value is None or value == "" or value == {} or value == []


def _model_field(model, name: str):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _related_names(model, events) -> dict[tuple[str, Any], str]:
    """Names of every record a foreign key in these events points at, one query per model."""
    wanted: dict[type[models.Model], set] = {}
    by_field: dict[str, type[models.Model]] = {}
    for event in events:
        for name, old, new in event.changes:
            f = _model_field(model, name)
            if f is None or not f.many_to_one:
                continue
            by_field[name] = f.related_model
            wanted.setdefault(f.related_model, set()).update(v for v in (old, new) if not _empty(v))
    found = {
        related: related._default_manager.in_bulk(ids) for related, ids in wanted.items() if ids
    }
    names = {}
    for name, related in by_field.items():
        for pk, obj in found.get(related, {}).items():
            names[(name, pk)] = str(obj)
    return names


def _shown(subject, f, name: str, value, names: dict) -> str:
    if _empty(value):
        return "—"
    if f is None:
        return str(value)
    if f.many_to_one:
        return names.get((name, value), _("deleted record #%(id)s") % {"id": value})
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(f, models.BooleanField):
        return _("yes") if value else _("no")
    try:
        if isinstance(f, models.DateTimeField):
            moment = timezone.localtime(datetime.datetime.fromisoformat(value))
            return formats.date_format(moment, "DATETIME_FORMAT")
        if isinstance(f, models.DateField):
            return formats.date_format(datetime.date.fromisoformat(value), "DATE_FORMAT")
    except (TypeError, ValueError):
        return str(value)
    if isinstance(f, models.DecimalField) and name == "amount" and hasattr(subject, "currency"):
        return format_money(value, subject.currency, translation.get_language() or "pl")
    return str(value)


def _custom_value(value) -> str:
    if _empty(value):
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def _custom_changes(old: dict, new: dict, labels: dict[str, str]) -> list[tuple[str, str, str]]:
    old, new = old or {}, new or {}
    return [
        (labels.get(key, key), _custom_value(old.get(key)), _custom_value(new.get(key)))
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]


def describe_changes(subject, events) -> dict[int, list[tuple[str, str, str]]]:
    """event id → [(readable field label, old value, new value)]."""
    model = type(subject)
    names = _related_names(model, events)
    labels: dict[str, str] | None = None
    described = {}
    for event in events:
        lines = []
        for name, old, new in event.changes:
            if name == "custom":
                if labels is None:
                    labels = dict(
                        CustomField.objects.filter(entity=subject_kind(subject)).values_list(
                            "key", "label"
                        )
                    )
                lines.extend(_custom_changes(old, new, labels))
                continue
            f = _model_field(model, name)
            if f is None and event.verb.endswith(".assigned"):
                continue  # the rule and reason are shown as the entry's note
            label = capfirst(str(f.verbose_name)) if f is not None else name
            lines.append(
                (label, _shown(subject, f, name, old, names), _shown(subject, f, name, new, names))
            )
        described[event.pk] = lines
    return described


# Rows ------------------------------------------------------------------------------------


def build_rows(user, subject, entries: list[Entry], *, editable: bool) -> list[Row]:
    comments = [e.item for e in entries if e.kind == "comment"]
    prefetch_related_objects(comments, "mentions")
    change_events = [
        e.item
        for e in entries
        if e.kind == "change" and e.item.verb.endswith((".updated", ".assigned"))
    ]
    changes = describe_changes(subject, change_events)
    rows = []
    for entry in entries:
        row = Row(entry.kind, entry.at, entry.actor, entry.item, "", "")
        match entry.kind:
            case "activity":
                row.icon = ICONS.get(entry.item.kind, "note")
                row.label = entry.item.get_kind_display()
            case "comment":
                row.icon, row.label = ICONS["comment"], _("Comment")
            case "task":
                row.icon, row.label = ICONS["task"], _("Task")
                row.can_toggle = editable or entry.item.assignee_id == user.pk
            case "stage":
                row.icon, row.label = ICONS["stage"], _("Stage")
            case "change":
                row.created = entry.item.verb.endswith(".created")
                row.icon = ICONS["created" if row.created else "change"]
                row.label = _("Created") if row.created else _("Changed")
                row.changes = changes.get(entry.item.pk, [])
                if entry.item.verb.endswith(".assigned"):
                    row.label = _("Assigned")
                    row.note = entry.item.after.get("reason", "")
                if not row.created and not row.changes:
                    continue
        rows.append(row)
    return rows


def task_row(user, task: Task) -> Row:
    """The timeline entry of one task, after it was ticked off or reopened."""
    editable = task.assignee_id == user.pk or can_edit(user, task.subject)
    entry = Entry("task", task.created_at, task.created_by, task)
    return build_rows(user, task.subject, [entry], editable=editable)[0]


# The panel -------------------------------------------------------------------------------


def composer_tabs(user, subject, editable: bool, bound: dict | None) -> list[dict[str, Any]]:
    """One tab per thing the user may add here; logging needs edit rights, commenting not."""
    kind, pk = subject_kind(subject), subject.pk
    forms: dict[str, Any] = {}
    if editable:
        for activity_kind in ACTIVITY_TABS:
            forms[str(activity_kind)] = ActivityForm(kind=activity_kind)
        forms["task"] = TaskForm(actor=user)
    forms["comment"] = CommentForm()
    forms.update({name: form for name, form in (bound or {}).items() if name in forms})
    urls = {
        "task": reverse("timeline-task", args=[kind, pk]),
        "comment": reverse("timeline-comment", args=[kind, pk]),
    }
    activity_url = reverse("timeline-activity", args=[kind, pk])
    return [
        {
            "name": name,
            "label": TAB_LABELS[name][0],
            "submit": TAB_LABELS[name][1],
            "form": form,
            "url": urls.get(name, activity_url),
            "is_activity": name not in urls,
        }
        for name, form in forms.items()
    ]


def mention_handles(user) -> list[str]:
    if not user.team_ids:
        return []
    colleagues = (
        User.objects.filter(is_active=True, teams__in=user.team_ids)
        .exclude(pk=user.pk)
        .distinct()
        .order_by("email")
    )
    return [u.mention_handle for u in colleagues[:12]]


def filter_links(request, subject, chosen: str) -> list[dict[str, Any]]:
    base = subject.get_absolute_url()
    partial = reverse("timeline", args=[subject_kind(subject), subject.pk])
    links = []
    for value, label in filter_choices(subject):
        params = request.GET.copy()
        params.pop("timeline", None)
        if value:
            params["timeline"] = value
        query = params.urlencode()
        links.append(
            {
                "value": value,
                "label": label,
                "current": value == chosen,
                "href": f"{base}{'?' + query if query else ''}#timeline",
                "hx_get": f"{partial}?timeline={value}" if value else partial,
                "push": f"{base}{'?' + query if query else ''}",
            }
        )
    return links


def entries_context(request, subject, *, editable: bool | None = None) -> dict[str, Any]:
    user = request.user
    if editable is None:
        editable = can_edit(user, subject)
    chosen = request.GET.get("timeline", "")
    valid = {value for value, _label in filter_choices(subject)}
    if chosen not in valid:
        chosen = ""
    entries = timeline_entries(subject, chosen)
    return {
        "request": request,
        "user": user,
        "subject": subject,
        "subject_kind": subject_kind(subject),
        "rows": build_rows(user, subject, entries, editable=editable),
        "chosen": chosen,
        "filters": filter_links(request, subject, chosen),
        "limit": LIMIT,
    }


def panel_context(
    request,
    subject,
    *,
    bound: dict | None = None,
    active_tab: str | None = None,
    status: str = "",
) -> dict[str, Any]:
    user = request.user
    editable = can_edit(user, subject)
    tabs = composer_tabs(user, subject, editable, bound)
    if active_tab not in {tab["name"] for tab in tabs}:
        active_tab = tabs[0]["name"]
    context = entries_context(request, subject, editable=editable)
    context.update(
        {
            "editable": editable,
            "tabs": tabs,
            "active_tab": active_tab,
            "mention_handles": mention_handles(user),
            "status": status,
        }
    )
    return context


@register.inclusion_tag("activities/timeline_panel.html", takes_context=True)
def timeline_panel(context, subject):
    """The composer and the unified timeline of one record: `{% timeline_panel lead %}`."""
    return panel_context(context["request"], subject)


@register.filter
def mentions(comment: Comment) -> SafeString:
    """The comment's text with the people it notified highlighted."""
    handles = set()
    for person in comment.mentions.all():
        handles.update({person.email.lower(), person.mention_handle.lower()})
    body = str(comment.body)

    def highlight(match: re.Match) -> str:
        text = escape(match.group(0))
        if match.group(1).lower() in handles:
            return f'<mark class="mention">{text}</mark>'
        return text

    out, last = [], 0
    for match in MENTION.finditer(body):
        out.append(escape(body[last : match.start()]))
        out.append(highlight(match))
        last = match.end()
    out.append(escape(body[last:]))
    # Every piece above went through escape(), so the joined text is safe.
    return mark_safe("".join(out))
