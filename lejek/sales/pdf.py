"""An offer as a PDF: the HTML template rendered in the offer's language, then WeasyPrint."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from lejek.sales.models import Offer, PurchaseConfirmation
from lejek.sales.totals import compute_totals, line_net


def offer_filename(offer: Offer) -> str:
    # "OF/2026/11/0007" would be a path; keep the number readable in the file name.
    return f"{offer.number.replace('/', '-')}-v{offer.version}.pdf"


def offer_context(offer: Offer) -> dict:
    deal = offer.deal
    lines = list(offer.lines.order_by("position", "id"))
    return {
        "offer": offer,
        "currency": offer.currency,
        "language": offer.language,
        "deal": deal,
        "lines": lines,
        "totals": compute_totals(lines),
        "seller": {
            "name": settings.LEJEK_COMPANY_NAME,
            "address": settings.LEJEK_COMPANY_ADDRESS,
            "nip": settings.LEJEK_COMPANY_NIP,
        },
        "company": deal.company,
        "contact": deal.contact,
        "rep": offer.created_by or deal.owner,
    }


def offer_html(offer: Offer) -> str:
    with translation.override(offer.language):
        return render_to_string("sales/offer_pdf.html", offer_context(offer))


def offer_pdf(offer: Offer) -> bytes:
    # Imported here: WeasyPrint loads pango on import, which only PDF requests need.
    from weasyprint import HTML

    return HTML(string=offer_html(offer)).write_pdf()


def confirmation_filename(confirmation: PurchaseConfirmation) -> str:
    return f"{confirmation.number.replace('/', '-')}.pdf"


def confirmation_context(confirmation: PurchaseConfirmation) -> dict:
    from lejek.sales.winning import confirmation_lines

    deal = confirmation.deal
    values = confirmation_lines(confirmation)
    lines = [
        {**stored, **vars(value), "net": line_net(value.quantity, value.unit_price, value.discount)}
        for stored, value in zip(confirmation.lines, values, strict=True)
    ]
    return {
        "confirmation": confirmation,
        "currency": confirmation.currency,
        "language": confirmation.language,
        "deal": deal,
        "lines": lines,
        "totals": compute_totals(values),
        "seller": {
            "name": settings.LEJEK_COMPANY_NAME,
            "address": settings.LEJEK_COMPANY_ADDRESS,
            "nip": settings.LEJEK_COMPANY_NIP,
        },
        "company": deal.company,
        "contact": deal.contact,
        "rep": deal.owner or confirmation.created_by,
    }


def confirmation_pdf(confirmation: PurchaseConfirmation) -> bytes:
    from weasyprint import HTML

    with translation.override(confirmation.language):
        html = render_to_string("sales/confirmation_pdf.html", confirmation_context(confirmation))
    return HTML(string=html).write_pdf()
