"""Every write to companies and contacts."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from lejek.contacts.models import Company, Contact
from lejek.contacts.normalize import (
    domain_from_email,
    normalize_domain,
    normalize_email,
    normalize_fields,
    normalize_nip,
    normalize_phone,
)
from lejek.core.custom_values import merge_custom
from lejek.core.records import (
    apply_values,
    ensure_editable,
    record_create,
    record_delete,
    record_update,
)
from lejek.users.visibility import check_handover, prepare_owned

COMPANY_FIELDS = [
    "name",
    "nip",
    "domain",
    "industry",
    "size",
    "phone",
    "email",
    "street",
    "city",
    "postal_code",
    "country",
    "notes",
    "owner",
    "team",
    "custom",
]
CONTACT_FIELDS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "company",
    "preferred_channel",
    "language",
    "notes",
    "owner",
    "team",
    "custom",
]

COMPANY_KEYS = {"nip": normalize_nip, "domain": normalize_domain, "email": normalize_email}
CONTACT_KEYS = {"email": normalize_email, "phone": normalize_phone}


def _company_values(values: dict[str, Any], company: Company | None = None) -> dict[str, Any]:
    """Normalised keys; a missing domain is taken from a company (not free-mail) address."""
    values = normalize_fields(values, COMPANY_KEYS)
    domain = values.get("domain", company.domain if company else "")
    email = values.get("email", company.email if company else "")
    if not domain and email and domain_from_email(email):
        values["domain"] = domain_from_email(email)
    return values


@transaction.atomic
def company_create(*, actor, custom: dict | None = None, **values: Any) -> Company:
    company = Company()
    apply_values(company, _company_values(values))
    merge_custom("company", company, custom)
    prepare_owned(actor, company, creating=True)
    return record_create(actor=actor, obj=company, fields=COMPANY_FIELDS, verb="company.created")


@transaction.atomic
def company_update(
    *, actor, company: Company, values: dict[str, Any], expected_version: int | None = None
) -> Company:
    ensure_editable(actor, company)
    values = _company_values(values, company)
    check_handover(actor, company, values)
    return record_update(
        actor=actor,
        obj=company,
        values=values,
        fields=COMPANY_FIELDS,
        expected_version=expected_version,
        verb="company.updated",
        custom_entity="company",
    )


@transaction.atomic
def company_delete(*, actor, company: Company) -> None:
    ensure_editable(actor, company)
    record_delete(actor=actor, obj=company, fields=COMPANY_FIELDS, verb="company.deleted")


@transaction.atomic
def contact_create(*, actor, custom: dict | None = None, **values: Any) -> Contact:
    contact = Contact()
    apply_values(contact, normalize_fields(values, CONTACT_KEYS))
    merge_custom("contact", contact, custom)
    prepare_owned(actor, contact, creating=True)
    return record_create(actor=actor, obj=contact, fields=CONTACT_FIELDS, verb="contact.created")


@transaction.atomic
def contact_update(
    *, actor, contact: Contact, values: dict[str, Any], expected_version: int | None = None
) -> Contact:
    ensure_editable(actor, contact)
    values = normalize_fields(values, CONTACT_KEYS)
    check_handover(actor, contact, values)
    return record_update(
        actor=actor,
        obj=contact,
        values=values,
        fields=CONTACT_FIELDS,
        expected_version=expected_version,
        verb="contact.updated",
        custom_entity="contact",
    )


@transaction.atomic
def contact_delete(*, actor, contact: Contact) -> None:
    ensure_editable(actor, contact)
    record_delete(actor=actor, obj=contact, fields=CONTACT_FIELDS, verb="contact.deleted")
