"""Custom-field values arriving with a service call, checked against their definitions."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from lejek.core.custom_fields import clean_values


def merge_custom(entity: str, obj, raw: dict | None) -> None:
    """Validate `raw` (key → value) and merge it into `obj.custom`; errors as `custom.<key>`."""
    if raw is None:
        return
    if not isinstance(raw, dict):
        raise ValidationError({"custom": ["Expected an object of field keys and values."]})
    try:
        obj.custom = clean_values(entity, raw, current=obj.custom or {})
    except ValidationError as exc:
        raise ValidationError(
            {f"custom.{key}": msgs for key, msgs in exc.message_dict.items()}
        ) from exc
