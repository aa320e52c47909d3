"""Offer numbers: "OF/2026/11/0007", one series per month, with no gaps and no repeats.

The month's counter is one row, locked with SELECT … FOR UPDATE for the rest of the caller's
transaction. Two offers created at once queue on that lock instead of both reading the same
max()+1; and if the offer is never saved, the transaction rolls the counter back with it, so
no number is lost. On SQLite the whole write transaction is already exclusive.
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from lejek.sales.models import OfferCounter

PREFIX = "OF"


def format_offer_number(day: datetime.date, sequence: int) -> str:
    return f"{PREFIX}/{day.year}/{day.month:02d}/{sequence:04d}"


def _ensure_counter(period: str) -> None:
    # The first offer of a month creates the row; a concurrent first one loses the insert
    # race harmlessly and then queues on the lock like everyone else.
    if OfferCounter.objects.filter(period=period).exists():
        return
    try:
        with transaction.atomic():
            OfferCounter.objects.create(period=period)
    except IntegrityError:
        pass


def next_offer_number(day: datetime.date | None = None) -> str:
    """Take the next number of `day`'s month. Call it inside the transaction that saves it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_offer_number must run inside the offer's transaction")
    day = day or timezone.localdate()
    period = f"{day.year}-{day.month:02d}"
    _ensure_counter(period)
    counter = OfferCounter.objects.select_for_update().get(period=period)
    counter.last += 1
    counter.save(update_fields=["last"])
    return format_offer_number(day, counter.last)
