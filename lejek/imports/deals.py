"""Importing deals with their history.

A row says where a deal got to (its stage, by name, in its pipeline or the default one), when
it was created, when it reached stages (columns mapped to "reached:<stage>"), when it closed,
and for how much. The import writes the deal at that stage and one StageChange per stage it
passed, dated as the file says, so conversion and cycle-time reports see the true history:

- open or won: every open stage up to the one reached, in pipeline order, then the won stage;
- lost: the first stage, the stages the file gives a date for, then the lost stage.

A stage without a date takes the date of the stage before it. Won and lost follow from the
stage; the closed date is the "closed" column, else the date the closing stage was reached,
else the latest date known.

Duplicates: a deal has no natural key, so only rows with an "external_id" column are
deduplicated: a row whose id was already imported (it is kept on the "deal.created" Event) or
appears earlier in the file is skipped. Without that column every row creates a deal.

Company and contact are found by name (and the contact by e-mail) among the visible records,
or created. Products are named by name or SKU ("A; B") and recorded on the deal's Event.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import gettext as _

from lejek.contacts.models import Contact
from lejek.contacts.normalize import fold, normalize_email
from lejek.contacts.services import CONTACT_FIELDS
from lejek.core.models import Event
from lejek.imports.bulk import Inserter, columns_of
from lejek.imports.mapping import REACHED
from lejek.imports.parties import CompanyMaker, RecordImporter
from lejek.imports.rows import Row, RowError, choice_value, model_value, split_list, split_name
from lejek.imports.values import parse_decimal
from lejek.pipeline.models import Deal, Stage, StageChange, moves_along, visited_key
from lejek.pipeline.services import DEAL_FIELDS
from lejek.sales.models import DealLine, DealPricing

MAX_AMOUNT = decimal.Decimal("999999999999.99")


def _amount(value: Any) -> decimal.Decimal:
    amount = parse_decimal(str(value)).quantize(decimal.Decimal("0.01"))
    if amount < 0:
        raise RowError([_("The amount cannot be negative.")])
    if amount > MAX_AMOUNT:
        raise RowError([_("The amount is too large.")])
    return amount


def _external_id(value: Any) -> str:
    text = str(value).strip()
    if len(text) > 100:
        raise RowError([_("Use at most 100 characters.")])
    return text


class DealImporter(RecordImporter):
    entity = "deal"
    model = Deal
    fields = DEAL_FIELDS
    related = ("company", "contact")

    def converters(self):
        currency = choice_value(Deal, "currency")
        return {
            "title": model_value(Deal, "title"),
            "external_id": _external_id,
            "pipeline": self.refs.pipeline,
            "amount": _amount,
            "currency": lambda v: currency(str(v).strip().upper()),
            "created": self.reader.moment,
            "closed": self.reader.moment,
            REACHED: self.reader.moment,
            "expected_close_date": self.reader.date,
            "lost_reason": model_value(Deal, "lost_reason"),
            "company": lambda v: str(v).strip()[:200],
            "contact": lambda v: str(v).strip(),
            "source": self.refs.source,
            "products": lambda v: self.refs.products(split_list(v)),
            "owner": self.refs.user,
            "team": self.refs.team,
        }

    # Checking ---------------------------------------------------------------------------------

    def parse(self, row: Row) -> None:
        parsed = row.parsed
        if not parsed.get("title"):
            raise RowError([_("Title: this field is required.")])
        pipeline = parsed.get("pipeline") or self._default("pipeline", self.refs.pipeline)
        pipeline = pipeline or self.refs.default_pipeline
        if pipeline is None or not self.refs.stages.get(pipeline.pk):
            raise RowError([_("Create a pipeline with stages first.")])
        parsed["pipeline"] = pipeline
        stage_name = parsed.get("stage") or self.defaults.get("stage")
        stages = self.refs.stages[pipeline.pk]
        stage = self.refs.stage(pipeline, stage_name) if stage_name else stages[0]
        parsed["stage"] = stage
        parsed.setdefault("currency", self.defaults.get("currency") or "PLN")
        if stage.is_lost and not parsed.get("lost_reason"):
            reason = self.defaults.get("lost_reason")
            if not reason:
                raise RowError([_("Lost reason: say why the deal was lost.")])
            parsed["lost_reason"] = str(reason)[:200]
        if not stage.is_closed and parsed.get("closed"):
            raise RowError(
                [_("Closed on: the deal is at an open stage (“%(stage)s”).") % {"stage": stage}]
            )
        parsed["history"] = self._history(parsed, stages, stage)

    def _history(self, parsed: dict, stages: list[Stage], final: Stage):
        """[(stage, when)] from creation to the stage reached, dates never going back."""
        reached = {}
        for name, value in list(parsed.items()):
            if name.startswith(REACHED):
                parsed.pop(name)
                wanted = fold(name.removeprefix(REACHED))
                stage = next((s for s in stages if fold(s.name) == wanted), None)
                if stage is not None:
                    reached[stage.pk] = value
        if final.is_lost:
            path = [stages[0], *(s for s in stages[1:] if s.pk in reached and not s.is_closed)]
        else:
            path = [s for s in stages if s.position < final.position and not s.is_closed]
        path = [s for s in path if s.pk != final.pk] + [final]
        known = [*reached.values(), *(v for k, v in parsed.items() if k in ("created", "closed"))]
        created = parsed.get("created") or (min(known) if known else timezone.now())
        history: list[tuple[Stage, datetime.datetime]] = []
        when = created
        for position, stage in enumerate(path):
            if position == 0:
                stage_date = created
            elif stage.pk == final.pk and final.is_closed and parsed.get("closed"):
                stage_date = reached.get(stage.pk, parsed["closed"])
            else:
                stage_date = reached.get(stage.pk, when)
            if stage_date < when:
                raise RowError(
                    [
                        _("“%(stage)s” is dated before the stage or creation date before it.")
                        % {"stage": stage.name}
                    ]
                )
            when = stage_date
            history.append((stage, when))
        if final.is_closed and not parsed.get("closed") and known:
            when = max(when, *known)
            history[-1] = (final, when)
        parsed["created"] = created
        parsed["closed"] = when if final.is_closed else None
        return history

    # Writing ----------------------------------------------------------------------------------

    def keys(self, parsed: dict) -> list[tuple[str, str]]:
        return [("external_id", parsed["external_id"])] if parsed.get("external_id") else []

    def existing(self, rows: list[Row]) -> dict:
        ids = {r.parsed["external_id"] for r in rows if r.parsed.get("external_id")}
        if not ids:
            return {}
        events = Event.objects.filter(
            verb="deal.created", content_type=self.content_type, after__external_id__in=ids
        ).values_list("object_id", "after__external_id")
        pairs = list(events)
        alive = Deal.objects.in_bulk([pk for pk, _ext in pairs])
        return {("external_id", ext): alive[pk] for pk, ext in pairs if pk in alive}

    def _absorb(self, row: Row, target, updated: dict, *, can_edit: bool) -> None:
        # A deal imported before is left as it is: its history was written then.
        row.outcome = "skipped"

    def build(self, row: Row) -> Deal:
        parsed = row.parsed
        history = parsed["history"]
        final_stage, final_when = history[-1]
        deal = Deal(
            title=parsed["title"],
            pipeline=parsed["pipeline"],
            stage=final_stage,
            amount=parsed.get("amount"),
            currency=parsed["currency"],
            expected_close_date=parsed.get("expected_close_date"),
            lost_reason=parsed.get("lost_reason", "") if final_stage.is_lost else "",
            source=parsed.get("source"),
            custom=parsed.get("custom") or {},
        )
        self.stamp(deal, row)
        deal.created_at = parsed["created"]
        deal.updated_at = final_when
        deal.stage_entered_at = final_when
        deal.closed_at = parsed["closed"]
        deal.import_row = row
        return deal

    def before_save(self, created: list) -> None:
        companies = CompanyMaker(self)
        for deal in created:
            name = deal.import_row.parsed.get("company")
            if name:
                companies.link(deal, name)
        companies.save()
        ContactMaker(self).link_all(created)

    def _save(self, created: list, updated: dict) -> None:
        for deal in created:
            history = deal.import_row.parsed["history"]
            deal.stages_visited = visited_key(stage.pk for stage, _when in history)
        Inserter(Deal, columns_of(Deal)).insert_objects(created, self.related)
        changes, events = [], []
        for deal in created:
            parsed = deal.import_row.parsed
            changes += [
                StageChange(deal=deal, actor=self.actor, **vars(move))
                for move in moves_along(parsed["history"])
            ]
            event = self.created_event(deal, DEAL_FIELDS, "deal.created")
            if parsed.get("external_id"):
                event.after["external_id"] = parsed["external_id"]
            if parsed.get("products"):
                event.after["products"] = [product.pk for product in parsed["products"]]
            events.append(event)
        Inserter(StageChange, columns_of(StageChange)).insert_objects(changes, ("deal",))
        self.save_events(events)
        self._save_lines(created)

    @staticmethod
    def _save_lines(created: list) -> None:
        """The products of a deal become its lines, at the catalogue's price, one of each.

        The amount in the file is what was really paid, so it stays and the lines do not
        overwrite it. A product in another currency than the deal is left to the Event.
        """
        lines, pricing = [], []
        for deal in created:
            products = [
                product
                for product in deal.import_row.parsed.get("products") or []
                if product.currency == deal.currency
            ]
            lines += [
                DealLine(
                    deal=deal,
                    product=product,
                    name=product.name,
                    quantity=decimal.Decimal(1),
                    unit=product.unit,
                    unit_price=product.net_price,
                    vat_rate=product.vat_rate,
                    position=position,
                )
                for position, product in enumerate(products)
            ]
            if products and deal.amount is not None:
                pricing.append(DealPricing(deal=deal, amount_from_lines=False))
        DealLine.objects.bulk_create(lines, batch_size=1000)
        DealPricing.objects.bulk_create(pricing, batch_size=1000)


class ContactMaker:
    """Contacts named by deals, by e-mail or "First Last": found among the visible ones, or
    created (with the deal's company)."""

    def __init__(self, importer: DealImporter):
        self.importer = importer
        self.actor = importer.actor

    def link_all(self, deals: list[Deal]) -> None:
        wanted = [deal.import_row.parsed.get("contact") for deal in deals]
        wanted = [value for value in wanted if value]
        if not wanted:
            return
        base = Contact.objects.all()
        if self.actor is not None:
            base = base.visible_to(self.actor)
        emails = {normalize_email(v) for v in wanted if "@" in v}
        names = {split_name(v)[1] for v in wanted if "@" not in v}
        known: dict[str, int] = {}
        rows = base.filter(email__in=emails) | base.filter(last_name__in=names)
        for contact in rows.order_by("created_at", "pk"):
            if contact.email:
                known.setdefault(contact.email, contact.pk)
            known.setdefault(fold(f"{contact.first_name} {contact.last_name}"), contact.pk)
        new: dict[str, Contact] = {}
        for deal in deals:
            value = deal.import_row.parsed.get("contact")
            if not value:
                continue
            key = normalize_email(value) if "@" in value else fold(" ".join(split_name(value)))
            if key in known:
                deal.contact_id = known[key]
                continue
            if key not in new:
                new[key] = self._new_contact(value, deal)
            deal.contact = new[key]
        if new:
            Inserter(Contact, columns_of(Contact)).insert_objects(list(new.values()), ("company",))
            type_id = ContentType.objects.get_for_model(Contact).pk
            events = []
            for contact in new.values():
                event = self.importer.created_event(contact, CONTACT_FIELDS, "contact.created")
                event.content_type_id = type_id
                events.append(event)
            self.importer.save_events(events)

    @staticmethod
    def _new_contact(value: str, deal: Deal) -> Contact:
        if "@" in value:
            email = normalize_email(value)
            first, last = "", email.split("@")[0]
        else:
            email = ""
            first, last = split_name(value)
        contact = Contact(
            first_name=first[:100],
            last_name=(last or first)[:100],
            email=email,
            owner_id=deal.owner_id,
            team_id=deal.team_id,
        )
        # The deal's company is an id when it was known, an object when it was just created.
        if deal.company_id:
            contact.company_id = deal.company_id
        else:
            contact.company = deal.company
        contact.created_at = contact.updated_at = deal.created_at
        return contact
