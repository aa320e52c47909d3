"""Editing a list of conditions ({"field", "op", "value"}) as rows of a plain form.

Assignment rules and scoring's fit rules both describe leads this way. The form draws the
filled rows plus a few spare ones (enough without JavaScript), and turns the posted rows back
into a list of conditions, each checked by the rule kind's own `clean_condition`.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from lejek.leads.assignment import OPS

SPARE_ROWS = 3
MAX_ROWS = 20


def posted_rows(data) -> int:
    """How many condition rows the submitted form had (it may have grown since it was drawn)."""
    rows = 0
    for name in data or {}:
        if name.startswith("cond-") and name.endswith("-field"):
            index = name.removeprefix("cond-").removesuffix("-field")
            if index.isdigit():
                rows = max(rows, int(index) + 1)
    return min(rows, MAX_ROWS)


class ConditionRowsMixin:
    """Add to a forms.Form; call `add_condition_rows` in __init__ and
    `clean_condition_rows` in clean."""

    def add_condition_rows(self, conditions: list[dict], fields: list[tuple[str, str]]) -> None:
        rows = max(len(conditions) + SPARE_ROWS, posted_rows(self.data))
        self.row_count = min(rows, MAX_ROWS)
        ops = [("", "—")] + [(key, label) for key, label in OPS.items()]
        for i in range(self.row_count):
            condition = conditions[i] if i < len(conditions) else {}
            value = condition.get("value", "")
            if isinstance(value, list):
                value = ", ".join(value)
            elif isinstance(value, bool):
                value = ""
            self.fields[f"cond-{i}-field"] = forms.ChoiceField(
                label=_("Field"), choices=fields, required=False, initial=condition.get("field")
            )
            self.fields[f"cond-{i}-op"] = forms.ChoiceField(
                label=_("Comparison"), choices=ops, required=False, initial=condition.get("op")
            )
            self.fields[f"cond-{i}-value"] = forms.CharField(
                label=_("Value"), required=False, max_length=500, initial=value
            )

    def condition_rows(self) -> list[tuple]:
        return [
            (i + 1, self[f"cond-{i}-field"], self[f"cond-{i}-op"], self[f"cond-{i}-value"])
            for i in range(self.row_count)
        ]

    def clean_condition_rows(
        self, cleaned: dict, clean_condition: Callable[[dict], dict]
    ) -> list[dict]:
        conditions = []
        for i in range(self.row_count):
            field = cleaned.get(f"cond-{i}-field")
            op = cleaned.get(f"cond-{i}-op")
            value = cleaned.get(f"cond-{i}-value", "")
            if not field and not op and not value:
                continue  # a spare row left empty
            if not field or not op:
                name = f"cond-{i}-field" if not field else f"cond-{i}-op"
                self.add_error(name, _("Choose a field and a comparison, or clear the row."))
                continue
            try:
                conditions.append(clean_condition({"field": field, "op": op, "value": value}))
            except ValidationError as exc:
                self.add_error(f"cond-{i}-value", exc)
        return conditions
