"""Typed custom fields: validation, form fields and list filters over the `custom` JSON column."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import DateField, DecimalField, IntegerField, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from lejek.core.models import CustomField
from lejek.core.widgets import DateInput

TRUE_WORDS = {"1", "true", "yes", "on", "tak", "t", "y"}
FALSE_WORDS = {"0", "false", "no", "off", "nie", "n", "f", ""}


def definitions(entity: str) -> list[CustomField]:
    return list(CustomField.objects.filter(entity=entity))


def clean_value(field: CustomField, value: Any) -> Any:
    """Turn user or API input into the canonical JSON value, or raise ValidationError."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if field.required:
            raise ValidationError(_("This field is required."))
        return None
    try:
        match field.type:
            case CustomField.Type.TEXT:
                text = str(value).strip()
                if len(text) > 1000:
                    raise ValidationError(_("Use at most 1000 characters."))
                return text
            case CustomField.Type.NUMBER:
                if isinstance(value, bool):
                    raise ValueError
                number = decimal.Decimal(str(value).strip())
                if number != number.to_integral_value():
                    raise ValidationError(_("Enter a whole number."))
                return int(number)
            case CustomField.Type.DECIMAL:
                if isinstance(value, bool):
                    raise ValueError
                number = decimal.Decimal(str(value).strip().replace(",", "."))
                if not number.is_finite():
                    raise ValueError
                return str(number.quantize(decimal.Decimal("0.01")))
            case CustomField.Type.CHOICE:
                text = str(value).strip()
                if text not in field.choices:
                    raise ValidationError(
                        _("Choose one of: %(choices)s.") % {"choices": ", ".join(field.choices)}
                    )
                return text
            case CustomField.Type.BOOLEAN:
                if isinstance(value, bool):
                    return value
                word = str(value).strip().lower()
                if word in TRUE_WORDS:
                    return True
                if word in FALSE_WORDS:
                    return False
                raise ValidationError(_("Enter yes or no."))
            case CustomField.Type.DATE:
                if isinstance(value, datetime.date):
                    return value.isoformat()
                return datetime.date.fromisoformat(str(value).strip()).isoformat()
    except (decimal.InvalidOperation, ValueError, TypeError):
        pass
    messages = {
        CustomField.Type.NUMBER: _("Enter a whole number."),
        CustomField.Type.DECIMAL: _("Enter a number."),
        CustomField.Type.DATE: _("Enter a date as YYYY-MM-DD."),
    }
    raise ValidationError(messages.get(field.type, _("Enter a valid value.")))


def clean_values(entity: str, data: dict[str, Any], *, current: dict | None = None) -> dict:
    """Validate `data` (key → raw value) against the entity's definitions.

    Returns the full new `custom` dict (current values overlaid with data). Unknown keys and
    invalid values raise one ValidationError mapping each key to its message.
    """
    fields = {f.key: f for f in definitions(entity)}
    errors: dict[str, list[str]] = {}
    result = dict(current or {})
    for key, raw in data.items():
        if key not in fields:
            errors[key] = [_("Unknown field.")]
            continue
        try:
            value = clean_value(fields[key], raw)
        except ValidationError as exc:
            errors[key] = exc.messages
            continue
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    for key, field in fields.items():
        if field.required and key not in result and key not in errors:
            errors[key] = [_("This field is required.")]
    if errors:
        raise ValidationError(errors)
    return result


def form_field(field: CustomField) -> forms.Field:
    common = {"label": field.label, "required": field.required}
    match field.type:
        case CustomField.Type.NUMBER:
            return forms.IntegerField(**common)
        case CustomField.Type.DECIMAL:
            return forms.DecimalField(decimal_places=2, max_digits=18, **common)
        case CustomField.Type.CHOICE:
            return forms.ChoiceField(
                choices=[("", "—")] + [(c, c) for c in field.choices], **common
            )
        case CustomField.Type.BOOLEAN:
            return forms.BooleanField(label=field.label, required=False)
        case CustomField.Type.DATE:
            return forms.DateField(widget=DateInput(), **common)
    return forms.CharField(max_length=1000, **common)


class CustomFieldsFormMixin:
    """Adds one `cf_<key>` form field per definition and gathers them into `custom`."""

    custom_entity: str = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.custom_definitions = definitions(self.custom_entity)
        current = getattr(self.instance, "custom", None) or {}
        for definition in self.custom_definitions:
            name = f"cf_{definition.key}"
            self.fields[name] = form_field(definition)
            if definition.key in current:
                self.initial[name] = current[definition.key]

    def custom_field_names(self) -> list[str]:
        return [f"cf_{d.key}" for d in self.custom_definitions]

    def clean(self):
        cleaned = super().clean()
        raw = {d.key: cleaned.get(f"cf_{d.key}") for d in self.custom_definitions}
        try:
            cleaned["custom"] = clean_values(self.custom_entity, raw, current={})
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                self.add_error(f"cf_{key}", messages)
        return cleaned


def filter_queryset(qs: QuerySet, entity: str, params) -> QuerySet:
    """Apply `cf_<key>` (equals), `cf_<key>_min` and `cf_<key>_max` filters from a query dict.

    Values that do not parse are ignored by design of a filter bar: the list stays usable
    and the chip shows what was applied.
    """
    for field in definitions(entity):
        name = f"cf_{field.key}"
        exact = params.get(name)
        if exact not in (None, ""):
            try:
                value = clean_value(field, exact)
            except ValidationError:
                return qs.none()
            if field.type == CustomField.Type.BOOLEAN and value is False:
                qs = qs.exclude(**{f"custom__{field.key}": True})
            else:
                qs = qs.filter(**{f"custom__{field.key}": value})
        cast = {
            CustomField.Type.NUMBER: IntegerField(),
            CustomField.Type.DECIMAL: DecimalField(max_digits=18, decimal_places=2),
            CustomField.Type.DATE: DateField(),
        }.get(field.type)
        if cast is None:
            continue
        for suffix, lookup in (("_min", "gte"), ("_max", "lte")):
            bound = params.get(name + suffix)
            if bound in (None, ""):
                continue
            try:
                value = clean_value(field, bound)
            except ValidationError:
                return qs.none()
            alias = f"_cf_{field.key}"
            qs = qs.alias(**{alias: Cast(KeyTextTransform(field.key, "custom"), cast)})
            qs = qs.filter(**{f"{alias}__{lookup}": value})
    return qs
