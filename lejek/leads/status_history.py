"""What the funnel keeps from each lead's status history, so it need not read the history.

`LeadStatusChange.previous_entry_at` (when the lead last entered the same status) lets the
funnel count the leads that entered a status in a week or month as a plain count over an
index; `Lead.furthest_status` tells how far a lead got (see the fields). Both depend only on
one lead's changes, so:

- a change appended now (`lifecycle.status_changed`) looks up the lead's previous entry and
  remembers a step the lead moves back or out from;
- a new lead's first change has no previous entry and its status is as far as it got (web
  forms, imports); generated data (the demo, benchmark data) sets both as it writes;
- whatever moves changes from one lead to another (a merge and its undo) calls `relink`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import connection

from lejek.leads.models import LEAD_STEPS, Lead, LeadStatusChange

CHUNK = 500
# A status's place in the lifecycle (-1 or absent: not a step).
STEP = {step.value: rank for rank, step in enumerate(LEAD_STEPS)}


def furthest_to_keep(been: Iterable[str], status: str) -> str:
    """What `Lead.furthest_status` holds for a lead that has been in the statuses `been` and
    is in `status` now: the furthest step of them when it is further than `status` and than
    New (where every lead has been), else blank. `relink` says the same in SQL."""
    furthest = max([STEP.get(value, -1) for value in been], default=-1)
    return LEAD_STEPS[furthest].value if furthest > STEP.get(status, 0) else ""


def previous_entry(*, lead_id: int, status: str) -> datetime.datetime | None:
    """When the lead last moved into `status`, before a change being appended now."""
    return (
        LeadStatusChange.objects.filter(lead_id=lead_id, to_status=status)
        .order_by("-changed_at", "-pk")
        .values_list("changed_at", flat=True)
        .first()
    )


def relink(lead_ids: Iterable[int] | None = None) -> None:
    """Recompute what depends on the leads' histories (every lead's when `lead_ids` is None):
    each change's `previous_entry_at` from their order, and each lead's `furthest_status`
    from the statuses it has been in and its status now. In SQL, no rows through Python."""
    quote = connection.ops.quote_name
    changes, leads = quote(LeadStatusChange._meta.db_table), quote(Lead._meta.db_table)
    ranks = " ".join(f"WHEN '{step}' THEN {rank}" for step, rank in STEP.items())
    steps = ", ".join(f"'{step}'" for step in STEP)
    entries = f"""
        UPDATE {changes} SET previous_entry_at = ordered.previous
        FROM (
            SELECT id, LAG(changed_at) OVER (
                PARTITION BY lead_id, to_status ORDER BY changed_at, id
            ) AS previous
            FROM {changes} {{where}}
        ) AS ordered
        WHERE {changes}.id = ordered.id
    """
    # The furthest step of its history when further than its status now and than New (every
    # lead has been New), else blank.
    furthest = f"""
        UPDATE {leads} SET furthest_status = COALESCE((
            SELECT c.to_status FROM {changes} c
            WHERE c.lead_id = {leads}.id AND c.to_status IN ({steps})
              AND CASE c.to_status {ranks} END > CASE {leads}.status {ranks} ELSE 0 END
            ORDER BY CASE c.to_status {ranks} END DESC LIMIT 1
        ), '') {{where}}
    """
    with connection.cursor() as cursor:
        if lead_ids is None:
            cursor.execute(entries.format(where=""))
            cursor.execute(furthest.format(where=""))
            return
        ids = sorted(set(lead_ids))
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(entries.format(where=f"WHERE lead_id IN ({marks})"), chunk)
            cursor.execute(furthest.format(where=f"WHERE id IN ({marks})"), chunk)
