"""Importing companies and contacts.

Duplicates are found the way lejek/contacts/dedup.py finds them, among the records the
importer can see: companies by NIP, then domain, then the name up to its legal form
(company_key); contacts by e-mail, then phone. A duplicate the importer may edit has its empty
fields filled in (owner and team stay); otherwise, or when it brings nothing new, the row is
skipped as a duplicate. Rows repeated inside the file fold into the first one the same way.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from lejek.contacts.models import Company, Contact
from lejek.contacts.normalize import (
    domain_from_email,
    normalize_country,
    normalize_domain,
    normalize_email,
    normalize_nip,
)
from lejek.contacts.services import COMPANY_FIELDS, CONTACT_FIELDS
from lejek.imports.bulk import Inserter, columns_of
from lejek.imports.importer import Importer
from lejek.imports.phones import import_phone
from lejek.imports.references import CompanyIndex, visible_companies
from lejek.imports.rows import Row, RowError, choice_value, model_value, split_name
from lejek.imports.values import parse_int

KEEP = {"owner", "team", "custom"}


def email_of(model: type[models.Model]):
    check = model_value(model, "email")
    return lambda value: check(normalize_email(str(value)))


def _size(value: Any) -> int:
    size = parse_int(str(value))
    if size < 0:
        raise RowError([_("The number of employees cannot be negative.")])
    return size


class RecordImporter(Importer):
    """Match each row to an existing record or an earlier row, fill or create, in bulk."""

    fields: list[str] = []
    # Foreign keys that may point at records created earlier in the same batch.
    related: tuple[str, ...] = ()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._companies: CompanyIndex | None = None
        self.seen: set[tuple[str, str]] = set()

    def companies(self) -> CompanyIndex:
        if self._companies is None:
            self._companies = CompanyIndex(visible_companies(self.actor))
        return self._companies

    def after_rollback(self) -> None:
        self._companies = None

    def keys(self, parsed: dict) -> list[tuple[str, str]]:
        raise NotImplementedError

    def existing(self, rows: list[Row]) -> dict[tuple[str, str], models.Model]:
        raise NotImplementedError

    def build(self, row: Row) -> models.Model:
        raise NotImplementedError

    def editable_ids(self, objects: list[models.Model]) -> set[int]:
        ids = [obj.pk for obj in objects]
        rows = self.model.objects.filter(pk__in=ids)
        if self.actor is not None:
            rows = rows.editable_by(self.actor)
        return set(rows.values_list("pk", flat=True))

    def write(self, rows: list[Row]) -> None:
        if not rows:
            return
        self.ensure_custom_fields()
        existing = self.existing(rows)
        editable = self.editable_ids(list({obj.pk: obj for obj in existing.values()}.values()))
        pending: dict[tuple[str, str], models.Model] = {}
        created: list[models.Model] = []
        updated: dict[int, tuple[models.Model, dict, dict]] = {}
        for row in rows:
            keys = self.keys(row.parsed)
            target = next((pending[k] for k in keys if k in pending), None)
            target = target or next((existing[k] for k in keys if k in existing), None)
            if target is not None:
                can_edit = target.pk is None or target.pk in editable
                self._absorb(row, target, updated, can_edit=can_edit)
            elif any(k in self.seen for k in keys):
                row.outcome = "skipped"
            else:
                obj = self.build(row)
                created.append(obj)
                row.outcome = "created"
                for key in keys:
                    pending.setdefault(key, obj)
        self.before_save(created)
        self._save(created, updated)
        if self.dry_run:
            self.seen.update(pending)

    def before_save(self, created: list[models.Model]) -> None:
        """Save what the new records point to (contacts' companies)."""

    def _absorb(self, row: Row, target, updated: dict, *, can_edit: bool) -> None:
        values = {k: v for k, v in row.parsed.items() if k in self.fields}
        if not can_edit:
            row.outcome = "skipped"
            return
        fill = self.fill_empty(target, values, KEEP)
        self.absorb(row, target, fill, row.parsed.get("custom") or {}, updated)

    def _save(self, created: list, updated: dict) -> None:
        Inserter(self.model, columns_of(self.model)).insert_objects(created, self.related)
        verb = f"{self.entity}.created"
        events = [self.created_event(obj, self.fields, verb) for obj in created]
        if updated:
            now = timezone.now()
            fields = {"updated_at", "version"}
            for obj, before, fill in updated.values():
                obj.version += 1
                obj.updated_at = now
                fields |= set(fill)
                after = {**fill, "import": self.job.pk}
                events.append(self.event(f"{self.entity}.updated", obj, before=before, after=after))
            objects = [obj for obj, _b, _f in updated.values()]
            self.model.objects.bulk_update(objects, sorted(fields))
        self.save_events(events)

    def stamp(self, obj: models.Model, row: Row) -> None:
        self.ownership(row.parsed, obj)
        self.own_by_actor(obj)
        obj.created_at = obj.updated_at = row.parsed.get("created") or timezone.now()


class CompanyImporter(RecordImporter):
    entity = "company"
    model = Company
    fields = COMPANY_FIELDS

    def converters(self):
        text = ("name", "industry", "street", "city", "postal_code", "notes")
        converters = {name: model_value(Company, name) for name in text}
        converters.update(
            {
                "nip": lambda v: normalize_nip(str(v)),
                "domain": lambda v: normalize_domain(str(v)),
                "email": email_of(Company),
                "phone": lambda v: import_phone(str(v)),
                "country": lambda v: normalize_country(str(v)),
                "size": _size,
                "owner": self.refs.user,
                "team": self.refs.team,
                "created": self.reader.moment,
            }
        )
        return converters

    def parse(self, row: Row) -> None:
        parsed = row.parsed
        if not parsed.get("name"):
            raise RowError([_("Name: this field is required.")])
        if not parsed.get("domain") and parsed.get("email"):
            domain = domain_from_email(parsed["email"])
            if domain:
                parsed["domain"] = domain
        if not parsed.get("country") and self.defaults.get("country"):
            parsed["country"] = normalize_country(self.defaults["country"])

    def keys(self, parsed: dict) -> list[tuple[str, str]]:
        keys = []
        if parsed.get("nip"):
            keys.append(("nip", parsed["nip"]))
        if parsed.get("domain"):
            keys.append(("domain", parsed["domain"]))
        key = self.companies().key(parsed.get("name", ""))
        if key:
            keys.append(("key", key))
        return keys

    def existing(self, rows: list[Row]) -> dict[tuple[str, str], models.Model]:
        index = self.companies()
        ids: dict[tuple[str, str], int] = {}
        for row in rows:
            parsed = row.parsed
            found = index.find(
                nip=parsed.get("nip", ""),
                domain=parsed.get("domain", ""),
                name=parsed.get("name", ""),
            )
            if found is not None:
                for key in self.keys(parsed):
                    ids.setdefault(key, found)
        objects = Company.objects.in_bulk(set(ids.values()))
        return {key: objects[pk] for key, pk in ids.items() if pk in objects}

    def build(self, row: Row) -> Company:
        values = {k: v for k, v in row.parsed.items() if k in COMPANY_FIELDS and k not in KEEP}
        company = Company(**values, custom=row.parsed.get("custom") or {})
        self.stamp(company, row)
        return company

    def _save(self, created: list, updated: dict) -> None:
        super()._save(created, updated)
        index = self.companies()
        for company in created:
            index.add(company.pk, name=company.name, nip=company.nip, domain=company.domain)


class ContactImporter(RecordImporter):
    entity = "contact"
    model = Contact
    fields = CONTACT_FIELDS
    related = ("company",)

    def converters(self):
        text = ("first_name", "last_name", "title", "notes")
        converters = {name: model_value(Contact, name) for name in text}
        converters.update(
            {
                "email": email_of(Contact),
                "phone": lambda v: import_phone(str(v)),
                "preferred_channel": choice_value(Contact, "preferred_channel"),
                "language": choice_value(Contact, "language"),
                "company": model_value(Company, "name"),
                "owner": self.refs.user,
                "team": self.refs.team,
                "created": self.reader.moment,
                "full_name": lambda v: split_name(str(v)),
            }
        )
        return converters

    def parse(self, row: Row) -> None:
        parsed = row.parsed
        first, last = parsed.pop("full_name", ("", ""))
        parsed.setdefault("first_name", first[:100])
        parsed.setdefault("last_name", last[:100])
        if not parsed.get("last_name"):
            raise RowError([_("Last name: this field is required.")])
        company = parsed.pop("company", "") or self.defaults.get("company", "")
        parsed["company_name"] = company

    def keys(self, parsed: dict) -> list[tuple[str, str]]:
        keys = []
        if parsed.get("email"):
            keys.append(("email", parsed["email"]))
        if parsed.get("phone"):
            keys.append(("phone", parsed["phone"]))
        return keys

    def existing(self, rows: list[Row]) -> dict[tuple[str, str], models.Model]:
        return existing_contacts(self.actor, rows)

    def build(self, row: Row) -> Contact:
        parsed = row.parsed
        values = {k: v for k, v in parsed.items() if k in CONTACT_FIELDS and k not in KEEP}
        contact = Contact(**values, custom=parsed.get("custom") or {})
        self.stamp(contact, row)
        contact.company_name = parsed.get("company_name", "")
        return contact

    def before_save(self, created: list[models.Model]) -> None:
        companies = CompanyMaker(self)
        for contact in created:
            if contact.company_name:
                companies.link(contact, contact.company_name)
        companies.save()


def existing_contacts(actor, rows: list[Row]) -> dict[tuple[str, str], Contact]:
    """Visible contacts per e-mail and per phone of the rows, the oldest first."""
    emails = {r.parsed["email"] for r in rows if r.parsed.get("email")}
    phones = {r.parsed["phone"] for r in rows if r.parsed.get("phone")}
    base = Contact.objects.all() if actor is None else Contact.objects.visible_to(actor)
    found: dict[tuple[str, str], Contact] = {}
    for field, keys in (("email", emails), ("phone", phones)):
        if keys:
            matches = base.filter(**{f"{field}__in": keys}).order_by("created_at", "pk")
            for contact in matches:
                found.setdefault((field, getattr(contact, field)), contact)
    return found


class CompanyMaker:
    """Companies named by contacts or deals: found by name, or created once per name."""

    def __init__(self, importer: RecordImporter | Any):
        self.importer = importer
        self.index = importer.companies()
        self.new: dict[str, Company] = {}

    def link(self, owned: models.Model, name: str) -> None:
        """Point `owned.company` at the company called `name`, new or known."""
        found = self.index.find(name=name)
        if found is not None:
            owned.company_id = found
            return
        key = self.index.key(name)
        if key not in self.new:
            company = Company(name=name[:200], owner_id=owned.owner_id, team_id=owned.team_id)
            company.created_at = company.updated_at = owned.created_at
            self.new[key] = company
        owned.company = self.new[key]

    def save(self) -> None:
        companies = list(self.new.values())
        if not companies:
            return
        Inserter(Company, columns_of(Company)).insert_objects(companies)
        importer = self.importer
        type_id = ContentType.objects.get_for_model(Company).pk
        events = []
        for company in companies:
            self.index.add(company.pk, name=company.name)
            event = importer.created_event(company, COMPANY_FIELDS, "company.created")
            event.content_type_id = type_id
            events.append(event)
        importer.save_events(events)
