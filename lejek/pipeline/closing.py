"""Closing a deal: won with its final amount and date, or lost with a reason from the list.

Both are stage moves (so the stage history and every figure built on it see them) plus an
Event that reports read: `deal.won` with the amount, `deal.lost` with the reason.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lejek.activities.services import activity_log
from lejek.core.concurrency import CONFLICT_MESSAGE
from lejek.core.errors import ConflictError
from lejek.core.events import record_event
from lejek.core.models import Reason
from lejek.core.reasons import check_reason
from lejek.core.records import ensure_editable
from lejek.pipeline.models import Deal, Stage
from lejek.pipeline.services import deal_move_to_stage, deal_update


def closing_stage(deal: Deal, *, won: bool) -> Stage:
    stage = deal.pipeline.stages.filter(is_won=won, is_lost=not won).order_by("position").first()
    if stage is None:
        message = (
            _("This pipeline has no won stage.") if won else _("This pipeline has no lost stage.")
        )
        raise ValidationError(message)
    return stage


def closed_moment(day: datetime.date) -> datetime.datetime:
    """Today means now; an earlier day its local noon (the day counts, not the hour)."""
    now = timezone.localtime()
    if day == now.date():
        return now
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def _lock(actor, deal: Deal, expected_version: int | None) -> Deal:
    ensure_editable(actor, deal)
    current = Deal.objects.select_for_update(of=("self",)).get(pk=deal.pk)
    if expected_version is not None and current.version != expected_version:
        raise ConflictError(CONFLICT_MESSAGE())
    return current


@transaction.atomic
def deal_win(
    *,
    actor,
    deal: Deal,
    amount: Decimal | None,
    closed_on: datetime.date,
    expected_version: int | None = None,
) -> Deal:
    deal = _lock(actor, deal, expected_version)
    if deal.stage.is_won:
        raise ValidationError(_("This deal is already won."))
    if closed_on > timezone.localdate():
        raise ValidationError({"closed_on": _("A deal cannot be won in the future.")})
    if closed_on < timezone.localtime(deal.created_at).date():
        raise ValidationError({"closed_on": _("A deal cannot be won before it was created.")})
    amount = deal.amount if amount is None else amount
    if amount is None:
        raise ValidationError({"amount": _("Give the final amount.")})
    if amount != deal.amount:
        deal_update(actor=actor, deal=deal, values={"amount": amount})
    deal_move_to_stage(
        actor=actor, deal=deal, stage=closing_stage(deal, won=True), when=closed_moment(closed_on)
    )
    record_event(
        actor=actor,
        verb="deal.won",
        obj=deal,
        after={
            "amount": str(amount),
            "currency": deal.currency,
            "closed_on": closed_on.isoformat(),
        },
    )
    return deal


@transaction.atomic
def deal_lose(
    *,
    actor,
    deal: Deal,
    reason: str,
    comment: str = "",
    expected_version: int | None = None,
) -> Deal:
    deal = _lock(actor, deal, expected_version)
    if deal.stage.is_lost:
        raise ValidationError(_("This deal is already lost."))
    reason = check_reason(Reason.Kind.DEAL_LOST, reason)
    comment = (comment or "").strip()
    deal_move_to_stage(
        actor=actor, deal=deal, stage=closing_stage(deal, won=False), lost_reason=reason
    )
    if comment:
        activity_log(
            actor=actor,
            subject=deal,
            kind="note",
            subject_line=_("Lost: %(reason)s") % {"reason": reason},
            body=comment,
        )
    record_event(
        actor=actor, verb="deal.lost", obj=deal, after={"reason": reason, "comment": comment}
    )
    return deal
