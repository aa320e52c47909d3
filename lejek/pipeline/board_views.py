"""The board: a column per stage, cards moved by drag and drop or by each card's form."""

from __future__ import annotations

import copy
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from lejek.contacts.forms import save_through
from lejek.pipeline.board import (
    CARDS_PER_PAGE,
    FILTER_PARAMS,
    RECENT_CLOSED_DAYS,
    board_query,
    build_columns,
    column_cards,
    columns_with_totals,
    decorate,
    filtered_deals,
    pick_pipeline,
    rotting_since,
    stage_options,
)
from lejek.pipeline.forms import StageMoveForm
from lejek.pipeline.models import Deal, Pipeline, Stage
from lejek.pipeline.services import deal_move_to_stage
from lejek.users.models import Role


def may_move(user) -> bool:
    """Whether the user edits deals at all (marketing reads the board but moves nothing)."""
    return user.role != Role.MARKETING


def _stages(pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.order_by("position"))


def _context(request: HttpRequest, pipeline: Pipeline, stages: list[Stage], **extra) -> dict:
    return {
        "pipeline": pipeline,
        "stages": stages,
        "can_move": may_move(request.user),
        "recent_days": RECENT_CLOSED_DAYS,
        # Words every card repeats, translated once per page rather than once per card.
        "owner_label": gettext("Owner:"),
        "unassigned_label": gettext("Unassigned"),
        "next_task_label": gettext("Next task:"),
        "overdue_label": gettext("task overdue"),
        "no_task_label": gettext("No open task"),
        "move_label": gettext("Move to…"),
        **extra,
    }


@login_required
@require_GET
def deal_board(request: HttpRequest) -> HttpResponse:
    pipeline = pick_pipeline(request.GET.get("pipeline", ""))
    if pipeline is None:
        return render(request, "pipeline/board.html", {"pipeline": None})
    stages = _stages(pipeline)
    columns, filters = build_columns(request, pipeline, stages, timezone.now())
    context = _context(
        request,
        pipeline,
        stages,
        columns=columns,
        filters=filters,
        pipelines=list(Pipeline.objects.values_list("pk", "name")),
        board_query=board_query(pipeline, filters.query),
        total=sum(column.count for column in columns),
    )
    return render(request, "pipeline/board.html", context)


@login_required
@require_GET
def board_column_more(request: HttpRequest, stage_pk: int) -> HttpResponse:
    """The next page of one column's cards ("show more")."""
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=stage_pk)
    pipeline = stage.pipeline
    raw = request.GET.get("offset", "")
    offset = int(raw) if raw.isdigit() and len(raw) < 9 else 0
    now = timezone.now()
    stages = _stages(pipeline)
    filters = filtered_deals(request, stages, now)
    cards = column_cards(filters.queryset, stage, offset=offset)
    decorate(cards, pipeline, stage, now, stage_options(stages))
    has_more = filters.queryset.filter(stage=stage)[offset + CARDS_PER_PAGE :].exists()
    context = _context(
        request,
        pipeline,
        stages,
        stage=stage,
        cards=cards,
        next_offset=offset + CARDS_PER_PAGE if has_more else None,
        board_query=board_query(pipeline, filters.query),
    )
    return render(request, "pipeline/board.html#more-cards", context)


def _board_request(request: HttpRequest, board: str) -> HttpRequest:
    """A copy of the request carrying the board's filters as they were when the card was
    moved (sent along as `board`), so the new totals match what the person sees."""
    params = QueryDict(board)
    clean = QueryDict(mutable=True)
    for key in ("pipeline", *FILTER_PARAMS):
        if params.get(key):
            clean[key] = params[key]
    board_request = copy.copy(request)
    board_request.GET = clean
    return board_request


def _moved_text(deal: Deal) -> str:
    return gettext("“%(deal)s” moved to %(stage)s.") % {"deal": deal, "stage": deal.stage}


def _errors_text(form: StageMoveForm) -> str:
    """Every refusal of a move in one line, for the board's status line or a message."""
    errors = [*form.non_field_errors(), *(error for field in form for error in field.errors)]
    return " ".join(str(error) for error in errors)


def _card_response(
    request: HttpRequest, deal: Deal, form: StageMoveForm, *, moved: bool
) -> HttpResponse:
    """The card as stored now, the new column headers, and the message in words."""
    pipeline = deal.pipeline
    stages = _stages(pipeline)
    now = timezone.now()
    filters = filtered_deals(request, stages, now)
    columns = columns_with_totals(filters.queryset, stages, rotting_since(pipeline, now))
    card = column_cards(Deal.objects.filter(pk=deal.pk), deal.stage)[0]
    options = stage_options(stages)
    decorate([card], pipeline, deal.stage, now, options)
    chosen = getattr(form, "cleaned_data", {}).get("stage")
    if chosen is not None and not moved:
        # A refused move keeps the stage the person chose, so they can fix and resend it.
        card.stage_options = options.get(chosen.pk, card.stage_options)
    status = _moved_text(deal) if moved else _errors_text(form)
    context = _context(
        request,
        pipeline,
        stages,
        deal=card,
        move_form=None if moved else form,
        columns=columns,
        board_query=board_query(pipeline, filters.query),
        status=status,
        refused=not moved,
    )
    response = render(request, "pipeline/board.html#move-result", context)
    event = {"deal": card.pk, "stage": card.stage_id}
    if moved:
        response["HX-Trigger-After-Swap"] = json.dumps({"lejek:moved": event})
    else:
        # Sent before the swap, so a dragged card is back in its column when it is replaced.
        response["HX-Trigger"] = json.dumps({"lejek:moveRefused": event})
    return response


def _move_form_page(request: HttpRequest, deal: Deal) -> HttpResponse:
    """The card's "Move to…" form: loaded into the card by htmx, or a small page without it."""
    if not may_move(request.user):
        raise PermissionDenied(gettext("You are not allowed to change this record."))
    stages = _stages(deal.pipeline)
    deal.stage_options = stage_options(stages)[deal.stage_id]
    board = _board_request(request, request.GET.urlencode()).GET
    context = _context(
        request,
        deal.pipeline,
        stages,
        deal=deal,
        move_form=StageMoveForm(deal=deal),
        board_query=board.urlencode(),
        board_url=f"{reverse('deal-board')}?{board.urlencode()}",
    )
    htmx = getattr(request, "htmx", False)
    name = "pipeline/board.html#move-form" if htmx else "pipeline/board_move.html"
    return render(request, name, context)


@login_required
@require_http_methods(["GET", "POST"])
def board_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a card: htmx gets the card and the column headers back; a plain form submit is
    sent back to the board with a message. GET shows the form."""
    visible = Deal.objects.visible_to(request.user).select_related("pipeline", "stage")
    deal = get_object_or_404(visible, pk=pk)
    if request.method == "GET":
        return _move_form_page(request, deal)
    form = StageMoveForm(request.POST, deal=deal)
    moved = False
    if form.is_valid():
        target = form.cleaned_data["stage"]
        if target.is_won and target.pk != deal.stage_id:
            # Winning asks for the final amount and date first (the card stays put until then).
            win_url = reverse("deal-win", args=[deal.pk])
            if getattr(request, "htmx", False):
                return HttpResponse(headers={"HX-Redirect": win_url})
            return redirect(win_url)
        change = save_through(
            form,
            lambda: deal_move_to_stage(
                actor=request.user,
                deal=deal,
                stage=form.cleaned_data["stage"],
                expected_version=form.cleaned_data["version"],
                lost_reason=form.cleaned_data["lost_reason"],
            ),
        )
        moved = change is not None
        if change is None and not form.errors:
            moved = True  # already there: nothing to refuse
    # A refused move may have changed the deal in memory; show it as it is stored.
    deal = get_object_or_404(visible, pk=pk)
    board = request.POST.get("board", "")
    if getattr(request, "htmx", False):
        return _card_response(_board_request(request, board), deal, form, moved=moved)
    if moved:
        messages.success(request, _moved_text(deal))
    else:
        messages.error(request, f"{deal}: {_errors_text(form)}")
    query = _board_request(request, board).GET.urlencode()
    return redirect(f"{reverse('deal-board')}?{query}" if query else reverse("deal-board"))
