"""Deal forms: create (with pipeline and starting stage), edit, and the stage move."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.utils.formats import get_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lejek.contacts.forms import RecordForm
from lejek.contacts.models import Company, Contact
from lejek.core.widgets import DateInput
from lejek.leads.models import Lead
from lejek.pipeline.gates import gate_choices
from lejek.pipeline.models import Deal, Pipeline, Stage

EDIT_FIELDS = [
    "title",
    "amount",
    "currency",
    "expected_close_date",
    "company",
    "contact",
    "lead",
    "source",
    "owner",
    "team",
]


class AmountField(forms.DecimalField):
    """An amount as people type it: `12 345,50` in Polish, `12,345.50` in English."""

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"[\s\u00a0\u202f]", "", value)
            decimal, thousand = get_format("DECIMAL_SEPARATOR"), get_format("THOUSAND_SEPARATOR")
            # Only drop a grouping mark where it really groups (1,234,567.50), never a
            # separator typed by mistake, which would change the amount a thousandfold.
            grouped = rf"\d{{1,3}}({re.escape(thousand)}\d{{3}})+({re.escape(decimal)}\d*)?"
            if thousand.strip() and thousand != decimal and re.fullmatch(grouped, value):
                value = value.replace(thousand, "")
        return super().to_python(value)


class DealForm(RecordForm):
    """Edit a deal. Pipeline and stage are not here: a stage moves with the stage control."""

    model = Deal
    custom_entity = "deal"
    field_names = EDIT_FIELDS
    localized_fields = ("amount",)
    field_classes = {"amount": AmountField}
    widgets = {"expected_close_date": DateInput()}

    def limit_choices(self) -> None:
        super().limit_choices()
        self.limit("company", Company.objects.visible_to(self.user))
        self.limit("contact", Contact.objects.visible_to(self.user))
        self.limit("lead", Lead.objects.visible_to(self.user))
        if "amount" in self.fields:
            self.fields["amount"].widget.attrs.setdefault("inputmode", "decimal")


def stage_choices_grouped(stages: list[Stage]) -> list:
    """Stages as <optgroup>s per pipeline, so the choice reads without JavaScript."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for stage in stages:
        groups.setdefault(stage.pipeline.name, []).append((stage.pk, stage.name))
    return [("", gettext("First stage of the pipeline")), *groups.items()]


class DealCreateForm(DealForm):
    field_names = ["title", "pipeline", "stage", *EDIT_FIELDS[1:]]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stages = list(Stage.objects.select_related("pipeline").order_by("pipeline", "position"))
        self.fields["stage"].required = False
        self.fields["stage"].choices = stage_choices_grouped(stages)
        self.fields["stage"].help_text = _("Where the deal starts; usually the first stage.")
        self.fields["pipeline"].empty_label = None

    def default_initial(self, user) -> dict:
        initial = super().default_initial(user)
        initial["currency"] = settings.LEJEK_CURRENCY
        default = Pipeline.objects.filter(is_default=True).values_list("pk", flat=True).first()
        if default:
            initial["pipeline"] = default
        return initial

    def clean(self):
        cleaned = super().clean()
        pipeline, stage = cleaned.get("pipeline"), cleaned.get("stage")
        if pipeline and stage and stage.pipeline_id != pipeline.pk:
            self.add_error("stage", gettext("Choose a stage of the “%s” pipeline.") % pipeline)
        return cleaned


class StageMoveForm(forms.Form):
    """The stage control on a deal's page: the target stage, a lost reason when it is lost."""

    stage = forms.ModelChoiceField(queryset=Stage.objects.none(), label=_("Stage"))
    lost_reason = forms.CharField(
        label=_("Why was it lost?"), max_length=200, required=False, strip=True
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, data=None, *, deal: Deal, **kwargs):
        super().__init__(data, auto_id="move-%s", **kwargs)
        self.deal = deal
        self.fields["stage"].queryset = deal.pipeline.stages.order_by("position")
        self.fields["stage"].empty_label = None
        self.initial.setdefault("stage", deal.stage_id)
        self.initial.setdefault("version", deal.version)

    def clean(self):
        cleaned = super().clean()
        stage = cleaned.get("stage")
        # Asked here so the reason is requested next to its field, before the service refuses.
        moving_to_lost = stage is not None and stage.is_lost and stage.pk != self.deal.stage_id
        if moving_to_lost and not cleaned.get("lost_reason"):
            self.add_error("lost_reason", gettext("Say why the deal was lost."))
        return cleaned


# Pipeline settings (admins) -----------------------------------------------------------------


class PipelineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    is_default = forms.BooleanField(
        label=_("Default pipeline"),
        required=False,
        help_text=_("New deals and the board start here."),
    )
    rotting_days = forms.IntegerField(
        label=_("Rotting after (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("A card turns red when its deal sits longer in one stage. Empty: never."),
    )
    after_sales_pipeline = forms.ModelChoiceField(
        label=_("After a win, open a deal in"),
        queryset=Pipeline.objects.all(),
        required=False,
        empty_label=_("— no after-sales deal —"),
        help_text=_("E.g. an onboarding pipeline: the customer's next deal starts there."),
    )
    follow_up_days = forms.IntegerField(
        label=_("After a win, a follow-up task in (days)"),
        required=False,
        min_value=0,
        max_value=365,
        help_text=_("A task for the deal's owner to call the new customer. Empty: none."),
    )

    def __init__(self, data=None, *, pipeline: Pipeline | None = None):
        initial = {"rotting_days": 30}
        if pipeline is not None:
            initial = {
                "name": pipeline.name,
                "is_default": pipeline.is_default,
                "rotting_days": pipeline.rotting_days,
                "after_sales_pipeline": pipeline.after_sales_pipeline_id,
                "follow_up_days": pipeline.follow_up_days,
            }
        super().__init__(data, initial=initial)
        if pipeline is not None:
            others = Pipeline.objects.exclude(pk=pipeline.pk)
            self.fields["after_sales_pipeline"].queryset = others


OUTCOMES = [
    ("open", _("Open")),
    ("won", _("Won")),
    ("lost", _("Lost")),
]


class StageForm(forms.Form):
    """A stage's name, win probability, outcome and the fields a deal needs to enter it."""

    name = forms.CharField(label=_("Name"), max_length=100)
    probability = forms.IntegerField(
        label=_("Win probability (%)"), min_value=0, max_value=100, initial=0
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=OUTCOMES, initial="open", widget=forms.RadioSelect
    )
    required_fields = forms.MultipleChoiceField(
        label=_("Required to enter"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A deal cannot move into this stage until these are filled in."),
    )

    def __init__(self, data=None, *, stage: Stage | None = None, prefix: str | None = None):
        initial = {}
        if stage is not None:
            outcome = "won" if stage.is_won else "lost" if stage.is_lost else "open"
            initial = {
                "name": stage.name,
                "probability": stage.probability,
                "outcome": outcome,
                "required_fields": stage.required_fields,
            }
        super().__init__(data, initial=initial, prefix=prefix)
        self.fields["required_fields"].choices = gate_choices()

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "probability": data["probability"],
            "is_won": data["outcome"] == "won",
            "is_lost": data["outcome"] == "lost",
            "required_fields": data["required_fields"],
        }


class WinForm(forms.Form):
    amount = AmountField(
        label=_("Final amount"), min_value=0, max_digits=14, decimal_places=2, localize=True
    )
    closed_on = forms.DateField(label=_("Won on"), widget=DateInput())
    version = forms.IntegerField(widget=forms.HiddenInput)
