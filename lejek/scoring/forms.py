"""Forms for Settings → Lead scoring. They check input; lejek.scoring.services writes."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from lejek.leads.condition_forms import ConditionRowsMixin
from lejek.scoring.compute import engagement_rules
from lejek.scoring.models import EngagementKind, FitRule
from lejek.scoring.rules import clean_fit_condition, field_choices


class FitRuleForm(ConditionRowsMixin, forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the rule rewards, e.g. “Manufacturing, 50-500 people”."),
    )
    points = forms.IntegerField(
        label=_("Points"),
        min_value=-100,
        max_value=100,
        help_text=_("Added to the score when all conditions hold; negative points subtract."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, instance: FitRule | None = None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        conditions = list(instance.conditions) if instance else []
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {"name": instance.name, "points": instance.points, "is_active": instance.is_active},
            )
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.add_condition_rows(conditions, field_choices())

    def clean(self):
        cleaned = super().clean()
        cleaned["conditions"] = self.clean_condition_rows(cleaned, clean_fit_condition)
        return cleaned

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "points": data["points"],
            "conditions": data["conditions"],
            "is_active": data["is_active"],
        }


class ScoringSettingsForm(forms.Form):
    mql_threshold = forms.IntegerField(
        label=_("MQL threshold"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_(
            "A new or contacted lead whose score reaches this becomes marketing-qualified. "
            "Leave empty to qualify leads only by hand."
        ),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class EngagementRulesForm(forms.Form):
    """Points and half-life for every kind of engagement, one row per kind."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        current = engagement_rules()
        for kind, label in EngagementKind.choices:
            rule = current.get(kind)
            self.fields[f"{kind}-points"] = forms.IntegerField(
                label=_("Points for: %(kind)s") % {"kind": label},
                min_value=-100,
                max_value=100,
                initial=rule.points if rule else 0,
            )
            self.fields[f"{kind}-half_life"] = forms.FloatField(
                label=_("Half-life in days for: %(kind)s") % {"kind": label},
                min_value=0.1,
                max_value=3650,
                initial=rule.half_life_days if rule else 30,
            )

    def rows(self) -> list[tuple]:
        return [
            (label, self[f"{kind}-points"], self[f"{kind}-half_life"])
            for kind, label in EngagementKind.choices
        ]

    def values(self) -> dict[str, tuple[int, float]]:
        data = self.cleaned_data
        return {
            kind: (data[f"{kind}-points"], data[f"{kind}-half_life"])
            for kind in EngagementKind.values
        }
