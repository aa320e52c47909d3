"""What an export of each kind of record holds: its columns, their headers, and how to read them.

Every column is read with one `values_list(...)` over the queryset given, in chunks, so an
export of a million rows never holds more than a chunk in memory. Related records appear by
name (owner by e-mail), never by id; every custom field is a column of its own (`cf_<key>`).

`win_probability` is a percentage (0 to 100, one decimal), like `score`, so both read the same
way side by side; it is empty when no predictive model has scored the lead.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, DateTimeField, F, Model, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lejek.core import custom_fields
from lejek.core.exporting import Table
from lejek.core.models import CustomField
from lejek.leads.models import Lead

CHUNK_SIZE = 2000


class UnknownFields(ValueError):
    """Some asked-for columns do not exist; the message lists the valid names."""


@dataclass(frozen=True)
class Column:
    name: str
    header: str
    path: str
    convert: Callable[[Any], Any] | None = None


def percentage(probability: float | None) -> float | None:
    return None if probability is None else round(probability * 100, 1)


def custom_reader(definition: CustomField) -> Callable[[Any], Any]:
    """The typed value of one custom field out of the record's `custom` dict."""
    key, kind = definition.key, definition.type

    def read(values: Any) -> Any:
        value = (values or {}).get(key)
        if value is None or value == "":
            return None
        try:
            if kind == CustomField.Type.DECIMAL:
                return decimal.Decimal(str(value))
            if kind == CustomField.Type.DATE:
                return datetime.date.fromisoformat(str(value))
        except (decimal.InvalidOperation, ValueError):
            return str(value)  # a value stored before its field changed type
        return value

    return read


@dataclass(frozen=True)
class ExportSpec:
    kind: str
    entity: str
    model: type[Model]
    standard: Sequence[Column]
    annotations: dict[str, Any] = field(default_factory=dict)

    def columns(self) -> list[Column]:
        extra = [
            Column(f"cf_{d.key}", d.label, "custom", custom_reader(d))
            for d in custom_fields.definitions(self.entity)
        ]
        return [*self.standard, *extra]

    def pick(self, names: Sequence[str] | None) -> list[Column]:
        """The columns named (all by default); unknown names raise UnknownFields."""
        available = self.columns()
        if not names:
            return available
        by_name = {column.name: column for column in available}
        unknown = [name for name in names if name not in by_name]
        if unknown:
            raise UnknownFields(
                gettext("Unknown fields for %(kind)s: %(unknown)s. Valid fields: %(valid)s.")
                % {
                    "kind": self.kind,
                    "unknown": ", ".join(unknown),
                    "valid": ", ".join(by_name),
                }
            )
        return [by_name[name] for name in names]

    def base(self, user=None) -> QuerySet:
        """Every record, or those `user` may see."""
        manager = self.model.objects
        return manager.all() if user is None else manager.visible_to(user)

    def rows(self, queryset: QuerySet, columns: Sequence[Column]) -> Iterator[tuple]:
        """The rows of `queryset` in its own order (by id if it has none), read in chunks."""
        paths = list(dict.fromkeys(column.path for column in columns))
        wanted = {path: self.annotations[path] for path in paths if path in self.annotations}
        if not queryset.query.order_by:
            queryset = queryset.order_by("pk")
        values = queryset.annotate(**wanted).values_list(*paths)
        positions = [paths.index(column.path) for column in columns]
        converters = [column.convert for column in columns]
        for raw in values.iterator(chunk_size=CHUNK_SIZE):
            yield tuple(
                convert(raw[position]) if convert else raw[position]
                for position, convert in zip(positions, converters, strict=True)
            )

    def table(
        self, queryset: QuerySet, names: Sequence[str] | None = None, title: str = ""
    ) -> Table:
        columns = self.pick(names)
        return Table(
            names=[column.name for column in columns],
            headers=[str(column.header) for column in columns],
            rows=self.rows(queryset, columns),
            title=title or self.kind,
        )


def _owned(*, created: bool = True) -> list[Column]:
    columns = [
        Column("owner", _("Owner (e-mail)"), "owner__email"),
        Column("team", _("Team"), "team__name"),
    ]
    if created:
        columns += [
            Column("created_at", _("Created"), "created_at"),
            Column("updated_at", _("Updated"), "updated_at"),
        ]
    return columns


def _lead_spec() -> ExportSpec:
    return ExportSpec(
        kind="leads",
        entity=CustomField.Entity.LEAD,
        model=Lead,
        standard=(
            Column("id", _("ID"), "id"),
            Column("first_name", _("First name"), "first_name"),
            Column("last_name", _("Last name"), "last_name"),
            Column("email", _("E-mail"), "email"),
            Column("phone", _("Phone"), "phone"),
            Column("company_name", _("Company name"), "company_name"),
            Column("title", _("Job title"), "title"),
            Column("status", _("Status"), "status"),
            Column("score", _("Score"), "export_score"),
            Column(
                "win_probability",
                _("Win probability (%)"),
                "lead_score__probability",
                percentage,
            ),
            Column("source", _("Source"), "source__name"),
            Column("campaign", _("Campaign"), "campaign__name"),
            Column("company", _("Company"), "company__name"),
            Column("contact", _("Contact (e-mail)"), "contact__email"),
            Column("medium", _("Medium"), "medium"),
            Column("utm_source", "utm_source", "utm_source"),
            Column("utm_medium", "utm_medium", "utm_medium"),
            Column("utm_campaign", "utm_campaign", "utm_campaign"),
            Column("utm_term", "utm_term", "utm_term"),
            Column("utm_content", "utm_content", "utm_content"),
            Column("referrer", _("Referrer"), "referrer"),
            Column("country", _("Country"), "country"),
            Column("region", _("Region"), "region"),
            Column("company_size", _("Company size"), "company_size"),
            Column("disqualified_reason", _("Disqualified because"), "disqualified_reason"),
            *_owned(),
        ),
        annotations={"export_score": Coalesce("lead_score__score", Value(0))},
    )


def _contact_spec() -> ExportSpec:
    from lejek.contacts.models import Contact

    return ExportSpec(
        kind="contacts",
        entity=CustomField.Entity.CONTACT,
        model=Contact,
        standard=(
            Column("id", _("ID"), "id"),
            Column("first_name", _("First name"), "first_name"),
            Column("last_name", _("Last name"), "last_name"),
            Column("email", _("E-mail"), "email"),
            Column("phone", _("Phone"), "phone"),
            Column("title", _("Job title"), "title"),
            Column("company", _("Company"), "company__name"),
            Column("preferred_channel", _("Preferred channel"), "preferred_channel"),
            Column("language", _("Language"), "language"),
            *_owned(),
        ),
    )


def _company_spec() -> ExportSpec:
    from lejek.contacts.models import Company

    return ExportSpec(
        kind="companies",
        entity=CustomField.Entity.COMPANY,
        model=Company,
        standard=(
            Column("id", _("ID"), "id"),
            Column("name", _("Name"), "name"),
            Column("nip", _("NIP"), "nip"),
            Column("domain", _("Domain"), "domain"),
            Column("industry", _("Industry"), "industry"),
            Column("size", _("Employees"), "size"),
            Column("phone", _("Phone"), "phone"),
            Column("email", _("E-mail"), "email"),
            Column("street", _("Street"), "street"),
            Column("city", _("City"), "city"),
            Column("postal_code", _("Postal code"), "postal_code"),
            Column("country", _("Country"), "country"),
            *_owned(),
        ),
    )


def _deal_spec() -> ExportSpec:
    from lejek.pipeline.models import Deal

    def closed_when(**stage: bool) -> Case:
        condition = Q(**{f"stage__{name}": value for name, value in stage.items()})
        return Case(When(condition, then=F("closed_at")), output_field=DateTimeField())

    return ExportSpec(
        kind="deals",
        entity=CustomField.Entity.DEAL,
        model=Deal,
        standard=(
            Column("id", _("ID"), "id"),
            Column("title", _("Title"), "title"),
            Column("pipeline", _("Pipeline"), "pipeline__name"),
            Column("stage", _("Stage"), "stage__name"),
            Column("amount", _("Amount"), "amount"),
            Column("currency", _("Currency"), "currency"),
            Column("expected_close_date", _("Expected close"), "expected_close_date"),
            Column("won_at", _("Won on"), "export_won_at"),
            Column("lost_at", _("Lost on"), "export_lost_at"),
            Column("lost_reason", _("Lost reason"), "lost_reason"),
            Column("company", _("Company"), "company__name"),
            Column("contact", _("Contact (e-mail)"), "contact__email"),
            Column("lead", _("Lead ID"), "lead_id"),
            Column("source", _("Source"), "source__name"),
            *_owned(),
        ),
        annotations={
            "export_won_at": closed_when(is_won=True),
            "export_lost_at": closed_when(is_lost=True),
        },
    )


SPECS: dict[str, Callable[[], ExportSpec]] = {
    "leads": _lead_spec,
    "contacts": _contact_spec,
    "companies": _company_spec,
    "deals": _deal_spec,
}
KINDS = tuple(SPECS)


def spec_for(kind: str) -> ExportSpec:
    """The export of `kind` (leads, contacts, companies, deals); KeyError for others."""
    return SPECS[kind]()
