"""Engagement over the JSON API: a tracking script or a marketing tool reports page visits.

Mounted under /api/v1/leads, next to the leads' own endpoints.
"""

from __future__ import annotations

import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from lejek.api.access import visible_or_404
from lejek.api.schemas import InputSchema, responses
from lejek.leads.models import Lead
from lejek.scoring.services import engagement_record

engagements_router = Router(tags=["leads"])


class EngagementIn(InputSchema):
    kind: Literal["page_visit"] = Field(description="What the lead did.")
    at: datetime.datetime | None = Field(
        None, description="When, with its time zone (ISO 8601); now when left out."
    )
    url: str = Field("", max_length=500, description="The page visited, if known.")


class EngagementOut(Schema):
    id: int
    lead: int = Field(validation_alias="lead_id")
    kind: str
    at: datetime.datetime = Field(validation_alias="occurred_at")
    url: str


@engagements_router.post("/{lead_id}/engagements", response=responses({201: EngagementOut}))
def record_engagement(request: HttpRequest, lead_id: int, payload: EngagementIn):
    """Record an engagement of a lead you can see; its score is updated within seconds."""
    lead = visible_or_404(Lead.objects, request.auth, lead_id)
    engagement = engagement_record(
        actor=request.auth, lead=lead, kind=payload.kind, at=payload.at, url=payload.url
    )
    return Status(201, engagement)
