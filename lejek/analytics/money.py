"""Money in reports: sums in the house currency, with what was left out said aloud.

Lejek keeps no exchange rates, so a report sums amounts in the house currency only and notes
how many deals in other currencies (and without an amount) stayed out of the sum.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lejek.analytics.scope import Scope
from lejek.analytics.tables import Table

CENT = Decimal("0.01")


def in_house(scope: Scope) -> Q:
    return Q(currency=scope.currency, amount__isnull=False)


def note_left_out(table: Table, deals: QuerySet, scope: Scope) -> None:
    """Add a note saying how many of `deals` are not in the money figures, and why."""
    counts = deals.aggregate(
        other=Count("pk", filter=~Q(currency=scope.currency) & Q(amount__isnull=False)),
        empty=Count("pk", filter=Q(amount__isnull=True)),
    )
    if counts["other"]:
        table.notes.append(
            ngettext(
                "%(n)s deal in another currency is counted but not in the sums (%(cur)s only).",
                "%(n)s deals in other currencies are counted but not in the sums (%(cur)s only).",
                counts["other"],
            )
            % {"n": counts["other"], "cur": scope.currency}
        )
    if counts["empty"]:
        table.notes.append(
            ngettext(
                "%(n)s deal has no amount: counted, but adds nothing to the sums.",
                "%(n)s deals have no amount: counted, but add nothing to the sums.",
                counts["empty"],
            )
            % {"n": counts["empty"]}
        )


def median(values: QuerySet, field: str):
    """The median of `field` over `values` (non-null), computed by the database.

    Two small queries: the count, then the one or two middle values by ORDER BY … OFFSET.
    """
    rows = values.exclude(**{f"{field}__isnull": True}).order_by(field)
    n = rows.count()
    if not n:
        return None
    middle = list(rows.values_list(field, flat=True)[(n - 1) // 2 : n // 2 + 1])
    if len(middle) == 1:
        return middle[0]
    return (middle[0] + middle[1]) / 2


def share(part, whole) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def label_missing(value: str) -> str:
    return value or _("(none)")
