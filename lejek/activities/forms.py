"""Forms of the timeline composer and the task pages. Each composer tab has its own prefix,
so the five forms can share one page without clashing ids."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lejek.activities.models import Activity
from lejek.core.widgets import DateInput, DateTimeInput
from lejek.users.models import Role, User

ACTIVITY_TABS = (Activity.Kind.NOTE, Activity.Kind.CALL, Activity.Kind.MEETING)


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's field → messages errors next to the matching inputs."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, messages in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)


def assignable_users(actor):
    """People the actor may hand a task to: anyone for admins, their teams otherwise."""
    users = User.objects.filter(is_active=True)
    if actor.role != Role.ADMIN:
        users = users.filter(Q(pk=actor.pk) | Q(teams__in=actor.team_ids)).distinct()
    return users.order_by("first_name", "last_name", "email")


class ActivityForm(forms.Form):
    subject_line = forms.CharField(label=_("Subject"), max_length=200, required=False)
    body = forms.CharField(
        label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=DateTimeInput(),
        help_text=_("Leave empty for now."),
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), required=False, min_value=0, max_value=24 * 60
    )

    def __init__(self, *args, kind: str, **kwargs):
        kwargs.setdefault("prefix", kind)
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind == Activity.Kind.NOTE:
            # A note is its text; the other fields describe calls and meetings.
            for name in ("subject_line", "occurred_at", "duration_minutes"):
                del self.fields[name]
            self.fields["body"].label = _("Note")
            self.fields["body"].required = True

    def service_values(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    due_date = forms.DateField(label=_("Due"), required=False, widget=DateInput())
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), required=False, empty_label=None
    )

    def __init__(self, *args, actor, **kwargs):
        kwargs.setdefault("prefix", "task")
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_users(actor)
        self.fields["assignee"].initial = actor.pk

    def service_values(self) -> dict:
        values = dict(self.cleaned_data)
        if values.get("due_date") is None:
            values.pop("due_date", None)
        return values


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Mention a colleague with @ and the first part of their e-mail, e.g. @anna. "
            "Only people who can see this record are notified."
        ),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "comment")
        super().__init__(*args, **kwargs)


class TaskEditForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    due_date = forms.DateField(label=_("Due"), required=False, widget=DateInput())
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(widget=forms.HiddenInput())
