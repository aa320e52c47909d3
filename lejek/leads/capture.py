"""Turning stored web-form submissions into leads, in the background.

The public endpoint only checks a submission and stores it as a queued FormSubmission
(webform_submission.py). Here a worker makes the lead through the service people and the API
use (`lead_create`: a repeat folds into the person's open lead and is logged on its
timeline; contact and company matching; assignment and its notification), records the
consent, and marks the row processed with its lead, or failed with the reason. A failed row
stays until someone queues it again.

Each submission is processed in its own short transaction, so that on SQLite, which writes
one transaction at a time, the endpoint's INSERTs wait for one lead at most, never for a
batch. Inside it the row is claimed with a conditional UPDATE (PostgreSQL also skips rows
another worker holds), so several workers never make a lead twice. A row whose task was lost,
or whose worker died half-way (its transaction rolled back), is still queued, and the next
run takes it.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.tasks import TaskResultStatus
from django.utils import timezone

from lejek.core.events import record_event
from lejek.leads.models import Consent, ConsentText, FormSubmission, Lead, Source, WebForm
from lejek.leads.services import lead_create
from lejek.leads.webforms import ensure_can_manage_forms

log = logging.getLogger(__name__)

DEFAULT_SOURCE = "Web form"
# The longest rest between two leads when pacing (seconds).
MAX_REST = 0.05
Status = FormSubmission.Status


@dataclass
class Processed:
    """What one run did."""

    created: int = 0
    repeats: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.created + self.repeats + self.failed

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "repeats": self.repeats, "failed": self.failed}


def submissions_process(
    *, ids: Iterable[int] | None = None, limit: int | None = None, pace: bool = False
) -> Processed:
    """Make the leads of queued submissions, oldest first, one transaction each.

    `ids` restricts the run to those submissions (e.g. to show a lead at once); `limit` stops
    it after that many (None: until no queued row is left). Safe to run in several workers at
    once and to run again: only queued rows are taken, each by one run.

    With `pace` (the background task), on SQLite the run rests after each lead for as long
    as the lead took. SQLite lets one transaction write at a time, and the endpoint's INSERTs
    wait for the lock by retrying with growing sleeps: a worker writing back to back would
    win nearly every time and hold the endpoint off for as long as the queue lasts.
    """
    only = None if ids is None else list(ids)
    rest = pace and connection.vendor == "sqlite"
    known = _Known()
    done = Processed()
    while limit is None or done.total < limit:
        started = time.monotonic()
        outcome = _process_next(only, known)
        if outcome is None:
            break
        if rest:
            time.sleep(min(time.monotonic() - started, MAX_REST))
        if outcome == FormSubmission.Outcome.CREATED:
            done.created += 1
        elif outcome == FormSubmission.Outcome.REPEAT:
            done.repeats += 1
        elif outcome == Status.FAILED:
            done.failed += 1
    return done


def _process_next(only: list[int] | None, known: _Known) -> str | None:
    """Process the oldest queued row; its outcome, "failed", or None when none is left."""
    rows = FormSubmission.objects.queued().order_by("pk")
    if only is not None:
        rows = rows.filter(pk__in=only)
    row = None
    try:
        with transaction.atomic():
            row = rows.select_for_update(skip_locked=True).first()
            if row is None:
                return None
            # The claim: of several workers that picked the same row, one changes it.
            claimed = FormSubmission.objects.filter(pk=row.pk, status=Status.QUEUED).update(
                attempts=F("attempts") + 1
            )
            if not claimed:
                return ""  # another worker took it; go on to the next
            return _make_lead(row, known)
    except OperationalError:
        # The database is unavailable or locked: the row stays queued for the next run.
        raise
    except Exception as exc:
        if row is None:
            raise
        _fail(row, exc)
        return Status.FAILED


@dataclass
class _Known:
    """What a run reads once rather than per lead: each form with its source, and consent
    wordings (a version never changes)."""

    forms: dict[int, tuple[WebForm, int]] = field(default_factory=dict)
    texts: dict[int, ConsentText] = field(default_factory=dict)

    def form(self, form_id: int) -> tuple[WebForm, int]:
        if form_id in self.forms:
            return self.forms[form_id]
        form = WebForm.objects.select_related("campaign", "team").get(pk=form_id)
        source_id, created = _source_id(form)
        if not created:  # a source made now is remembered only once its transaction commits
            self.forms[form_id] = (form, source_id)
        return form, source_id

    def text(self, text_id: int) -> ConsentText:
        if text_id not in self.texts:
            self.texts[text_id] = ConsentText.objects.get(pk=text_id)
        return self.texts[text_id]


def _make_lead(row: FormSubmission, known: _Known) -> str:
    form, source_id = known.form(row.form_id)
    data = row.data or {}
    lead = lead_create(
        actor=None,
        dedupe=True,
        team=form.team,
        source_id=source_id,
        campaign_id=form.campaign_id,
        custom=data.get("custom") or None,
        **(data.get("values") or {}),
    )
    if row.consent_text_id is not None:
        _record_consent(row, lead, known.text(row.consent_text_id))
    outcome = FormSubmission.Outcome.REPEAT if lead.was_repeat else FormSubmission.Outcome.CREATED
    FormSubmission.objects.filter(pk=row.pk).update(
        status=Status.PROCESSED, lead=lead, outcome=outcome, error="", processed_at=timezone.now()
    )
    return outcome


def _source_id(form: WebForm) -> tuple[int, bool]:
    """The form's source, its campaign's, or the shared "Web form" source; and whether that
    source was created just now."""
    if form.source_id:
        return form.source_id, False
    if form.campaign_id and form.campaign.source_id:
        return form.campaign.source_id, False
    source, created = Source.objects.get_or_create(
        name=DEFAULT_SOURCE, defaults={"kind": Source.Kind.WEB_FORM}
    )
    return source.pk, created


def _record_consent(row: FormSubmission, lead: Lead, text: ConsentText) -> None:
    if not text.text:  # an empty latest version: the form asked no consent
        return
    consent = Consent.objects.create(
        text=text,
        lead=lead,
        contact_id=lead.contact_id,
        # Given when the person sent the form, not when the worker got to it.
        given_at=row.created_at,
        ip=row.ip,
        user_agent=row.user_agent,
    )
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
def _fail(row: FormSubmission, exc: Exception) -> None:
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


@transaction.atomic
def submission_retry(*, actor, submission: FormSubmission) -> bool:
    """Queue a failed submission again; False when it was not failed (nothing to do)."""
    ensure_can_manage_forms(actor)
    requeued = FormSubmission.objects.filter(pk=submission.pk, status=Status.FAILED).update(
        status=Status.QUEUED, error="", processed_at=None
    )
    if not requeued:
        return False
    record_event(
        actor=actor,
        verb="webform.submission_retried",
        obj=submission.form,
        after={"submission": submission.pk, "error": submission.error},
    )
    transaction.on_commit(enqueue_processing, robust=True)
    return True


def enqueue_processing() -> None:
    """Ask a worker to process the queue, unless a run is already waiting to start.

    A waiting run reads the queue only after a worker claims it, which is after this call,
    so it sees every row committed before now: one waiting run serves any number of
    submissions, and a burst does not fill the task table with runs that find nothing.
    """
    from lejek.leads.tasks import process_form_submissions

    if not _run_waiting(process_form_submissions):
        process_form_submissions.enqueue()


def catch_up() -> bool:
    """When a worker starts: queue a run for submissions left waiting (a run lost in a crash
    or a restart); whether one was needed."""
    if not FormSubmission.objects.queued().exists():
        return False
    enqueue_processing()
    return True


def _run_waiting(task) -> bool:
    """Whether a run of `task` is queued and not started; known only on the database backend
    (elsewhere every call enqueues, which is correct, only less frugal).

    Plain SQL: every public submission asks, and compiling the ORM query cost more than
    running it.
    """
    from django_tasks_db.backend import DatabaseBackend

    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            _run_waiting_sql(), [TaskResultStatus.READY.value, task.module_path, backend.alias]
        )
        return cursor.fetchone() is not None


@functools.cache
def _run_waiting_sql() -> str:
    from django_tasks_db.models import DBTaskResult

    quote = connection.ops.quote_name
    return (
        f"SELECT 1 FROM {quote(DBTaskResult._meta.db_table)} WHERE {quote('status')} = %s"
        f" AND {quote('task_path')} = %s AND {quote('backend_name')} = %s LIMIT 1"
    )
