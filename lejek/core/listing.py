"""List pages as declarations: search, filters, sorting and paging over a visible queryset.

A view declares what its table offers (`Listing(...)`) and calls `listing.render(...)`.
Everything the page shows (rows, total, filter chips, sort links, page links, the filter form)
comes back in one `ListResult`, and the whole state lives in the query string, so every view of
a list can be bookmarked and shared. Unparseable parameters never fail the page: a filter that
cannot be read is ignored, and a chip shows every filter that was applied.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.db.models import DateTimeField, F, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lejek.core import custom_fields
from lejek.core.models import CustomField
from lejek.core.search import matching

PAGE_SIZE = 50
MAX_SEARCH_LENGTH = 200
# Ids beyond a signed 64-bit integer would make the database driver fail.
MAX_ID = 2**63 - 1

ChoicesFor = Callable[[Any], Iterable[tuple[Any, str]]]


def _choices(choices: ChoicesFor | Iterable | None, user) -> list[tuple[str, str]] | None:
    if choices is None:
        return None
    items = choices(user) if callable(choices) else choices
    return [(str(value), str(label)) for value, label in items]


def parse_id(raw: str) -> int | None:
    if not raw.isdigit() or len(raw) > 19:
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def parse_date(raw: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        return None


def local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# Filters ------------------------------------------------------------------------------------


class Filter:
    """One query parameter that narrows the list. `parse` returns None for values to ignore."""

    def __init__(
        self,
        param: str,
        label: str,
        *,
        field: str | None = None,
        choices: ChoicesFor | Iterable | None = None,
        more: bool = False,
    ):
        self.param = param
        self.label = label
        self.field = field or param
        self.choices = choices
        # Filters used less often sit under "More filters", so the bar stays calm.
        self.more = more

    def parse(self, raw: str, choices: list[tuple[str, str]] | None) -> Any:
        return raw

    def error(self, raw: str) -> str | None:
        """What is wrong with a value `parse` refused, for filters that explain themselves;
        None lets the value be ignored quietly (a stale id in a bookmarked link)."""
        return None

    def apply(self, qs: QuerySet, value: Any, user) -> QuerySet:
        return qs.filter(**{self.field: value})

    def describe(self, value: Any, raw: str, choices: list[tuple[str, str]] | None, user) -> str:
        return dict(choices or []).get(raw, raw)

    def has_control(self, choices: list[tuple[str, str]] | None) -> bool:
        # A select with nothing to choose (no campaigns yet) is left out of the bar.
        return choices != []

    def form_field(self, choices: list[tuple[str, str]] | None) -> forms.Field:
        if choices is None:
            return forms.CharField(label=self.label, required=False)
        return forms.ChoiceField(
            label=self.label, required=False, choices=[("", gettext("Any")), *choices]
        )


class ChoiceFilter(Filter):
    """A value out of a fixed list; `lookups` may map a value to its own condition."""

    def __init__(self, *args, lookups: dict[str, Q] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lookups = lookups or {}

    def parse(self, raw, choices):
        return raw if raw in dict(choices or []) else None

    def apply(self, qs, value, user):
        if value in self.lookups:
            return qs.filter(self.lookups[value])
        return super().apply(qs, value, user)


class IdFilter(Filter):
    """A related record by id. Without choices it travels as a hidden field (a "see all" link).

    Any well-formed id is applied, even one missing from the choices: the queryset is already
    limited to what the user may see, so an unknown id simply shows nothing.
    """

    def __init__(self, *args, describe: Callable[[Any, int], str | None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.describer = describe

    def parse(self, raw, choices):
        return parse_id(raw)

    def apply(self, qs, value, user):
        return qs.filter(**{f"{self.field}_id": value})

    def describe(self, value, raw, choices, user):
        known = dict(choices or [])
        if raw in known:
            return known[raw]
        if self.describer is not None:
            name = self.describer(user, value)
            if name:
                return name
        return f"#{value}"

    def form_field(self, choices):
        if choices is None:
            return forms.CharField(widget=forms.HiddenInput, required=False)
        return super().form_field(choices)


class OwnerFilter(IdFilter):
    """Owner: "me", "unassigned" or a person's id."""

    ME = "me"
    UNASSIGNED = "unassigned"

    def __init__(self, choices: ChoicesFor, *, param: str = "owner", label: str | None = None):
        super().__init__(param, label or _("Owner"), field="owner", choices=choices)

    def parse(self, raw, choices):
        if raw in (self.ME, self.UNASSIGNED):
            return raw
        return parse_id(raw)

    def apply(self, qs, value, user):
        if value == self.ME:
            return qs.filter(owner=user)
        if value == self.UNASSIGNED:
            return qs.filter(owner__isnull=True)
        return super().apply(qs, value, user)

    def describe(self, value, raw, choices, user):
        if value == self.ME:
            return gettext("me")
        if value == self.UNASSIGNED:
            return gettext("unassigned")
        return super().describe(value, raw, choices, user)

    def has_control(self, choices):
        return True

    def form_field(self, choices):
        fixed = [(self.ME, gettext("Me")), (self.UNASSIGNED, gettext("Unassigned"))]
        return forms.ChoiceField(
            label=self.label,
            required=False,
            choices=[("", gettext("Anyone"))] + fixed + (choices or []),
        )


class DateFilter(Filter):
    """A day bound on a date or datetime field; `to` includes the whole day."""

    def __init__(self, param: str, label: str, *, field: str, bound: str, more: bool = True):
        super().__init__(param, label, field=field, more=more)
        if bound not in ("from", "to"):
            raise ValueError("bound is 'from' or 'to'")
        self.bound = bound

    def parse(self, raw, choices):
        return parse_date(raw)

    def apply(self, qs, value, user):
        if self._is_datetime(qs):
            # Compare with local midnights so the index on the column is usable.
            if self.bound == "from":
                return qs.filter(**{f"{self.field}__gte": local_midnight(value)})
            next_day = value + datetime.timedelta(days=1)
            return qs.filter(**{f"{self.field}__lt": local_midnight(next_day)})
        lookup = "gte" if self.bound == "from" else "lte"
        return qs.filter(**{f"{self.field}__{lookup}": value})

    def _is_datetime(self, qs: QuerySet) -> bool:
        return isinstance(model_field(qs.model, self.field), DateTimeField)

    def describe(self, value, raw, choices, user):
        return formats.date_format(value, "SHORT_DATE_FORMAT")

    def form_field(self, choices):
        return forms.DateField(
            label=self.label, required=False, widget=forms.DateInput(attrs={"type": "date"})
        )


class NumberFilter(Filter):
    """A lower (`gte`) or upper (`lte`) bound on a number, from `low` to `high`.

    A value typed in `scale` units is divided by it before comparing (a percentage against a
    stored fraction of one). Unlike other filters a bad value is not ignored silently: a number
    typed wrong is something the user wants to know about.
    """

    def __init__(
        self,
        param: str,
        label: str,
        *,
        field: str,
        lookup: str,
        low: int = 0,
        high: int = 100,
        whole: bool = False,
        scale: int = 1,
        more: bool = False,
    ):
        super().__init__(param, label, field=field, more=more)
        if lookup not in ("gte", "lte"):
            raise ValueError("lookup is 'gte' or 'lte'")
        self.lookup, self.low, self.high = lookup, low, high
        self.whole, self.scale = whole, scale

    def parse(self, raw, choices):
        try:
            number = decimal.Decimal(raw.replace(",", "."))
        except decimal.InvalidOperation:
            return None
        if not number.is_finite() or not self.low <= number <= self.high:
            return None
        if self.whole and number != number.to_integral_value():
            return None
        return int(number) if self.whole else number

    def error(self, raw):
        values = {"low": self.low, "high": self.high}
        if self.whole:
            return gettext("Enter a whole number from %(low)s to %(high)s.") % values
        return gettext("Enter a number from %(low)s to %(high)s.") % values

    def apply(self, qs, value, user):
        bound = value if self.scale == 1 else float(value) / self.scale
        return qs.filter(**{f"{self.field}__{self.lookup}": bound})

    def describe(self, value, raw, choices, user):
        return formats.number_format(value)

    def form_field(self, choices):
        return forms.CharField(
            label=self.label,
            required=False,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "size": "4"}),
        )


def model_field(model, path: str):
    """The model field at the end of a `a__b__c` path."""
    target = None
    for part in path.split("__"):
        target = model._meta.get_field(part)
        if target.is_relation and target.related_model is not None:
            model = target.related_model
    return target


def is_nullable(model, path: str) -> bool:
    """Whether any step of `a__b__c` may be NULL (a nullable FK makes everything after it so)."""
    for part in path.split("__"):
        try:
            target = model._meta.get_field(part)
        except FieldDoesNotExist:
            return True
        if getattr(target, "null", False):
            return True
        if target.is_relation and target.related_model is not None:
            model = target.related_model
    return False


# Declaration and result ---------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    label: str
    sort: str | None = None
    num: bool = False
    css: str = ""
    # Numbers and dates are more often wanted biggest / newest first.
    desc_first: bool = False


@dataclass(frozen=True)
class Chip:
    label: str
    remove_url: str


@dataclass(frozen=True)
class Header:
    label: str
    url: str | None
    aria_sort: str
    arrow: str
    css: str


@dataclass
class ListResult:
    page: Page
    rows: list
    total: int
    chips: list[Chip]
    headers: list[Header]
    form: forms.Form
    sort: str
    sort_param: str
    clear_url: str
    prev_url: str | None
    next_url: str | None
    primary_fields: list = field(default_factory=list)
    more_fields: list = field(default_factory=list)
    hidden_fields: list = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def is_filtered(self) -> bool:
        return bool(self.chips)

    @property
    def more_open(self) -> bool:
        return any(f.value() not in (None, "") for f in self.more_fields)


def url_with(path: str, params: QueryDict, **changes: str | None) -> str:
    """`path` with the current query, some parameters replaced or (None) removed.

    Any change of the list's shape goes back to page one, unless `page` itself is set.
    """
    query = params.copy()
    query.pop("page", None)
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"{path}?{encoded}" if encoded else path


def without_blanks(params: QueryDict) -> QueryDict | None:
    """The query without empty parameters (as a GET form sends them), or None if all are set."""
    if all(v != "" for _key, values in params.lists() for v in values):
        return None
    clean = QueryDict(mutable=True)
    for key, values in params.lists():
        kept = [v for v in values if v != ""]
        if kept:
            clean.setlist(key, kept)
    return clean


@dataclass(frozen=True)
class Listing:
    """What a list page offers: its search fields, filters, columns, sort keys and page size."""

    entity: str
    search: Sequence[str]
    columns: Sequence[Column]
    sorts: dict[str, Sequence[str]]
    default_sort: str
    filters: Sequence[Filter] = ()
    select_related: Sequence[str] = ()
    page_size: int = PAGE_SIZE
    search_label: str = _("Search")
    # Annotates what the columns, filters and sorts read beyond the model's own fields.
    prepare: Callable[[QuerySet], QuerySet] | None = None

    def run(self, request: HttpRequest, queryset: QuerySet) -> ListResult:
        params = request.GET
        sort_key, descending = self.current_sort(params.get("sort", ""))
        rows_from = queryset if self.prepare is None else self.prepare(queryset)
        if self.reads_prepared(params, sort_key, queryset, rows_from):
            queryset = rows_from
        form = self.filter_form(params)
        placement: dict[str, list[str]] = {"more": [], "hidden": [], "errors": []}
        qs, chips = self.apply_filters(request, queryset, form, placement)
        qs, cf_chips, cf_names = self.apply_custom_fields(request, qs, form)
        chips.extend(cf_chips)
        placement["more"].extend(cf_names)

        ordered_ids = qs.order_by(*self.ordering(qs.model, sort_key, descending)).values_list(
            "pk", flat=True
        )
        paginator = Paginator(ordered_ids, self.page_size)
        page = paginator.page(self.page_number(params.get("page", ""), paginator))
        rows = self.fetch_rows(rows_from, list(page.object_list))

        def page_url(number: int) -> str:
            return url_with(request.path, params, page=str(number) if number > 1 else None)

        sort_param = ("-" if descending else "") + sort_key
        default = sort_param == self.default_sort
        more, hidden = placement["more"], placement["hidden"]
        return ListResult(
            page=page,
            rows=rows,
            total=paginator.count,
            chips=chips,
            headers=self.headers(request, sort_key, descending),
            form=form,
            sort=sort_param,
            sort_param="" if default else sort_param,
            clear_url=url_with(request.path, QueryDict(), sort=None if default else sort_param),
            prev_url=page_url(page.number - 1) if page.has_previous() else None,
            next_url=page_url(page.number + 1) if page.has_next() else None,
            primary_fields=[
                form[name] for name in form.fields if name not in more and name not in hidden
            ],
            more_fields=[form[name] for name in more],
            hidden_fields=[form[name] for name in hidden],
            errors=placement["errors"],
        )

    def reads_prepared(
        self, params: QueryDict, sort_key: str, plain: QuerySet, prepared: QuerySet
    ) -> bool:
        """Whether the search, a filter given in `params` or the sort reads what `prepare`
        annotates. When none does, counting and sorting skip it: an annotation over a
        relation keeps its join in the count too (SQLite does not drop an unused LEFT JOIN:
        0.8 s of an admin's lead list at a million leads), and the page's own rows get the
        annotations when they are read."""
        added = set(prepared.query.annotations) - set(plain.query.annotations)
        if not added:
            return False
        read = {field.lstrip("-") for field in self.sorts.get(sort_key, ())}
        read |= {flt.field for flt in self.filters if params.get(flt.param, "").strip()}
        if params.get("q", "").strip():
            read |= set(self.search)
        return any(name.split("__")[0] in added for name in read)

    def filtered(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Every row of the list as the request shows it (filters and sort, no paging), e.g.
        for an export of exactly what the user is looking at."""
        if self.prepare is not None:
            queryset = self.prepare(queryset)
        form = self.filter_form(request.GET)
        placement: dict[str, list[str]] = {"more": [], "hidden": [], "errors": []}
        qs, _chips = self.apply_filters(request, queryset, form, placement)
        qs, _chips, _names = self.apply_custom_fields(request, qs, form)
        sort_key, descending = self.current_sort(request.GET.get("sort", ""))
        return qs.order_by(*self.ordering(qs.model, sort_key, descending))

    def fetch_rows(self, queryset: QuerySet, ids: list[int]) -> list:
        """The page's records, in the order of `ids`.

        Sorting and skipping happen on ids alone and the full rows are read for one page
        only: with many rows the database then sorts narrow tuples, which keeps deep pages
        about as fast as the first.
        """
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        by_id = queryset.in_bulk(ids)
        return [by_id[pk] for pk in ids if pk in by_id]

    def filter_form(self, params: QueryDict) -> forms.Form:
        """The filter bar as a form bound to the query: it renders the controls and their
        current values; the filtering itself is done by the declared filters."""
        form = forms.Form(data=params, auto_id="filter-%s")
        form.fields["q"] = forms.CharField(
            label=self.search_label,
            required=False,
            max_length=MAX_SEARCH_LENGTH,
            widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
        )
        return form

    def apply_filters(
        self,
        request: HttpRequest,
        qs: QuerySet,
        form: forms.Form,
        placement: dict[str, list[str]],
    ) -> tuple[QuerySet, list[Chip]]:
        params, user = request.GET, request.user
        chips: list[Chip] = []
        q = params.get("q", "").strip()[:MAX_SEARCH_LENGTH]
        if q:
            qs = self.apply_search(qs, q)
            label = gettext("Search: “%(q)s”") % {"q": q}
            chips.append(Chip(label, url_with(request.path, params, q=None)))
        for flt in self.filters:
            choices = _choices(flt.choices, user)
            if flt.has_control(choices):
                form.fields[flt.param] = flt.form_field(choices)
                if isinstance(form.fields[flt.param].widget, forms.HiddenInput):
                    placement["hidden"].append(flt.param)
                elif flt.more:
                    placement["more"].append(flt.param)
            raw = params.get(flt.param, "").strip()
            value = flt.parse(raw, choices) if raw else None
            if value is None:
                message = flt.error(raw) if raw else None
                if message:
                    placement.setdefault("errors", []).append(f"{flt.label}: {message}")
                continue
            qs = flt.apply(qs, value, user)
            label = f"{flt.label}: {flt.describe(value, raw, choices, user)}"
            chips.append(Chip(label, url_with(request.path, params, **{flt.param: None})))
        return qs, chips

    def apply_search(self, qs: QuerySet, q: str) -> QuerySet:
        """Every word must appear in at least one of the search fields ("jan kowalski")."""
        return qs.filter(matching(list(self.search), q))

    def apply_custom_fields(
        self, request: HttpRequest, qs: QuerySet, form: forms.Form
    ) -> tuple[QuerySet, list[Chip], list[str]]:
        params = request.GET
        definitions = custom_fields.definitions(self.entity)
        chips: list[Chip] = []
        names: list[str] = []
        for definition in definitions:
            for name, bound, form_field in custom_filter_fields(definition):
                form.fields[name] = form_field
                names.append(name)
                raw = params.get(name, "").strip()
                if raw:
                    label = custom_chip_label(definition, bound, raw)
                    chips.append(Chip(label, url_with(request.path, params, **{name: None})))
        if chips:
            qs = custom_fields.filter_queryset(qs, self.entity, params)
        return qs, chips, names

    def current_sort(self, raw: str) -> tuple[str, bool]:
        key = raw.removeprefix("-")
        if key not in self.sorts:
            raw = self.default_sort
            key = raw.removeprefix("-")
        return key, raw.startswith("-")

    def ordering(self, model, key: str, descending: bool) -> list:
        terms = []
        for path in self.sorts[key]:
            if is_nullable(model, path):
                # Empty values last in both directions: they are the least interesting rows.
                expression = F(path).desc if descending else F(path).asc
                terms.append(expression(nulls_last=True))
            else:
                terms.append(f"-{path}" if descending else path)
        # A unique tie-breaker keeps rows from jumping between pages.
        terms.append("-pk" if descending else "pk")
        return terms

    @staticmethod
    def page_number(raw: str, paginator: Paginator) -> int:
        number = int(raw) if raw.isdigit() and len(raw) < 10 else 1
        return min(max(number, 1), paginator.num_pages)

    def headers(self, request: HttpRequest, sort_key: str, descending: bool) -> list[Header]:
        headers = []
        for column in self.columns:
            css = " ".join(filter(None, ["num" if column.num else "", column.css]))
            if column.sort is None or column.sort not in self.sorts:
                headers.append(Header(str(column.label), None, "", "", css))
                continue
            active = column.sort == sort_key
            next_desc = not descending if active else column.desc_first
            url = url_with(request.path, request.GET, sort=("-" if next_desc else "") + column.sort)
            aria = ("descending" if descending else "ascending") if active else ""
            arrow = (" ↓" if descending else " ↑") if active else ""
            headers.append(Header(str(column.label), url, aria, arrow, css))
        return headers

    def render(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        template_name: str,
        context: dict | None = None,
    ) -> HttpResponse:
        """The full page, or its `#results` partial for htmx, with the list state applied.

        A plain GET form sends its empty fields too; those are dropped with one redirect
        (or, for htmx, a pushed URL) so the address stays short and shareable.
        """
        htmx = getattr(request, "htmx", None)
        partial = bool(htmx) and not htmx.boosted and not htmx.history_restore_request
        clean = without_blanks(request.GET)
        if clean is not None and not partial:
            return HttpResponseRedirect(url_with(request.path, clean, page=clean.get("page")))
        result = self.run(request, queryset)
        name = f"{template_name}#results" if partial else template_name
        response = render(request, name, {"listing": result, **(context or {})})
        if partial and clean is not None:
            response["HX-Push-Url"] = url_with(request.path, clean, page=clean.get("page"))
        patch_vary_headers(response, ("HX-Request",))
        return response


# Custom fields in the filter bar -------------------------------------------------------------


def custom_filter_fields(definition: CustomField) -> list[tuple[str, str, forms.Field]]:
    """(parameter, bound, control) for one custom field: an exact value, or a from/to range
    for numbers and dates; bound is "", "min" or "max".

    They are plain text fields with fitting widgets: `filter_queryset` does the parsing, so a
    bad value never turns into a form error here.
    """
    name = f"cf_{definition.key}"
    label = definition.label

    def select(options: list[tuple[str, str]]) -> forms.Field:
        options = [("", gettext("Any")), *options]
        return forms.CharField(label=label, required=False, widget=forms.Select(choices=options))

    match definition.type:
        case CustomField.Type.CHOICE:
            return [(name, "", select([(c, c) for c in definition.choices]))]
        case CustomField.Type.BOOLEAN:
            return [(name, "", select([("yes", gettext("Yes")), ("no", gettext("No"))]))]
        case CustomField.Type.NUMBER | CustomField.Type.DECIMAL | CustomField.Type.DATE:
            if definition.type == CustomField.Type.DATE:
                attrs = {"type": "date"}
            else:
                attrs = {"inputmode": "decimal", "size": "8"}
            return [
                (
                    f"{name}_{bound}",
                    bound,
                    forms.CharField(
                        label=text % {"label": label},
                        required=False,
                        widget=forms.TextInput(attrs=attrs),
                    ),
                )
                for bound, text in (
                    ("min", gettext("%(label)s from")),
                    ("max", gettext("%(label)s to")),
                )
            ]
    return [(name, "", forms.CharField(label=label, required=False))]


def custom_chip_label(definition: CustomField, bound: str, raw: str) -> str:
    shown = raw
    if definition.type == CustomField.Type.BOOLEAN:
        word = raw.lower()
        if word in custom_fields.TRUE_WORDS:
            shown = gettext("yes")
        elif word in custom_fields.FALSE_WORDS:
            shown = gettext("no")
    if bound == "min":
        return f"{definition.label} ≥ {shown}"
    if bound == "max":
        return f"{definition.label} ≤ {shown}"
    return f"{definition.label}: {shown}"
