"""What every kind of import shares: reading rows through the mapping, owners and teams,
custom fields the mapping creates, Events written in bulk, and the counts."""

from __future__ import annotations

import datetime
import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from lejek.core.events import to_json
from lejek.core.models import CustomField
from lejek.core.services_custom_fields import custom_field_create
from lejek.imports.bulk import event_inserter, link
from lejek.imports.engine import Counts
from lejek.imports.models import ImportJob
from lejek.imports.references import References
from lejek.imports.rows import Row, RowError, RowReader
from lejek.users.models import Role
from lejek.users.visibility import check_assignment

JSON_READY = (str, int, float, bool, type(None), dict)


@dataclass
class EventRow:
    """An Event on its way into the database, in the column order of bulk.EVENT_COLUMNS."""

    created_at: datetime.datetime
    actor_id: int | None
    verb: str
    content_type_id: int
    object_id: int
    object_repr: str
    before: dict
    after: dict

    def values(self) -> tuple:
        return (
            self.created_at,
            self.actor_id,
            self.verb,
            self.content_type_id,
            self.object_id,
            self.object_repr,
            self.before,
            self.after,
        )


def quick_snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """core.events.snapshot for a record just built: the same keys and values, converted
    only where a value is not JSON already (dates, decimals)."""
    names, attnames, values_of = _attnames(type(obj), tuple(fields))
    try:
        values = values_of(obj.__dict__)
    except KeyError:
        values = [getattr(obj, attname) for attname in attnames]
    out = dict(zip(names, values, strict=True))
    for name, value in out.items():
        if not isinstance(value, JSON_READY):
            out[name] = to_json(value)
    return out


@functools.lru_cache(maxsize=32)
def _attnames(
    model: type[models.Model], fields: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...], Callable[[dict], Any]]:
    attnames = tuple(model._meta.get_field(name).attname for name in fields)
    # A new instance holds every column in its __dict__: one C call reads them all.
    getter = operator.itemgetter(*attnames) if len(attnames) > 1 else _one(attnames)
    return fields, attnames, getter


def _one(attnames: tuple[str, ...]) -> Callable[[dict], tuple]:
    def values_of(values: dict) -> tuple:
        return tuple(values[name] for name in attnames)

    return values_of


class Importer:
    """Base for one kind of record. Subclasses define `entity`, `converters()`, `parse(row)`
    and `write(rows)`."""

    entity = ""

    def __init__(self, *, job: ImportJob, mapping: dict, headers: list[str]):
        self.job = job
        self.actor = job.actor
        self.dry_run = job.dry_run
        self.mapping = mapping
        self.defaults = {**(mapping.get("defaults") or {}), **(job.defaults or {})}
        self.refs = References()
        self.new_fields = self._new_custom_fields(mapping.get("create_custom_fields") or [])
        definitions = list(CustomField.objects.filter(entity=self.entity))
        definitions += [field for field in self.new_fields if field.pk is None]
        self.reader = RowReader(self.entity, mapping, headers, definitions)
        self._converters = self.converters()
        self.content_type = ContentType.objects.get_for_model(self.model)
        self._events = event_inserter()

    # Setting up -------------------------------------------------------------------------------

    def _new_custom_fields(self, specs: list[dict]) -> list[CustomField]:
        existing = {f.key: f for f in CustomField.objects.filter(entity=self.entity)}
        fields = []
        for spec in specs:
            if spec["key"] in existing:
                continue
            fields.append(
                CustomField(
                    entity=self.entity,
                    key=spec["key"],
                    label=spec["label"],
                    type=spec["type"],
                    choices=spec["choices"],
                )
            )
        if fields and (self.actor is None or self.actor.role != Role.ADMIN):
            raise PermissionDenied(
                _("Only admins create custom fields; ask one to add: %(keys)s.")
                % {"keys": ", ".join(f.key for f in fields)}
            )
        return fields

    def ensure_custom_fields(self) -> None:
        """Create the mapping's new custom fields through the custom-field service (once)."""
        for field in self.new_fields:
            if CustomField.objects.filter(entity=self.entity, key=field.key).exists():
                continue
            custom_field_create(
                actor=self.actor,
                entity=self.entity,
                key=field.key,
                label=field.label,
                type=field.type,
                choices=field.choices,
            )

    def converters(self) -> dict[str, Callable[[Any], Any]]:
        return {}

    # Checking rows ----------------------------------------------------------------------------

    def check(self, number: int, cells: list[str]) -> Row:
        """The row read and checked; `row.error` says why it cannot be imported."""
        row = self.reader.read(number, cells)
        errors: list[str] = []
        row.parsed = self.reader.convert(row, self._converters, errors)
        row.parsed["custom"] = self.reader.custom_values(row, errors, creating=True)
        if not errors:
            try:
                self.parse(row)
                self.check_ownership(row.parsed)
            except RowError as exc:
                errors.extend(exc.messages)
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            row.error = "; ".join(errors)
        return row

    def parse(self, row: Row) -> None:
        """Kind-specific checks on `row.parsed`; raise RowError."""

    def check_ownership(self, parsed: dict) -> None:
        """Owner and team from the row or the defaults, checked as the services check a
        hand-over, so a row the importer may not assign that way is rejected up front."""
        owner = parsed.get("owner") or self._default("owner", self.refs.user)
        team = parsed.get("team") or self._default("team", self.refs.team)
        if owner is not None and team is None and owner.team_ids:
            team = self.refs.team_by_id.get(owner.team_ids[0])
        if self.actor is not None and (owner is not None or team is not None):
            check_assignment(self.actor, owner=owner, team=team)
        parsed["owner"], parsed["team"] = owner, team

    def ownership(self, parsed: dict, obj: models.Model) -> None:
        link(obj, "owner", parsed.get("owner"))
        link(obj, "team", parsed.get("team"))

    def own_by_actor(self, obj: models.Model) -> None:
        """A record still without owner and team goes to its importer (as the services do), so
        that someone can see it."""
        actor = self.actor
        if actor is None or obj.owner_id is not None or obj.team_id is not None:
            return
        if actor.role in (Role.REP, Role.MANAGER):
            obj.owner = actor
            if actor.team_ids:
                obj.team_id = actor.team_ids[0]

    def _default(self, name: str, lookup: Callable[[Any], Any]):
        value = self.defaults.get(name)
        if value in (None, ""):
            return None
        try:
            return lookup(value)
        except ValidationError as exc:
            raise RowError(exc.messages) from exc

    # Writing ----------------------------------------------------------------------------------

    def write(self, rows: list[Row]) -> None:
        raise NotImplementedError

    def after_rollback(self) -> None:
        """Forget what the rolled-back batch put in memory (ids that no longer exist)."""

    def event(
        self,
        verb: str,
        obj: models.Model,
        *,
        before: dict | None = None,
        after: dict | None = None,
        content_type_id: int | None = None,
    ) -> EventRow:
        return EventRow(
            created_at=timezone.now(),
            actor_id=self.actor.pk if self.actor is not None else None,
            verb=verb,
            content_type_id=content_type_id or self.content_type.pk,
            object_id=obj.pk,
            object_repr=str(obj)[:200],
            before=to_json(before or {}),
            after=to_json(after or {}),
        )

    def created_event(self, obj: models.Model, fields: list[str], verb: str) -> EventRow:
        """The "<kind>.created" Event of a new record, dated when the record was created."""
        after = quick_snapshot(obj, fields)
        after["import"] = self.job.pk
        # As self.event(verb, obj) builds it, without the clock and JSON passes it needs
        # for nothing here (the date is the record's, `before` is empty).
        return EventRow(
            created_at=obj.created_at,
            actor_id=self.actor.pk if self.actor is not None else None,
            verb=verb,
            content_type_id=self.content_type.pk,
            object_id=obj.pk,
            object_repr=str(obj)[:200],
            before={},
            after=after,
        )

    def save_events(self, events: list[EventRow]) -> None:
        if events:
            self._events.insert([event.values() for event in events], returning=False)

    @staticmethod
    def fill_empty(obj: models.Model, values: dict[str, Any], keep: set[str]) -> dict[str, Any]:
        """The values that fill fields `obj` has empty (never those in `keep`)."""
        fill = {}
        for name, value in values.items():
            if name in keep or value in (None, "") or name == "custom":
                continue
            current = getattr(obj, name, None)
            if current is None or current == "":
                fill[name] = value
        return fill

    @staticmethod
    def absorb(row: Row, target: models.Model, fill: dict, custom: dict, updated: dict) -> None:
        """Fill `target`'s empty fields and missing custom values from a repeated row.

        Nothing to fill makes the row "skipped". The same record may be repeated several
        times in one batch: its changes are gathered in `updated` for one write, one Event.
        """
        custom = {k: v for k, v in custom.items() if k not in target.custom}
        if not fill and not custom:
            row.outcome = "skipped"
            return
        before = {name: getattr(target, name) for name in fill}
        for name, value in fill.items():
            setattr(target, name, value)
        if custom:
            before["custom"] = dict(target.custom)
            target.custom = {**target.custom, **custom}
            fill["custom"] = target.custom
        row.outcome = "updated"
        if target.pk is not None:
            _obj, all_before, all_fill = updated.setdefault(target.pk, (target, {}, {}))
            for name, value in before.items():
                all_before.setdefault(name, value)
            all_fill.update(fill)

    # Finishing --------------------------------------------------------------------------------

    def take_counts(self, rows: list[Row]) -> Counts:
        counts = Counts(processed=len(rows))
        for row in rows:
            if row.error:
                counts.rejected += 1
            elif row.outcome == "created":
                counts.created += 1
            elif row.outcome == "updated":
                counts.updated += 1
            else:
                counts.skipped += 1
        return counts

    def finish(self, *, dry_run: bool) -> None:
        """After the last batch (notifications and the like)."""
