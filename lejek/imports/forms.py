"""Forms of the import wizard: the upload (step 1) and the column mapping (step 2)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lejek.imports.mapping import target_fields
from lejek.imports.models import Kind
from lejek.imports.services import can_import
from lejek.leads.models import Campaign

# Mapping keys that belong to one file (its event, its campaign), not to a saved mapping.
PER_FILE_KEYS = ("defaults",)


def importable_kinds(user) -> list[tuple[str, str]]:
    return [(value, label) for value, label in Kind.choices if can_import(user, value)]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"))
    file = forms.FileField(
        label=_("File"),
        help_text=_("A CSV or Excel (XLSX) file with a header row."),
        widget=forms.FileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    event_list = forms.BooleanField(
        label=_("This is an event attendee list"),
        required=False,
        help_text=_("The leads get the campaign below and an event source."),
    )
    campaign = forms.CharField(
        label=_("Campaign"),
        required=False,
        max_length=200,
        help_text=_("Pick a campaign or type the name of a new one."),
        widget=forms.TextInput(attrs={"list": "campaign-names", "autocomplete": "off"}),
    )

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = importable_kinds(user)

    def campaign_names(self) -> list[str]:
        return list(Campaign.objects.order_by("name").values_list("name", flat=True)[:500])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("event_list"):
            data["campaign"] = ""
            return data
        if data.get("kind") and data["kind"] != Kind.LEAD:
            self.add_error("event_list", gettext("Event attendee lists are imported as leads."))
        if not data.get("campaign", "").strip():
            self.add_error("campaign", gettext("Name the event's campaign."))
        return data


def parse_values(text: str) -> dict[str, Any]:
    """`Yes = true` lines into {"Yes": True}: how values in the file become values in Lejek."""
    values: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        source, sep, target = line.partition("=")
        if not sep or not source.strip():
            raise ValidationError(
                gettext("Line %(number)s: write it as “value in the file = value in Lejek”.")
                % {"number": number}
            )
        values[source.strip()] = _typed(target.strip())
    return values


def _typed(value: str) -> Any:
    # Booleans are the one kind of value a text line cannot say on its own.
    lowered = value.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    return value


def format_values(values: dict[str, Any]) -> str:
    lines = []
    for source, target in values.items():
        shown = str(target).lower() if isinstance(target, bool) else target
        lines.append(f"{source} = {shown}")
    return "\n".join(lines)


class MappingForm(forms.Form):
    """One select (and one optional value list) per column of the file.

    Columns are numbered in the field names because headers can hold any character.
    """

    save_as = forms.CharField(
        label=_("Save this mapping as…"),
        required=False,
        max_length=100,
        help_text=_("Give it a name to offer it again for the next file of this kind."),
    )

    def __init__(self, *args, kind: str, headers: list[str], mapping: dict, **kwargs):
        kwargs.setdefault("label_suffix", "")
        self.kind = kind
        self.headers = headers
        self.base = mapping
        self.targets = target_fields(kind)
        columns = mapping.get("columns") or {}
        super().__init__(*args, **kwargs)
        choices = [("", gettext("— do not import —"))]
        choices += [(t.name, f"{t.label} *" if t.required else t.label) for t in self.targets]
        for index, header in enumerate(headers):
            column = columns.get(header) or {}
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header, choices=choices, required=False, initial=column.get("field", "")
            )
            self.fields[f"values_{index}"] = forms.CharField(
                label=gettext("Values of “%(column)s”") % {"column": header},
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                initial=format_values(column.get("values") or {}),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        taken: dict[str, str] = {}
        for index, header in enumerate(self.headers):
            field = data.get(f"col_{index}")
            if not field:
                continue
            if field in taken:
                self.add_error(
                    f"col_{index}",
                    gettext("Column “%(column)s” already goes there.") % {"column": taken[field]},
                )
            taken[field] = header
            try:
                data[f"values_{index}"] = parse_values(data.get(f"values_{index}") or "")
            except ValidationError as exc:
                self.add_error(f"values_{index}", exc)
        # Required fields are checked by the engine's clean_mapping, which knows that a full
        # name fills a required last name.
        return data

    def mapping(self) -> dict[str, Any]:
        """The mapping in the engine's JSON format, keeping what this page does not edit."""
        columns = {}
        for index, header in enumerate(self.headers):
            field = self.cleaned_data.get(f"col_{index}")
            if not field:
                continue
            column: dict[str, Any] = {"field": field}
            values = self.cleaned_data.get(f"values_{index}")
            if values:
                column["values"] = values
            columns[header] = column
        return {**self.base, "columns": columns}

    def reusable_mapping(self) -> dict[str, Any]:
        mapping = self.mapping()
        return {key: value for key, value in mapping.items() if key not in PER_FILE_KEYS}
