"""The reports pages: the funnel dashboard, the records behind a number, and table downloads.

Each view reads its filters from the URL through `scope_from`, so a view of the dashboard is
shared by its link and the visibility rules of `Scope` hold on every page. The dashboard
itself computes nothing: it sends a placeholder per figure at once, and each placeholder
fetches its card from `card` (one figure per request, so a browser's parallel requests keep
every server worker busy). With `all=1`, for browsers without JavaScript, it computes every
figure in the one request instead. A figure that fails is logged and reported in its card,
and the rest of the page still renders.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from lejek.analytics.figures import FIGURES, SECTIONS, Figure
from lejek.analytics.scope import Scope, ScopeForm, scope_from
from lejek.analytics.tables import Column, Table
from lejek.analytics.templatetags.analytics_figures import (
    NUMERIC_KINDS,
    chart_number,
    format_value,
)
from lejek.core import exporting
from lejek.leads.models import Lead
from lejek.pipeline.models import Deal

logger = logging.getLogger("lejek.analytics")

HEADLINE = "headline"
DRILL_PAGE_SIZE = 50
EXPORT_FORMATS = ("csv", "xlsx")
SECTION_TITLES = {
    "funnel": gettext_lazy("Funnel"),
    "revenue": gettext_lazy("Revenue"),
    "cycle": gettext_lazy("Sales cycle"),
    "forecast": gettext_lazy("Forecast"),
    "customers": gettext_lazy("Customers"),
    "sources": gettext_lazy("Sources"),
    "reps": gettext_lazy("Reps"),
}


# What the templates read ------------------------------------------------------------------------


@dataclass
class Cell:
    text: str
    numeric: bool
    url: str = ""


@dataclass
class Row:
    cells: list[Cell]
    highlighted: bool = False


@dataclass
class Card:
    key: str
    title: str
    failed: bool = False
    columns: list[Column] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    footer: list[Cell] | None = None
    notes: list[str] = field(default_factory=list)
    chart: dict[str, Any] | None = None
    exports: dict[str, str] = field(default_factory=dict)
    # A placeholder: not computed yet, it loads itself from load_url.
    load_url: str = ""

    @property
    def pending(self) -> bool:
        return bool(self.load_url)

    @property
    def chart_id(self) -> str:
        return f"chart-data-{self.key}"

    @property
    def is_wide(self) -> bool:
        """A table of many columns takes the whole width instead of half of it."""
        return len(self.columns) > 5


@dataclass
class Tile:
    metric: str
    value: str
    previous: str
    change: str
    direction: str  # "up", "down" or "flat": drives the arrow, the words say it too
    url: str = ""


@dataclass
class Section:
    key: str
    title: str
    cards: list[Card]


# Computing ------------------------------------------------------------------------------------


def compute_figure(figure: Figure, scope: Scope) -> Table | None:
    """The figure's table, or None when it raised (logged, so the page carries on)."""
    try:
        return figure.compute(scope)
    except Exception:
        logger.exception("Figure %s could not be computed", figure.key)
        return None


def _cells(
    table: Table, values: dict[str, Any], links: dict[str, str], currency: str
) -> list[Cell]:
    return [
        Cell(
            text=format_value(values.get(column.key), column.kind, currency),
            numeric=column.kind in NUMERIC_KINDS,
            url=links.get(column.key, ""),
        )
        for column in table.columns
    ]


def chart_data(table: Table) -> dict[str, Any] | None:
    """What dashboard.js needs to draw the figure's chart: labels, series, type."""
    chart = table.chart
    if chart is None or not table.rows:
        return None
    columns = {column.key: column for column in table.columns}
    label_kind = columns[chart.label].kind if chart.label in columns else "text"
    return {
        "type": chart.type,
        "stacked": chart.stacked,
        "labels": [format_value(row.get(chart.label), label_kind) for row in table.rows],
        "datasets": [
            {
                "key": key,
                "label": str(columns[key].label) if key in columns else key,
                "kind": columns[key].kind if key in columns else "number",
                "data": [chart_number(row.get(key)) for row in table.rows],
            }
            for key in chart.series
        ],
    }


def export_links(key: str, scope: Scope) -> dict[str, str]:
    query = scope.query_string()
    return {
        fmt: f"{reverse('analytics-export', args=[key, fmt])}?{query}" for fmt in EXPORT_FORMATS
    }


def card_for(figure: Figure, table: Table | None, scope: Scope) -> Card:
    if table is None:
        return Card(key=figure.key, title=str(figure.title), failed=True)
    return Card(
        key=figure.key,
        title=str(table.title),
        columns=table.columns,
        rows=[
            Row(
                cells=_cells(table, values, table.links.get(index, {}), scope.currency),
                highlighted=index == table.highlight,
            )
            for index, values in enumerate(table.rows)
        ],
        footer=_cells(table, table.footer, {}, scope.currency) if table.footer else None,
        notes=[str(note) for note in table.notes],
        chart=chart_data(table),
        exports=export_links(figure.key, scope),
    )


def card_url(key: str, scope: Scope) -> str:
    """Where a placeholder fetches its figure, with the page's filters."""
    return f"{reverse('analytics-card', args=[key])}?{scope.query_string()}"


def placeholder_for(figure: Figure, scope: Scope) -> Card:
    return Card(key=figure.key, title=str(figure.title), load_url=card_url(figure.key, scope))


def tiles_for(table: Table) -> list[Tile]:
    """The headline figure as tiles: metric, value, and the change against the period before.

    Its columns are metric, value, previous and change (%), found by key or else by position;
    a row may carry its own `kind` when its value is not of the value column's kind (money
    next to counts)."""
    columns = {column.key: column for column in table.columns}
    ordered = list(table.columns) + [Column("", "", "text")] * 4
    metric, value, previous, change = (
        columns.get(key, ordered[position])
        for position, key in enumerate(("metric", "value", "previous", "change"))
    )
    tiles = []
    for index, row in enumerate(table.rows):
        kind = row.get("kind") or value.kind
        delta = chart_number(row.get(change.key))
        tiles.append(
            Tile(
                metric=str(row.get(metric.key, "")),
                value=format_value(row.get(value.key), kind),
                previous=format_value(row.get(previous.key), kind),
                change=format_value(delta, "percent") if delta is not None else "",
                direction="flat" if not delta else ("up" if delta > 0 else "down"),
                url=table.links.get(index, {}).get(value.key, ""),
            )
        )
    return tiles


def sections_for(cards: dict[str, Card]) -> list[Section]:
    """Cards grouped in SECTIONS order; a section nobody registered a figure in is left out."""
    order = list(SECTIONS) + [
        figure.section for figure in FIGURES.values() if figure.section not in SECTIONS
    ]
    sections = []
    for key in dict.fromkeys(order):
        in_section = [
            cards[figure.key]
            for figure in FIGURES.values()
            if figure.section == key and figure.key in cards
        ]
        if in_section:
            title = SECTION_TITLES.get(key, key.replace("_", " ").capitalize())
            sections.append(Section(key=key, title=str(title), cards=in_section))
    return sections


def prepare_filter_form(form: ScopeForm) -> ScopeForm:
    """Dates as native date pickers (ISO dates in every language); "All" for no filter."""
    for name in ("start", "end"):
        widget = form.fields[name].widget
        widget.input_type = "date"
        widget.format = "%Y-%m-%d"
    for name in ("pipeline", "team", "owner", "source", "campaign"):
        form.fields[name].empty_label = _("All")
    return form


def _ignored_filters(form: ScopeForm) -> list[str]:
    return [str(form.fields[name].label) for name in form.errors if name in form.fields]


# Pages ----------------------------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    scope, form = scope_from(request.GET, request.user)
    show_all = request.GET.get("all") == "1"
    context: dict[str, Any] = {
        "form": prepare_filter_form(form),
        "scope": scope,
        "ignored": _ignored_filters(form),
        "show_all": show_all,
    }
    if show_all:
        context |= _computed_figures(scope)
    else:
        context |= _placeholders(scope)
        all_params = request.GET.copy()
        all_params["all"] = "1"
        context["all_url"] = f"{request.path}?{all_params.urlencode()}"
    return render(request, "analytics/dashboard.html", context)


def _placeholders(scope: Scope) -> dict[str, Any]:
    """The page without a single figure computed: each card fetches its own."""
    cards = {
        figure.key: placeholder_for(figure, scope)
        for figure in FIGURES.values()
        if figure.key != HEADLINE
    }
    return {
        "headline_url": card_url(HEADLINE, scope) if HEADLINE in FIGURES else "",
        "sections": sections_for(cards),
    }


def _computed_figures(scope: Scope) -> dict[str, Any]:
    """Every figure computed in this request, one after another (the page without JavaScript)."""
    cards: dict[str, Card] = {}
    headline: dict[str, Any] = {"tiles": [], "headline_failed": False}
    for figure in FIGURES.values():
        table = compute_figure(figure, scope)
        if figure.key == HEADLINE:
            headline = _headline(table)
        else:
            cards[figure.key] = card_for(figure, table, scope)
    return headline | {"sections": sections_for(cards)}


def _headline(table: Table | None) -> dict[str, Any]:
    """The tiles partial's context: the headline figure's tiles, or that it failed."""
    return {
        "tiles": tiles_for(table) if table is not None else [],
        "headline_failed": table is None,
    }


@login_required
@require_GET
def card(request: HttpRequest, key: str) -> HttpResponse:
    """One figure of the dashboard, computed for a placeholder that replaces itself with it."""
    figure = _figure_or_404(key)
    scope, _form = scope_from(request.GET, request.user)
    table = compute_figure(figure, scope)
    if key == HEADLINE:
        return render(request, "analytics/dashboard.html#tiles", _headline(table))
    return render(
        request, "analytics/dashboard.html#card", {"card": card_for(figure, table, scope)}
    )


def _figure_or_404(key: str) -> Figure:
    try:
        return FIGURES[key]
    except KeyError:
        raise Http404(_("There is no such report.")) from None


def _drill_records(figure: Figure, scope: Scope, row: str, column: str) -> QuerySet | None:
    """The records behind one number, limited once more to what the user may see."""
    if figure.drill is None:
        return None
    records = figure.drill(scope, row, column)
    if records is None:
        return None
    model = records.model
    if model not in (Deal, Lead):
        raise TypeError(f"Figure {figure.key} drills into {model.__name__}, not deals or leads")
    visible = model.objects.visible_to(scope.user).values("pk")
    records = records.filter(pk__in=visible).order_by("-created_at", "-pk")
    if model is Deal:
        return records.select_related("stage", "owner")
    return records.select_related("source", "owner")


def _drilled_cell(table: Table, row: str, column: str) -> tuple[str, str]:
    """The row's and the column's labels of the number that links to (row, column)."""
    labels = {c.key: str(c.label) for c in table.columns}
    first_text = next((c.key for c in table.columns if c.kind == "text"), None)
    for index, links in table.links.items():
        url = links.get(column)
        if url is None:
            continue
        query = parse_qs(urlsplit(url).query)
        if query.get("row") == [row] and index < len(table.rows):
            values = table.rows[index]
            row_label = values.get(first_text, row) if first_text else row
            return str(row_label), labels.get(column, column)
    return row, labels.get(column, column)


@login_required
@require_GET
def drill(request: HttpRequest, key: str) -> HttpResponse:
    figure = _figure_or_404(key)
    scope, form = scope_from(request.GET, request.user)
    row, column = request.GET.get("row", ""), request.GET.get("col", "")
    table = compute_figure(figure, scope)
    title = str(table.title) if table is not None else str(figure.title)
    row_label, column_label = _drilled_cell(table, row, column) if table else (row, column)
    failed = False
    try:
        records = _drill_records(figure, scope, row, column)
    except Exception:
        logger.exception("Drill-down of %s (%s, %s) failed", key, row, column)
        records, failed = None, True
    page = None
    if records is not None:
        page = Paginator(records, DRILL_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "analytics/drill.html",
        {
            "figure": figure,
            "title": title,
            "row_label": row_label,
            "column_label": column_label,
            "scope": scope,
            "ignored": _ignored_filters(form),
            "page": page,
            "kind": _record_kind(records),
            "failed": failed,
            "back": f"{reverse('analytics-dashboard')}?{scope.query_string()}",
        },
    )


def _record_kind(records: QuerySet | None) -> str:
    if records is None:
        return ""
    return "deal" if records.model is Deal else "lead"


def _plain_row(values: list[Any]) -> list[Any]:
    # Labels may be lazy translations; the writers want text.
    return [str(value) if isinstance(value, Promise) else value for value in values]


def _sheet_title(title: str) -> str:
    # Excel refuses these characters in a sheet's name.
    return re.sub(r"[\\/*?:\[\]]", " ", title).strip() or "lejek"


def export_filename(key: str, scope: Scope, fmt: str) -> str:
    return f"lejek-{key}-{scope.start.isoformat()}-{scope.end.isoformat()}.{fmt}"


@login_required
@require_GET
def export(request: HttpRequest, key: str, fmt: str) -> HttpResponse:
    figure = _figure_or_404(key)
    if fmt not in EXPORT_FORMATS:
        raise Http404
    scope, _form = scope_from(request.GET, request.user)
    table = compute_figure(figure, scope)
    if table is None:
        return HttpResponse(
            _("This figure could not be computed. The error has been logged."),
            status=500,
            content_type="text/plain; charset=utf-8",
        )
    rows = exporting.Table(
        names=[column.key for column in table.columns],
        headers=table.header(),
        rows=[_plain_row(values) for values in table.values()],
        title=_sheet_title(str(table.title)),
    )
    response = exporting.response(rows, fmt, f"lejek-{key}")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(key, scope, fmt)}"'
    return response
