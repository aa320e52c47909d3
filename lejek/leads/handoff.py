"""The hand-off of marketing-qualified leads to sales, and sales' answer.

A lead that becomes marketing-qualified is offered to its owner with a deadline
(`HandoffSettings.accept_within_hours`). The owner, or a manager or admin who may edit the lead,
accepts it (the lead becomes sales-qualified) or rejects it with a reason from the "Lead
rejected" list (the lead goes back to contacted, and marketing sees why). A lead that leaves
marketing-qualified any other way withdraws its waiting hand-off. Each `Handoff` row keeps the
source the lead had when offered, so the per-source figures stay true.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import NullIf
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from lejek.core.events import record_event
from lejek.core.models import Reason
from lejek.core.reasons import check_reason
from lejek.leads.models import Handoff, HandoffSettings, Lead, LeadStatusChange
from lejek.users.models import Role
from lejek.users.services import notify

Outcome = Handoff.Outcome
MAX_HOURS = 24 * 30
MAX_COMMENT = 2000


def _person(actor):
    return actor if actor is not None and actor.pk else None


# Opening and closing, called by lifecycle.status_changed ----------------------------------


def handoff_open(*, actor, lead: Lead) -> Handoff:
    """Offer a lead that just became marketing-qualified to its owner, with a deadline."""
    now = timezone.now()
    hours = HandoffSettings.current().accept_within_hours
    offer = Handoff.objects.create(
        lead=lead,
        source_id=lead.source_id,
        owner_id=lead.owner_id,
        offered_at=now,
        due_at=now + datetime.timedelta(hours=hours),
    )
    record_event(
        actor=actor,
        verb="lead.offered",
        obj=lead,
        after={"handoff": offer.pk, "owner": lead.owner_id, "due_at": offer.due_at},
    )
    if lead.owner_id is not None:
        _notify_owner(actor=actor, lead=lead, offer=offer)
    return offer


def _notify_owner(*, actor, lead: Lead, offer: Handoff) -> None:
    rep = lead.owner
    with translation.override(rep.language):
        due = formats.date_format(timezone.localtime(offer.due_at), "SHORT_DATETIME_FORMAT")
        text = _("Marketing-qualified lead for you: %(lead)s. Accept or reject it by %(due)s.") % {
            "lead": lead,
            "due": due,
        }
    notify(recipient=rep, actor=actor, kind="lead.offered", text=text, url=lead.get_absolute_url())


def handoff_withdraw(*, actor, lead: Lead) -> int:
    """Close a waiting hand-off because the lead left marketing-qualified another way."""
    closed = Handoff.objects.filter(lead=lead, outcome=Outcome.PENDING).update(
        outcome=Outcome.WITHDRAWN, decided_at=timezone.now(), decided_by=_person(actor)
    )
    if closed:
        record_event(
            actor=actor, verb="lead.handoff_withdrawn", obj=lead, after={"status": lead.status}
        )
    return closed


# Sales' answer ------------------------------------------------------------------------------


def can_answer(user, lead: Lead) -> bool:
    """The lead's owner, or a manager or admin who may edit it, answers its hand-off."""
    if user is None or not user.is_authenticated:
        return False
    if lead.owner_id == user.pk:
        return user.role != Role.MARKETING
    if user.role not in (Role.ADMIN, Role.MANAGER):
        return False
    return Lead.objects.editable_by(user).filter(pk=lead.pk).exists()


def _waiting(actor, lead: Lead) -> tuple[Lead, Handoff]:
    """The lead, locked and fresh, and its waiting hand-off; refusals as domain errors."""
    current = Lead.objects.select_for_update(of=("self",)).get(pk=lead.pk)
    if actor is not None and not can_answer(actor, current):
        raise PermissionDenied(
            _("Only the lead's owner, or a manager of its team, answers the hand-off.")
        )
    if current.status != Lead.Status.MQL:
        raise ValidationError(
            _("Only a marketing-qualified lead waiting for sales can be answered.")
        )
    offer = (
        Handoff.objects.select_for_update().filter(lead=current, outcome=Outcome.PENDING).first()
    )
    if offer is None:
        # Marketing-qualified before hand-offs were recorded: answer it as offered just now.
        now = timezone.now()
        offer = Handoff.objects.create(
            lead=current, source_id=current.source_id, owner_id=current.owner_id, due_at=now
        )
    return current, offer


def _close(offer: Handoff, *, actor, outcome: str, reason: str = "", comment: str = "") -> None:
    offer.outcome = outcome
    offer.decided_at = timezone.now()
    offer.decided_by = _person(actor)
    offer.reason, offer.comment = reason, comment
    offer.save(update_fields=["outcome", "decided_at", "decided_by", "reason", "comment"])


@transaction.atomic
def lead_accept(*, actor, lead: Lead, expected_version: int | None = None) -> Lead:
    """Sales takes the lead: it becomes sales-qualified and the hand-off is accepted."""
    from lejek.leads.lifecycle import ACCEPT
    from lejek.leads.services import lead_update  # services reach this module via lifecycle

    current, offer = _waiting(actor, lead)
    _close(offer, actor=actor, outcome=Outcome.ACCEPTED)
    current = lead_update(
        actor=actor,
        lead=current,
        values={"status": Lead.Status.SQL},
        expected_version=expected_version,
        via=ACCEPT,
    )
    record_event(
        actor=actor,
        verb="lead.accepted",
        obj=current,
        after={"handoff": offer.pk, "overdue": offer.decided_at > offer.due_at},
    )
    return current


@transaction.atomic
def lead_reject(
    *, actor, lead: Lead, reason: str, comment: str = "", expected_version: int | None = None
) -> Lead:
    """Sales sends the lead back with a reason from the list: it returns to contacted, and
    marketing sees the reason and comment on the lead and in the hand-off report.

    The person who marked it marketing-qualified is told.
    """
    from lejek.leads.lifecycle import REJECT
    from lejek.leads.services import lead_update  # services reach this module via lifecycle

    reason = check_reason(Reason.Kind.LEAD_REJECTED, reason)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError(
            {"comment": _("Keep the comment under %(n)d characters.") % {"n": MAX_COMMENT}}
        )
    current, offer = _waiting(actor, lead)
    _close(offer, actor=actor, outcome=Outcome.REJECTED, reason=reason, comment=comment)
    current = lead_update(
        actor=actor,
        lead=current,
        values={"status": Lead.Status.CONTACTED},
        expected_version=expected_version,
        via=REJECT,
    )
    record_event(
        actor=actor,
        verb="lead.rejected",
        obj=current,
        after={"handoff": offer.pk, "reason": reason, "comment": comment},
    )
    _tell_qualifier(actor=actor, lead=current, offer=offer)
    return current


def _tell_qualifier(*, actor, lead: Lead, offer: Handoff) -> None:
    qualified = (
        LeadStatusChange.objects.filter(lead=lead, to_status=Lead.Status.MQL, actor__isnull=False)
        .select_related("actor")
        .order_by("-changed_at", "-id")
        .first()
    )
    if qualified is None:
        return
    person = qualified.actor
    with translation.override(person.language):
        text = _("Sales rejected %(lead)s: %(reason)s") % {"lead": lead, "reason": offer.reason}
    notify(
        recipient=person, actor=actor, kind="lead.rejected", text=text, url=lead.get_absolute_url()
    )


@transaction.atomic
def handoff_settings_update(*, actor, accept_within_hours: int) -> HandoffSettings:
    """Admins set how long sales has to answer. Hand-offs already open keep their deadline."""
    if actor is not None and actor.role != Role.ADMIN:
        raise PermissionDenied(_("Only admins change the hand-off deadline."))
    if not isinstance(accept_within_hours, int) or not 1 <= accept_within_hours <= MAX_HOURS:
        raise ValidationError(
            {
                "accept_within_hours": _("Give a whole number of hours from 1 to %(max)d.")
                % {"max": MAX_HOURS}
            }
        )
    current = HandoffSettings.current()
    before = current.accept_within_hours
    if before != accept_within_hours:
        current.accept_within_hours = accept_within_hours
        current.save(update_fields=["accept_within_hours"])
        record_event(
            actor=actor,
            verb="handoff_settings.updated",
            obj=current,
            before={"accept_within_hours": before},
            after={"accept_within_hours": accept_within_hours},
        )
    return current


# Reads --------------------------------------------------------------------------------------


def visible_handoffs(user) -> QuerySet[Handoff]:
    return Handoff.objects.filter(lead__in=Lead.objects.visible_to(user).values("pk"))


def overdue_handoffs(user, *, now: datetime.datetime | None = None) -> QuerySet[Handoff]:
    """Waiting hand-offs past their deadline, on leads `user` sees, the longest overdue first."""
    now = now or timezone.now()
    return (
        visible_handoffs(user)
        .overdue(now)
        .select_related("lead", "owner", "source")
        .order_by("due_at", "pk")
    )


def rejected_lead_ids_q() -> Q:
    """Leads whose latest hand-off sales rejected: `Lead.objects.filter(rejected_lead_ids_q())`.

    Scoring leaves these alone: a lead sales sent back is not marketing-qualified again by its
    score, only by hand (which opens a new, later hand-off).
    """
    later = Handoff.objects.filter(lead_id=OuterRef("lead_id"), pk__gt=OuterRef("pk"))
    rejected = Handoff.objects.filter(lead_id=OuterRef("pk"), outcome=Outcome.REJECTED).exclude(
        Exists(later)
    )
    return Q(Exists(rejected))


def was_rejected_by_sales(lead_id: int) -> bool:
    return Lead.objects.filter(pk=lead_id).filter(rejected_lead_ids_q()).exists()


def _in_period(rows: QuerySet[Handoff], start, end) -> QuerySet[Handoff]:
    if start is not None:
        rows = rows.filter(offered_at__gte=start)
    if end is not None:
        rows = rows.filter(offered_at__lt=end)
    return rows


def _counts(now: datetime.datetime) -> dict[str, Any]:
    return {
        "offered": Count("pk"),
        "accepted": Count("pk", filter=Q(outcome=Outcome.ACCEPTED)),
        "rejected": Count("pk", filter=Q(outcome=Outcome.REJECTED)),
        "pending": Count("pk", filter=Q(outcome=Outcome.PENDING)),
        "overdue": Count("pk", filter=Q(outcome=Outcome.PENDING, due_at__lt=now)),
        "withdrawn": Count("pk", filter=Q(outcome=Outcome.WITHDRAWN)),
    }


def _rate(part: str) -> ExpressionWrapper:
    """Percent of the answered hand-offs (accepted + rejected); NULL while none is answered."""
    return ExpressionWrapper(
        F(part) * 100.0 / NullIf(F("accepted") + F("rejected"), 0), output_field=FloatField()
    )


def handoff_rates(user, *, start=None, end=None, now=None) -> list[dict[str, Any]]:
    """Per source: offered, accepted, rejected, pending, overdue, withdrawn, and the accept and
    reject rates, for hand-offs offered in [start, end), in one grouped query."""
    now = now or timezone.now()
    rows = (
        _in_period(visible_handoffs(user), start, end)
        .values("source_id", "source__name")
        .annotate(**_counts(now))
        .annotate(accept_rate=_rate("accepted"), reject_rate=_rate("rejected"))
        .order_by("source__name", "source_id")
    )
    return list(rows)


def handoff_totals(user, *, start=None, end=None, now=None) -> dict[str, Any]:
    now = now or timezone.now()
    totals = _in_period(visible_handoffs(user), start, end).aggregate(**_counts(now))
    answered = totals["accepted"] + totals["rejected"]
    totals["accept_rate"] = totals["accepted"] * 100.0 / answered if answered else None
    totals["reject_rate"] = totals["rejected"] * 100.0 / answered if answered else None
    return totals


def rejection_reasons(user, *, start=None, end=None) -> list[dict[str, Any]]:
    rows = _in_period(visible_handoffs(user), start, end).filter(outcome=Outcome.REJECTED)
    return list(rows.values("reason").annotate(count=Count("pk")).order_by("-count", "reason"))


def median_answer_time(user, *, start=None, end=None) -> datetime.timedelta | None:
    """The median time from offer to answer (accepted or rejected): the middle one or two
    durations, fetched in order by the database."""
    answered = (
        _in_period(visible_handoffs(user), start, end)
        .filter(outcome__in=[Outcome.ACCEPTED, Outcome.REJECTED], decided_at__isnull=False)
        .annotate(
            took=ExpressionWrapper(F("decided_at") - F("offered_at"), output_field=DurationField())
        )
    )
    count = answered.count()
    if not count:
        return None
    middle = list(
        answered.order_by("took", "pk").values_list("took", flat=True)[
            (count - 1) // 2 : count // 2 + 1
        ]
    )
    return sum(middle, datetime.timedelta()) / len(middle)


# The lead page ------------------------------------------------------------------------------


def lead_handoff_context(user, lead: Lead) -> dict[str, Any]:
    """What the lead page shows about the hand-off: the waiting one (with who may answer) or
    the latest answer, and the status history. A fixed number of queries."""
    latest = lead.handoffs.select_related("owner", "decided_by").order_by("-pk").first()
    waiting = latest if latest is not None and latest.outcome == Outcome.PENDING else None
    return {
        "lead": lead,
        "handoff": latest,
        "handoff_waiting": waiting,
        "handoff_overdue": waiting is not None and waiting.due_at < timezone.now(),
        "can_answer": waiting is not None and can_answer(user, lead),
        "status_history": list(
            lead.status_changes.select_related("actor").order_by("-changed_at", "-pk")
        ),
    }
