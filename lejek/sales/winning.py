"""Winning a deal and what a win starts: the numbered purchase confirmation, and after-sales
work as the pipeline says (a deal in the after-sales pipeline, a follow-up task).

What a win starts hangs on the event of the move into a won stage (`on_event`, listed in
settings.LEJEK_EVENT_SUBSCRIBERS), so every way of winning — the win dialog, the board, the
API — starts it, in the transaction of the win: a win that cannot start its after-sales work
(say the after-sales pipeline's first stage needs fields this deal lacks) is refused with that
reason rather than half done.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from lejek.activities.models import Task
from lejek.activities.services import task_create
from lejek.core.events import record_event
from lejek.pipeline.closing import deal_win
from lejek.pipeline.models import Deal, Stage
from lejek.pipeline.services import deal_create
from lejek.sales.models import PurchaseConfirmation
from lejek.sales.numbering import CONFIRMATION, next_number
from lejek.sales.totals import Line


@dataclass
class Win:
    deal: Deal
    confirmation: PurchaseConfirmation


def document_language(deal: Deal) -> str:
    if deal.contact_id and deal.contact.language:
        return deal.contact.language
    return settings.LANGUAGE_CODE


def confirmation_lines(confirmation: PurchaseConfirmation) -> list[Line]:
    return [
        Line(
            quantity=Decimal(line["quantity"]),
            unit_price=Decimal(line["unit_price"]),
            discount=Decimal(line["discount"]),
            vat_rate=Decimal(line["vat_rate"]),
        )
        for line in confirmation.lines
    ]


def purchase_confirmation_create(
    *, actor, deal: Deal, won_on: datetime.date
) -> PurchaseConfirmation:
    """Number and keep the confirmation of a won deal, with a snapshot of its lines."""
    lines = [
        {
            "name": line.name,
            "unit": line.unit,
            "quantity": str(line.quantity),
            "unit_price": str(line.unit_price),
            "discount": str(line.discount),
            "vat_rate": str(line.vat_rate),
        }
        for line in deal.lines.order_by("position", "id")
    ]
    confirmation = PurchaseConfirmation(
        deal=deal,
        number=next_number(CONFIRMATION),
        amount=deal.amount,
        currency=deal.currency,
        language=document_language(deal),
        won_on=won_on,
        lines=lines,
        created_by=actor,
    )
    confirmation.full_clean()
    confirmation.save()
    record_event(
        actor=actor,
        verb="purchase_confirmation.created",
        obj=confirmation,
        after={"deal": deal.pk, "number": confirmation.number, "amount": deal.amount},
    )
    return confirmation


def _after_sales_deal(*, actor, deal: Deal) -> Deal | None:
    target = deal.pipeline.after_sales_pipeline
    if target is None:
        return None
    with translation.override(document_language(deal)):
        title = _("After-sales: %(title)s") % {"title": deal.title}
    return deal_create(
        actor=actor,
        title=title[:200],
        pipeline=target,
        company=deal.company,
        contact=deal.contact,
        source=deal.source,
        currency=deal.currency,
        owner=deal.owner,
        team=deal.team,
    )


def _follow_up(*, actor, deal: Deal, won_on: datetime.date) -> Task | None:
    days = deal.pipeline.follow_up_days
    if days is None:
        return None
    assignee = deal.owner or actor
    with translation.override(assignee.language if assignee else settings.LANGUAGE_CODE):
        title = _("Follow up with the new customer")
    return task_create(
        actor=actor,
        subject=deal,
        title=title,
        assignee=assignee,
        due_date=max(won_on, timezone.localdate()) + datetime.timedelta(days=days),
    )


WIN_VERBS = {"deal.created", "deal.stage_changed"}


def on_event(event) -> None:
    """A deal entered a won stage: number its confirmation, start the after-sales work."""
    if event.verb not in WIN_VERBS or event.content_type.model_class() is not Deal:
        return
    if not Stage.objects.filter(pk=event.after.get("stage"), is_won=True).exists():
        return
    deal = Deal.objects.select_related("pipeline", "contact", "owner").get(pk=event.object_id)
    won_on = timezone.localtime(deal.closed_at or timezone.now()).date()
    actor = event.actor
    purchase_confirmation_create(actor=actor, deal=deal, won_on=won_on)
    _after_sales_deal(actor=actor, deal=deal)
    _follow_up(actor=actor, deal=deal, won_on=won_on)


@transaction.atomic
def deal_close_won(
    *,
    actor,
    deal: Deal,
    amount: Decimal | None,
    closed_on: datetime.date,
    expected_version: int | None = None,
) -> Win:
    """Win with the final amount and date (the win dialog); returns the deal and the
    confirmation the win numbered."""
    deal = deal_win(
        actor=actor,
        deal=deal,
        amount=amount,
        closed_on=closed_on,
        expected_version=expected_version,
    )
    return Win(deal=deal, confirmation=deal.purchase_confirmations.latest("created_at", "id"))


def confirmation_email_defaults(confirmation: PurchaseConfirmation) -> dict[str, str]:
    deal = confirmation.deal
    contact = deal.contact
    rep = deal.owner or confirmation.created_by
    with translation.override(confirmation.language):
        title = _("Purchase confirmation %(number)s") % {"number": confirmation.number}
        greeting = _("Hello %(name)s,") % {"name": contact.first_name} if contact else _("Hello,")
        text = _("thank you for your order. The confirmation of your purchase is attached.")
        regards = _("Best regards")
    signature = rep.get_full_name() if rep else ""
    body = f"{greeting}\n\n{text}\n\n{regards}\n{signature}\n"
    return {"to": contact.email if contact else "", "title": title, "body": body}


def confirmation_send(
    *, actor, confirmation: PurchaseConfirmation, to: list[str], title: str, body: str
):
    """E-mail the confirmation's PDF; it lands on the deal's timeline and is marked sent.

    As with offers, the e-mail goes out before anything is written, and only a delivered one
    marks the confirmation sent.
    """
    from lejek.activities.mailing import email_send
    from lejek.sales.pdf import confirmation_filename, confirmation_pdf

    attachment = (
        confirmation_filename(confirmation),
        confirmation_pdf(confirmation),
        "application/pdf",
    )
    activity = email_send(
        actor=actor,
        subject=confirmation.deal,
        to=to,
        title=title,
        body=body,
        attachments=[attachment],
    )
    with transaction.atomic():
        PurchaseConfirmation.objects.filter(pk=confirmation.pk).update(sent_at=timezone.now())
        record_event(
            actor=actor,
            verb="purchase_confirmation.emailed",
            obj=confirmation,
            after={"to": to, "title": title, "activity": activity.pk},
        )
    return activity
