"""Every write to pipelines and deals. A deal changes stage only through `deal_move_to_stage`."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lejek.core.concurrency import save_versioned
from lejek.core.custom_values import merge_custom
from lejek.core.events import changed, record_event, snapshot
from lejek.core.models import Reason
from lejek.core.reasons import check_reason
from lejek.core.records import (
    apply_values,
    ensure_editable,
    record_create,
    record_delete,
    record_update,
)
from lejek.pipeline.gates import check_gate, check_required_fields
from lejek.pipeline.models import (
    Deal,
    Pipeline,
    Stage,
    StageChange,
    visited_ids,
    visited_key,
)
from lejek.users.models import Role
from lejek.users.visibility import check_handover, prepare_owned

DEAL_FIELDS = [
    "title",
    "pipeline",
    "stage",
    "amount",
    "currency",
    "expected_close_date",
    "closed_at",
    "lost_reason",
    "company",
    "contact",
    "lead",
    "source",
    "owner",
    "team",
    "custom",
]


def ensure_admin(actor) -> None:
    """Pipelines and stages shape everyone's board: only admins (or Lejek itself) change them."""
    if actor is not None and actor.role != Role.ADMIN:
        raise PermissionDenied(_("Only admins define pipelines."))


@transaction.atomic
def pipeline_create(
    *,
    actor,
    name: str,
    stages: list[dict[str, Any]],
    is_default: bool = False,
    rotting_days: int | None = 30,
    after_sales_pipeline: Pipeline | None = None,
    follow_up_days: int | None = None,
) -> Pipeline:
    """Create a pipeline with its ordered stages: [{"name", "probability", "is_won", "is_lost",
    "required_fields"}]."""
    ensure_admin(actor)
    if is_default:
        Pipeline.objects.filter(is_default=True).update(is_default=False)
    pipeline = Pipeline(
        name=name,
        is_default=is_default,
        rotting_days=rotting_days,
        after_sales_pipeline=after_sales_pipeline,
        follow_up_days=follow_up_days,
        position=Pipeline.objects.count(),
    )
    pipeline.full_clean()
    pipeline.save()
    for position, spec in enumerate(stages):
        spec = dict(spec)
        if "required_fields" in spec:
            spec["required_fields"] = check_required_fields(spec["required_fields"])
        stage = Stage(pipeline=pipeline, position=position, **spec)
        stage.full_clean()
        stage.save()
    record_event(
        actor=actor,
        verb="pipeline.created",
        obj=pipeline,
        after={"name": name, "stages": [s["name"] for s in stages]},
    )
    return pipeline


def _check_stage(pipeline_id: int, stage: Stage) -> None:
    if stage.pipeline_id != pipeline_id:
        raise ValidationError({"stage": _("This stage belongs to another pipeline.")})


@transaction.atomic
def deal_create(
    *, actor, custom: dict | None = None, when: datetime.datetime | None = None, **values: Any
) -> Deal:
    deal = Deal()
    apply_values(deal, values)
    if deal.pipeline_id is None:
        deal.pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
        if deal.pipeline is None:
            raise ValidationError({"pipeline": _("Create a pipeline first.")})
    if deal.stage_id is None:
        deal.stage = deal.pipeline.stages.order_by("position").first()
    _check_stage(deal.pipeline_id, deal.stage)
    merge_custom("deal", deal, custom)
    when = when or timezone.now()
    deal.created_at = deal.updated_at = deal.stage_entered_at = when
    deal.stages_visited = visited_key([deal.stage.pk])
    if deal.stage.is_closed:
        deal.closed_at = when
    prepare_owned(actor, deal, creating=True)
    # After the owner is filled in: a rep's own deal meets an "owner" gate.
    check_gate(deal, deal.stage)
    record_create(actor=actor, obj=deal, fields=DEAL_FIELDS, verb="deal.created")
    StageChange.objects.create(
        deal=deal, from_stage=None, to_stage=deal.stage, changed_at=when, actor=actor
    )
    return deal


@transaction.atomic
def deal_update(
    *, actor, deal: Deal, values: dict[str, Any], expected_version: int | None = None
) -> Deal:
    """Edit a deal's fields. Stage moves go through `deal_move_to_stage`, so they leave history."""
    ensure_editable(actor, deal)
    values = dict(values)
    if "stage" in values and values["stage"] != deal.stage:
        raise ValidationError(
            {"stage": _("Move the deal to another stage with the stage control.")}
        )
    values.pop("stage", None)
    if "pipeline" in values and values["pipeline"] != deal.pipeline:
        raise ValidationError(
            {"pipeline": _("A deal cannot change pipeline; create a new deal instead.")}
        )
    check_handover(actor, deal, values)
    return record_update(
        actor=actor,
        obj=deal,
        values=values,
        fields=DEAL_FIELDS,
        expected_version=expected_version,
        verb="deal.updated",
        custom_entity="deal",
    )


@transaction.atomic
def deal_move_to_stage(
    *,
    actor,
    deal: Deal,
    stage: Stage,
    expected_version: int | None = None,
    lost_reason: str = "",
    when: datetime.datetime | None = None,
) -> StageChange | None:
    """Move `deal` to `stage`, writing one StageChange. Moving out of won/lost reopens it."""
    ensure_editable(actor, deal)
    _check_stage(deal.pipeline_id, stage)
    if stage.pk == deal.stage_id:
        return None
    check_gate(deal, stage)
    if stage.is_lost:
        if not lost_reason.strip():
            raise ValidationError({"lost_reason": _("Say why the deal was lost.")})
        lost_reason = check_reason(Reason.Kind.DEAL_LOST, lost_reason, field="lost_reason")
    when = when or timezone.now()
    previous, entered = deal.stage, deal.stage_entered_at
    deal.stage = stage
    deal.stage_entered_at = when
    deal.closed_at = when if stage.is_closed else None
    deal.lost_reason = lost_reason.strip() if stage.is_lost else ""
    save_versioned(
        deal,
        fields=["stage", "stage_entered_at", "closed_at", "lost_reason"],
        expected_version=expected_version,
    )
    # Read after the deal's row is updated (and so locked): a concurrent move of the same
    # deal has committed by now, and its stage is in the list.
    visited = visited_ids(Deal.objects.values_list("stages_visited", flat=True).get(pk=deal.pk))
    change = StageChange.objects.create(
        deal=deal,
        from_stage=previous,
        to_stage=stage,
        changed_at=when,
        from_stage_entered_at=entered,
        actor=actor,
    )
    deal.stages_visited = visited_key([*visited, stage.pk])
    if stage.pk not in visited:
        Deal.objects.filter(pk=deal.pk).update(stages_visited=deal.stages_visited)
    verb = "deal.reopened" if previous.is_closed and not stage.is_closed else "deal.stage_changed"
    record_event(
        actor=actor,
        verb=verb,
        obj=deal,
        before={"stage": previous.pk},
        after={"stage": stage.pk, "lost_reason": deal.lost_reason},
    )
    return change


@transaction.atomic
def deal_delete(*, actor, deal: Deal) -> None:
    ensure_editable(actor, deal)
    record_delete(actor=actor, obj=deal, fields=DEAL_FIELDS, verb="deal.deleted")


# Pipeline settings --------------------------------------------------------------------------

PIPELINE_FIELDS = ["name", "is_default", "rotting_days", "after_sales_pipeline", "follow_up_days"]
STAGE_FIELDS = ["name", "probability", "is_won", "is_lost", "required_fields"]
# Positions are parked this far up while a pipeline's stages are renumbered, so that the
# unique (pipeline, position) constraint holds after every single-row UPDATE.
PARKED = 100_000


@transaction.atomic
def pipeline_update(*, actor, pipeline: Pipeline, values: dict[str, Any]) -> Pipeline:
    """Rename a pipeline, make it the default, or change when its deals start rotting."""
    ensure_admin(actor)
    unknown = set(values) - set(PIPELINE_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    before = snapshot(pipeline, PIPELINE_FIELDS)
    if pipeline.is_default and values.get("is_default") is False:
        raise ValidationError(
            {"is_default": _("One pipeline is always the default; make another one the default.")}
        )
    apply_values(pipeline, values)
    if pipeline.is_default and not before["is_default"]:
        # Taken from the old default first: one default is a database constraint.
        Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk).update(is_default=False)
    pipeline.full_clean()
    old, new = changed(before, snapshot(pipeline, PIPELINE_FIELDS))
    if new:
        pipeline.save(update_fields=list(new))
        record_event(actor=actor, verb="pipeline.updated", obj=pipeline, before=old, after=new)
    return pipeline


def _ordered_stages(pipeline: Pipeline) -> list[Stage]:
    return list(Stage.objects.select_for_update().filter(pipeline=pipeline).order_by("position"))


def _renumber(stages: list[Stage]) -> None:
    """Store `stages` at positions 0..n-1 in the order given."""
    ids = [stage.pk for stage in stages]
    Stage.objects.filter(pk__in=ids).update(position=F("position") + PARKED)
    for position, stage in enumerate(stages):
        Stage.objects.filter(pk=stage.pk).update(position=position)
        stage.position = position


def _clean_stage_values(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(STAGE_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    values = dict(values)
    probability = values.get("probability")
    if probability is not None and not 0 <= probability <= 100:
        raise ValidationError({"probability": _("Give a percentage from 0 to 100.")})
    if "required_fields" in values:
        values["required_fields"] = check_required_fields(values["required_fields"] or [])
    return values


@transaction.atomic
def stage_create(
    *, actor, pipeline: Pipeline, values: dict[str, Any], position: int | None = None
) -> Stage:
    """Add a stage. Without a position an open stage goes before the won and lost ones, a
    closed stage at the end."""
    ensure_admin(actor)
    stages = _ordered_stages(pipeline)
    stage = Stage(pipeline=pipeline, position=PARKED + len(stages))
    apply_values(stage, _clean_stage_values(values))
    stage.full_clean()
    stage.save()
    if position is None:
        closed = [i for i, s in enumerate(stages) if s.is_closed]
        position = closed[0] if closed and not stage.is_closed else len(stages)
    stages.insert(max(0, min(position, len(stages))), stage)
    _renumber(stages)
    record_event(actor=actor, verb="stage.created", obj=stage, after=snapshot(stage, STAGE_FIELDS))
    return stage


@transaction.atomic
def stage_update(*, actor, stage: Stage, values: dict[str, Any]) -> Stage:
    """Rename a stage, change its probability, won/lost flag or required fields."""
    ensure_admin(actor)
    values = _clean_stage_values(values)
    before = snapshot(stage, STAGE_FIELDS)
    apply_values(stage, values)
    stage.full_clean()
    old, new = changed(before, snapshot(stage, STAGE_FIELDS))
    flags_changed = "is_won" in new or "is_lost" in new
    if flags_changed and Deal.objects.filter(stage=stage).exists():
        # The deals in it were closed (or not) when they entered; flipping the flag under
        # them would leave their close dates and the win figures wrong.
        raise ValidationError(
            {
                "is_won": _(
                    "Move the deals out of this stage before changing whether it is won or lost."
                )
            }
        )
    if new:
        stage.save(update_fields=list(new))
        record_event(actor=actor, verb="stage.updated", obj=stage, before=old, after=new)
    return stage


@transaction.atomic
def stage_move(*, actor, stage: Stage, position: int) -> Stage:
    """Put `stage` at `position` (0 = first column) among its pipeline's stages."""
    ensure_admin(actor)
    stages = [s for s in _ordered_stages(stage.pipeline) if s.pk != stage.pk]
    before = stage.position
    position = max(0, min(position, len(stages)))
    stages.insert(position, stage)
    _renumber(stages)
    if before != position:
        record_event(
            actor=actor,
            verb="stage.moved",
            obj=stage,
            before={"position": before},
            after={"position": position},
        )
    return stage


@transaction.atomic
def stage_delete(*, actor, stage: Stage) -> None:
    """Delete a stage no deal sits in and none has passed through.

    Stage history (StageChange) is what conversion and cycle-time figures are computed from,
    so a stage that appears in it is kept; rename it or move it instead.
    """
    ensure_admin(actor)
    stages = _ordered_stages(stage.pipeline)
    if len(stages) == 1:
        raise ValidationError({"stage": _("A pipeline needs at least one stage.")})
    count = Deal.objects.filter(stage=stage).count()
    if count:
        raise ValidationError(
            {
                "stage": ngettext(
                    "%(n)d deal is in this stage. Move it to another stage first.",
                    "%(n)d deals are in this stage. Move them to another stage first.",
                    count,
                )
                % {"n": count}
            }
        )
    if StageChange.objects.filter(Q(from_stage=stage) | Q(to_stage=stage)).exists():
        raise ValidationError(
            {
                "stage": _(
                    "Deals have passed through this stage and the reports still count them "
                    "there, so it cannot be deleted. Rename it or move it instead."
                )
            }
        )
    record_event(actor=actor, verb="stage.deleted", obj=stage, before=snapshot(stage, STAGE_FIELDS))
    deleted = stage.pk
    stage.delete()
    _renumber([s for s in stages if s.pk != deleted])
