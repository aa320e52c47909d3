"""Forms for lead sources and campaigns. They check input; the services write.

The database refuses a negative cost, an end before the start and a repeated name too, but
as a crash: these forms say it next to the field first.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lejek.core.fields import CURRENCIES
from lejek.core.widgets import DateInput
from lejek.leads.models import Campaign, Source

CENTS = Decimal("0.01")


def _name_taken(model: type[Model], name: str, instance: Model | None) -> bool:
    """Names are unique; "Webinar" and "webinar" would be the same thing in every report."""
    others = model._default_manager.filter(name__iexact=name)
    if instance is not None:
        others = others.exclude(pk=instance.pk)
    return others.exists()


class CostField(forms.DecimalField):
    """An amount typed the local way: "12 500,50" in Polish; spaces between thousands go."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal(0))
        super().__init__(localize=True, **kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"[\s\u00a0\u202f]", "", value)
        return super().to_python(value)


class SourceForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("As your team says it, e.g. “Website contact form” or “Targi Poznań”."),
    )
    kind = forms.ChoiceField(label=_("Channel"), choices=Source.Kind.choices)

    def __init__(self, *args, instance: Source | None = None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        if instance is not None:
            kwargs.setdefault("initial", {"name": instance.name, "kind": instance.kind})
        super().__init__(*args, **kwargs)
        self.instance = instance

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if _name_taken(Source, name, self.instance):
            raise ValidationError(gettext("There is already a source with this name."))
        return name


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    source = forms.ModelChoiceField(
        label=_("Source"),
        queryset=Source.objects.order_by("name"),
        required=False,
        empty_label="—",
        help_text=_("Leads that come with this campaign get this source too."),
    )
    channel = forms.CharField(
        label=_("Channel"),
        max_length=50,
        required=False,
        help_text=_("Where it runs, e.g. LinkedIn Ads, newsletter, trade fair."),
    )
    starts_on = forms.DateField(label=_("Starts"), required=False, widget=DateInput())
    ends_on = forms.DateField(label=_("Ends"), required=False, widget=DateInput())
    cost = CostField(
        label=_("Cost"),
        required=False,
        help_text=_("What the campaign costs in total; leave empty if nothing yet."),
        error_messages={"min_value": _("The cost cannot be negative.")},
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCIES)

    FIELDS = ("name", "source", "channel", "starts_on", "ends_on", "cost", "currency")

    def __init__(self, *args, instance: Campaign | None = None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        initial = {"currency": getattr(settings, "LEJEK_CURRENCY", "PLN")}
        if instance is not None:
            initial = {name: getattr(instance, name) for name in self.FIELDS}
            initial["source"] = instance.source_id
        kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        self.instance = instance

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if _name_taken(Campaign, name, self.instance):
            raise ValidationError(gettext("There is already a campaign with this name."))
        return name

    def clean_cost(self) -> Decimal:
        # Stored with two places anyway; the event log then reads "750.00" as the column does.
        cost = self.cleaned_data["cost"]
        return (cost or Decimal(0)).quantize(CENTS)

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", gettext("The campaign cannot end before it starts."))
        return cleaned

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS}
