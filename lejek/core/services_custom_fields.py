"""Every write to custom-field definitions. Only admins shape the data model."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from lejek.core.events import record_event, snapshot
from lejek.core.models import CustomField
from lejek.users.models import Role

FIELDS = ["entity", "key", "label", "type", "choices", "required", "position"]
# A key becomes a JSON key, a form field name (`cf_<key>`) and a filter parameter, so it
# stays a plain lowercase identifier.
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_CHOICES = 100
# Values already stored under a key were checked against its type; changing either would
# silently turn them into nonsense, so both are fixed once the field exists.
FIXED_AFTER_CREATE = ("entity", "key", "type")


def _ensure_admin(actor) -> None:
    if actor is None or not actor.is_active or actor.role != Role.ADMIN:
        raise PermissionDenied(_("Only admins manage custom fields."))


def clean_choices(raw: Any) -> list[str]:
    """Choices as a list of distinct, non-empty strings, from a list or one-per-line text."""
    if raw is None:
        return []
    items = raw.splitlines() if isinstance(raw, str) else list(raw)
    seen: list[str] = []
    for item in items:
        text = str(item).strip()
        if text and text not in seen:
            seen.append(text)
    return seen


def _validate(field: CustomField) -> None:
    errors: dict[str, list[str]] = {}
    if not KEY_PATTERN.match(field.key or ""):
        errors["key"] = [
            _("Use lowercase letters, digits and underscores, starting with a letter.")
        ]
    elif (
        CustomField.objects.filter(entity=field.entity, key=field.key).exclude(pk=field.pk).exists()
    ):
        errors["key"] = [_("This record type already has a field with this key.")]
    if field.type == CustomField.Type.CHOICE:
        if not field.choices:
            errors["choices"] = [_("A choice field needs at least one choice, one per line.")]
        elif len(field.choices) > MAX_CHOICES:
            errors["choices"] = [_("Use at most %(n)d choices.") % {"n": MAX_CHOICES}]
        elif any(len(choice) > 100 for choice in field.choices):
            errors["choices"] = [_("Keep each choice under 100 characters.")]
    else:
        field.choices = []
    try:
        field.full_clean(exclude=["choices", *errors], validate_constraints=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _save(field: CustomField) -> None:
    # The pre-check in _validate can race with a concurrent create; the constraint decides.
    try:
        with transaction.atomic():
            field.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"key": [_("This record type already has a field with this key.")]}
        ) from exc


@transaction.atomic
def custom_field_create(
    *,
    actor,
    entity: str,
    key: str,
    label: str,
    type: str,
    choices: Any = None,
    required: bool = False,
    position: int | None = None,
) -> CustomField:
    """Define a typed field on one record type; it then appears in its forms, filters, API."""
    _ensure_admin(actor)
    if position is None:
        last = CustomField.objects.filter(entity=entity).aggregate(last=Max("position"))["last"]
        position = 0 if last is None else last + 1
    field = CustomField(
        entity=entity,
        key=(key or "").strip(),
        label=(label or "").strip(),
        type=type,
        choices=clean_choices(choices),
        required=required,
        position=position,
    )
    _validate(field)
    _save(field)
    record_event(actor=actor, verb="custom_field.created", obj=field, after=snapshot(field, FIELDS))
    return field


@transaction.atomic
def custom_field_update(*, actor, field: CustomField, values: dict[str, Any]) -> CustomField:
    """Change a definition's label, choices, required flag or position."""
    _ensure_admin(actor)
    fixed = [name for name in FIXED_AFTER_CREATE if name in values]
    changes = {name: values[name] for name in fixed if values[name] != getattr(field, name)}
    if changes:
        raise ValidationError(
            {name: _("This cannot change once the field exists.") for name in changes}
        )
    before = snapshot(field, FIELDS)
    for name in ("label", "required", "position"):
        if name in values:
            value = values[name]
            setattr(field, name, value.strip() if isinstance(value, str) else value)
    if "choices" in values:
        field.choices = clean_choices(values["choices"])
    _validate(field)
    after = snapshot(field, FIELDS)
    if after == before:
        return field
    _save(field)
    record_event(actor=actor, verb="custom_field.updated", obj=field, before=before, after=after)
    return field


@transaction.atomic
def custom_field_delete(*, actor, field: CustomField) -> None:
    """Remove a definition. Values stored on records stay in their JSON but are no longer shown."""
    _ensure_admin(actor)
    record_event(
        actor=actor, verb="custom_field.deleted", obj=field, before=snapshot(field, FIELDS)
    )
    field.delete()
