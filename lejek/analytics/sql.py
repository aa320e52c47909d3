"""The few figures the ORM cannot group as asked (counts of per-record maxima), as SQL.

Each function takes Django querysets for the records in scope, uses their SQL as a subquery,
and adds the one level of grouping the ORM cannot express. Nothing here loops over rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Case, FloatField, Func, Max, QuerySet, Value, When


def _rank(path: str, ranks: Sequence[tuple[object, int]]) -> Case:
    whens = [When(**{path: value}, then=Value(rank)) for value, rank in ranks]
    return Case(*whens, default=Value(-1))


def step_counts(
    *, records: QuerySet, history: str, current: str, ranks: Sequence[tuple[object, int]]
) -> dict[tuple[int, int], int]:
    """How many of `records` stand at each step now and got furthest to each step:
    {(rank now, furthest rank): count}.

    A record's rank now is that of its current value (`current`); values outside `ranks` (a
    lost stage, disqualified) rank -1. Its furthest step is the highest rank among the values
    its history rows moved it to (`history`, a path through the reverse relation, e.g.
    "stage_changes__to_stage_id") and its current value (so a record without history counts
    where it stands now); at least the first step, which every record reached by being
    created.
    """
    per_record = (
        records.order_by()
        .values("pk")
        .annotate(moved=Max(_rank(history, ranks)), now=Max(_rank(current, ranks)))
    )
    sql, params = per_record.query.sql_with_params()
    outer = f"""
        SELECT t.now,
               CASE WHEN COALESCE(t.moved, -1) > t.now THEN t.moved
                    WHEN t.now > 0 THEN t.now ELSE 0 END AS top,
               COUNT(*)
        FROM ({sql}) t
        GROUP BY 1, 2
    """
    with connection.cursor() as cursor:
        cursor.execute(outer, params)
        return {(int(now), int(top)): count for now, top, count in cursor.fetchall()}


def days_sql(later: str, earlier: str) -> str:
    """SQL for the days (with the fraction) from column `earlier` to column `later`: `Days`
    for hand-built SQL."""
    if connection.vendor == "postgresql":
        return f"(EXTRACT(EPOCH FROM ({later} - {earlier}))::float8 / 86400)"
    return f"(julianday({later}) - julianday({earlier}))"


class Days(Func):
    """Days (with the fraction) from `earlier` to `later`, computed natively by the database.

    Django's own datetime subtraction runs a Python function per row on SQLite; over a
    million rows that is seconds.
    """

    output_field = FloatField()
    arity = 2

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="(julianday(%(expressions)s))",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            # As float8: EXTRACT gives numeric, which sorts (for medians) several times slower.
            template="(EXTRACT(EPOCH FROM (%(expressions)s))::float8 / 86400)",
            arg_joiner=" - ",
            **extra,
        )
