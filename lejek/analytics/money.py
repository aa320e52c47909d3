"""Money in reports: sums in the house currency, with what was left out said aloud.

Lejek keeps no exchange rates, so a report sums amounts in the house currency only and notes
how many deals in other currencies (and without an amount) stayed out of the sum.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lejek.analytics.scope import Scope
from lejek.analytics.tables import Table

CENT = Decimal("0.01")


def in_house(scope: Scope) -> Q:
    return Q(currency=scope.currency, amount__isnull=False)


def left_out(scope: Scope, among: Q | None = None) -> dict[str, Count]:
    """Counts of deals kept out of the money sums, to add to a figure's own aggregate (so
    they cost no extra pass): `other` in another currency, `empty` without an amount.
    `among` narrows them to the deals the sums are over (e.g. only the won ones)."""
    other = ~Q(currency=scope.currency) & Q(amount__isnull=False)
    empty = Q(amount__isnull=True)
    if among is not None:
        other, empty = other & among, empty & among
    return {"other": Count("pk", filter=other), "empty": Count("pk", filter=empty)}


def note_left_out(table: Table, scope: Scope, rows: Iterable[dict]) -> None:
    """Add a note saying how many deals are not in the money figures, and why; `rows` are
    the figure's aggregate rows, each holding the `left_out` counts of its deals."""
    rows = list(rows)
    other = sum(row["other"] for row in rows)
    empty = sum(row["empty"] for row in rows)
    if other:
        table.notes.append(
            ngettext(
                "%(n)s deal in another currency is counted but not in the sums (%(cur)s only).",
                "%(n)s deals in other currencies are counted but not in the sums (%(cur)s only).",
                other,
            )
            % {"n": other, "cur": scope.currency}
        )
    if empty:
        table.notes.append(
            ngettext(
                "%(n)s deal has no amount: counted, but adds nothing to the sums.",
                "%(n)s deals have no amount: counted, but add nothing to the sums.",
                empty,
            )
            % {"n": empty}
        )


def median(values: QuerySet, field: str, count: int | None = None):
    """The median of `field` over `values`, computed by the database.

    The one or two middle values by ORDER BY … OFFSET. Rows whose `field` is null are left
    out and the rest counted here; or pass `count` when the figure's own aggregate already
    counted `values`, whose `field` must then never be null: they are not filtered again (the
    filter computes a day difference a second time per row, a quarter of the query).
    """
    if count is None:
        values = values.exclude(**{f"{field}__isnull": True})
        count = values.count()
    if not count:
        return None
    rows = values.order_by(field).values_list(field, flat=True)
    middle = list(rows[(count - 1) // 2 : count // 2 + 1])
    if len(middle) == 1:
        return middle[0]
    return (middle[0] + middle[1]) / 2


def share(part, whole) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def label_missing(value: str) -> str:
    return value or _("(none)")
