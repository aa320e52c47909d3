"""What the "Products and offers" panel on a deal page shows (reads only)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from lejek.contacts.views import can_edit
from lejek.pipeline.models import Deal
from lejek.sales.forms import DealLineAddForm
from lejek.sales.models import Offer
from lejek.sales.services import deal_pricing
from lejek.sales.totals import compute_totals


def deal_offers(deal: Deal) -> list[Offer]:
    """The deal's offers, newest first, each marked `is_latest` among its versions."""
    offers = list(deal.offers.order_by("-created_at", "-id"))
    newest: dict[str, int] = {}
    for offer in offers:
        newest[offer.number] = max(newest.get(offer.number, 0), offer.version)
    for offer in offers:
        offer.is_latest = offer.version == newest[offer.number]
    return offers


def panel_context(
    request: HttpRequest, deal: Deal, *, add_form: DealLineAddForm | None = None
) -> dict[str, Any]:
    lines = list(deal.lines.order_by("position", "id"))
    return {
        "request": request,
        "deal": deal,
        "lines": lines,
        "totals": compute_totals(lines),
        "pricing": deal_pricing(deal),
        "offers": deal_offers(deal),
        "confirmations": list(deal.purchase_confirmations.all()),
        "can_edit": can_edit(request.user, deal),
        "add_form": add_form or DealLineAddForm(deal=deal),
        "next": request.get_full_path(),
    }
