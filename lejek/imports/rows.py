"""From a file row to field values: the mapping applied, values translated, text parsed.

Everything a row refers to by name (owners, teams, sources, stages, products) is looked up
in dictionaries loaded once per import, so checking a row costs no query.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from lejek.contacts.normalize import fold
from lejek.core.custom_fields import clean_value
from lejek.core.models import CustomField
from lejek.imports.mapping import CUSTOM, REACHED, target_fields
from lejek.imports.values import parse_date, parse_datetime, parse_decimal


class RowError(Exception):
    """A row that cannot be imported; `messages` say why, one per problem."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass
class Column:
    index: int
    field: str
    values: dict[str, Any]
    # The custom field's key for a custom column, None for a record field.
    custom_key: str | None = None

    def __post_init__(self) -> None:
        if self.field.startswith(CUSTOM):
            self.custom_key = self.field.removeprefix(CUSTOM)


@dataclass
class Row:
    """One data row on its way in: its place in the file, its cells, what they mean."""

    number: int
    cells: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    # What writing it did: "created", "updated" or "skipped" (a duplicate bringing nothing new).
    outcome: str = ""
    parsed: dict[str, Any] = field(default_factory=dict)


def folded(text: Any) -> str:
    return fold(str(text).strip())


class RowReader:
    """Applies a cleaned mapping to rows of cells."""

    def __init__(self, kind: str, mapping: dict, headers: list[str], definitions: list):
        self.kind = kind
        self.date_format = mapping.get("date_format") or ""
        self.labels = {f.name: f.label for f in target_fields(kind)}
        self.definitions = {d.key: d for d in definitions}
        for definition in definitions:
            self.labels.setdefault(f"{CUSTOM}{definition.key}", definition.label)
        position = {header: index for index, header in enumerate(headers)}
        self.columns = [
            Column(
                position[header],
                spec["field"],
                {folded(k): v for k, v in (spec.get("values") or {}).items()},
            )
            for header, spec in (mapping.get("columns") or {}).items()
            if spec.get("field") and header in position
        ]

    def read(self, number: int, cells: list[str]) -> Row:
        """The row's mapped values (empty cells left out) and custom values, both unparsed."""
        row = Row(number, cells)
        for column in self.columns:
            raw = cells[column.index]
            value: Any = raw
            if column.values:
                value = column.values.get(folded(raw), raw)
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
            elif value is None:
                continue
            if column.custom_key is not None:
                row.custom[column.custom_key] = value
            else:
                row.values[column.field] = value
        return row

    def label(self, name: str) -> str:
        if name.startswith(REACHED):
            return name.removeprefix(REACHED)
        return self.labels.get(name, name)

    def convert(
        self, row: Row, converters: dict[str, Callable[[Any], Any]], errors: list[str]
    ) -> dict[str, Any]:
        """Each mapped value passed through its converter; problems added to `errors`."""
        result: dict[str, Any] = {}
        for name, value in row.values.items():
            converter = converters.get(name)
            if converter is None and name.startswith(REACHED):
                converter = converters.get(REACHED)
            if converter is None:
                result[name] = value
                continue
            try:
                result[name] = converter(value)
            except (ValidationError, RowError) as exc:
                errors.append(f"{self.label(name)}: {' '.join(exc.messages)}")
        return result

    def custom_values(self, row: Row, errors: list[str], *, creating: bool) -> dict[str, Any]:
        """Custom values checked with the same rules as forms and the API (clean_value)."""
        result: dict[str, Any] = {}
        for key, raw in row.custom.items():
            definition = self.definitions.get(key)
            if definition is None:
                continue
            if definition.type == CustomField.Type.DATE and isinstance(raw, str):
                try:
                    raw = parse_date(raw, self.date_format)
                except ValidationError as exc:
                    errors.append(f"{definition.label}: {' '.join(exc.messages)}")
                    continue
            if definition.type == CustomField.Type.DECIMAL and isinstance(raw, str):
                try:
                    raw = str(parse_decimal(raw))
                except ValidationError as exc:
                    errors.append(f"{definition.label}: {' '.join(exc.messages)}")
                    continue
            try:
                value = clean_value(definition, raw)
            except ValidationError as exc:
                errors.append(f"{definition.label}: {' '.join(exc.messages)}")
                continue
            if value is not None:
                result[key] = value
        if creating:
            for key, definition in self.definitions.items():
                if definition.required and key not in result and key not in row.custom:
                    errors.append(f"{definition.label}: {_('This field is required.')}")
        return result

    def date(self, value: Any) -> datetime.date:
        if isinstance(value, datetime.date):
            return value
        return parse_date(str(value), self.date_format)

    def moment(self, value: Any) -> datetime.datetime:
        """An aware datetime; a bare date means midnight in the site's time zone."""
        moment = parse_datetime(str(value), self.date_format)
        if moment > datetime.datetime.now() + datetime.timedelta(days=1):
            raise ValidationError(_("This date is in the future."))
        return timezone.make_aware(moment)


# Distinct cells whose converted value is remembered per column; past this the memo starts
# afresh, so memory stays bounded whatever the file.
MEMO_LIMIT = 1 << 16


def remembered(convert: Callable[[Any], Any], limit: int = MEMO_LIMIT) -> Callable[[Any], Any]:
    """`convert`, computed once per distinct cell value; its refusals are remembered too.

    For converters that depend on the value alone (for the length of an import): a file
    repeats the same countries, statuses, dates, job titles and companies on many rows.
    A refusal is raised anew each time (same class, same messages), not re-raised, so no
    traceback grows.
    """
    memo: dict[Any, tuple[bool, Any]] = {}

    def cached(value: Any) -> Any:
        try:
            found = memo.get(value)
        except TypeError:  # an unhashable value: nothing to remember it by
            return convert(value)
        if found is None:
            try:
                found = (True, convert(value))
            except RowError as exc:
                found = (False, (RowError, exc.messages))
            except ValidationError as exc:
                found = (False, (ValidationError, exc.messages))
            if len(memo) >= limit:
                memo.clear()
            memo[value] = found
        ok, result = found
        if ok:
            return result
        error_class, messages = result
        raise error_class(list(messages))

    return cached


def model_value(model: type[models.Model], name: str) -> Callable[[Any], Any]:
    """A converter that applies the model field's own checks (length, e-mail, choices)."""
    model_field = model._meta.get_field(name)
    if isinstance(model_field, models.CharField | models.TextField) and (
        model_field.blank and not model_field.choices
    ):
        return _text_value(model_field)

    def convert(value: Any) -> Any:
        return model_field.clean(model_field.to_python(value), None)

    return convert


def _text_value(model_field: models.Field) -> Callable[[Any], Any]:
    """model_field.clean for an optional text field without choices, minus its layers.

    An import calls this for every cell; the field's validators (length, e-mail) still run,
    on non-empty values as Field.run_validators runs them.
    """
    validators = [
        DomainRememberingEmailValidator(v) if type(v) is EmailValidator else v
        for v in model_field.validators
    ]

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            value = str(value)
        if value:
            for validator in validators:
                validator(value)
        return value

    return convert


class DomainRememberingEmailValidator:
    """EmailValidator's checks in its order, with each domain's verdict remembered: the
    domain pattern is the slow part, and a file's addresses share a few thousand domains."""

    def __init__(self, validator: EmailValidator, limit: int = MEMO_LIMIT):
        self.validator = validator
        self.limit = limit
        self.domains: dict[str, bool] = {}
        # The validator's own pattern, compiled here: its lazy wrapper costs more per call
        # than the match.
        lazy = validator.user_regex
        self.user_regex = re.compile(lazy.pattern, lazy.flags)

    def __call__(self, value: str) -> None:
        validator = self.validator
        if not value or "@" not in value or len(value) > 320:
            self.refuse(value)
        user_part, domain_part = value.rsplit("@", 1)
        if not self.user_regex.match(user_part):
            self.refuse(value)
        valid = self.domains.get(domain_part)
        if valid is None:
            valid = domain_part in validator.domain_allowlist or bool(
                validator.validate_domain_part(domain_part)
            )
            if len(self.domains) >= self.limit:
                self.domains.clear()
            self.domains[domain_part] = valid
        if not valid:
            self.refuse(value)

    def refuse(self, value: str) -> None:
        validator = self.validator
        raise ValidationError(validator.message, code=validator.code, params={"value": value})


def choice_value(model: type[models.Model], name: str) -> Callable[[Any], Any]:
    """A choice given by its stored value or by its label, in English or Polish."""
    from django.utils import translation

    model_field = model._meta.get_field(name)
    known: dict[str, str] = {}
    for value, label in model_field.choices:
        known[folded(value)] = value
        known[folded(label)] = value
        for language in ("en", "pl"):
            with translation.override(language):
                known[folded(str(label))] = value

    def convert(value: Any) -> str:
        found = known.get(folded(value))
        if found is None:
            choices = ", ".join(str(v) for v, _label in model_field.choices)
            raise ValidationError(
                _("“%(value)s” is not one of: %(choices)s.") % {"value": value, "choices": choices}
            )
        return found

    return convert


def split_name(full: str) -> tuple[str, str]:
    """“Jan Maria Kowalski” → ("Jan Maria", "Kowalski"); “Kowalski, Jan” → ("Jan", "Kowalski")."""
    text = " ".join(str(full).split())
    if "," in text:
        last, _sep, first = text.partition(",")
        return first.strip(), last.strip()
    first, _sep, last = text.rpartition(" ")
    return first, last


def split_list(value: Any) -> list[str]:
    """“A; B” or “A, B” lists as their items."""
    text = str(value)
    separator = ";" if ";" in text else ","
    return [part.strip() for part in text.split(separator) if part.strip()]
