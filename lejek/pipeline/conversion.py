"""A qualified lead becomes a deal, with its person and company found or made exactly once.

The contact and company are looked for among all records, not only those the converting rep
can see: a second "Acme" because the first belongs to another team is the duplicate this step
exists to prevent. A lock on the company's name key keeps two simultaneous conversions from
each creating it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from lejek.contacts.dedup import find_company, find_contact
from lejek.contacts.models import Company, Contact
from lejek.contacts.normalize import company_key, domain_from_email
from lejek.contacts.services import company_create, contact_create, contact_update
from lejek.core.concurrency import CONFLICT_MESSAGE
from lejek.core.errors import ConflictError
from lejek.core.events import record_event
from lejek.core.locks import lock_key
from lejek.core.records import ensure_editable
from lejek.leads.lifecycle import CONVERT
from lejek.leads.models import Lead
from lejek.leads.services import lead_update
from lejek.pipeline.models import Deal, Pipeline
from lejek.pipeline.services import deal_create
from lejek.users.models import Role

CLOSED_STATUSES = (Lead.Status.CONVERTED, Lead.Status.DISQUALIFIED)


@dataclass
class ConversionPlan:
    """What converting a lead would do, shown to the user before they confirm."""

    contact: Contact | None
    company: Company | None
    creates_contact: bool
    creates_company: bool


@dataclass
class Conversion:
    deal: Deal
    contact: Contact | None
    company: Company | None
    created_contact: bool
    created_company: bool


def default_title(lead: Lead) -> str:
    return lead.company_name or str(lead)


def _person_names(lead: Lead) -> tuple[str, str] | None:
    """(first, last) for the contact; a contact needs a last name, so the best stand-in."""
    if lead.last_name:
        return lead.first_name, lead.last_name
    if lead.first_name:
        return "", lead.first_name
    if lead.email:
        return "", lead.email
    return None


def _may_link(actor, contact: Contact | None, company: Company | None) -> bool:
    """A found contact without a company gets the lead's, if the actor may edit it."""
    if contact is None or company is None or contact.company_id is not None:
        return False
    return actor is None or Contact.objects.editable_by(actor).filter(pk=contact.pk).exists()


def plan_conversion(lead: Lead) -> ConversionPlan:
    company = lead.company
    if company is None and lead.company_name:
        company = find_company(domain=domain_from_email(lead.email), name=lead.company_name)
    contact = lead.contact
    if contact is None and (lead.email or lead.phone):
        contact = find_contact(email=lead.email, phone=lead.phone)
    return ConversionPlan(
        contact=contact,
        company=company,
        creates_contact=contact is None and _person_names(lead) is not None,
        creates_company=company is None and bool(lead.company_name),
    )


@transaction.atomic
def lead_convert(
    *,
    actor,
    lead: Lead,
    title: str = "",
    pipeline: Pipeline | None = None,
    amount: Decimal | None = None,
    currency: str | None = None,
    expected_close_date: datetime.date | None = None,
    expected_version: int | None = None,
) -> Conversion:
    """Turn an open lead into a deal in one step; the lead is marked converted and linked.

    The deal keeps a link to the lead, so the lead's whole history stays one click away.
    """
    ensure_editable(actor, lead)
    lead = Lead.objects.select_for_update(of=("self",)).select_related("source").get(pk=lead.pk)
    if expected_version is not None and lead.version != expected_version:
        raise ConflictError(CONFLICT_MESSAGE())
    if lead.status in CLOSED_STATUSES:
        raise ValidationError(
            _("This lead is %(status)s and cannot be converted.")
            % {"status": lead.get_status_display().lower()}
        )
    if lead.company_name:
        lock_key(f"company:{company_key(lead.company_name)}")
    plan = plan_conversion(lead)
    owner = lead.owner
    if owner is None and actor is not None and actor.role in (Role.REP, Role.MANAGER):
        owner = actor
    company = plan.company
    if plan.creates_company:
        company = company_create(
            actor=actor,
            name=lead.company_name,
            domain=domain_from_email(lead.email),
            size=lead.company_size,
            country=lead.country or "PL",
            owner=owner,
            team=lead.team,
        )
    contact = plan.contact
    if plan.creates_contact:
        first, last = _person_names(lead)
        contact = contact_create(
            actor=actor,
            first_name=first,
            last_name=last,
            email=lead.email,
            phone=lead.phone,
            title=lead.title,
            company=company,
            owner=owner,
            team=lead.team,
        )
    elif _may_link(actor, contact, company):
        contact_update(actor=actor, contact=contact, values={"company": company})
    deal = deal_create(
        actor=actor,
        title=(title or default_title(lead)).strip()[:200],
        pipeline=pipeline,
        amount=amount,
        currency=currency or settings.LEJEK_CURRENCY,
        expected_close_date=expected_close_date,
        contact=contact,
        company=company,
        lead=lead,
        source=lead.source,
        owner=owner,
        team=lead.team,
    )
    lead_update(
        actor=actor,
        lead=lead,
        values={"status": Lead.Status.CONVERTED, "contact": contact, "company": company},
        via=CONVERT,
    )
    record_event(
        actor=actor,
        verb="lead.converted",
        obj=lead,
        after={
            "deal": deal.pk,
            "contact": contact.pk if contact else None,
            "company": company.pk if company else None,
        },
    )
    return Conversion(
        deal=deal,
        contact=contact,
        company=company,
        created_contact=plan.creates_contact,
        created_company=plan.creates_company,
    )
