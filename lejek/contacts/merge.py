"""Merging two records of one kind (leads, contacts or companies) into one, and undoing it.

The chosen record, the survivor, is kept. Its empty fields (custom fields too) take the other
record's values; every row that points at the other record is pointed at the survivor; the
other record is deleted and a `Merge` row remembers what it was and what moved.

What moves is found generically, from the model's reverse relations (every one-to-many and
one-to-one foreign key pointing at it, hidden ones included), so a new app whose rows point at
a lead, contact or company needs no change here. The Event log is linked by (content_type,
object_id) rather than a foreign key: the other record's events are re-pointed to the survivor
too, so its timeline shows the whole history, and their ids are kept in `moved` like any other
row, under "core.event.object_id".

`merge_undo` puts everything back within `UNDO_WINDOW`: the other record comes back with its
old id and fields, exactly the rows that moved move back, and the survivor's filled fields
are emptied again unless someone changed them since.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from lejek.contacts.models import Merge
from lejek.core.concurrency import save_versioned
from lejek.core.errors import DomainError
from lejek.core.events import record_event, to_json
from lejek.core.models import Event
from lejek.core.records import ensure_editable

UNDO_WINDOW = datetime.timedelta(days=30)
# By label: leads build on contacts, so this module names them without importing the app.
MERGEABLE = {"lead": "leads.Lead", "contact": "contacts.Contact", "company": "contacts.Company"}
# Identity and bookkeeping: never copied from the other record.
NOT_FILLED = frozenset({"id", "version", "created_at", "updated_at", "custom"})
EVENTS_KEY = "core.event.object_id"
# Rows whose stored data depends on the order of their record's other rows: after rows move
# between records, the function (by dotted path, like MERGEABLE by label) recomputes it for
# the records that changed: {model label: "module.function(record ids)"}.
RELINK_AFTER_MOVE = {"leads.LeadStatusChange": "lejek.leads.status_history.relink"}
# A chain of merges longer than this is a loop or nonsense; resolution stops there.
MAX_HOPS = 20
# Keeps `pk IN (...)` lists well under every database's parameter limit.
CHUNK = 500


class MergeError(DomainError):
    """A merge or an undo the rules refuse; the message says why."""


@dataclass
class UndoResult:
    merge: Merge
    restored: models.Model
    # Verbose names of the survivor's fields changed after the merge, so left as they are now.
    kept: list[str] = field(default_factory=list)


def kind_of(model: type[models.Model]) -> str:
    for kind, label in MERGEABLE.items():
        if model._meta.label == label:
            return kind
    raise MergeError(_("Only leads, contacts and companies can be merged."))


def model_for(kind: str) -> type[models.Model]:
    """The model of a kind named in a URL ("lead", "contact", "company")."""
    if kind not in MERGEABLE:
        raise MergeError(_("Only leads, contacts and companies can be merged."))
    return apps.get_model(MERGEABLE[kind])


def model_of(merge: Merge) -> type[models.Model]:
    return merge.content_type.model_class()


# Merging ------------------------------------------------------------------------------------


def record_merge(*, actor, survivor: models.Model, other: models.Model) -> Merge:
    """Merge `other` into `survivor` (same kind; the actor must be able to edit both).

    Both rows are locked for the transaction, so two people merging the same records at once
    are serialised: the second one is told the record no longer exists.
    """
    model = type(survivor)
    if type(other) is not model:
        raise MergeError(_("Only two records of the same kind can be merged."))
    kind = kind_of(model)
    if survivor.pk == other.pk:
        raise MergeError(_("A record cannot be merged into itself."))
    with transaction.atomic():
        survivor, other = _lock_both(model, survivor.pk, other.pk)
        ensure_editable(actor, survivor)
        ensure_editable(actor, other)
        merged_data = _field_values(other)
        merged_repr = str(other)[:200]
        moved = _move_related(source=other, target=survivor)
        moved.update(_move_events(model, source_id=other.pk, target_id=survivor.pk))
        filled = _fill_empty(survivor, other)
        if filled:
            names = sorted({name.split(".")[0] for name in filled})
            save_versioned(survivor, fields=names, expected_version=None)
        merge = Merge.objects.create(
            content_type=ContentType.objects.get_for_model(model),
            survivor_id=survivor.pk,
            merged_id=other.pk,
            merged_repr=merged_repr,
            merged_data=merged_data,
            filled=filled,
            moved=moved,
            actor=actor,
        )
        # Everything that pointed at it has moved, so deleting cascades to nothing.
        other.delete()
        record_event(
            actor=actor,
            verb=f"{kind}.merged",
            obj=survivor,
            before={name: change["before"] for name, change in filled.items()},
            after={
                "merged_id": merge.merged_id,
                "merged": merged_repr,
                "merge": merge.pk,
                **{name: change["after"] for name, change in filled.items()},
            },
        )
    return merge


def _lock_both(model, survivor_id: int, other_id: int) -> tuple[models.Model, models.Model]:
    # Locked in id order, so two opposite merges of one pair cannot deadlock.
    rows = model._default_manager.select_for_update().filter(pk__in=[survivor_id, other_id])
    found = {obj.pk: obj for obj in rows.order_by("pk")}
    for pk in (survivor_id, other_id):
        if pk not in found:
            raise MergeError(
                _(
                    "%(kind)s #%(id)s no longer exists: it was merged or deleted in the "
                    "meantime. Reload the page and try again."
                )
                % {"kind": str(model._meta.verbose_name).capitalize(), "id": pk}
            )
    return found[survivor_id], found[other_id]


def _field_values(obj: models.Model) -> dict[str, Any]:
    """Every stored column of `obj`, as JSON, enough to insert it again."""
    return {f.attname: to_json(getattr(obj, f.attname)) for f in obj._meta.concrete_fields}


def _reverse_foreign_keys(model) -> list[models.ForeignObjectRel]:
    """One-to-many and one-to-one relations pointing at `model`, hidden ones too.

    A many-to-many link shows up here as its through table's foreign key, so it moves too.
    """
    return [
        rel
        for rel in model._meta.get_fields(include_hidden=True)
        if rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)
    ]


def _key(field: models.Field) -> str:
    return f"{field.model._meta.app_label}.{field.model._meta.model_name}.{field.name}"


def _move_related(*, source: models.Model, target: models.Model) -> dict[str, list[int]]:
    moved: dict[str, list[int]] = {}
    for rel in _reverse_foreign_keys(type(source)):
        fk = rel.field
        rows = rel.related_model._base_manager
        ids = list(rows.filter(**{fk.attname: source.pk}).values_list("pk", flat=True))
        if not ids:
            continue
        try:
            # A savepoint, so that a clash leaves a clean transaction for the error message.
            with transaction.atomic():
                for chunk in _chunks(ids):
                    rows.filter(pk__in=chunk).update(**{fk.attname: target.pk})
        except IntegrityError:
            raise MergeError(
                _(
                    "Both records have their own %(things)s and only one is allowed, so they "
                    "cannot be merged automatically."
                )
                % {"things": rel.related_model._meta.verbose_name_plural}
            ) from None
        moved[_key(fk)] = ids
        _relink(rel.related_model, [target.pk])
    return moved


def _relink(model, record_ids: list[int]) -> None:
    path = RELINK_AFTER_MOVE.get(model._meta.label)
    if path is not None:
        import_string(path)(record_ids)


def _move_events(model, *, source_id: int, target_id: int) -> dict[str, list[int]]:
    """The other record's history joins the survivor's timeline (see the module docstring)."""
    content_type = ContentType.objects.get_for_model(model)
    rows = Event.objects.filter(content_type=content_type, object_id=source_id)
    ids = list(rows.values_list("pk", flat=True))
    if not ids:
        return {}
    for chunk in _chunks(ids):
        Event.objects.filter(pk__in=chunk).update(object_id=target_id)
    return {EVENTS_KEY: ids}


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]


def is_empty(value: Any) -> bool:
    return value is None or value == ""


def fillable_fields(model) -> list[models.Field]:
    """The survivor's fields that can take the other's value when they are empty."""
    return [
        f
        for f in model._meta.concrete_fields
        if f.editable and not f.primary_key and f.name not in NOT_FILLED
    ]


def _fill_empty(survivor: models.Model, other: models.Model) -> dict[str, dict[str, Any]]:
    """Copy the other's values into the survivor's empty fields; return what changed.

    The result maps a field name, or "custom.<key>" for a custom field, to its value before and
    after; a custom key the survivor did not have at all is marked "absent".
    """
    filled: dict[str, dict[str, Any]] = {}
    for f in fillable_fields(type(survivor)):
        mine, theirs = getattr(survivor, f.attname), getattr(other, f.attname)
        if is_empty(mine) and not is_empty(theirs):
            setattr(survivor, f.attname, theirs)
            filled[f.name] = {"before": to_json(mine), "after": to_json(theirs)}
    custom = dict(survivor.custom or {})
    for key, theirs in (other.custom or {}).items():
        if is_empty(custom.get(key)) and not is_empty(theirs):
            filled[f"custom.{key}"] = {
                "before": custom.get(key),
                "after": theirs,
                "absent": key not in custom,
            }
            custom[key] = theirs
    survivor.custom = custom
    return filled


def merge_preview(survivor: models.Model, other: models.Model) -> dict[str, dict[str, Any]]:
    """What `record_merge` would fill in on the survivor, computed without writing."""
    probe = type(survivor)._default_manager.get(pk=survivor.pk)
    return _fill_empty(probe, other)


def related_counts(obj: models.Model) -> list[tuple[str, int]]:
    """(what, how many) of the rows that would move with `obj` in a merge, for the preview."""
    counts = []
    for rel in _reverse_foreign_keys(type(obj)):
        n = rel.related_model._base_manager.filter(**{rel.field.attname: obj.pk}).count()
        if n:
            meta = rel.related_model._meta
            counts.append((str(meta.verbose_name_plural if n != 1 else meta.verbose_name), n))
    return counts


# Finding where a merged record went ---------------------------------------------------------


def resolve_merged(model, pk: int) -> int | None:
    """The id record `pk` now lives on, following merges of merges, or None if never merged."""
    content_type = ContentType.objects.get_for_model(model)
    current = pk
    for _hop in range(MAX_HOPS):
        survivor_id = (
            Merge.objects.filter(
                content_type=content_type, merged_id=current, undone_at__isnull=True
            )
            .order_by("-created_at", "-id")
            .values_list("survivor_id", flat=True)
            .first()
        )
        if survivor_id is None:
            break
        current = survivor_id
    return None if current == pk else current


# Undoing ------------------------------------------------------------------------------------


def undo_deadline(merge: Merge) -> datetime.datetime:
    return merge.created_at + UNDO_WINDOW


def is_undoable(merge: Merge, now: datetime.datetime | None = None) -> bool:
    return merge.undone_at is None and (now or timezone.now()) <= undo_deadline(merge)


def merge_undo(*, actor, merge: Merge) -> UndoResult:
    """Recreate the merged record with its old id, move back what moved, unfill the survivor.

    A survivor field changed since the merge keeps its new value; `UndoResult.kept` names it.
    """
    with transaction.atomic():
        merge = _lock_merge(merge.pk)
        model = model_of(merge)
        kind = kind_of(model)
        survivor = model._default_manager.select_for_update().filter(pk=merge.survivor_id).first()
        if survivor is None:
            raise MergeError(
                _(
                    "The record this one was merged into no longer exists (it was merged "
                    "again or deleted). Undo that merge first."
                )
            )
        ensure_editable(actor, survivor)
        if model._base_manager.filter(pk=merge.merged_id).exists():
            raise MergeError(_("A record with the old id exists again; nothing was changed."))
        restored = _recreate(model, merge.merged_data)
        ensure_editable(actor, restored)
        _move_back(merge)
        kept = _unfill(survivor, merge.filled)
        merge.undone_at = timezone.now()
        merge.undone_by = actor
        merge.save(update_fields=["undone_at", "undone_by"])
        record_event(
            actor=actor,
            verb=f"{kind}.merge_undone",
            obj=survivor,
            after={"restored_id": restored.pk, "merge": merge.pk, "kept": kept},
        )
        record_event(actor=actor, verb=f"{kind}.restored", obj=restored, after={"merge": merge.pk})
    return UndoResult(merge=merge, restored=restored, kept=kept)


def _lock_merge(pk: int) -> Merge:
    merge = Merge.objects.select_for_update().filter(pk=pk).first()
    if merge is None:
        raise MergeError(_("This merge no longer exists."))
    if merge.undone_at is not None:
        raise MergeError(_("This merge has already been undone."))
    if not is_undoable(merge):
        raise MergeError(
            _("Merges can be undone for %(days)s days; this one is older and stays as it is.")
            % {"days": UNDO_WINDOW.days}
        )
    return merge


def _recreate(model, data: dict[str, Any]) -> models.Model:
    values = {}
    for f in model._meta.concrete_fields:
        if f.attname in data:
            raw = data[f.attname]
            values[f.attname] = raw if isinstance(f, models.JSONField) else f.to_python(raw)
    obj = model(**values)
    obj.save(force_insert=True)
    return obj


def _move_back(merge: Merge) -> None:
    """Exactly the rows that moved go back; those re-linked elsewhere since stay where they are."""
    for key, ids in merge.moved.items():
        app_label, model_name, field_name = key.split(".")
        related_model = apps.get_model(app_label, model_name)
        attname = related_model._meta.get_field(field_name).attname
        rows = related_model._base_manager
        for chunk in _chunks(ids):
            rows.filter(pk__in=chunk, **{attname: merge.survivor_id}).update(
                **{attname: merge.merged_id}
            )
        _relink(related_model, [merge.survivor_id, merge.merged_id])


def _unfill(survivor: models.Model, filled: dict[str, dict[str, Any]]) -> list[str]:
    """Empty the survivor's filled fields again, unless changed since; return those kept."""
    kept: list[str] = []
    changed: set[str] = set()
    custom = dict(survivor.custom or {})
    for name, change in filled.items():
        if name.startswith("custom."):
            key = name.removeprefix("custom.")
            if custom.get(key) != change["after"]:
                kept.append(key)
                continue
            if change.get("absent"):
                custom.pop(key, None)
            else:
                custom[key] = change["before"]
            changed.add("custom")
            continue
        f = survivor._meta.get_field(name)
        if to_json(getattr(survivor, f.attname)) != change["after"]:
            kept.append(str(f.verbose_name))
            continue
        setattr(survivor, f.attname, f.to_python(change["before"]))
        changed.add(name)
    survivor.custom = custom
    if changed:
        save_versioned(survivor, fields=sorted(changed), expected_version=None)
    return kept
