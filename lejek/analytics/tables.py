"""What every figure returns: a titled table, with the chart it reads best as.

The dashboard, the JSON API and the CSV/XLSX exports all render these, so a figure is written
once, as a query, and shown three ways.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    # How the value is shown: "text", "int", "number", "money" (house currency), "percent"
    # (a 0-100 number), "days", "date", "month" (a month's first day, shown as the month).
    kind: str = "int"


@dataclass(frozen=True)
class Chart:
    # "funnel" (horizontal bars, widest first), "bar", "line", or "bar+line" (the first
    # series as bars, the rest as lines: forecast against what was actually won).
    type: str
    label: str  # the column whose values label the x axis (or the funnel's bars)
    series: tuple[str, ...]  # the columns plotted
    stacked: bool = False


@dataclass(kw_only=True)
class Table:
    key: str
    # Blank: the title the figure is registered with (see figures.figure); a figure sets its
    # own only when it says more (a chosen field's name).
    title: str = ""
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    # Per row, links from a column to the records behind its number: {row index: {key: url}}.
    links: dict[int, dict[str, str]] = field(default_factory=dict)
    footer: dict[str, Any] | None = None
    chart: Chart | None = None
    # The row to draw the eye to (the biggest leak), by index.
    highlight: int | None = None
    # What the reader must know to read it right ("3 deals in EUR are not in these sums").
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": str(self.title),
            "columns": [
                {"key": c.key, "label": str(c.label), "kind": c.kind} for c in self.columns
            ],
            "rows": [{c.key: _plain(row.get(c.key)) for c in self.columns} for row in self.rows],
            "footer": (
                {c.key: _plain(self.footer.get(c.key)) for c in self.columns}
                if self.footer
                else None
            ),
            "highlight": self.highlight,
            "notes": [str(note) for note in self.notes],
        }

    def header(self) -> list[str]:
        return [str(c.label) for c in self.columns]

    def values(self) -> list[list[Any]]:
        """Rows (and the footer) as lists in column order, values in their own types, for CSV
        and XLSX (which write decimals as numbers and dates as dates)."""
        rows = [[row.get(c.key) for c in self.columns] for row in self.rows]
        if self.footer:
            rows.append([self.footer.get(c.key) for c in self.columns])
        return rows


def _plain(value: Any) -> Any:
    """Decimals as strings (exact), dates as ISO text, the rest as they are."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def period_kind(scope) -> str:
    """How a week or month column shows its first day: as the month, or as the date."""
    return "month" if scope.grain == "month" else "date"
