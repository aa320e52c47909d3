"""Every write to leads, sources and campaigns."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from lejek.core.custom_values import merge_custom
from lejek.core.events import changed, record_event, snapshot
from lejek.core.records import (
    apply_values,
    ensure_editable,
    record_create,
    record_delete,
    record_update,
)
from lejek.leads.models import Campaign, Lead, Source
from lejek.users.models import Role
from lejek.users.visibility import check_handover, prepare_owned

LEAD_FIELDS = [
    "medium",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer",
    "country",
    "region",
    "company_size",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company_name",
    "title",
    "status",
    "source",
    "campaign",
    "contact",
    "company",
    "description",
    "owner",
    "team",
    "custom",
]
SOURCE_FIELDS = ["name", "kind"]
CAMPAIGN_FIELDS = ["name", "source", "channel", "starts_on", "ends_on", "cost", "currency"]


def _ensure_marketing_admin(actor) -> None:
    if actor.role not in (Role.ADMIN, Role.MANAGER, Role.MARKETING):
        raise PermissionDenied(
            _("Only marketing, managers and admins manage sources and campaigns.")
        )


@transaction.atomic
def lead_create(*, actor, custom: dict | None = None, **values: Any) -> Lead:
    lead = Lead()
    apply_values(lead, values)
    if lead.campaign_id and not lead.source_id:
        lead.source_id = lead.campaign.source_id
    merge_custom("lead", lead, custom)
    prepare_owned(actor, lead, creating=True)
    return record_create(actor=actor, obj=lead, fields=LEAD_FIELDS, verb="lead.created")


@transaction.atomic
def lead_update(
    *, actor, lead: Lead, values: dict[str, Any], expected_version: int | None = None
) -> Lead:
    ensure_editable(actor, lead)
    values = dict(values)
    check_handover(actor, lead, values)
    return record_update(
        actor=actor,
        obj=lead,
        values=values,
        fields=LEAD_FIELDS,
        expected_version=expected_version,
        verb="lead.updated",
        custom_entity="lead",
    )


@transaction.atomic
def lead_delete(*, actor, lead: Lead) -> None:
    ensure_editable(actor, lead)
    record_delete(actor=actor, obj=lead, fields=LEAD_FIELDS, verb="lead.deleted")


@transaction.atomic
def source_create(*, actor, name: str, kind: str = Source.Kind.MANUAL) -> Source:
    _ensure_marketing_admin(actor)
    source = Source(name=name, kind=kind)
    return record_create(actor=actor, obj=source, fields=["name", "kind"], verb="source.created")


@transaction.atomic
def campaign_create(*, actor, **values: Any) -> Campaign:
    _ensure_marketing_admin(actor)
    campaign = Campaign()
    apply_values(campaign, values)
    return record_create(actor=actor, obj=campaign, fields=CAMPAIGN_FIELDS, verb="campaign.created")


@transaction.atomic
def campaign_update(*, actor, campaign: Campaign, values: dict[str, Any]) -> Campaign:
    _ensure_marketing_admin(actor)
    before = snapshot(campaign, CAMPAIGN_FIELDS)
    apply_values(campaign, values)
    campaign.full_clean()
    campaign.save()
    record_event(
        actor=actor,
        verb="campaign.updated",
        obj=campaign,
        before=before,
        after=snapshot(campaign, CAMPAIGN_FIELDS),
    )
    return campaign


@transaction.atomic
def source_update(*, actor, source: Source, values: dict[str, Any]) -> Source:
    """Rename a source or change its channel; its leads and campaigns follow."""
    _ensure_marketing_admin(actor)
    before = snapshot(source, SOURCE_FIELDS)
    apply_values(source, values)
    source.full_clean()
    old, new = changed(before, snapshot(source, SOURCE_FIELDS))
    if new:
        source.save(update_fields=list(new))
        record_event(actor=actor, verb="source.updated", obj=source, before=old, after=new)
    return source
