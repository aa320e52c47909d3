"""Converting a lead into a deal over the JSON API: POST /api/v1/leads/{id}/convert.

Mounted under /api/v1/leads next to the leads router. The same service as the lead page's
Convert button, so the same rules: a lead the caller does not see is 404, one they may not
edit 403, a converted or disqualified lead 422, and a stale `version` 409.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Router, Schema
from ninja.responses import Status

from lejek.api.access import everything, resolve_references, visible_or_404
from lejek.api.schemas import InputSchema, responses
from lejek.api.versions import expected_version
from lejek.leads.models import Lead
from lejek.pipeline.api import Currency, DealOut
from lejek.pipeline.conversion import lead_convert
from lejek.pipeline.models import Pipeline

conversion_router = Router(tags=["leads"])


class ConvertIn(InputSchema):
    title: str = Field("", max_length=200, description="By default the lead's company or name.")
    pipeline: int | None = Field(None, description="A pipeline id; by default the default one.")
    amount: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    currency: Currency | None = Field(None, description="By default the house currency.")
    expected_close_date: datetime.date | None = None
    version: int | None = Field(None, description="The lead version you saw; 409 if stale.")


class ConversionOut(Schema):
    deal: DealOut
    contact: int | None = Field(description="The contact the lead became or was linked to.")
    company: int | None = Field(description="The company the lead became or was linked to.")
    created_contact: bool
    created_company: bool


@conversion_router.post("/{lead_id}/convert", response=responses({201: ConversionOut}))
def convert_lead(request: HttpRequest, lead_id: int, payload: ConvertIn, response: HttpResponse):
    """Convert an open lead: a deal is created (and the contact and company, unless they are
    already known), and the lead is marked converted. This is the only way a lead becomes
    converted; a PATCH of its status to "converted" is refused."""
    lead = visible_or_404(Lead.objects, request.auth, lead_id)
    values = payload.model_dump(exclude_unset=True)
    version = expected_version(request, values.pop("version", None))
    values = resolve_references(request.auth, values, {"pipeline": everything(Pipeline)})
    conversion = lead_convert(actor=request.auth, lead=lead, expected_version=version, **values)
    response["Location"] = reverse("api:get_deal", kwargs={"deal_id": conversion.deal.pk})
    return Status(
        201,
        {
            "deal": conversion.deal,
            "contact": conversion.contact.pk if conversion.contact else None,
            "company": conversion.company.pk if conversion.company else None,
            "created_contact": conversion.created_contact,
            "created_company": conversion.created_company,
        },
    )
