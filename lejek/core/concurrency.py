"""Optimistic locking: a save succeeds only against the version the editor started from."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from lejek.core.errors import ConflictError


def CONFLICT_MESSAGE() -> str:
    return _(
        "Someone else changed this record while you were editing it. "
        "Reload it to see their changes, then apply yours again."
    )


def save_versioned(obj, *, fields: list[str], expected_version: int | None) -> None:
    """Write `fields` of `obj` with one conditional UPDATE and bump its version.

    With `expected_version` given, the row must still carry it, otherwise someone else saved
    in between and ConflictError is raised (nothing is written).
    """
    model = type(obj)
    rows = model._default_manager.filter(pk=obj.pk)
    if expected_version is not None:
        rows = rows.filter(version=expected_version)
    values = {
        model._meta.get_field(name).attname: getattr(obj, model._meta.get_field(name).attname)
        for name in fields
    }
    values["updated_at"] = timezone.now()
    values["version"] = F("version") + 1
    if rows.update(**values) == 0:
        raise ConflictError(CONFLICT_MESSAGE())
    obj.updated_at = values["updated_at"]
    obj.version = model._default_manager.filter(pk=obj.pk).values_list("version", flat=True).get()
