"""Leads over the JSON API, plus the sources and campaigns they come from (read-only)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
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
from lejek.api.listing import RecordFilters, filter_records, text_search
from lejek.api.pagination import PageParams, orderings, page_schema, paginate
from lejek.api.replies import created, no_content, with_etag
from lejek.api.schemas import VERSION_FIELD, InputSchema, choice, partial, responses
from lejek.api.versions import expected_version
from lejek.contacts.api import MERGE_RESPONSES, MergeIn, get_or_redirect, merge_into
from lejek.contacts.models import Company, Contact
from lejek.leads.models import Campaign, Lead, Source
from lejek.leads.services import lead_create, lead_delete, lead_update

leads_router = Router(tags=["leads"])
sources_router = Router(tags=["sources and campaigns"])
campaigns_router = Router(tags=["sources and campaigns"])

LeadStatus = choice(Lead.Status)
SourceKind = choice(Source.Kind)
LeadOrdering = orderings(
    "created_at", "updated_at", "last_name", "company_name", "score", "win_probability"
)
SourceOrdering = orderings("name", "id")
CampaignOrdering = orderings("name", "starts_on", "created_at")

LEAD_REFERENCES: References = {
    "source": everything(Source),
    "campaign": everything(Campaign),
    "contact": visible(Contact),
    "company": visible(Company),
    "owner": any_user,
    "team": any_team,
}
TEXT_FILTERS = ("medium", "utm_source", "utm_medium", "utm_campaign", "country")
LEAD_SEARCH = ["first_name", "last_name", "email", "phone", "company_name"]


class LeadIn(InputSchema):
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    company_name: str = ""
    title: str = ""
    status: LeadStatus = Lead.Status.NEW.value
    source: int | None = Field(None, description="A source id.")
    campaign: int | None = Field(None, description="A campaign id (also sets its source).")
    contact: int | None = Field(None, description="A contact id.")
    company: int | None = Field(None, description="A company id.")
    description: str = ""
    medium: str = Field("", max_length=100)
    utm_source: str = Field("", max_length=200)
    utm_medium: str = Field("", max_length=200)
    utm_campaign: str = Field("", max_length=200)
    utm_term: str = Field("", max_length=200)
    utm_content: str = Field("", max_length=200)
    referrer: str = Field("", max_length=500)
    country: str = Field("", max_length=2, description="ISO 3166 code, e.g. PL.")
    region: str = Field("", max_length=100)
    company_size: int | None = Field(None, ge=0, description="Number of employees.")
    owner: int | None = Field(None, description="A user id; by default the creator (reps).")
    team: int | None = Field(None, description="A team id; by default the owner's team.")
    custom: dict[str, Any] | None = Field(None, description="Custom field key → value.")


LeadPatch = partial(LeadIn, "LeadPatch", version=VERSION_FIELD)


class LeadOut(Schema):
    id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    company_name: str
    title: str
    status: LeadStatus
    source: int | None = Field(validation_alias="source_id")
    campaign: int | None = Field(validation_alias="campaign_id")
    contact: int | None = Field(validation_alias="contact_id")
    company: int | None = Field(validation_alias="company_id")
    score: int
    win_probability: float | None = Field(
        None,
        description="Predicted chance to win, in percent (0 to 100); null until a model scores it.",
    )
    description: str
    medium: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    referrer: str
    country: str
    region: str
    company_size: int | None
    owner: int | None = Field(validation_alias="owner_id")
    team: int | None = Field(validation_alias="team_id")
    custom: dict[str, Any]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_score(obj: Lead) -> int:
        if hasattr(obj, "score"):  # annotated by the list
            return obj.score
        try:
            return obj.lead_score.score
        except ObjectDoesNotExist:
            return 0

    @staticmethod
    def resolve_win_probability(obj: Lead) -> float | None:
        if hasattr(obj, "win_probability"):  # annotated by the list
            value = obj.win_probability
        else:
            try:
                probability = obj.lead_score.probability
            except ObjectDoesNotExist:
                return None
            value = None if probability is None else probability * 100
        return None if value is None else round(value, 1)


class LeadFilters(RecordFilters):
    status: LeadStatus | None = None
    source: int | None = Field(None, description="A source id.")
    campaign: int | None = Field(None, description="A campaign id.")
    medium: str | None = Field(None, max_length=100, description="Exact medium (any case).")
    utm_source: str | None = Field(None, max_length=200)
    utm_medium: str | None = Field(None, max_length=200)
    utm_campaign: str | None = Field(None, max_length=200)
    country: str | None = Field(None, max_length=2, description="ISO 3166 code, e.g. PL.")
    score_min: int | None = Field(None, ge=0, le=100, description="Score at least this.")
    score_max: int | None = Field(None, ge=0, le=100, description="Score at most this.")
    probability_min: float | None = Field(
        None, ge=0, le=100, description="Win probability at least this many percent."
    )
    ordering: LeadOrdering = "-created_at"


LeadPage = page_schema(LeadOut, "LeadPage")


@leads_router.get("", response=responses({200: LeadPage}))
def list_leads(request: HttpRequest, filters: Query[LeadFilters]):
    """Leads you can see. Also filter by custom fields: `cf_<key>=value`, `cf_<key>_min/_max`."""
    rows = filter_records(
        request, Lead.objects.visible_to(request.auth), filters, search=LEAD_SEARCH, entity="lead"
    )
    for name in ("status", "source", "campaign"):
        value = getattr(filters, name)
        if value is not None:
            rows = rows.filter(**{name: value})
    # Attribution is typed by people and tools alike: "Newsletter" and "newsletter" are one.
    for name in TEXT_FILTERS:
        value = getattr(filters, name)
        if value:
            rows = rows.filter(**{f"{name}__iexact": value})
    return paginate(request, score_filtered(rows, filters), filters, filters.ordering)


def score_filtered(rows: QuerySet, filters: LeadFilters) -> QuerySet:
    """Score and win-probability bounds; `win_probability` is annotated for the output and
    for ordering and paging by it."""
    rows = rows.with_score().annotate(win_probability=F("lead_score__probability") * 100)
    if filters.score_min is not None:
        rows = rows.filter(score__gte=filters.score_min)
    if filters.score_max is not None:
        rows = rows.filter(score__lte=filters.score_max)
    if filters.probability_min is not None:
        rows = rows.filter(lead_score__probability__gte=filters.probability_min / 100)
    return rows


@leads_router.post("", response=responses({200: LeadOut, 201: LeadOut}))
def create_lead(request: HttpRequest, payload: LeadIn, response: HttpResponse):
    """Create a lead (201). A person who already has an open lead gets no second one: the new
    details fill that lead's empty fields, the repeat is logged on it and it is returned (200)."""
    values = resolve_references(
        request.auth, payload.model_dump(exclude_unset=True), LEAD_REFERENCES
    )
    lead = lead_create(actor=request.auth, **values)
    if getattr(lead, "was_repeat", False):
        return with_etag(response, lead)
    return created(response, lead, "get_lead", lead_id=lead.pk)


@leads_router.get("/{lead_id}", response=responses({200: LeadOut, 308: None}))
def get_lead(request: HttpRequest, lead_id: int, response: HttpResponse):
    """A merged lead's old id answers 308 with `Location` set to the surviving lead."""
    found = get_or_redirect(request, Lead, lead_id, "get_lead", lead_id=None)
    return found if isinstance(found, HttpResponse) else with_etag(response, found)


@leads_router.post("/{lead_id}/merge", response=MERGE_RESPONSES)
def merge_lead(request: HttpRequest, lead_id: int, payload: MergeIn):
    """Merge lead `other` into this one; undo within 30 days in the UI (docs/dedup.md)."""
    return merge_into(request, Lead, lead_id, payload.other)


@leads_router.patch("/{lead_id}", response=responses({200: LeadOut}))
def update_lead(request: HttpRequest, lead_id: int, payload: LeadPatch, response: HttpResponse):
    """Change only the fields sent. Send `version` (or If-Match) to refuse a stale edit."""
    lead = visible_or_404(Lead.objects, request.auth, lead_id)
    values = payload.model_dump(exclude_unset=True)
    version = expected_version(request, values.pop("version", None))
    values = resolve_references(request.auth, values, LEAD_REFERENCES)
    lead = lead_update(actor=request.auth, lead=lead, values=values, expected_version=version)
    return with_etag(response, lead)


@leads_router.delete("/{lead_id}", response=responses({204: None}))
def delete_lead(request: HttpRequest, lead_id: int):
    lead_delete(actor=request.auth, lead=visible_or_404(Lead.objects, request.auth, lead_id))
    return no_content()


class SourceOut(Schema):
    id: int
    name: str
    kind: SourceKind


class CampaignOut(Schema):
    id: int
    name: str
    source: int | None = Field(validation_alias="source_id")
    channel: str
    starts_on: datetime.date | None
    ends_on: datetime.date | None
    cost: Decimal
    currency: str
    created_at: datetime.datetime


class SourceFilters(PageParams):
    kind: SourceKind | None = None
    q: str | None = Field(None, max_length=200)
    ordering: SourceOrdering = "name"


class CampaignFilters(PageParams):
    source: int | None = Field(None, description="A source id.")
    q: str | None = Field(None, max_length=200)
    ordering: CampaignOrdering = "name"


@sources_router.get("", response=responses({200: page_schema(SourceOut, "SourcePage")}))
def list_sources(request: HttpRequest, filters: Query[SourceFilters]):
    rows = Source.objects.all()
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    rows = text_search(rows, filters.q, ["name"])
    return paginate(request, rows, filters, filters.ordering)


@campaigns_router.get("", response=responses({200: page_schema(CampaignOut, "CampaignPage")}))
def list_campaigns(request: HttpRequest, filters: Query[CampaignFilters]):
    rows = Campaign.objects.all()
    if filters.source is not None:
        rows = rows.filter(source_id=filters.source)
    rows = text_search(rows, filters.q, ["name", "channel"])
    return paginate(request, rows, filters, filters.ordering)
