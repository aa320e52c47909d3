"""The form builder's form: settings of a web form, and one row per field it may ask.

Each field row has "on the form", "required", a label and a position, so a form is built
with plain inputs and no JavaScript. The services check everything again.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lejek.leads.models import Campaign, Source, WebForm
from lejek.leads.webforms import MAX_LABEL, FieldChoice, clean_origins, field_choices
from lejek.users.models import Team

SETTINGS = (
    "name",
    "is_active",
    "source",
    "campaign",
    "team",
    "consent_required",
    "success_message",
    "redirect_url",
    "allowed_origins",
)


def row_prefix(name: str) -> str:
    return "f-" + name.replace(":", "-")


class WebFormForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    is_active = forms.BooleanField(
        label=_("Accepting submissions"),
        required=False,
        initial=True,
        help_text=_("Untick to switch the form off; its address then answers “not found”."),
    )
    source = forms.ModelChoiceField(
        label=_("Source"),
        queryset=Source.objects.order_by("name"),
        required=False,
        empty_label="—",
        help_text=_("Stamped on every lead from this form; empty means “Web form”."),
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"),
        queryset=Campaign.objects.order_by("name"),
        required=False,
        empty_label="—",
    )
    team = forms.ModelChoiceField(
        label=_("Default team"),
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label="—",
        help_text=_("Leads go to this team's pool, then through the assignment rules."),
    )
    consent_text = forms.CharField(
        label=_("Consent text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown next to a checkbox. Changing it keeps the earlier wording on record."),
    )
    consent_required = forms.BooleanField(
        label=_("Consent is required to send the form"), required=False
    )
    success_message = forms.CharField(
        label=_("Thank-you message"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    redirect_url = forms.URLField(
        label=_("Redirect after submission"),
        required=False,
        assume_scheme="https",
        help_text=_("Instead of the thank-you message, send people to this page."),
    )
    allowed_origins = forms.CharField(
        label=_("Allowed origins"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Sites whose JavaScript may send JSON to this form, one per line, "
            "e.g. https://example.com. Plain HTML forms work from any site."
        ),
    )

    def __init__(self, *args, instance: WebForm | None = None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.choices: list[FieldChoice] = field_choices()
        self._add_field_rows()
        if instance is not None:
            self._fill_from(instance)
        elif not self.is_bound:
            self._preset_new()

    def _add_field_rows(self) -> None:
        for choice in self.choices:
            prefix = row_prefix(choice.name)
            self.fields[f"{prefix}-on"] = forms.BooleanField(label=_("On the form"), required=False)
            self.fields[f"{prefix}-required"] = forms.BooleanField(
                label=_("Required"), required=False
            )
            self.fields[f"{prefix}-label"] = forms.CharField(
                label=_("Label"), required=False, max_length=MAX_LABEL
            )
            self.fields[f"{prefix}-position"] = forms.IntegerField(
                label=_("Position"), required=False, min_value=0, max_value=999
            )

    def _fill_from(self, form: WebForm) -> None:
        for name in SETTINGS:
            self.initial[name] = getattr(form, name)
        consent = form.current_consent()
        self.initial["consent_text"] = consent.text if consent else ""
        for position, spec in enumerate(form.fields, start=1):
            prefix = row_prefix(spec["name"])
            self.initial[f"{prefix}-on"] = True
            self.initial[f"{prefix}-required"] = spec.get("required", False)
            self.initial[f"{prefix}-label"] = spec.get("label", "")
            self.initial[f"{prefix}-position"] = position

    def _preset_new(self) -> None:
        """A new form starts as the usual contact form: name, e-mail, company, message."""
        for position, name in enumerate(("first_name", "last_name", "email"), start=1):
            self.initial[f"{row_prefix(name)}-on"] = True
            self.initial[f"{row_prefix(name)}-position"] = position
        self.initial[f"{row_prefix('email')}-required"] = True

    def rows(self) -> list[dict[str, Any]]:
        """The field rows for the template: the choice and its four bound inputs."""
        return [
            {
                "choice": choice,
                "on": self[f"{row_prefix(choice.name)}-on"],
                "required": self[f"{row_prefix(choice.name)}-required"],
                "label": self[f"{row_prefix(choice.name)}-label"],
                "position": self[f"{row_prefix(choice.name)}-position"],
            }
            for choice in self.choices
        ]

    def clean_allowed_origins(self) -> str:
        try:
            return clean_origins(self.cleaned_data["allowed_origins"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["allowed_origins"]) from None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("consent_required") and not (cleaned.get("consent_text") or "").strip():
            self.add_error("consent_text", gettext("Write the consent text people must agree to."))
        picked = []
        for order, choice in enumerate(self.choices):
            prefix = row_prefix(choice.name)
            if not cleaned.get(f"{prefix}-on"):
                continue
            position = cleaned.get(f"{prefix}-position")
            spec = {
                "name": choice.name,
                "required": bool(cleaned.get(f"{prefix}-required")),
                "label": (cleaned.get(f"{prefix}-label") or "").strip(),
            }
            picked.append(((position if position is not None else 1000), order, spec))
        cleaned["fields"] = [spec for _position, _order, spec in sorted(picked)]
        if not picked:
            self.add_error(None, gettext("Put at least one field on the form."))
        return cleaned

    def values(self) -> dict[str, Any]:
        values = {name: self.cleaned_data[name] for name in SETTINGS}
        values["fields"] = self.cleaned_data["fields"]
        for name in ("success_message", "redirect_url", "allowed_origins"):
            values[name] = values[name] or ""
        return values

    def consent_wording(self) -> str:
        return (self.cleaned_data.get("consent_text") or "").strip()
