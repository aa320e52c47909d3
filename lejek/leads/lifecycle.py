"""A lead's lifecycle as data: which status may follow which, and what each move leaves behind.

New → Contacted → Marketing-qualified → Sales-qualified → Converted, or Disqualified from any
open status. `TRANSITIONS` is the whole rule; `GUARDED` names the moves that only one action may
make, because they ask for more than a status (an answer from sales, a reopening). Every move
that happens writes one `LeadStatusChange` row (who, when, from, to) and opens or closes the
lead's hand-off to sales (see handoff.py).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from lejek.leads import handoff, status_history
from lejek.leads.models import Lead, LeadStatusChange
from lejek.users.models import Role

S = Lead.Status

# status → the statuses it may move to. A new record may start in any status (an import brings
# history in as it stands), so creation is not listed here.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.CONTACTED, S.MQL, S.SQL, S.CONVERTED, S.DISQUALIFIED}),
    S.CONTACTED: frozenset({S.MQL, S.SQL, S.CONVERTED, S.DISQUALIFIED}),
    # Waiting for sales: sales answers (accept → SQL, reject → Contacted); marketing may take
    # the lead back to New before anyone answered; converting or disqualifying withdraws it.
    S.MQL: frozenset({S.SQL, S.CONTACTED, S.NEW, S.CONVERTED, S.DISQUALIFIED}),
    # Sales took it: it ends as a deal or is disqualified, it does not drift back to marketing.
    S.SQL: frozenset({S.CONVERTED, S.DISQUALIFIED}),
    S.CONVERTED: frozenset(),
    # Back into the funnel only through Reopen, which drops the disqualification reason.
    S.DISQUALIFIED: frozenset({S.CONTACTED}),
}

# (from, to) → the only action that may make this move. Converting makes the deal, and the
# contact and company where needed, so a lead is never converted by its status alone.
ACCEPT, REJECT, REOPEN, CONVERT = "accept", "reject", "reopen", "convert"
GUARDED: dict[tuple[str, str], str] = {
    (S.MQL, S.SQL): ACCEPT,
    (S.MQL, S.CONTACTED): REJECT,
    (S.DISQUALIFIED, S.CONTACTED): REOPEN,
    **{(status, S.CONVERTED): CONVERT for status in (S.NEW, S.CONTACTED, S.MQL, S.SQL)},
}


def allowed_moves(status: str) -> frozenset[str]:
    """Where a lead in `status` may go by a plain status change (no dedicated action)."""
    return frozenset(
        target for target in TRANSITIONS.get(status, ()) if (status, target) not in GUARDED
    )


def _guard_message(lead: Lead, action: str) -> str:
    if action == ACCEPT:
        return _(
            "“%(lead)s” is waiting for sales: it becomes sales-qualified when its owner accepts it."
        ) % {"lead": lead}
    if action == CONVERT:
        return _("“%(lead)s” becomes converted when it is converted into a deal.") % {"lead": lead}
    if action == REJECT:
        return _(
            "“%(lead)s” is waiting for sales: it goes back to contacted when its owner rejects "
            "it with a reason."
        ) % {"lead": lead}
    return _("“%(lead)s” is disqualified: use Reopen to bring it back.") % {"lead": lead}


def _label(status: str) -> str:
    return str(S(status).label) if status in S.values else status


def check_transition(lead: Lead, new_status: str, *, via: str = "", actor=None) -> None:
    """Refuse, as ValidationError on `status`, a move the lifecycle does not allow.

    `lead.status` is where the lead stands now. `via` names the action making the move
    (accept, reject, reopen, convert); the guarded moves need theirs. With `actor`, marketing is
    kept from marking a lead sales-qualified: it hands leads over as marketing-qualified.
    """
    current = lead.status
    if new_status == current:
        return
    if new_status not in S.values:
        raise ValidationError(
            {"status": _("“%(status)s” is not a status.") % {"status": new_status}}
        )
    if current == S.CONVERTED:
        raise ValidationError(
            {"status": _("“%(lead)s” is converted; its status no longer changes.") % {"lead": lead}}
        )
    if new_status not in TRANSITIONS.get(current, ()):
        raise ValidationError(
            {
                "status": _("“%(lead)s” cannot go from %(from)s to %(to)s.")
                % {"lead": lead, "from": _label(current), "to": _label(new_status)}
            }
        )
    action = GUARDED.get((current, new_status))
    if action is not None and action != via:
        raise ValidationError({"status": _guard_message(lead, action)})
    if new_status == S.SQL and actor is not None and actor.role == Role.MARKETING:
        raise ValidationError(
            {
                "status": _(
                    "Sales qualifies leads: mark “%(lead)s” marketing-qualified to hand it over."
                )
                % {"lead": lead}
            }
        )


def status_changed(*, actor, lead: Lead, before: str) -> LeadStatusChange:
    """Record that `lead` moved from `before` (\"\" when just created) to its current status.

    Leaving marketing-qualified withdraws a hand-off still waiting (accept and reject close
    theirs first); reaching it opens a new one. A lead that is not marketing-qualified costs
    one INSERT here, which keeps web-form capture fast.
    """
    change = LeadStatusChange.objects.create(
        lead=lead,
        from_status=before,
        to_status=lead.status,
        # A lead just created ("" before) has no history yet: no query.
        previous_entry_at=(
            status_history.previous_entry(lead_id=lead.pk, status=lead.status) if before else None
        ),
        actor=actor_or_none(actor),
    )
    _remember_furthest(lead, before)
    if before == S.MQL:
        handoff.handoff_withdraw(actor=actor, lead=lead)
    if lead.status == S.MQL:
        handoff.handoff_open(actor=actor, lead=lead)
    return change


def _remember_furthest(lead: Lead, before: str) -> None:
    """Keep `furthest_status` (see status_history.furthest_to_keep) as the lead leaves
    `before`: an UPDATE only on a move back or out, or forward past the step it kept."""
    keep = status_history.furthest_to_keep([before, lead.furthest_status], lead.status)
    if keep != lead.furthest_status:
        Lead.objects.filter(pk=lead.pk).update(furthest_status=keep)
        lead.furthest_status = keep


def actor_or_none(actor):
    """Lejek itself acts as None; an unsaved stand-in user is not a person to record."""
    return actor if actor is not None and actor.pk else None
