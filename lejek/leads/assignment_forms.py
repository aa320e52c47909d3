"""Forms for Settings → Lead assignment. They check input; the services in assignment.py write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from lejek.leads import assignment, scores
from lejek.leads.condition_forms import ConditionRowsMixin
from lejek.leads.models import AssignmentRule, Campaign, Lead, Source
from lejek.users.models import Team
from lejek.users.visibility import assignable_owners, assignable_teams


def field_choices() -> list[tuple[str, str]]:
    choices = [("", "—")] + [(key, label) for key, label in assignment.FIELDS.items()]
    for key, label in assignment.custom_field_keys().items():
        choices.append((assignment.CUSTOM_PREFIX + key, label))
    return choices + list(scores.FIELDS.items())


def _clean_rule_condition(condition: dict) -> dict:
    return assignment.clean_condition(condition, with_scores=True)


class RuleForm(ConditionRowsMixin, forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the rule is for, e.g. “Big companies from Germany”."),
    )
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none())
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, actor, instance: AssignmentRule | None = None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        conditions = list(instance.conditions) if instance else []
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {"name": instance.name, "team": instance.team_id, "is_active": instance.is_active},
            )
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.fields["team"].queryset = assignment.manageable_teams(actor)
        self.add_condition_rows(conditions, field_choices())

    def clean(self):
        cleaned = super().clean()
        cleaned["conditions"] = self.clean_condition_rows(cleaned, _clean_rule_condition)
        return cleaned

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "team": data["team"],
            "conditions": data["conditions"],
            "is_active": data["is_active"],
        }


class TeamAssignmentForm(forms.Form):
    assignment_strategy = forms.ChoiceField(
        label=_("How new leads are shared"), choices=Team.Strategy.choices
    )
    is_default_pool = forms.BooleanField(
        label=_("Default pool"),
        required=False,
        help_text=_("Leads that match no rule wait here."),
    )


class AvailabilityForm(forms.Form):
    is_available = forms.BooleanField(label=_("Takes new leads"), required=False)
    lead_capacity = forms.IntegerField(
        label=_("Capacity"), min_value=0, max_value=32767, required=False
    )


class ReassignForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("New owner"), queryset=None)
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=None,
        required=False,
        empty_label=_("The new owner's team"),
    )

    def __init__(self, *args, actor, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_owners(actor).order_by("first_name", "email")
        self.fields["team"].queryset = assignable_teams(actor)


class TryLeadForm(forms.Form):
    """A lead to try the rules on: an existing one by number, or a few fields typed in."""

    lead = forms.IntegerField(
        label=_("Lead number"),
        required=False,
        min_value=1,
        help_text=_("The number in the lead's address, e.g. 42 in /leads/42/."),
    )
    source = forms.ModelChoiceField(
        label=_("Source"), queryset=Source.objects.order_by("name"), required=False
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"), queryset=Campaign.objects.order_by("name"), required=False
    )
    country = forms.CharField(label=_("Country"), max_length=2, required=False)
    region = forms.CharField(label=_("Region"), max_length=100, required=False)
    company_size = forms.IntegerField(label=_("Company size"), min_value=0, required=False)
    medium = forms.CharField(label=_("Medium"), max_length=100, required=False)
    utm_campaign = forms.CharField(label="utm_campaign", max_length=200, required=False)

    TYPED = ("source", "campaign", "country", "region", "company_size", "medium", "utm_campaign")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def typed_lead(self) -> Lead:
        """An unsaved lead made of the typed fields; nothing is written."""
        values = {name: self.cleaned_data.get(name) for name in self.TYPED}
        values["country"] = (values["country"] or "").upper()
        values = {
            k: ("" if v is None and k not in ("source", "campaign", "company_size") else v)
            for k, v in values.items()
        }
        return Lead(**values)
