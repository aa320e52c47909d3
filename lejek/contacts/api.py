"""Companies and contacts over the JSON API."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
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
from lejek.api.problems import problem
from lejek.api.replies import created, no_content, with_etag
from lejek.api.schemas import VERSION_FIELD, InputSchema, partial, responses
from lejek.api.versions import expected_version
from lejek.contacts.merge import record_merge, resolve_merged, undo_deadline
from lejek.contacts.models import Company, Contact, Merge
from lejek.contacts.services import (
    company_create,
    company_delete,
    company_update,
    contact_create,
    contact_delete,
    contact_update,
)

MERGED = "urn:lejek:problem:merged"

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


class MergeIn(InputSchema):
    other: int = Field(description="The id of the record merged into this one (then removed).")


class MergeOut(Schema):
    id: int
    survivor: int = Field(validation_alias="survivor_id")
    merged: int = Field(validation_alias="merged_id")
    filled: list[str] = Field(description="Fields of the survivor that took the other's value.")
    moved: dict[str, int] = Field(description="How many related rows moved, per relation.")
    created_at: datetime.datetime
    undo_until: datetime.datetime

    @staticmethod
    def resolve_filled(merge: Merge) -> list[str]:
        return sorted(merge.filled)

    @staticmethod
    def resolve_moved(merge: Merge) -> dict[str, int]:
        return {key: len(ids) for key, ids in merge.moved.items()}

    @staticmethod
    def resolve_undo_until(merge: Merge) -> datetime.datetime:
        return undo_deadline(merge)


MERGE_RESPONSES = responses({200: MergeOut})


def get_or_redirect(request: HttpRequest, model: type[Model], pk: int, url_name: str, **kwarg):
    """The record, or for a merged id a 308 to the record it was merged into; else 404.

    `kwarg` names the URL parameter, e.g. `company_id=None`; it is filled with the survivor.
    """
    obj = model.objects.visible_to(request.auth).filter(pk=pk).first()
    if obj is not None:
        return obj
    survivor_id = resolve_merged(model, pk)
    if survivor_id is None or not model.objects.visible_to(request.auth).filter(pk=survivor_id):
        raise Http404
    (param,) = kwarg
    location = reverse(f"api:{url_name}", kwargs={param: survivor_id})
    return problem(
        308,
        type=MERGED,
        title=_("Merged"),
        detail=_("This record was merged into %(url)s.") % {"url": location},
        headers={"Location": location},
    )


def merge_into(request: HttpRequest, model: type[Model], pk: int, other_id: int) -> Merge:
    """Merge the caller's record `other_id` into record `pk` (both must be editable)."""
    survivor = visible_or_404(model.objects, request.auth, pk)
    other = resolve_references(request.auth, {"other": other_id}, {"other": visible(model)})
    return record_merge(actor=request.auth, survivor=survivor, other=other["other"])


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


@companies_router.get("/{company_id}", response=responses({200: CompanyOut, 308: None}))
def get_company(request: HttpRequest, company_id: int, response: HttpResponse):
    """A merged company's old id answers 308 with `Location` set to the surviving company."""
    found = get_or_redirect(request, Company, company_id, "get_company", company_id=None)
    return found if isinstance(found, HttpResponse) else with_etag(response, found)


@companies_router.post("/{company_id}/merge", response=MERGE_RESPONSES)
def merge_company(request: HttpRequest, company_id: int, payload: MergeIn):
    """Merge company `other` into this one; undo within 30 days in the UI (docs/dedup.md)."""
    return merge_into(request, Company, company_id, payload.other)


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


@contacts_router.get("/{contact_id}", response=responses({200: ContactOut, 308: None}))
def get_contact(request: HttpRequest, contact_id: int, response: HttpResponse):
    """A merged contact's old id answers 308 with `Location` set to the surviving contact."""
    found = get_or_redirect(request, Contact, contact_id, "get_contact", contact_id=None)
    return found if isinstance(found, HttpResponse) else with_etag(response, found)


@contacts_router.post("/{contact_id}/merge", response=MERGE_RESPONSES)
def merge_contact(request: HttpRequest, contact_id: int, payload: MergeIn):
    """Merge contact `other` into this one; undo within 30 days in the UI (docs/dedup.md)."""
    return merge_into(request, Contact, contact_id, payload.other)


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
