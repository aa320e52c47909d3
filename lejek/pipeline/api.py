"""Pipelines (read-only) and deals over the JSON API. Stage moves have their own endpoint."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from lejek.api.access import (
    References,
    any_team,
    any_user,
    everything,
    resolve_references,
    visible,
    visible_or_404,
)
from lejek.api.listing import RecordFilters, filter_records
from lejek.api.pagination import PageParams, orderings, page_schema, paginate
from lejek.api.replies import created, no_content, with_etag
from lejek.api.schemas import VERSION_FIELD, InputSchema, partial, responses
from lejek.api.versions import expected_version
from lejek.contacts.models import Company, Contact
from lejek.core.fields import CURRENCIES
from lejek.leads.models import Lead, Source
from lejek.pipeline.models import Deal, Pipeline, Stage
from lejek.pipeline.services import deal_create, deal_delete, deal_move_to_stage, deal_update

deals_router = Router(tags=["deals"])
pipelines_router = Router(tags=["deals"])

Currency = Literal[tuple(code for code, _label in CURRENCIES)]
DealState = Literal["open", "won", "lost"]
CENTS = Decimal("0.01")
DealOrdering = orderings(
    "created_at", "updated_at", "title", "amount", "expected_close_date", "stage_entered_at"
)

DEAL_REFERENCES: References = {
    "pipeline": everything(Pipeline),
    "stage": everything(Stage),
    "company": visible(Company),
    "contact": visible(Contact),
    "lead": visible(Lead),
    "source": everything(Source),
    "owner": any_user,
    "team": any_team,
}


class StageOut(Schema):
    id: int
    name: str
    position: int
    probability: int
    is_won: bool
    is_lost: bool


class PipelineOut(Schema):
    id: int
    name: str
    position: int
    is_default: bool
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(obj: Pipeline) -> list[Stage]:
        return list(obj.stages.all())


class DealIn(InputSchema):
    title: str
    pipeline: int | None = Field(None, description="A pipeline id; by default the default one.")
    stage: int | None = Field(None, description="A stage id; by default the pipeline's first.")
    amount: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    currency: Currency = "PLN"
    expected_close_date: datetime.date | None = None
    lost_reason: str = ""
    company: int | None = Field(None, description="A company id.")
    contact: int | None = Field(None, description="A contact id.")
    lead: int | None = Field(None, description="A lead id.")
    source: int | None = Field(None, description="A source id.")
    owner: int | None = Field(None, description="A user id.")
    team: int | None = Field(None, description="A team id.")
    custom: dict[str, Any] | None = Field(None, description="Custom field key → value.")


DealPatch = partial(DealIn, "DealPatch", version=VERSION_FIELD)


class DealMove(InputSchema):
    stage: int = Field(description="A stage id of the deal's pipeline.")
    lost_reason: str = Field("", description="Required when the stage is a lost stage.")
    version: int | None = Field(None, description="The version you edited; 409 if stale.")


class DealOut(Schema):
    id: int
    title: str
    pipeline: int = Field(validation_alias="pipeline_id")
    stage: int = Field(validation_alias="stage_id")
    state: DealState
    amount: Decimal | None
    currency: str
    expected_close_date: datetime.date | None
    closed_at: datetime.datetime | None
    lost_reason: str
    stage_entered_at: datetime.datetime
    company: int | None = Field(validation_alias="company_id")
    contact: int | None = Field(validation_alias="contact_id")
    lead: int | None = Field(validation_alias="lead_id")
    source: int | None = Field(validation_alias="source_id")
    owner: int | None = Field(validation_alias="owner_id")
    team: int | None = Field(validation_alias="team_id")
    custom: dict[str, Any]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_amount(obj: Deal) -> Decimal | None:
        # Always two decimals, also right after a save with an amount sent as 15000.
        return None if obj.amount is None else Decimal(obj.amount).quantize(CENTS)

    @staticmethod
    def resolve_state(obj: Deal) -> str:
        if obj.stage.is_won:
            return "won"
        return "lost" if obj.stage.is_lost else "open"


class StageChangeOut(Schema):
    id: int
    from_stage: int | None = Field(validation_alias="from_stage_id")
    to_stage: int = Field(validation_alias="to_stage_id")
    changed_at: datetime.datetime
    actor: int | None = Field(validation_alias="actor_id")


class DealFilters(RecordFilters):
    pipeline: int | None = Field(None, description="A pipeline id.")
    stage: int | None = Field(None, description="A stage id.")
    state: DealState | None = None
    company: int | None = Field(None, description="A company id.")
    contact: int | None = Field(None, description="A contact id.")
    lead: int | None = Field(None, description="A lead id.")
    source: int | None = Field(None, description="A source id.")
    ordering: DealOrdering = "-created_at"


def deals() -> QuerySet:
    return Deal.objects.select_related("stage")


def _by_state(rows: QuerySet, state: str | None) -> QuerySet:
    match state:
        case "open":
            return rows.open()
        case "won":
            return rows.won()
        case "lost":
            return rows.lost()
    return rows


@pipelines_router.get("", response=responses({200: page_schema(PipelineOut, "PipelinePage")}))
def list_pipelines(request: HttpRequest, page: Query[PageParams]):
    """Every pipeline with its stages in order (deal stages are chosen from these)."""
    return paginate(request, Pipeline.objects.prefetch_related("stages"), page, "position")


@pipelines_router.get("/{pipeline_id}", response=responses({200: PipelineOut}))
def get_pipeline(request: HttpRequest, pipeline_id: int):
    return Pipeline.objects.prefetch_related("stages").filter(pk=pipeline_id).get()


@deals_router.get("", response=responses({200: page_schema(DealOut, "DealPage")}))
def list_deals(request: HttpRequest, filters: Query[DealFilters]):
    """Deals you can see. Custom fields filter as `cf_<key>=value`."""
    rows = filter_records(
        request, deals().visible_to(request.auth), filters, search=["title"], entity="deal"
    )
    for name in ("pipeline", "stage", "company", "contact", "lead", "source"):
        value = getattr(filters, name)
        if value is not None:
            rows = rows.filter(**{f"{name}_id": value})
    rows = _by_state(rows, filters.state)
    return paginate(request, rows, filters, filters.ordering)


@deals_router.post("", response=responses({201: DealOut}))
def create_deal(request: HttpRequest, payload: DealIn, response: HttpResponse):
    """Create a deal; with only a `stage`, the deal goes into that stage's pipeline."""
    values = resolve_references(
        request.auth, payload.model_dump(exclude_unset=True), DEAL_REFERENCES
    )
    if values.get("stage") is not None and values.get("pipeline") is None:
        values["pipeline"] = values["stage"].pipeline
    deal = deal_create(actor=request.auth, **values)
    return created(response, deal, "get_deal", deal_id=deal.pk)


@deals_router.get("/{deal_id}", response=responses({200: DealOut}))
def get_deal(request: HttpRequest, deal_id: int, response: HttpResponse):
    return with_etag(response, visible_or_404(deals(), request.auth, deal_id))


@deals_router.patch("/{deal_id}", response=responses({200: DealOut}))
def update_deal(request: HttpRequest, deal_id: int, payload: DealPatch, response: HttpResponse):
    """Change only the fields sent. The stage changes through POST /deals/{id}/move."""
    deal = visible_or_404(deals(), request.auth, deal_id)
    values = payload.model_dump(exclude_unset=True)
    if values.get("stage", deal.stage_id) != deal.stage_id:
        raise ValidationError(
            {"stage": _("Change the stage with POST /deals/{id}/move, so the move is recorded.")}
        )
    version = expected_version(request, values.pop("version", None))
    values = resolve_references(request.auth, values, DEAL_REFERENCES)
    deal = deal_update(actor=request.auth, deal=deal, values=values, expected_version=version)
    return with_etag(response, deal)


@deals_router.post("/{deal_id}/move", response=responses({200: DealOut}))
def move_deal(request: HttpRequest, deal_id: int, payload: DealMove, response: HttpResponse):
    """Move the deal to another stage of its pipeline; each move is kept in its history."""
    deal = visible_or_404(deals(), request.auth, deal_id)
    version = expected_version(request, payload.version)
    stage = resolve_references(request.auth, {"stage": payload.stage}, DEAL_REFERENCES)["stage"]
    deal_move_to_stage(
        actor=request.auth,
        deal=deal,
        stage=stage,
        expected_version=version,
        lost_reason=payload.lost_reason,
    )
    return with_etag(response, deal)


@deals_router.get("/{deal_id}/stage-changes", response=responses({200: list[StageChangeOut]}))
def list_stage_changes(request: HttpRequest, deal_id: int):
    """Every move of the deal, oldest first (the first has no `from_stage`)."""
    deal = visible_or_404(deals(), request.auth, deal_id)
    return list(deal.stage_changes.order_by("changed_at", "id"))


@deals_router.delete("/{deal_id}", response=responses({204: None}))
def delete_deal(request: HttpRequest, deal_id: int):
    deal_delete(actor=request.auth, deal=visible_or_404(deals(), request.auth, deal_id))
    return no_content()
