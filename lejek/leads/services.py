"""Every write to leads, sources and campaigns."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from lejek.activities.services import activity_log
from lejek.contacts.dedup import MAX_NAME_CANDIDATES, find_company, find_contact
from lejek.contacts.models import Company, Contact
from lejek.contacts.normalize import (
    company_key,
    domain_from_email,
    normalize_country,
    normalize_email,
    normalize_fields,
    normalize_phone,
)
from lejek.core.custom_values import merge_custom
from lejek.core.events import changed, record_event, snapshot
from lejek.core.locks import lock_key
from lejek.core.models import Reason
from lejek.core.reasons import check_reason
from lejek.core.records import (
    apply_values,
    ensure_editable,
    record_create,
    record_delete,
    record_update,
)
from lejek.leads.assignment import lead_assign_automatically
from lejek.leads.lifecycle import REOPEN, check_transition, status_changed
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
    "disqualified_reason",
    "owner",
    "team",
    "custom",
]
LEAD_KEYS = {"email": normalize_email, "phone": normalize_phone, "country": normalize_country}
# What a repeated submission may fill in on the open lead; who owns it and where it stands in
# the funnel stay as the team left them.
REPEAT_KEEPS = {"status", "owner", "team", "custom", "disqualified_reason"}
SOURCE_FIELDS = ["name", "kind"]
CAMPAIGN_FIELDS = ["name", "source", "channel", "starts_on", "ends_on", "cost", "currency"]


def _ensure_marketing_admin(actor) -> None:
    if actor.role not in (Role.ADMIN, Role.MANAGER, Role.MARKETING):
        raise PermissionDenied(
            _("Only marketing, managers and admins manage sources and campaigns.")
        )


@transaction.atomic
def lead_create(
    *,
    actor,
    custom: dict | None = None,
    dedupe: bool = True,
    assign: bool = True,
    **values: Any,
) -> Lead:
    """Create a lead, linked to the contact and company it is already known as.

    With `dedupe`, a submission for a person who already has an open lead (same e-mail, or
    without an e-mail the same phone) creates nothing new: the open lead's empty fields are
    filled in, the repeat is logged on its timeline and that lead is returned. Either way the
    returned lead's `was_repeat` tells which happened. Simultaneous submissions of one person
    are serialised on their e-mail or phone, so they make one lead, not two.

    With `assign`, a new lead nobody owns goes through the assignment rules at once.
    """
    values = normalize_fields(values, LEAD_KEYS)
    if dedupe:
        person = values.get("email") or values.get("phone")
        if person:
            lock_key(f"lead:{person}")
        existing = _open_lead_of(actor, values)
        if existing is not None:
            return _absorb_repeat(actor=actor, lead=existing, values=values, custom=custom)
    lead = Lead()
    apply_values(lead, values)
    if lead.campaign_id and not lead.source_id:
        lead.source_id = lead.campaign.source_id
    merge_custom("lead", lead, custom)
    prepare_owned(actor, lead, creating=True)
    apply_values(lead, _known_links(actor, lead))
    lead = record_create(actor=actor, obj=lead, fields=LEAD_FIELDS, verb="lead.created")
    if assign and lead.owner_id is None:
        lead = lead_assign_automatically(actor=actor, lead=lead)
    # After assignment, so that a lead created marketing-qualified is offered to its owner.
    status_changed(actor=actor, lead=lead, before="")
    lead.was_repeat = False
    return lead


def _open_lead_of(actor, values: dict[str, Any]) -> Lead | None:
    """The oldest open lead, editable by the actor, of the person these values describe.

    Leads the actor may not edit are left alone (and not revealed): a new lead is created.
    Keys are compared as stored, which is normalised by every write.
    """
    rows = _editable(actor, Lead.objects.open()).order_by("created_at", "pk")
    if values.get("email"):
        rows = rows.filter(email=values["email"])
    elif values.get("phone"):
        rows = rows.filter(phone=values["phone"])
    else:
        return None
    return rows.select_for_update().first()


def _editable(actor, rows):
    """The rows the actor may edit; Lejek itself (actor=None) may edit all."""
    return rows if actor is None else rows.editable_by(actor)


def _visible(actor, rows):
    return rows if actor is None else rows.visible_to(actor)


def _known_links(actor, lead: Lead) -> dict[str, Any]:
    """The visible contact and company matching the lead, for the links it does not have yet."""
    links: dict[str, Any] = {}
    if lead.contact_id is None and (lead.email or lead.phone):
        contact = find_contact(
            email=lead.email, phone=lead.phone, among=_visible(actor, Contact.objects.all())
        )
        if contact is not None:
            links["contact"] = contact
    domain = domain_from_email(lead.email)
    if lead.company_id is None and (lead.company_name or domain):
        company = find_company(
            domain=domain, name=lead.company_name, among=_visible(actor, Company.objects.all())
        )
        if company is not None:
            links["company"] = company
    return links


def known_links_many(leads: list[Lead]) -> None:
    """_known_links for many new leads of Lejek itself (actor=None), in a few queries.

    Each lead gets the contact and company `find_contact` and `find_company` would give it:
    the oldest contact with its e-mail, else with its phone; the oldest company with the
    domain of its e-mail, else with its name up to the legal form (among the same first-word
    candidates that `find_company` compares). One query per kind of key for the whole list,
    and one per distinct first word of the company names left unmatched.
    """
    emails = {lead.email for lead in leads if lead.contact_id is None and lead.email}
    phones = {lead.phone for lead in leads if lead.contact_id is None and lead.phone}
    contacts = _oldest_by(Contact.objects.all(), "email", emails)
    contacts.update(_oldest_by(Contact.objects.all(), "phone", phones))
    domains = [domain_from_email(lead.email) for lead in leads]
    companies = _oldest_by(Company.objects.all(), "domain", set(domains) - {""})
    by_name = _CompaniesByName()
    for lead, domain in zip(leads, domains, strict=True):
        if lead.contact_id is None:
            contact = contacts.get(("email", lead.email)) if lead.email else None
            if contact is None and lead.phone:
                contact = contacts.get(("phone", lead.phone))
            lead.contact_id = contact
        if lead.company_id is None and (lead.company_name or domain):
            company = companies.get(("domain", domain)) if domain else None
            lead.company_id = company if company is not None else by_name.find(lead.company_name)


def _oldest_by(rows, field: str, keys: set[str]) -> dict[tuple[str, str], int]:
    """(field, value) → id of the oldest row with that value."""
    found: dict[tuple[str, str], int] = {}
    if keys:
        matches = rows.filter(**{f"{field}__in": keys}).order_by("created_at", "pk")
        for pk, value in matches.values_list("pk", field):
            found.setdefault((field, value), pk)
    return found


class _CompaniesByName:
    """dedup._find_company_by_name with its candidate query run once per first word."""

    def __init__(self) -> None:
        self._candidates: dict[str, list[tuple[int, str]]] = {}

    def find(self, name: str) -> int | None:
        key = company_key(name)
        first_word = re.search(r"\w+", name or "")
        if not key or first_word is None:
            return None
        word = first_word.group(0)
        if word not in self._candidates:
            rows = Company.objects.filter(name__istartswith=word).order_by("created_at", "pk")
            self._candidates[word] = [
                (pk, company_key(found))
                for pk, found in rows[:MAX_NAME_CANDIDATES].values_list("pk", "name")
            ]
        return next((pk for pk, found in self._candidates[word] if found == key), None)


def _is_empty(value: Any) -> bool:
    return value is None or value == ""


def _absorb_repeat(*, actor, lead: Lead, values: dict[str, Any], custom: dict | None) -> Lead:
    submitted = {name: value for name, value in values.items() if not _is_empty(value)}
    fill = {
        name: value
        for name, value in submitted.items()
        if name not in REPEAT_KEEPS and _is_empty(getattr(lead, name, None))
    }
    new_custom = {k: v for k, v in (custom or {}).items() if _is_empty(lead.custom.get(k))}
    if new_custom:
        fill["custom"] = new_custom
    # The lead as it will be, for matching the contact and company it still lacks.
    probe = Lead(
        email=lead.email or fill.get("email", ""),
        phone=lead.phone or fill.get("phone", ""),
        company_name=lead.company_name or fill.get("company_name", ""),
        contact_id=lead.contact_id,
        company_id=lead.company_id,
    )
    fill.update(_known_links(actor, probe))
    record_update(
        actor=actor,
        obj=lead,
        values=fill,
        fields=LEAD_FIELDS,
        expected_version=None,
        verb="lead.updated",
        custom_entity="lead",
    )
    record_event(actor=actor, verb="lead.repeated", obj=lead, after=submitted)
    activity_log(
        actor=actor,
        subject=lead,
        kind="note",
        subject_line=_("Repeated submission"),
        body=_describe(submitted, custom),
    )
    lead.was_repeat = True
    return lead


def _describe(submitted: dict[str, Any], custom: dict | None) -> str:
    lines = []
    for name, value in submitted.items():
        field = Lead._meta.get_field(name.removesuffix("_id"))
        lines.append(f"{field.verbose_name}: {value}")
    lines += [f"{key}: {value}" for key, value in (custom or {}).items()]
    return "\n".join(lines)


@transaction.atomic
def lead_update(
    *,
    actor,
    lead: Lead,
    values: dict[str, Any],
    expected_version: int | None = None,
    via: str = "",
) -> Lead:
    """Change a lead's fields. A status change must be allowed by the lifecycle
    (lifecycle.TRANSITIONS); `via` names the action making a guarded move (accept, reject,
    reopen). Each status change leaves a history row and opens or closes the hand-off."""
    ensure_editable(actor, lead)
    values = normalize_fields(values, LEAD_KEYS)
    check_handover(actor, lead, values)
    before = lead.status
    if "status" in values and values["status"] != lead.status:
        before = _locked_status(lead)
        check_transition(lead, values["status"], via=via, actor=actor)
    _check_disqualification(lead, values)
    lead = record_update(
        actor=actor,
        obj=lead,
        values=values,
        fields=LEAD_FIELDS,
        expected_version=expected_version,
        verb="lead.updated",
        custom_entity="lead",
    )
    if lead.status != before:
        status_changed(actor=actor, lead=lead, before=before)
    return lead


def _locked_status(lead: Lead) -> str:
    """The stored status, with the row locked: two changes of one lead's status line up, and
    the transition is checked against where the lead really stands."""
    stored = Lead.objects.select_for_update().values_list("status", flat=True).get(pk=lead.pk)
    lead.status = stored
    return stored


def _check_disqualification(lead: Lead, values: dict[str, Any]) -> None:
    """A lead is disqualified with a reason from the list; leaving that status drops it."""
    status = values.get("status", lead.status)
    if status == Lead.Status.DISQUALIFIED and lead.status != Lead.Status.DISQUALIFIED:
        values["disqualified_reason"] = check_reason(
            Reason.Kind.LEAD_DISQUALIFIED,
            values.get("disqualified_reason", ""),
            field="disqualified_reason",
        )
    elif status != Lead.Status.DISQUALIFIED:
        values["disqualified_reason"] = ""


@transaction.atomic
def lead_disqualify(
    *, actor, lead: Lead, reason: str, comment: str = "", expected_version: int | None = None
) -> Lead:
    """Take an open lead out of the funnel, with a reason from the list (and a comment)."""
    if lead.status in (Lead.Status.CONVERTED, Lead.Status.DISQUALIFIED):
        raise ValidationError(_("Only an open lead can be disqualified."))
    reason = check_reason(Reason.Kind.LEAD_DISQUALIFIED, reason)
    previous = lead.status
    lead = lead_update(
        actor=actor,
        lead=lead,
        values={"status": Lead.Status.DISQUALIFIED, "disqualified_reason": reason},
        expected_version=expected_version,
    )
    comment = (comment or "").strip()
    if comment:
        activity_log(
            actor=actor,
            subject=lead,
            kind="note",
            subject_line=_("Disqualified: %(reason)s") % {"reason": lead.disqualified_reason},
            body=comment,
        )
    record_event(
        actor=actor,
        verb="lead.disqualified",
        obj=lead,
        before={"status": previous},
        after={"reason": lead.disqualified_reason, "comment": comment},
    )
    return lead


@transaction.atomic
def lead_reopen(*, actor, lead: Lead) -> Lead:
    """Bring a disqualified lead back into the funnel as contacted."""
    if lead.status != Lead.Status.DISQUALIFIED:
        raise ValidationError(_("Only a disqualified lead can be reopened."))
    lead = lead_update(actor=actor, lead=lead, values={"status": Lead.Status.CONTACTED}, via=REOPEN)
    record_event(actor=actor, verb="lead.reopened", obj=lead, after={"status": lead.status})
    return lead


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
