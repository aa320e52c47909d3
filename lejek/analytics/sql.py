"""Days between two moments, computed natively by the database: `Days` for the ORM and
`days_sql` for the few figures whose SQL is built by hand (a second level of grouping).
"""

from __future__ import annotations

from django.db import connection
from django.db.models import FloatField, Func


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
