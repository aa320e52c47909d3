"""Forms of the hand-off pages: the report's period and the admins' deadline setting."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lejek.leads.handoff import MAX_HOURS

DEFAULT_DAYS = 30


class PeriodForm(forms.Form):
    """Hand-offs offered from `date_from` to `date_to`, both days included (local time)."""

    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    @classmethod
    def for_query(cls, query) -> PeriodForm:
        data = query.copy()
        if not data.get("date_from") and not data.get("date_to"):
            today = timezone.localdate()
            data["date_from"] = (today - datetime.timedelta(days=DEFAULT_DAYS - 1)).isoformat()
            data["date_to"] = today.isoformat()
        return cls(data)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period comes before its start."))
        return data

    def bounds(self) -> tuple[datetime.datetime | None, datetime.datetime | None]:
        """[start, end) as aware datetimes; None where the period is open."""
        data = self.cleaned_data
        start = _midnight(data["date_from"]) if data.get("date_from") else None
        end = (
            _midnight(data["date_to"] + datetime.timedelta(days=1)) if data.get("date_to") else None
        )
        return start, end


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class HandoffSettingsForm(forms.Form):
    accept_within_hours = forms.IntegerField(
        label=_("Accept within (hours)"),
        min_value=1,
        max_value=MAX_HOURS,
        help_text=_(
            "A marketing-qualified lead that nobody accepted or rejected by then is overdue."
        ),
    )
