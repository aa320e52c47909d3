"""Stage gates: the fields a deal must have filled in before it may enter a stage.

A stage lists them in `required_fields`: names of deal fields from `GATE_FIELDS`, or
`custom:<key>` for a deal custom field. The check runs when a deal enters the stage (created
in it or moved to it), never while it sits there, so tightening a gate strands no deal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lejek.core.models import CustomField

if TYPE_CHECKING:
    from lejek.pipeline.models import Deal, Stage

CUSTOM_PREFIX = "custom:"

# Field name -> how the gate message names it ("fill in: amount, expected close date").
GATE_FIELDS = {
    "amount": _("amount"),
    "expected_close_date": _("expected close date"),
    "contact": _("contact"),
    "company": _("company"),
    "lead": _("lead"),
    "source": _("source"),
    "owner": _("owner"),
}


def gate_choices() -> list[tuple[str, str]]:
    """Every field a stage may require: the built-in ones, then the deal custom fields."""
    choices = [(name, str(label)) for name, label in GATE_FIELDS.items()]
    for field in CustomField.objects.filter(entity=CustomField.Entity.DEAL):
        label = gettext("%(label)s (custom field)") % {"label": field.label}
        choices.append((f"{CUSTOM_PREFIX}{field.key}", label))
    return choices


def check_required_fields(names: list[str]) -> list[str]:
    """The list as stored: known names only, each once, in the order given."""
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValidationError({"required_fields": gettext("Give a list of field names.")})
    known = {name for name, _label in gate_choices()}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValidationError(
            {
                "required_fields": gettext("Unknown fields: %(names)s.")
                % {"names": ", ".join(unknown)}
            }
        )
    return list(dict.fromkeys(names))


def _is_blank(value) -> bool:
    return value is None or value == "" or value == []


def _custom_labels(names: list[str]) -> dict[str, str]:
    keys = [n.removeprefix(CUSTOM_PREFIX) for n in names if n.startswith(CUSTOM_PREFIX)]
    if not keys:
        return {}
    rows = CustomField.objects.filter(entity=CustomField.Entity.DEAL, key__in=keys)
    return {f"{CUSTOM_PREFIX}{key}": label for key, label in rows.values_list("key", "label")}


def missing_fields(deal: Deal, stage: Stage) -> list[str]:
    """The names from `stage.required_fields` that `deal` leaves empty."""
    missing = []
    for name in stage.required_fields or []:
        if name.startswith(CUSTOM_PREFIX):
            value = (deal.custom or {}).get(name.removeprefix(CUSTOM_PREFIX))
        elif name in GATE_FIELDS:
            value = getattr(deal, deal._meta.get_field(name).attname)
        else:
            continue  # a field that no longer exists gates nothing
        if _is_blank(value):
            missing.append(name)
    return missing


def field_labels(names: list[str]) -> list[str]:
    custom = _custom_labels(names)
    return [str(GATE_FIELDS.get(name) or custom.get(name) or name) for name in names]


def gate_message(stage: Stage, missing: list[str]) -> str:
    return gettext("To enter %(stage)s, fill in: %(fields)s.") % {
        "stage": stage.name,
        "fields": ", ".join(field_labels(missing)),
    }


def check_gate(deal: Deal, stage: Stage) -> None:
    """Refuse, next to the stage control, a deal that misses what `stage` requires."""
    missing = missing_fields(deal, stage)
    if missing:
        raise ValidationError({"stage": gate_message(stage, missing)})
