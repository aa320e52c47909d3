"""The few figures the ORM cannot group as asked (a count of per-record maxima), as SQL.

Each function takes Django querysets for the records in scope, uses their SQL as a subquery,
and adds the one level of grouping the ORM cannot express. Nothing here loops over rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import FloatField, Func, QuerySet


def _case(column: str, ranks: Sequence[tuple[object, int]]) -> tuple[str, list]:
    whens = " ".join(f"WHEN {column} = %s THEN {rank}" for _value, rank in ranks)
    return f"CASE {whens} ELSE -1 END", [value for value, _rank in ranks]


def furthest_step_counts(
    *,
    records: QuerySet,
    history_table: str,
    history_fk: str,
    history_column: str,
    current_column: str,
    ranks: Sequence[tuple[object, int]],
) -> dict[int, int]:
    """How many of `records` got furthest to each step: {rank: count}.

    A record's furthest step is the highest rank among the values its history rows moved it
    to, and its current value (so a record without history counts where it stands now); at
    least the first step, which every record reached by being created. Values outside
    `ranks` (a lost stage, disqualified) rank -1.
    """
    ids_sql, ids_params = records.values("pk").query.sql_with_params()
    table = connection.ops.quote_name(records.model._meta.db_table)
    quote = connection.ops.quote_name
    history_case, history_params = _case(f"h.{quote(history_column)}", ranks)
    current_case, current_params = _case(f"r.{quote(current_column)}", ranks)
    sql = f"""
        SELECT CASE WHEN COALESCE(t.moved, -1) > t.now THEN t.moved
                    WHEN t.now > 0 THEN t.now ELSE 0 END AS top,
               COUNT(*)
        FROM (
            SELECT r.id AS id, MAX({history_case}) AS moved, MAX({current_case}) AS now
            FROM {table} r
            LEFT JOIN {quote(history_table)} h ON h.{quote(history_fk)} = r.id
            WHERE r.id IN ({ids_sql})
            GROUP BY r.id
        ) t
        GROUP BY 1
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*history_params, *current_params, *ids_params])
        return {int(top): count for top, count in cursor.fetchall()}


def days_sql(later: str, earlier: str) -> str:
    """SQL for the days (with the fraction) from column `earlier` to column `later`: `Days`
    for hand-built SQL."""
    if connection.vendor == "postgresql":
        return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)"
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
            template="(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)",
            arg_joiner=" - ",
            **extra,
        )
