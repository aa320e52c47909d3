"""Every write to offers: create, new version, status change, send.

An offer is a snapshot: its lines are copied from the deal when it is made and never change.
Negotiating means a new version (same number, version + 1) with a list of what changed.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from lejek.core.events import record_event
from lejek.core.records import ensure_editable
from lejek.pipeline.models import Deal
from lejek.sales.models import OPEN_STATUSES, DealLine, Offer, OfferLine
from lejek.sales.numbering import next_offer_number
from lejek.sales.totals import compute_totals

Status = Offer.Status

# Which status may follow which. An accepted, rejected or expired offer is final: negotiate
# further with a new version.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.SENT, Status.ACCEPTED, Status.REJECTED}),
    Status.SENT: frozenset({Status.ACCEPTED, Status.REJECTED, Status.EXPIRED}),
    Status.ACCEPTED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.EXPIRED: frozenset(),
}

# The line fields compared between versions, in the order the change list reads.
COMPARED = ("unit_price", "discount", "quantity", "vat_rate")


def allowed_statuses(offer: Offer) -> list[str]:
    """Statuses the offer may move to now (none for an earlier version)."""
    if not offer_is_latest(offer):
        return []
    return [s for s in Status.values if s in TRANSITIONS[offer.shown_status()]]


def offer_is_latest(offer: Offer) -> bool:
    return not Offer.objects.filter(number=offer.number, version__gt=offer.version).exists()


def _copy_lines(offer: Offer, lines: list[DealLine]) -> list[OfferLine]:
    copies = [
        OfferLine(
            offer=offer,
            product_id=line.product_id,
            name=line.name,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            discount=line.discount,
            vat_rate=line.vat_rate,
            position=position,
        )
        for position, line in enumerate(lines)
    ]
    return OfferLine.objects.bulk_create(copies)


def _deal_lines(deal: Deal) -> list[DealLine]:
    lines = list(deal.lines.order_by("position", "id"))
    if not lines:
        raise ValidationError(_("Add products to the deal before making an offer."))
    return lines


def _check_valid_until(valid_until: datetime.date) -> None:
    if valid_until < timezone.localdate():
        raise ValidationError({"valid_until": _("An offer cannot be valid until a past date.")})


def _save_offer(
    *,
    actor,
    deal: Deal,
    number: str,
    version: int,
    valid_until: datetime.date,
    terms: str,
    language: str,
    changes: list[dict[str, Any]],
) -> Offer:
    lines = _deal_lines(deal)
    totals = compute_totals(lines)
    offer = Offer(
        deal=deal,
        number=number,
        version=version,
        valid_until=valid_until,
        terms=terms.strip(),
        language=language,
        currency=deal.currency,
        net_total=totals.net,
        vat_total=totals.vat,
        gross_total=totals.gross,
        changes=changes,
        created_by=actor if actor is not None and actor.pk else None,
    )
    offer.full_clean()
    offer.save()
    _copy_lines(offer, lines)
    return offer


@transaction.atomic
def offer_create(
    *, actor, deal: Deal, valid_until: datetime.date, terms: str = "", language: str = "pl"
) -> Offer:
    """A new offer (version 1, a new number) from the deal's current lines."""
    ensure_editable(actor, deal)
    _check_valid_until(valid_until)
    _deal_lines(deal)
    offer = _save_offer(
        actor=actor,
        deal=deal,
        number=next_offer_number(),
        version=1,
        valid_until=valid_until,
        terms=terms,
        language=language,
        changes=[],
    )
    record_event(
        actor=actor,
        verb="offer.created",
        obj=offer,
        after={"deal": deal.pk, "number": offer.number, "gross": offer.gross_total},
    )
    return offer


@transaction.atomic
def offer_new_version(
    *,
    actor,
    offer: Offer,
    valid_until: datetime.date,
    terms: str,
    language: str | None = None,
) -> Offer:
    """Version N+1 of `offer`'s number from the deal's lines now, listing what changed."""
    deal = offer.deal
    ensure_editable(actor, deal)
    _check_valid_until(valid_until)
    # Two people making version N+1 at once queue on version 1's row; the newest version is
    # read after the lock is held, so the second one sees the first one's version.
    Offer.objects.select_for_update().filter(number=offer.number, version=1).first()
    previous = Offer.objects.filter(number=offer.number).order_by("-version").first()
    new_lines = _deal_lines(deal)
    changes = compare_versions(list(previous.lines.all()), new_lines, previous.terms, terms)
    created = _save_offer(
        actor=actor,
        deal=deal,
        number=offer.number,
        version=previous.version + 1,
        valid_until=valid_until,
        terms=terms,
        language=language or previous.language,
        changes=changes,
    )
    record_event(
        actor=actor,
        verb="offer.version_created",
        obj=created,
        before={"version": previous.version, "gross": previous.gross_total},
        after={"version": created.version, "gross": created.gross_total, "changes": changes},
    )
    return created


@transaction.atomic
def offer_set_status(*, actor, offer: Offer, status: str) -> Offer:
    """Move the offer to `status` if TRANSITIONS allows it from the status it shows now."""
    ensure_editable(actor, offer.deal)
    offer = Offer.objects.select_for_update().get(pk=offer.pk)
    if not offer_is_latest(offer):
        raise ValidationError(_("A newer version of this offer exists; change that one."))
    current = offer.shown_status()
    if status not in TRANSITIONS.get(current, ()):
        raise ValidationError(
            {
                "status": _("An offer cannot go from “%(from)s” to “%(to)s”.")
                % {"from": Status(current).label, "to": _status_label(status)}
            }
        )
    offer.status = status
    fields = ["status"]
    if status == Status.SENT and offer.sent_at is None:
        offer.sent_at = timezone.now()
        fields.append("sent_at")
    offer.save(update_fields=fields)
    record_event(
        actor=actor,
        verb="offer.status_changed",
        obj=offer,
        before={"status": current},
        after={"status": status},
    )
    return offer


def _status_label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


@transaction.atomic
def offer_mark_sent(*, actor, offer: Offer) -> Offer:
    """After the offer went out by e-mail: a draft becomes sent; a sent one stays sent."""
    still_open = offer.status == Status.DRAFT and offer.shown_status() in OPEN_STATUSES
    if still_open and offer_is_latest(offer):
        return offer_set_status(actor=actor, offer=offer, status=Status.SENT)
    return offer


# Comparing two versions ----------------------------------------------------------------


def _line_key(line) -> tuple:
    # The same product is the same line even if renamed; a free-text line is known by name.
    return ("product", line.product_id) if line.product_id else ("name", line.name)


def _as_text(value: Decimal) -> str:
    return str(value)


def compare_versions(
    old_lines: list, new_lines: list, old_terms: str, new_terms: str
) -> list[dict[str, str]]:
    """What changed from one version to the next, as JSON-ready entries.

    Each entry has a `kind` (price, discount, quantity, vat_rate, added, removed, terms),
    the line `name` where it applies, and `before` / `after` as decimal strings.
    """
    old = {_line_key(line): line for line in old_lines}
    new = {_line_key(line): line for line in new_lines}
    changes: list[dict[str, str]] = []
    for key, line in new.items():
        previous = old.get(key)
        if previous is None:
            changes.append({"kind": "added", "name": line.name, "after": _as_text(line.net)})
            continue
        for field in COMPARED:
            before, after = getattr(previous, field), getattr(line, field)
            if before != after:
                kind = "price" if field == "unit_price" else field
                entry = {"kind": kind, "name": line.name}
                changes.append({**entry, "before": _as_text(before), "after": _as_text(after)})
    for key, line in old.items():
        if key not in new:
            changes.append({"kind": "removed", "name": line.name, "before": _as_text(line.net)})
    if old_terms.strip() != new_terms.strip():
        changes.append({"kind": "terms"})
    return changes


# Sending ---------------------------------------------------------------------------------


def offer_email_defaults(offer: Offer) -> dict[str, str]:
    """To, subject and body prefilled for the send page, in the offer's language."""
    contact = offer.deal.contact
    context = {
        "offer": offer,
        "contact": contact,
        "rep": offer.created_by or offer.deal.owner,
    }
    with translation.override(offer.language):
        title = render_to_string("sales/email/offer_subject.txt", context).strip()
        body = render_to_string("sales/email/offer_body.txt", context).strip() + "\n"
    return {"to": contact.email if contact is not None else "", "title": title, "body": body}


def _check_sendable(offer: Offer) -> None:
    if not offer_is_latest(offer):
        raise ValidationError(_("A newer version of this offer exists; send that one."))
    if offer.shown_status() not in OPEN_STATUSES:
        raise ValidationError(
            _("Only a draft or sent offer can be e-mailed; this one is “%(status)s”.")
            % {"status": offer.get_shown_status_display()}
        )


def offer_send(*, actor, offer: Offer, to: list[str], title: str, body: str):
    """E-mail the offer's PDF; the e-mail lands on the deal's timeline, a draft becomes sent.

    Like `email_send` itself, no transaction is held while the mail server answers: the
    e-mail goes out first, and only a delivered one marks the offer sent. A delivery failure
    raises ValidationError and changes nothing.
    """
    from lejek.activities.mailing import email_send
    from lejek.sales.pdf import offer_filename, offer_pdf

    ensure_editable(actor, offer.deal)
    _check_sendable(offer)
    attachment = (offer_filename(offer), offer_pdf(offer), "application/pdf")
    activity = email_send(
        actor=actor, subject=offer.deal, to=to, title=title, body=body, attachments=[attachment]
    )
    with transaction.atomic():
        offer = Offer.objects.select_for_update().select_related("deal").get(pk=offer.pk)
        # Someone may have accepted it meanwhile; offer_mark_sent then leaves it as it is.
        offer_mark_sent(actor=actor, offer=offer)
        record_event(
            actor=actor,
            verb="offer.emailed",
            obj=offer,
            after={"to": to, "title": title, "activity": activity.pk},
        )
    return activity
