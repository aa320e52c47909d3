"""The lists of reasons admins and managers keep: why deals are lost, leads disqualified or
rejected by sales. Reports group by these labels."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils.translation import gettext as _

from lejek.core.events import record_event
from lejek.core.models import Reason
from lejek.users.models import Role


def offered(kind: str) -> QuerySet[Reason]:
    return Reason.objects.filter(kind=kind, active=True)


def _ensure_may_edit(actor) -> None:
    if actor is not None and actor.role not in (Role.ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only managers and admins edit the lists of reasons."))


def _save(reason: Reason) -> None:
    reason.label = (reason.label or "").strip()
    reason.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            reason.save()
    except IntegrityError as exc:
        raise ValidationError({"label": _("This reason is already on the list.")}) from exc


@transaction.atomic
def reason_create(*, actor, kind: str, label: str) -> Reason:
    _ensure_may_edit(actor)
    last = Reason.objects.filter(kind=kind).aggregate(last=Max("position"))["last"]
    reason = Reason(kind=kind, label=label, position=0 if last is None else last + 1)
    _save(reason)
    record_event(
        actor=actor, verb="reason.created", obj=reason, after={"kind": kind, "label": reason.label}
    )
    return reason


@transaction.atomic
def reason_update(*, actor, reason: Reason, label: str, active: bool) -> Reason:
    """Rename or (de)activate. Past records keep the label they were given."""
    _ensure_may_edit(actor)
    before = {"label": reason.label, "active": reason.active}
    reason.label, reason.active = label, active
    _save(reason)
    record_event(
        actor=actor,
        verb="reason.updated",
        obj=reason,
        before=before,
        after={"label": reason.label, "active": reason.active},
    )
    return reason


def check_reason(kind: str, label: str, *, field: str = "reason") -> str:
    """The label, if it is on the list; any non-empty label when the list is still empty."""
    label = (label or "").strip()
    if not label:
        raise ValidationError({field: _("Choose a reason.")})
    choices = offered(kind)
    if choices.exists() and not choices.filter(label=label).exists():
        raise ValidationError({field: _("Choose one of the reasons on the list.")})
    return label
