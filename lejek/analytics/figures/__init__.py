"""Every figure of the funnel, by key, in the order the dashboard shows them.

A figure is a function `Scope -> Table` (one or a few aggregate queries, never a loop over
rows) and, for drill-down, a function `(Scope, row, column) -> QuerySet` of the deals or
leads behind one number. Each module registers its figures with `@figure(...)`; importing
this package imports them all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.functional import Promise

from lejek.analytics.scope import Scope
from lejek.analytics.tables import Table

Compute = Callable[[Scope], Table]
Drill = Callable[[Scope, str, str], QuerySet]


@dataclass(frozen=True)
class Figure:
    key: str
    # What the figure is called: on its table (unless the table names itself more exactly),
    # and on its card while it loads or when it failed.
    title: Promise
    section: str
    compute: Compute
    drill: Drill | None = None


FIGURES: dict[str, Figure] = {}
SECTIONS = ("funnel", "revenue", "cycle", "forecast", "customers", "sources", "reps")


def figure(key: str, *, title: Promise, section: str, drill: Drill | None = None):
    """Register `compute` under `key` in a dashboard section; its table takes `title` unless
    it sets one of its own."""

    def register(compute: Compute) -> Compute:
        @functools.wraps(compute)
        def titled(scope: Scope) -> Table:
            table = compute(scope)
            table.title = table.title or title
            return table

        FIGURES[key] = Figure(key=key, title=title, section=section, compute=titled, drill=drill)
        return titled

    return register


def drill_url(scope: Scope, key: str, row: object, column: str) -> str:
    """The page listing the records behind one number of figure `key`."""
    url = reverse("analytics-drill", args=[key])
    return f"{url}?{scope.query_string(row=str(row), col=column)}"


def compute(key: str, scope: Scope) -> Table:
    return FIGURES[key].compute(scope)


# The figures register themselves on import.
from lejek.analytics.figures import (  # noqa: E402, F401
    customers,
    cycle,
    forecast,
    funnel,
    headline,
    revenue,
    sources,
)
