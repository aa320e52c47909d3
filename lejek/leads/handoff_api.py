"""Sales' answer to a hand-off over the JSON API: accept or reject a marketing-qualified lead.

Mounted under /api/v1/leads next to the leads router. The same services as the lead page, so
the same rules: only the lead's owner, or a manager or admin who may edit it, answers (403);
a lead the caller does not see is 404; a lead not waiting for sales, or a reason off the
"Lead rejected" list, is 422.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router

from lejek.api.access import visible_or_404
from lejek.api.replies import with_etag
from lejek.api.schemas import InputSchema, responses
from lejek.api.versions import expected_version
from lejek.leads.api import LeadOut
from lejek.leads.handoff import MAX_COMMENT, lead_accept, lead_reject
from lejek.leads.models import Lead

handoff_router = Router(tags=["leads"])


class RejectIn(InputSchema):
    reason: str = Field(
        ..., max_length=200, description="A label from the “Lead rejected” list of reasons."
    )
    comment: str = Field("", max_length=MAX_COMMENT, description="Shown to marketing.")
    version: int | None = Field(None, description="The version you saw; 409 if stale.")


@handoff_router.post("/{lead_id}/accept", response=responses({200: LeadOut}))
def accept_lead(request: HttpRequest, lead_id: int, response: HttpResponse):
    """Accept a marketing-qualified lead: it becomes sales-qualified. Send If-Match with the
    version you saw to refuse a stale answer (409)."""
    lead = visible_or_404(Lead.objects, request.auth, lead_id)
    version = expected_version(request, None)
    lead = lead_accept(actor=request.auth, lead=lead, expected_version=version)
    return with_etag(response, lead)


@handoff_router.post("/{lead_id}/reject", response=responses({200: LeadOut}))
def reject_lead(request: HttpRequest, lead_id: int, payload: RejectIn, response: HttpResponse):
    """Reject a marketing-qualified lead with a reason: it goes back to contacted, and
    marketing sees the reason and comment."""
    lead = visible_or_404(Lead.objects, request.auth, lead_id)
    version = expected_version(request, payload.version)
    lead = lead_reject(
        actor=request.auth,
        lead=lead,
        reason=payload.reason,
        comment=payload.comment,
        expected_version=version,
    )
    return with_etag(response, lead)
