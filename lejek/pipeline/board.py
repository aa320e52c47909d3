"""The board's reads: which deals a column shows, the column totals, and the cards.

The number of queries does not depend on the number of deals: the totals of every column
come from one GROUP BY, and each column reads only its first page of cards (with the next
open task's date as a subquery, not a query per card).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from lejek.activities.models import Task
from lejek.contacts.forms import owner_choices, team_choices
from lejek.core.listing import Chip, DateFilter, IdFilter, Listing, OwnerFilter
from lejek.leads.models import Source
from lejek.pipeline.models import Deal, Pipeline, Stage

CARDS_PER_PAGE = 30
# What a card shows; the rest of a deal (custom fields, notes) is not read for the board.
CARD_FIELDS = (
    "title",
    "amount",
    "currency",
    "version",
    "pipeline_id",
    "stage_id",
    "stage_entered_at",
    "company__name",
    "owner__first_name",
    "owner__last_name",
    "owner__email",
)
# Won and lost columns show the deals closed lately; older ones are in the deal list.
RECENT_CLOSED_DAYS = 30


def source_choices(user) -> list[tuple[int, str]]:
    return list(Source.objects.order_by("name").values_list("pk", "name"))


# The filter bar, declared like a list page's; only its filters and search are used.
BOARD_FILTERS = Listing(
    entity="deal",
    search=("title", "company__name"),
    columns=(),
    sorts={"entered": ("stage_entered_at",)},
    default_sort="-entered",
    filters=(
        OwnerFilter(owner_choices),
        IdFilter("team", _("Team"), choices=team_choices),
        IdFilter("source", _("Source"), choices=source_choices),
        DateFilter("close_from", _("Closes from"), field="expected_close_date", bound="from"),
        DateFilter("close_to", _("Closes by"), field="expected_close_date", bound="to"),
    ),
    search_label=_("Search the board"),
)
FILTER_PARAMS = ("q", "owner", "team", "source", "close_from", "close_to")


@dataclass
class Money:
    currency: str
    total: Decimal
    weighted: Decimal


@dataclass
class Column:
    stage: Stage
    count: int = 0
    rotting: int = 0
    money: list[Money] = field(default_factory=list)
    cards: list[Deal] = field(default_factory=list)

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.cards))


@dataclass
class BoardFilters:
    queryset: QuerySet
    form: forms.Form
    chips: list[Chip]
    query: str  # the filters as a query string, carried by moves and "show more"


def pick_pipeline(raw: str) -> Pipeline | None:
    """`?pipeline=<id>`, else the default pipeline, else the first one."""
    pipelines = Pipeline.objects.all()
    chosen = pipelines.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 12 else None
    return chosen or pipelines.filter(is_default=True).first() or pipelines.first()


def rotting_since(pipeline: Pipeline, now: datetime.datetime) -> datetime.datetime | None:
    """Deals that entered their open stage at or before this moment are rotting: more than
    `rotting_days` whole days in it."""
    if pipeline.rotting_days is None:
        return None
    return now - datetime.timedelta(days=pipeline.rotting_days + 1)


def on_board(stages: list[Stage], now: datetime.datetime) -> Q:
    """The deals in the open stages, and those in won and lost stages closed recently.

    Written with the stage ids the board already has, so the grouped query needs no join.
    """
    recent = now - datetime.timedelta(days=RECENT_CLOSED_DAYS)
    open_ids = [stage.pk for stage in stages if not stage.is_closed]
    closed_ids = [stage.pk for stage in stages if stage.is_closed]
    return Q(stage_id__in=open_ids) | Q(stage_id__in=closed_ids, closed_at__gte=recent)


def filtered_deals(
    request: HttpRequest, stages: list[Stage], now: datetime.datetime
) -> BoardFilters:
    """The deals the user may see on this board, narrowed by the filter bar."""
    base = Deal.objects.visible_to(request.user).filter(on_board(stages, now))
    form = BOARD_FILTERS.filter_form(request.GET)
    placement: dict[str, list[str]] = {"more": [], "hidden": []}
    queryset, chips = BOARD_FILTERS.apply_filters(request, base, form, placement)
    params = request.GET.copy()
    for key in list(params):
        if key not in FILTER_PARAMS or not params.get(key):
            params.pop(key)
    return BoardFilters(queryset, form, chips, params.urlencode())


def columns_with_totals(
    deals: QuerySet, stages: list[Stage], rotting_before: datetime.datetime | None
) -> list[Column]:
    """One column per stage with its count, rotting count and money per currency, from one
    grouped query."""
    rotting = (
        Count("id", filter=Q(stage_entered_at__lte=rotting_before))
        if rotting_before
        else Count("id", filter=Q(pk__isnull=True))
    )
    rows = (
        deals.order_by()
        .values("stage_id", "currency")
        .annotate(n=Count("id"), total=Sum("amount"), rotting=rotting)
    )
    columns = {stage.pk: Column(stage) for stage in stages}
    for row in rows:
        column = columns.get(row["stage_id"])
        if column is None:
            continue
        column.count += row["n"]
        if not column.stage.is_closed:
            column.rotting += row["rotting"]
        total = row["total"] or Decimal(0)
        if row["total"] is not None:
            weighted = (total * column.stage.probability / 100).quantize(Decimal("0.01"))
            column.money.append(Money(row["currency"], total, weighted))
    for column in columns.values():
        column.money.sort(key=lambda m: (-m.total, m.currency))
    return [columns[stage.pk] for stage in stages]


def next_task_due() -> Subquery:
    """The due date of the deal's earliest open task."""
    tasks = Task.objects.filter(deal=OuterRef("pk"), done_at__isnull=True, due_date__isnull=False)
    return Subquery(tasks.order_by("due_date", "id").values("due_date")[:1])


def column_cards(deals: QuerySet, stage: Stage, *, offset: int = 0) -> list[Deal]:
    """One page of a column's cards, newest arrivals first."""
    rows = (
        deals.filter(stage=stage)
        .select_related("company", "owner")
        .only(*CARD_FIELDS)
        .annotate(next_task_due=next_task_due())
        .order_by("-stage_entered_at", "-id")
    )
    return list(rows[offset : offset + CARDS_PER_PAGE])


def stage_options(stages: list[Stage]) -> dict[int, str]:
    """The <option>s of a card's stage select, rendered once per board for each stage that
    may be selected, instead of once per card (a board has hundreds of cards)."""

    def options(selected: int) -> str:
        return format_html_join(
            "",
            '<option value="{}"{}{}>{}</option>',
            (
                (
                    stage.pk,
                    mark_safe(" data-lost") if stage.is_lost else "",
                    mark_safe(" selected") if stage.pk == selected else "",
                    stage.name,
                )
                for stage in stages
            ),
        )

    return {stage.pk: options(stage.pk) for stage in stages}


def url_for_id(name: str) -> Callable[[int], str]:
    """`reverse(name, args=[id])` for the hundreds of cards of a board: reversed once, with
    the id put in by string formatting (the patterns end in `<int:pk>/`)."""
    head = reverse(name, args=[0]).removesuffix("0/")
    return lambda pk: f"{head}{pk}/"


def decorate(
    cards: list[Deal],
    pipeline: Pipeline,
    stage: Stage,
    now: datetime.datetime,
    options: dict[int, str],
) -> None:
    """Days in stage, rotting and overdue flags: what the card says in words, not colour only.

    The per-card words and links are made here, once per card, rather than by template tags:
    a board renders a few hundred cards.
    """
    today = timezone.localdate(now)
    detail_url, move_url = url_for_id("deal-detail"), url_for_id("deal-board-move")
    for deal in cards:
        deal.stage_options = options[stage.pk]
        deal.detail_url, deal.move_url = detail_url(deal.pk), move_url(deal.pk)
        deal.days_in_stage = max(0, (now - deal.stage_entered_at).days)
        deal.is_rotting = (
            not stage.is_closed
            and pipeline.rotting_days is not None
            and deal.days_in_stage > pipeline.rotting_days
        )
        due = getattr(deal, "next_task_due", None)
        deal.task_overdue = due is not None and due < today
        days = deal.days_in_stage
        deal.days_label = (
            gettext("rotting %(days)s d") % {"days": days}
            if deal.is_rotting
            else ngettext("%(days)s day in stage", "%(days)s days in stage", days) % {"days": days}
        )


def build_columns(
    request: HttpRequest, pipeline: Pipeline, stages: list[Stage], now: datetime.datetime
) -> tuple[list[Column], BoardFilters]:
    filters = filtered_deals(request, stages, now)
    columns = columns_with_totals(filters.queryset, stages, rotting_since(pipeline, now))
    options = stage_options(stages)
    for column in columns:
        # Won and lost columns start collapsed: the board is for open work, and their
        # cards are one click ("Show deals") away.
        if column.count and not column.stage.is_closed:
            column.cards = column_cards(filters.queryset, column.stage)
            decorate(column.cards, pipeline, column.stage, now, options)
    return columns, filters


def board_query(pipeline: Pipeline, filter_query: str) -> str:
    """The board's state as a query string: its pipeline and filters."""
    query = f"pipeline={pipeline.pk}"
    return f"{query}&{filter_query}" if filter_query else query
