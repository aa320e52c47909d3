"""Writing to the Event log. Every service calls `record_event` inside its transaction."""

from __future__ import annotations

import datetime
import decimal
import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.module_loading import import_string

from lejek.core.models import Event


def to_json(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """The JSON form of `fields` on `obj` (foreign keys as ids)."""
    out = {}
    for name in fields:
        field = obj._meta.get_field(name)
        out[name] = to_json(getattr(obj, field.attname))
    return out


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose values differ, from both sides."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


@functools.cache
def subscribers() -> list[Callable[[Event], None]]:
    """What reacts to new events (settings.LEJEK_EVENT_SUBSCRIBERS), e.g. lead scoring.

    They are listed in settings rather than imported here, so that the apps which react to
    changes depend on the ones that make them, never the other way round.
    """
    return [import_string(path) for path in settings.LEJEK_EVENT_SUBSCRIBERS]


def record_event(
    *,
    actor,
    verb: str,
    obj: models.Model,
    before: dict | None = None,
    after: dict | None = None,
) -> Event:
    event = Event.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        verb=verb,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        object_repr=str(obj)[:200],
        before=to_json(before or {}),
        after=to_json(after or {}),
    )
    for subscriber in subscribers():
        subscriber(event)
    return event


def events_for(obj: models.Model):
    return Event.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    ).select_related("actor")
