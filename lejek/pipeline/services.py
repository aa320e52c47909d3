"""Every write to pipelines and deals. A deal changes stage only through `deal_move_to_stage`."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lejek.core.concurrency import save_versioned
from lejek.core.custom_values import merge_custom
from lejek.core.events import record_event
from lejek.core.records import (
    apply_values,
    ensure_editable,
    record_create,
    record_delete,
    record_update,
)
from lejek.pipeline.models import Deal, Pipeline, Stage, StageChange
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


@transaction.atomic
def pipeline_create(
    *, actor, name: str, stages: list[dict[str, Any]], is_default: bool = False
) -> Pipeline:
    """Create a pipeline with its ordered stages: [{"name", "probability", "is_won", "is_lost"}]."""
    if actor is not None and actor.role != Role.ADMIN:
        raise PermissionDenied(_("Only admins define pipelines."))
    pipeline = Pipeline(name=name, is_default=is_default, position=Pipeline.objects.count())
    pipeline.full_clean()
    pipeline.save()
    for position, spec in enumerate(stages):
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
    when = when or timezone.now()
    deal.created_at = deal.updated_at = deal.stage_entered_at = when
    if deal.stage.is_closed:
        deal.closed_at = when
    merge_custom("deal", deal, custom)
    prepare_owned(actor, deal, creating=True)
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
    if stage.is_lost and not lost_reason.strip():
        raise ValidationError({"lost_reason": _("Say why the deal was lost.")})
    when = when or timezone.now()
    previous = deal.stage
    deal.stage = stage
    deal.stage_entered_at = when
    deal.closed_at = when if stage.is_closed else None
    deal.lost_reason = lost_reason.strip() if stage.is_lost else ""
    save_versioned(
        deal,
        fields=["stage", "stage_entered_at", "closed_at", "lost_reason"],
        expected_version=expected_version,
    )
    change = StageChange.objects.create(
        deal=deal, from_stage=previous, to_stage=stage, changed_at=when, actor=actor
    )
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
