"""Days between two moments, computed natively by the database: `Days` for the ORM and
`days_sql` for the few figures whose SQL is built by hand (a second level of grouping).
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Aggregate, FloatField, Func


def days_sql(later: str, earlier: str) -> str:
    """SQL for the days (with the fraction) from column `earlier` to column `later`: `Days`
    for hand-built SQL."""
    if connection.vendor == "postgresql":
        return f"(date_part('epoch', {later} - {earlier}) / 86400)"
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
            # date_part, not EXTRACT: EXTRACT computes in numeric, which took time in stage's
            # query over 257,000 stays 335 ms against 185 ms (and sorts several times slower).
            template="(date_part('epoch', %(expressions)s) / 86400)",
            arg_joiner=" - ",
            **extra,
        )


def medians_in_aggregates() -> bool:
    """Whether this database computes `Median` beside other aggregates (PostgreSQL).

    SQLite has no median function: there `money.median` reads the middle rows instead.
    """
    return connection.vendor == "postgresql"


class Median(Aggregate):
    """The median of a numeric expression, in the same query as the other aggregates.

    PostgreSQL's `percentile_cont(0.5)`: the middle value, or the mean of the two middle
    values, as `money.median` defines it; nulls left out. PostgreSQL only (see
    `medians_in_aggregates`).
    """

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    allow_distinct = False
