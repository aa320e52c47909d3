"""Companies and contacts over the JSON API."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from lejek.api.access import (
    References,
    any_team,
    any_user,
    resolve_references,
    visible,
    visible_or_404,
)
from lejek.api.listing import RecordFilters, filter_records
from lejek.api.pagination import orderings, page_schema, paginate
from lejek.api.replies import created, no_content, with_etag
from lejek.api.schemas import VERSION_FIELD, InputSchema, partial, responses
from lejek.api.versions import expected_version
from lejek.contacts.models import Company, Contact
from lejek.contacts.services import (
    company_create,
    company_delete,
    company_update,
    contact_create,
    contact_delete,
    contact_update,
)

companies_router = Router(tags=["companies"])
contacts_router = Router(tags=["contacts"])

OWNER_REFERENCES: References = {"owner": any_user, "team": any_team}
CONTACT_REFERENCES: References = {**OWNER_REFERENCES, "company": visible(Company)}
CompanyOrdering = orderings("name", "created_at", "updated_at", "city")
ContactOrdering = orderings("last_name", "created_at", "updated_at")


class CompanyIn(InputSchema):
    name: str
    nip: str = Field("", description="Polish tax id, 10 digits.")
    domain: str = ""
    industry: str = ""
    size: int | None = Field(None, ge=0, description="Number of employees.")
    phone: str = ""
    email: str = ""
    street: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = Field("PL", description="ISO 3166 two-letter code.")
    notes: str = ""
    owner: int | None = Field(None, description="A user id.")
    team: int | None = Field(None, description="A team id.")
    custom: dict[str, Any] | None = Field(None, description="Custom field key → value.")


CompanyPatch = partial(CompanyIn, "CompanyPatch", version=VERSION_FIELD)


class CompanyOut(Schema):
    id: int
    name: str
    nip: str
    domain: str
    industry: str
    size: int | None
    phone: str
    email: str
    street: str
    city: str
    postal_code: str
    country: str
    notes: str
    owner: int | None = Field(validation_alias="owner_id")
    team: int | None = Field(validation_alias="team_id")
    custom: dict[str, Any]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class CompanyFilters(RecordFilters):
    ordering: CompanyOrdering = "name"


class ContactIn(InputSchema):
    first_name: str = ""
    last_name: str
    email: str = ""
    phone: str = ""
    title: str = ""
    company: int | None = Field(None, description="A company id.")
    preferred_channel: str = Field("", description='"email", "phone", "meeting" or "".')
    language: str = Field("", description='"pl", "en" or "".')
    notes: str = ""
    owner: int | None = Field(None, description="A user id.")
    team: int | None = Field(None, description="A team id.")
    custom: dict[str, Any] | None = Field(None, description="Custom field key → value.")


ContactPatch = partial(ContactIn, "ContactPatch", version=VERSION_FIELD)


class ContactOut(Schema):
    id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    title: str
    company: int | None = Field(validation_alias="company_id")
    preferred_channel: str
    language: str
    notes: str
    owner: int | None = Field(validation_alias="owner_id")
    team: int | None = Field(validation_alias="team_id")
    custom: dict[str, Any]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ContactFilters(RecordFilters):
    company: int | None = Field(None, description="A company id.")
    ordering: ContactOrdering = "last_name"


@companies_router.get("", response=responses({200: page_schema(CompanyOut, "CompanyPage")}))
def list_companies(request: HttpRequest, filters: Query[CompanyFilters]):
    """Companies you can see. Custom fields filter as `cf_<key>=value`."""
    rows = filter_records(
        request,
        Company.objects.visible_to(request.auth),
        filters,
        search=["name", "nip", "domain", "email", "city"],
        entity="company",
    )
    return paginate(request, rows, filters, filters.ordering)


@companies_router.post("", response=responses({201: CompanyOut}))
def create_company(request: HttpRequest, payload: CompanyIn, response: HttpResponse):
    values = resolve_references(
        request.auth, payload.model_dump(exclude_unset=True), OWNER_REFERENCES
    )
    company = company_create(actor=request.auth, **values)
    return created(response, company, "get_company", company_id=company.pk)


@companies_router.get("/{company_id}", response=responses({200: CompanyOut}))
def get_company(request: HttpRequest, company_id: int, response: HttpResponse):
    return with_etag(response, visible_or_404(Company.objects, request.auth, company_id))


@companies_router.patch("/{company_id}", response=responses({200: CompanyOut}))
def update_company(
    request: HttpRequest, company_id: int, payload: CompanyPatch, response: HttpResponse
):
    """Change only the fields sent. Send `version` (or If-Match) to refuse a stale edit."""
    company = visible_or_404(Company.objects, request.auth, company_id)
    values = payload.model_dump(exclude_unset=True)
    version = expected_version(request, values.pop("version", None))
    values = resolve_references(request.auth, values, OWNER_REFERENCES)
    company = company_update(
        actor=request.auth, company=company, values=values, expected_version=version
    )
    return with_etag(response, company)


@companies_router.delete("/{company_id}", response=responses({204: None}))
def delete_company(request: HttpRequest, company_id: int):
    company = visible_or_404(Company.objects, request.auth, company_id)
    company_delete(actor=request.auth, company=company)
    return no_content()


@contacts_router.get("", response=responses({200: page_schema(ContactOut, "ContactPage")}))
def list_contacts(request: HttpRequest, filters: Query[ContactFilters]):
    """Contacts you can see. Custom fields filter as `cf_<key>=value`."""
    rows = filter_records(
        request,
        Contact.objects.visible_to(request.auth),
        filters,
        search=["first_name", "last_name", "email", "phone"],
        entity="contact",
    )
    if filters.company is not None:
        rows = rows.filter(company_id=filters.company)
    return paginate(request, rows, filters, filters.ordering)


@contacts_router.post("", response=responses({201: ContactOut}))
def create_contact(request: HttpRequest, payload: ContactIn, response: HttpResponse):
    values = resolve_references(
        request.auth, payload.model_dump(exclude_unset=True), CONTACT_REFERENCES
    )
    contact = contact_create(actor=request.auth, **values)
    return created(response, contact, "get_contact", contact_id=contact.pk)


@contacts_router.get("/{contact_id}", response=responses({200: ContactOut}))
def get_contact(request: HttpRequest, contact_id: int, response: HttpResponse):
    return with_etag(response, visible_or_404(Contact.objects, request.auth, contact_id))


@contacts_router.patch("/{contact_id}", response=responses({200: ContactOut}))
def update_contact(
    request: HttpRequest, contact_id: int, payload: ContactPatch, response: HttpResponse
):
    """Change only the fields sent. Send `version` (or If-Match) to refuse a stale edit."""
    contact = visible_or_404(Contact.objects, request.auth, contact_id)
    values = payload.model_dump(exclude_unset=True)
    version = expected_version(request, values.pop("version", None))
    values = resolve_references(request.auth, values, CONTACT_REFERENCES)
    contact = contact_update(
        actor=request.auth, contact=contact, values=values, expected_version=version
    )
    return with_etag(response, contact)


@contacts_router.delete("/{contact_id}", response=responses({204: None}))
def delete_contact(request: HttpRequest, contact_id: int):
    contact = visible_or_404(Contact.objects, request.auth, contact_id)
    contact_delete(actor=request.auth, contact=contact)
    return no_content()
