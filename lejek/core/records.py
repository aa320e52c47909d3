"""The shared shape of create / update / delete for the records people edit.

Each app's services call these with its own field list and rules, so that every write
validates the whole record, runs in one transaction, respects the edit version and leaves an
Event with the before and after values.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.translation import gettext as _

from lejek.core.concurrency import CONFLICT_MESSAGE, save_versioned
from lejek.core.custom_values import merge_custom
from lejek.core.errors import ConflictError
from lejek.core.events import changed, record_event, snapshot


def ensure_editable(actor, obj: models.Model) -> None:
    """Refuse, as PermissionDenied, a write to a record the actor may not edit.

    `actor=None` is Lejek itself (a public web form, an import, a background job): it may
    write any record; the people it acts for were checked where the work was started.
    """
    if actor is None:
        return
    manager = type(obj)._default_manager
    if not manager.editable_by(actor).filter(pk=obj.pk).exists():
        raise PermissionDenied(_("You are not allowed to change this record."))


def apply_values(obj: models.Model, values: dict[str, Any]) -> None:
    known = {f.name for f in obj._meta.concrete_fields} | {
        f.attname for f in obj._meta.concrete_fields
    }
    unknown = [name for name in values if name not in known]
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    for name, value in values.items():
        setattr(obj, name, value)


def record_create(*, actor, obj: models.Model, fields: list[str], verb: str) -> models.Model:
    obj.full_clean()
    obj.save()
    record_event(actor=actor, verb=verb, obj=obj, after=snapshot(obj, fields))
    return obj


def record_update(
    *,
    actor,
    obj: models.Model,
    values: dict[str, Any],
    fields: list[str],
    expected_version: int | None,
    verb: str,
    custom_entity: str | None = None,
) -> models.Model:
    """Apply `values`, validate, save only if still at `expected_version`, log what changed.

    With `custom_entity`, a `custom` entry in `values` holds custom-field input: it is checked
    against that entity's definitions and merged into the stored values.
    """
    before = snapshot(obj, fields)
    values = dict(values)
    if custom_entity is not None:
        merge_custom(custom_entity, obj, values.pop("custom", None))
    apply_values(obj, values)
    obj.full_clean()
    after = snapshot(obj, fields)
    old, new = changed(before, after)
    if not new:
        if expected_version is not None and expected_version != obj.version:
            raise ConflictError(CONFLICT_MESSAGE())
        return obj
    save_versioned(obj, fields=list(new), expected_version=expected_version)
    record_event(actor=actor, verb=verb, obj=obj, before=old, after=new)
    return obj


def record_delete(*, actor, obj: models.Model, fields: list[str], verb: str) -> None:
    before = snapshot(obj, fields)
    record_event(actor=actor, verb=verb, obj=obj, before=before)
    obj.delete()
