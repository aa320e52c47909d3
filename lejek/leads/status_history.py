"""Each lead status change knows when its lead last entered the same status.

`LeadStatusChange.previous_entry_at` lets the funnel count the leads that entered a status in
a week or month as a plain count over an index (see the field). It depends only on the order
of one lead's changes, so:

- a change appended now (`lifecycle.status_changed`) looks up the lead's previous entry;
- a new lead's first change has none (web forms, imports, the demo and benchmark data, whose
  generated paths never enter a status twice);
- whatever moves changes from one lead to another (a merge and its undo) calls `relink`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import connection

from lejek.leads.models import LeadStatusChange

CHUNK = 500


def previous_entry(*, lead_id: int, status: str) -> datetime.datetime | None:
    """When the lead last moved into `status`, before a change being appended now."""
    return (
        LeadStatusChange.objects.filter(lead_id=lead_id, to_status=status)
        .order_by("-changed_at", "-pk")
        .values_list("changed_at", flat=True)
        .first()
    )


def relink(lead_ids: Iterable[int] | None = None) -> None:
    """Recompute `previous_entry_at` of the leads' changes from their order (every lead's when
    `lead_ids` is None), in SQL: one window function, no rows through Python."""
    table = connection.ops.quote_name(LeadStatusChange._meta.db_table)
    statement = f"""
        UPDATE {table} SET previous_entry_at = ordered.previous
        FROM (
            SELECT id, LAG(changed_at) OVER (
                PARTITION BY lead_id, to_status ORDER BY changed_at, id
            ) AS previous
            FROM {table} {{where}}
        ) AS ordered
        WHERE {table}.id = ordered.id
    """
    with connection.cursor() as cursor:
        if lead_ids is None:
            cursor.execute(statement.format(where=""))
            return
        ids = sorted(set(lead_ids))
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(statement.format(where=f"WHERE lead_id IN ({marks})"), chunk)
