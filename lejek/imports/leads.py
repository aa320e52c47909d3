"""Importing leads: the rules of lead_create, applied a batch at a time.

- A row for a person who already has an open lead the importer may edit (same e-mail, or
  without an e-mail the same phone) fills that lead's empty fields instead of creating a
  second one (status, owner, team stay as the team left them); repeats inside the file itself
  are folded the same way. A repeat that brings nothing new counts as a skipped duplicate.
- New leads link to the visible contact (e-mail, then phone) and company (domain of the
  e-mail, then name) they are already known as, and go through automatic assignment.
- Source: the row's, else its campaign's, else the import's default, else "Import".
- One Event per lead: "lead.created" (with the import and the assignment reason) or
  "lead.updated" (the fields filled in).
"""

from __future__ import annotations

import functools
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lejek.contacts.models import Contact
from lejek.contacts.normalize import (
    domain_from_email,
    normalize_country,
    normalize_email,
)
from lejek.imports.bulk import Inserter, StatisticsKeeper, blank, columns_of, link
from lejek.imports.importer import Importer
from lejek.imports.phones import import_phone
from lejek.imports.references import CompanyIndex, visible_companies
from lejek.imports.rows import (
    Row,
    RowError,
    choice_value,
    model_value,
    remembered,
    split_name,
)
from lejek.imports.sources import SourceDefaults
from lejek.imports.values import parse_int
from lejek.leads.assignment_batch import BatchAssigner
from lejek.leads.models import Lead, LeadStatusChange
from lejek.leads.services import LEAD_FIELDS, REPEAT_KEEPS
from lejek.users.services import Notice, notify_many

TEXT_FIELDS = (
    "first_name",
    "last_name",
    "title",
    "medium",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer",
    "region",
    "description",
)
IDENTITY = ("first_name", "last_name", "email", "company_name")
# The plain columns a new lead takes from its row as they are.
COPIED = frozenset((*TEXT_FIELDS, "email", "phone", "country", "company_name", "status"))


_check_email = model_value(Lead, "email")


def _email(value: Any) -> str:
    return _check_email(normalize_email(str(value)))


# Big enough for the distinct mail hosts of a large file: an LRU cache smaller than the
# working set misses on every row.
@functools.lru_cache(maxsize=1 << 16)
def _domain_of_host(host: str) -> str:
    return domain_from_email(f"x@{host}")


def company_domain(email: str) -> str:
    """domain_from_email, remembered per mail host (a file repeats the same few)."""
    return _domain_of_host(email.rpartition("@")[2]) if "@" in email else ""


def _size(value: Any) -> int:
    size = parse_int(str(value))
    if size < 0:
        raise RowError([_("Company size cannot be negative.")])
    return size


class LeadImporter(Importer):
    entity = "lead"
    model = Lead

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sources = SourceDefaults(self.actor, self.defaults, self.refs)
        self.assigner = BatchAssigner()
        # What the import wrote, scored once it is done (`finish`).
        self.first_new_id: int | None = None
        self.changed_ids: list[int] = []
        self._leads = Inserter(Lead, columns_of(Lead))
        # A new lead's first change: no previous entry into its status (status_history).
        self._history = Inserter(
            LeadStatusChange, ["lead_id", "from_status", "to_status", "changed_at", "actor_id"]
        )
        self._new = blank(Lead)
        self._statistics = StatisticsKeeper(Lead)
        self._companies: CompanyIndex | None = None
        # Dry runs write nothing, so repeats across batches are remembered here instead:
        # person key → the fields already filled.
        self.seen: dict[tuple[str, str], set[str]] = {}

    def converters(self):
        converters = {name: model_value(Lead, name) for name in TEXT_FIELDS}
        company = model_value(Lead, "company_name")
        status = self._status_converter()
        converters.update(
            {
                "email": _email,
                "phone": lambda v: import_phone(str(v)),
                "country": lambda v: normalize_country(str(v)),
                "company": lambda v: company(str(v)),
                "status": status,
                "company_size": _size,
                "source": self.refs.source,
                "campaign": self.refs.campaign,
                "owner": self.refs.user,
                "team": self.refs.team,
                "created": self.reader.moment,
                "full_name": lambda v: split_name(str(v)),
            }
        )
        # Each depends on the cell alone, and cells repeat (countries, statuses, dates, job
        # titles, companies, the same person again): each distinct one is converted once.
        return {name: remembered(convert) for name, convert in converters.items()}

    def _status_converter(self):
        return choice_value(Lead, "status")

    def parse(self, row: Row) -> None:
        parsed = row.parsed
        first, last = parsed.pop("full_name", ("", ""))
        parsed.setdefault("first_name", first[:100])
        parsed.setdefault("last_name", last[:100])
        if "company" in parsed:
            parsed["company_name"] = parsed.pop("company")
        if not any(parsed.get(name) for name in IDENTITY):
            raise RowError([_("Give the lead at least a name, an e-mail or a company.")])
        if "status" not in parsed and self.defaults.get("status"):
            parsed["status"] = self._status_converter()(self.defaults["status"])

    # Writing ----------------------------------------------------------------------------------

    def companies(self) -> CompanyIndex:
        if self._companies is None:
            self._companies = CompanyIndex(visible_companies(self.actor))
        return self._companies

    def after_rollback(self) -> None:
        self.sources.forget()
        self.assigner.forget()

    def write(self, rows: list[Row]) -> None:
        if not rows:
            return
        self.ensure_custom_fields()
        self.assigner.begin()
        existing = self._existing(rows)
        contacts = self._contacts(rows)
        pending: dict[tuple[str, str], Lead] = {}
        created: list[tuple[Lead, Row, Any]] = []
        updated: dict[int, tuple[Lead, dict, dict]] = {}
        for row in rows:
            key = self._key(row.parsed)
            target = (pending.get(key) or existing.get(key)) if key else None
            if target is not None:
                self._absorb(row, target, updated)
            elif key is not None and key in self.seen:
                self._absorb_seen(row, key)
            else:
                lead, outcome = self._new_lead(row, contacts)
                created.append((lead, row, outcome))
                row.outcome = "created"
                if key is not None:
                    pending[key] = lead
        self._save(created, updated)
        self.assigner.end()
        if self.dry_run:
            for key, lead in pending.items():
                self.seen[key] = {name for name in LEAD_FIELDS if getattr(lead, name, None)}

    @staticmethod
    def _key(parsed: dict) -> tuple[str, str] | None:
        if parsed.get("email"):
            return ("email", parsed["email"])
        if parsed.get("phone"):
            return ("phone", parsed["phone"])
        return None

    def _editable_open(self) -> QuerySet:
        rows = Lead.objects.open()
        return rows if self.actor is None else rows.editable_by(self.actor)

    def _existing(self, rows: list[Row]) -> dict[tuple[str, str], Lead]:
        """The oldest open editable lead per e-mail (and per phone, for rows without e-mail)."""
        emails = {r.parsed["email"] for r in rows if r.parsed.get("email")}
        phones = {
            r.parsed["phone"] for r in rows if r.parsed.get("phone") and not r.parsed.get("email")
        }
        found: dict[tuple[str, str], Lead] = {}
        for field, keys in (("email", emails), ("phone", phones)):
            if not keys:
                continue
            # Oldest first, sorted here: ordered in SQL, the planner may walk the whole
            # table down its created_at index instead of looking the keys up (PostgreSQL
            # does, on a table an import has just grown and nothing has analysed yet).
            leads = sorted(
                self._editable_open()
                .filter(**{f"{field}__in": keys})
                .select_for_update(of=("self",))
                .order_by(),
                key=lambda lead: (lead.created_at, lead.pk),
            )
            for lead in leads:
                found.setdefault((field, getattr(lead, field)), lead)
        return found

    def _contacts(self, rows: list[Row]) -> dict[tuple[str, str], int]:
        """Visible contacts by e-mail and phone, oldest first, for linking new leads."""
        emails = {r.parsed["email"] for r in rows if r.parsed.get("email")}
        phones = {r.parsed["phone"] for r in rows if r.parsed.get("phone")}
        base = Contact.objects.all()
        if self.actor is not None:
            base = base.visible_to(self.actor)
        found: dict[tuple[str, str], int] = {}
        for field, keys in (("email", emails), ("phone", phones)):
            if not keys:
                continue
            # Oldest first, sorted here for the reason given in _existing.
            matches = base.filter(**{f"{field}__in": keys}).order_by()
            for _created, pk, value in sorted(matches.values_list("created_at", "pk", field)):
                found.setdefault((field, value), pk)
        return found

    def _new_lead(self, row: Row, contacts: dict) -> tuple[Lead, Any]:
        parsed = row.parsed
        lead = self._new()
        # Plain columns straight into the instance, as setattr would put them.
        values = lead.__dict__
        for name, value in parsed.items():
            if name in COPIED and value is not None and value != "":
                values[name] = value
        values["custom"] = parsed.get("custom") or {}
        if parsed.get("company_size") is not None:
            lead.company_size = parsed["company_size"]
        campaign = parsed.get("campaign") or self.sources.campaign()
        link(lead, "campaign", campaign)
        link(lead, "source", parsed.get("source") or self.sources.source_for(campaign))
        email, phone = lead.email, lead.phone
        contact = contacts.get(("email", email)) if email else None
        if contact is None and phone:
            contact = contacts.get(("phone", phone))
        lead.contact_id = contact
        if lead.company_name or email:
            lead.company_id = self.companies().find(
                domain=company_domain(email), name=lead.company_name
            )
        self.ownership(parsed, lead)
        outcome = None
        if lead.owner_id is None:
            own_team = lead.team if lead.team_id else None
            outcome = self.assigner.route(lead, own_team)
        self.own_by_actor(lead)
        when = parsed.get("created") or timezone.now()
        lead.created_at = lead.updated_at = when
        return lead, outcome

    def _absorb(self, row: Row, target: Lead, updated: dict) -> None:
        values = dict(row.parsed)
        values = {k: v for k, v in values.items() if k in LEAD_FIELDS and k != "custom"}
        fill = self.fill_empty(target, values, REPEAT_KEEPS | {"source", "campaign"})
        self.absorb(row, target, fill, row.parsed.get("custom") or {}, updated)

    def _absorb_seen(self, row: Row, key: tuple[str, str]) -> None:
        filled = self.seen[key]
        new = {
            name
            for name, value in row.parsed.items()
            if name in LEAD_FIELDS and name not in REPEAT_KEEPS and value and name not in filled
        }
        row.outcome = "updated" if new else "skipped"
        filled |= new

    def _save(self, created: list, updated: dict) -> None:
        self._leads.insert_objects([lead for lead, _row, _outcome in created])
        if created:
            first = min(lead.pk for lead, _row, _outcome in created)
            self.first_new_id = (
                first if self.first_new_id is None else min(self.first_new_id, first)
            )
        self.changed_ids.extend(updated)
        self._statistics.grew(len(created))
        # Each new lead's first status, dated when the lead was created, as lead_create does.
        actor_id = self.actor.pk if self.actor is not None else None
        self._history.insert(
            [(lead.pk, "", lead.status, lead.created_at, actor_id) for lead, _r, _o in created],
            returning=False,
        )
        events = []
        for lead, _row, outcome in created:
            event = self.created_event(lead, LEAD_FIELDS, "lead.created")
            if outcome is not None:
                event.after["assignment"] = {
                    "rule": outcome.rule.name if outcome.rule else None,
                    "reason": str(outcome.reason),
                }
            events.append(event)
        if updated:
            now = timezone.now()
            fields = {"updated_at", "version"}
            for lead, before, fill in updated.values():
                lead.version += 1
                lead.updated_at = now
                fields |= set(fill)
                after = {**fill, "import": self.job.pk}
                events.append(self.event("lead.updated", lead, before=before, after=after))
            Lead.objects.bulk_update([lead for lead, _b, _f in updated.values()], sorted(fields))
        self.save_events(events)

    def finish(self, *, dry_run: bool) -> None:
        if dry_run:
            return
        from lejek.scoring.services import imported_rescore_request

        imported_rescore_request(first_new_id=self.first_new_id, changed_ids=self.changed_ids)
        if not self.assigner.per_rep:
            return
        from lejek.users.models import User

        # One notification per rep for the whole import, not one per lead.
        notices = []
        for rep in User.objects.filter(pk__in=list(self.assigner.per_rep)):
            count = self.assigner.per_rep[rep.pk]
            with translation.override(rep.language):
                text = ngettext(
                    "%(n)s new lead for you from the import “%(file)s”",
                    "%(n)s new leads for you from the import “%(file)s”",
                    count,
                ) % {"n": count, "file": self.job.original_name}
            notices.append(Notice(recipient=rep, actor=self.actor, kind="lead.assigned", text=text))
        notify_many(notices)
