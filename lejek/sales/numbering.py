"""Document numbers: offers "OF/2026/11/0007", purchase confirmations "PZ/2026/11/0003";
one series per kind and month, with no gaps and no repeats.

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

OFFER = "OF"
CONFIRMATION = "PZ"


def format_number(prefix: str, day: datetime.date, sequence: int) -> str:
    return f"{prefix}/{day.year}/{day.month:02d}/{sequence:04d}"


def format_offer_number(day: datetime.date, sequence: int) -> str:
    return format_number(OFFER, day, sequence)


def _period(prefix: str, day: datetime.date) -> str:
    month = f"{day.year}-{day.month:02d}"
    # Offers were numbered first and keep the bare month as their counter's key.
    return month if prefix == OFFER else f"{prefix}:{month}"


def _ensure_counter(period: str) -> None:
    # The first document of a month creates the row; a concurrent first one loses the insert
    # race harmlessly and then queues on the lock like everyone else.
    if OfferCounter.objects.filter(period=period).exists():
        return
    try:
        with transaction.atomic():
            OfferCounter.objects.create(period=period)
    except IntegrityError:
        pass


def next_number(prefix: str, day: datetime.date | None = None) -> str:
    """Take the next number of `day`'s month in the series. Call it inside the transaction
    that saves the document."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number must run inside the document's transaction")
    day = day or timezone.localdate()
    period = _period(prefix, day)
    _ensure_counter(period)
    counter = OfferCounter.objects.select_for_update().get(period=period)
    counter.last += 1
    counter.save(update_fields=["last"])
    return format_number(prefix, day, counter.last)


def next_offer_number(day: datetime.date | None = None) -> str:
    return next_number(OFFER, day)
