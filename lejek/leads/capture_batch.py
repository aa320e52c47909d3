"""Making leads from claimed web-form submissions: a batch at a time, or one by one.

`SubmissionBatch` takes the rows one transaction claimed (capture.py claims them) and makes
their leads with per-batch work: one query for the open leads of all the batch's people, a
few for their contacts and companies, the assignment rules and teams read once, and multi-row
INSERTs of the leads, their status history, consents, notifications and Events. Rows that
meet another row of the batch or an open lead (same e-mail or phone) go through `make_lead`
(`lead_create`) one by one in the same transaction, after the new leads, which gives what
processing them in order would give. A row whose values no longer pass is marked failed
without taking the batch down.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone, translation

from lejek.contacts.normalize import normalize_fields
from lejek.core.custom_values import merge_custom
from lejek.core.events import record_event, snapshot, subscribers, to_json
from lejek.core.locks import lock_key
from lejek.core.models import Event
from lejek.core.records import apply_values
from lejek.imports.bulk import Inserter, blank, columns_of, event_inserter
from lejek.leads.assignment import new_lead_text
from lejek.leads.assignment_batch import BatchAssigner
from lejek.leads.assignment_batch import Outcome as Routing
from lejek.leads.lifecycle import status_changed
from lejek.leads.models import (
    Consent,
    ConsentText,
    FormSubmission,
    Lead,
    LeadStatusChange,
    Source,
    WebForm,
)
from lejek.leads.services import LEAD_FIELDS, LEAD_KEYS, known_links_many, lead_create
from lejek.leads.webforms import IDENTITY_FIELDS
from lejek.users.services import Notice, notify_many

log = logging.getLogger(__name__)

DEFAULT_SOURCE = "Web form"
# Lead relations a new lead's full_clean leaves out: each would cost a query per lead to
# confirm a row the batch has just read (the database checks the foreign keys anyway).
RELATIONS = ["source", "campaign", "contact", "company", "owner", "team"]
Status = FormSubmission.Status
Outcome = FormSubmission.Outcome


@dataclass
class Processed:
    """What one run did."""

    created: int = 0
    repeats: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.created + self.repeats + self.failed

    def count(self, outcome: str | None) -> None:
        if outcome == Outcome.CREATED:
            self.created += 1
        elif outcome == Outcome.REPEAT:
            self.repeats += 1
        elif outcome == Status.FAILED:
            self.failed += 1

    def add(self, other: Processed) -> None:
        self.created += other.created
        self.repeats += other.repeats
        self.failed += other.failed

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "repeats": self.repeats, "failed": self.failed}


@dataclass
class Known:
    """What a run reads once rather than per lead: forms, their sources, consent wordings
    (a version never changes)."""

    forms: dict[int, WebForm] = field(default_factory=dict)
    texts: dict[int, ConsentText] = field(default_factory=dict)
    default_source: Source | None = None

    def load(self, rows: list[FormSubmission]) -> None:
        """The forms and wordings of `rows` not read yet (one query each), and their sources.

        Called before the batch locks its people. The shared "Web form" source may be
        created here, and another worker inserting it too waits for this transaction: it
        must not hold a person's lock then, or a worker going one by one (source first,
        then the person's lock in lead_create) and this one could wait for each other.
        """
        missing = {row.form_id for row in rows} - set(self.forms)
        if missing:
            forms = WebForm.objects.select_related("source", "campaign__source", "team")
            self.forms.update(forms.in_bulk(missing))
        texts = {row.consent_text_id for row in rows if row.consent_text_id} - set(self.texts)
        if texts:
            self.texts.update(ConsentText.objects.in_bulk(texts))
        for form_id in {row.form_id for row in rows}:
            self.source(self.form(form_id))

    def form(self, form_id: int) -> WebForm:
        if form_id not in self.forms:
            forms = WebForm.objects.select_related("source", "campaign__source", "team")
            self.forms[form_id] = forms.get(pk=form_id)
        return self.forms[form_id]

    def source(self, form: WebForm) -> Source:
        """The form's source, its campaign's, or the shared "Web form" source."""
        if form.source_id:
            return form.source
        if form.campaign_id and form.campaign.source_id:
            return form.campaign.source
        if self.default_source is None:
            self.default_source, _created = Source.objects.get_or_create(
                name=DEFAULT_SOURCE, defaults={"kind": Source.Kind.WEB_FORM}
            )
        return self.default_source

    def text(self, text_id: int) -> ConsentText:
        if text_id not in self.texts:
            self.texts[text_id] = ConsentText.objects.get(pk=text_id)
        return self.texts[text_id]

    def forget(self) -> None:
        """After a rollback: a source made in the rolled-back transaction is gone."""
        self.default_source = None


@dataclass
class Run:
    known: Known = field(default_factory=Known)
    assigner: BatchAssigner = field(default_factory=BatchAssigner)

    def forget(self) -> None:
        self.known.forget()
        self.assigner.forget()


@dataclass
class _Item:
    """One claimed row on its way to a lead."""

    row: FormSubmission
    values: dict[str, Any] = field(default_factory=dict)
    custom: dict | None = None
    lead: Lead | None = None
    created: dict | None = None  # the lead.created snapshot, taken before routing
    routing: Routing | None = None
    outcome: str = ""
    error: Exception | None = None

    @property
    def person(self) -> str:
        """What `lead_create` finds an open lead by: the e-mail, else the phone."""
        return self.values.get("email") or self.values.get("phone") or ""

    @property
    def person_key(self) -> tuple[str, str] | None:
        if self.values.get("email"):
            return ("email", self.values["email"])
        if self.values.get("phone"):
            return ("phone", self.values["phone"])
        return None

    def identities(self) -> list[tuple[str, str]]:
        return [(name, self.values[name]) for name in ("email", "phone") if self.values.get(name)]


class SubmissionBatch:
    """The claimed rows of one transaction, processed with per-batch work."""

    def __init__(self, rows: list[FormSubmission], run: Run):
        self.run = run
        self.known = run.known
        self.now = timezone.now()
        self.items = [_Item(row=row) for row in rows]

    def process(self) -> Processed:
        self.known.load([item.row for item in self.items])
        for item in self.items:
            data = item.row.data or {}
            try:
                item.values = normalize_fields(data.get("values") or {}, LEAD_KEYS)
            except ValidationError as exc:
                item.error = exc
            item.custom = data.get("custom") or None
        # Simultaneous submissions of one person are serialised on their e-mail or phone,
        # as lead_create does; in one order, so that two batches never wait for each other.
        for person in sorted({item.person for item in self.items if item.error is None} - {""}):
            lock_key(f"lead:{person}")
        new, in_order = self._split()
        self.run.assigner.forget()  # count open leads afresh: people work them between runs
        self.run.assigner.begin()
        built = self._build(new)
        self._write(built)
        self.run.assigner.end()
        for item in in_order:
            try:
                with transaction.atomic():
                    item.outcome = make_lead(item.row, self.known)
            except ValidationError as exc:
                item.error = exc
                self.known.forget()  # the savepoint may have taken a source made in it
        self._mark_processed(built)
        done = Processed()
        for item in self.items:
            if item.error is not None:
                self.mark_failed(item)
                done.failed += 1
            else:
                done.count(item.outcome)
        return done

    def _split(self) -> tuple[list[_Item], list[_Item]]:
        """The rows that certainly make a new lead, and those to take one by one.

        A row whose person has an open lead is a repeat. A row sharing an e-mail or a phone
        with another row of the batch may be one, or may change what another row finds
        (a repeat fills in an empty phone): those go through `lead_create` in order. Every
        other row meets no lead and no other row, so it makes a new lead whatever the order.
        """
        valid = [item for item in self.items if item.error is None]
        shared = Counter(key for item in valid for key in item.identities())
        open_keys = _open_lead_keys([item.person_key for item in valid if item.person_key])
        new, in_order = [], []
        for item in valid:
            repeats = item.person_key in open_keys
            if repeats or any(shared[key] > 1 for key in item.identities()):
                in_order.append(item)
            else:
                new.append(item)
        return new, in_order

    def _build(self, items: list[_Item]) -> list[_Item]:
        """The new leads in memory, checked as lead_create checks them, linked and routed."""
        built = []
        for item in items:
            try:
                item.lead = self._new_lead(item)
            except ValidationError as exc:
                item.error = exc
            else:
                built.append(item)
        known_links_many([item.lead for item in built])
        for item in built:
            lead = item.lead
            lead.created_at = lead.updated_at = self.now
            item.created = snapshot(lead, LEAD_FIELDS)
            item.routing = self.run.assigner.route(lead, lead.team if lead.team_id else None)
            if item.routing is not None:
                lead.version += 1  # as lead_assign_automatically's write of the owner does
            item.outcome = Outcome.CREATED
        return built

    def _new_lead(self, item: _Item) -> Lead:
        form = self.known.form(item.row.form_id)
        lead = _new(Lead)
        apply_values(lead, item.values)
        lead.team = form.team
        lead.source = self.known.source(form)
        lead.campaign = form.campaign
        merge_custom("lead", lead, item.custom)
        errors: dict[str, list[str]] = {}
        try:
            # The check constraints are tested here in Python: validating them costs a query each.
            lead.full_clean(exclude=RELATIONS, validate_constraints=False)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if not any(getattr(lead, name) for name in IDENTITY_FIELDS):
            errors.setdefault(NON_FIELD_ERRORS, []).append(_identity_message())
        if errors:
            raise ValidationError(errors)
        return lead

    def _write(self, built: list[_Item]) -> None:
        """INSERT the new leads with their history, consents, Events and notifications."""
        if not built:
            return
        leads = [item.lead for item in built]
        _inserter(Lead).insert_objects(leads)
        # A lead made marketing-qualified would open a hand-off; a form sets no status, so
        # this is the rule's one INSERT per lead, in one statement.
        history = [lead for lead in leads if lead.status != Lead.Status.MQL]
        _inserter(LeadStatusChange).insert_objects(
            [
                _new(
                    LeadStatusChange,
                    lead_id=lead.pk,
                    from_status="",
                    to_status=lead.status,
                    changed_at=self.now,
                )
                for lead in history
            ]
        )
        for lead in leads:
            if lead.status == Lead.Status.MQL:
                status_changed(actor=None, lead=lead, before="")
        consents = self._consents(built)
        _inserter(Consent).insert_objects(list(consents.values()))
        events = []
        for item in built:
            events.append(self._event("lead.created", item.lead, after=item.created))
            if item.routing is not None:
                events.append(self._assigned_event(item))
            consent = consents.get(item.row.pk)
            if consent is not None:
                text = self.known.text(consent.text_id)
                after = {"consent": consent.pk, "text": text.pk, "version": text.version}
                events.append(self._event("consent.given", item.lead, after=after))
        event_inserter().insert_objects(events)
        for event in events:
            for subscriber in subscribers():
                subscriber(event)
        self._notify(built)

    def _consents(self, built: list[_Item]) -> dict[int, Consent]:
        consents = {}
        for item in built:
            row = item.row
            if row.consent_text_id is None:
                continue
            values = _consent_values(row, item.lead, self.known.text(row.consent_text_id))
            if values is not None:
                consents[row.pk] = _new(Consent, **values)
        return consents

    def _event(self, verb: str, lead: Lead, *, before=None, after=None) -> Event:
        return _new(
            Event,
            created_at=self.now,
            actor_id=None,
            verb=verb,
            content_type_id=_lead_type_id(),
            object_id=lead.pk,
            object_repr=str(lead)[:200],
            before=to_json(before or {}),
            after=to_json(after or {}),
        )

    def _assigned_event(self, item: _Item) -> Event:
        routing = item.routing
        return self._event(
            "lead.assigned",
            item.lead,
            before={"owner": None, "team": item.created["team"]},
            after={
                "owner": routing.rep.pk if routing.rep else None,
                "team": routing.team.pk,
                "rule": routing.rule.name if routing.rule else None,
                "reason": routing.reason,
            },
        )

    def _notify(self, built: list[_Item]) -> None:
        """Tell each rep given a lead, all in one notify_many."""
        notices = []
        for item in built:
            rep = item.routing.rep if item.routing is not None else None
            if rep is None:
                continue
            with translation.override(rep.language):
                text = new_lead_text(item.lead, item.routing.rule, rep)
            notices.append(
                Notice(
                    recipient=rep,
                    kind="lead.assigned",
                    text=text,
                    url=item.lead.get_absolute_url(),
                )
            )
        notify_many(notices)

    def _mark_processed(self, built: list[_Item]) -> None:
        # One statement run for many rows: an UPDATE with a CASE of 200 branches costs more
        # to compile than executemany costs to run.
        table = connection.ops.quote_name(FormSubmission._meta.db_table)
        processed_at = connection.ops.adapt_datetimefield_value(self.now)
        rows = [
            (Status.PROCESSED, Outcome.CREATED, processed_at, item.lead.pk, item.row.pk)
            for item in built
        ]
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {table} SET status = %s, outcome = %s, error = '',"
                    " processed_at = %s, lead_id = %s WHERE id = %s",
                    rows,
                )

    def mark_failed(self, item: _Item) -> None:
        row = item.row
        reason = _reason(item.error)[:2000]
        failed = FormSubmission.objects.filter(pk=row.pk, status=Status.QUEUED).update(
            status=Status.FAILED, error=reason, processed_at=timezone.now()
        )
        if failed:
            record_event(
                actor=None,
                verb="webform.submission_failed",
                obj=self.known.form(row.form_id),
                after={"submission": row.pk, "error": reason},
            )


def _open_lead_keys(keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (e-mail or phone) keys an open lead has: one query per kind of key."""
    found = set()
    for name in ("email", "phone"):
        values = {value for kind, value in keys if kind == name}
        if values:
            rows = Lead.objects.open().filter(**{f"{name}__in": values}).order_by()
            found |= {(name, value) for value in rows.values_list(name, flat=True)}
    return found


@functools.cache
def _lead_type_id() -> int:
    return ContentType.objects.get_for_model(Lead).pk


@functools.cache
def _identity_message() -> str:
    constraint = next(c for c in Lead._meta.constraints if c.name == "lead_has_some_identity")
    return str(constraint.get_violation_error_message())


def _inserter(model: type[models.Model]) -> Inserter:
    return Inserter(model, columns_of(model))


@functools.cache
def _factory(model: type[models.Model]):
    return blank(model)


def _new(model: type[models.Model], **values: Any):
    """A new, unsaved instance with `values` (by attname) over the defaults: Model.__init__
    walks every field and was a tenth of a batch's time."""
    obj = _factory(model)()
    obj.__dict__.update(values)
    return obj


def make_lead(row: FormSubmission, known: Known) -> str:
    form = known.form(row.form_id)
    data = row.data or {}
    lead = lead_create(
        actor=None,
        dedupe=True,
        team=form.team,
        source_id=known.source(form).pk,
        campaign_id=form.campaign_id,
        custom=data.get("custom") or None,
        **(data.get("values") or {}),
    )
    if row.consent_text_id is not None:
        _record_consent(row, lead, known.text(row.consent_text_id))
    outcome = Outcome.REPEAT if lead.was_repeat else Outcome.CREATED
    FormSubmission.objects.filter(pk=row.pk).update(
        status=Status.PROCESSED, lead=lead, outcome=outcome, error="", processed_at=timezone.now()
    )
    return outcome


def _consent_values(row: FormSubmission, lead: Lead, text: ConsentText) -> dict | None:
    """The Consent a submission records, or None when its form asked no consent (an empty
    latest version)."""
    if not text.text:
        return None
    return {
        "text_id": text.pk,
        "lead_id": lead.pk,
        "contact_id": lead.contact_id,
        # Given when the person sent the form, not when the worker got to it.
        "given_at": row.created_at,
        "ip": row.ip,
        "user_agent": row.user_agent,
    }


def _record_consent(row: FormSubmission, lead: Lead, text: ConsentText) -> None:
    values = _consent_values(row, lead, text)
    if values is None:
        return
    consent = Consent.objects.create(**values)
    record_event(
        actor=None,
        verb="consent.given",
        obj=lead,
        after={"consent": consent.pk, "text": text.pk, "version": text.version},
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return f"{type(exc).__name__}: {exc}"


@transaction.atomic
def mark_failed(row: FormSubmission, exc: Exception) -> None:
    if not isinstance(exc, ValidationError):
        log.exception("web form submission %s could not be processed", row.pk)
    reason = _reason(exc)[:2000]
    failed = FormSubmission.objects.filter(pk=row.pk, status=Status.QUEUED).update(
        status=Status.FAILED,
        error=reason,
        attempts=F("attempts") + 1,
        processed_at=timezone.now(),
    )
    if failed:
        form = WebForm.objects.get(pk=row.form_id)
        record_event(
            actor=None,
            verb="webform.submission_failed",
            obj=form,
            after={"submission": row.pk, "error": reason},
        )
