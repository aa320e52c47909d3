"""Turning stored web-form submissions into leads, in the background, a batch at a time.

The public endpoint only checks a submission and stores it as a queued FormSubmission
(webform_submission.py). Here a worker makes the leads with the rules of `lead_create` (a
repeat folds into the person's open lead and is logged on its timeline; contact and company
matching; assignment with its reason and the assignee's notification), records the consents,
and marks each row processed with its lead, or failed with the reason. A failed row stays
until someone queues it again.

A run claims up to BATCH queued rows in one transaction (a conditional UPDATE; PostgreSQL
also skips rows another worker holds, so several workers never take the same row) and makes
their leads with per-batch work (capture_batch.py). A batch that fails as a whole is rolled
back and its rows processed one per transaction, so each fails or succeeds on its own.

A row whose task was lost, or whose worker died half-way (its transaction rolled back), is
still queued, and the next run takes it.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable

from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.tasks import TaskResultStatus

from lejek.core.events import record_event
from lejek.leads.capture_batch import Known, Processed, Run, SubmissionBatch, make_lead, mark_failed
from lejek.leads.models import FormSubmission
from lejek.leads.webforms import ensure_can_manage_forms

log = logging.getLogger(__name__)

# Submissions per batch, each batch one transaction. SQLite writes one transaction at a time
# and the endpoint's INSERTs wait for the batch, so there a batch stays short (about 1 ms a
# lead: 25-30 ms); PostgreSQL lets them run beside it, so there it can be larger.
BATCH = {"sqlite": 25, "postgresql": 200}
DEFAULT_BATCH = 100
# The longest rest between two batches when pacing (seconds).
MAX_REST = 0.05
Status = FormSubmission.Status


def submissions_process(
    *,
    ids: Iterable[int] | None = None,
    limit: int | None = None,
    pace: bool = False,
    batch: int | None = None,
) -> Processed:
    """Make the leads of queued submissions, oldest first, a batch per transaction.

    `ids` restricts the run to those submissions (e.g. to show a lead at once); `limit` stops
    it after that many (None: until no queued row is left); `batch` overrides BATCH. Safe to
    run in several workers at once and to run again: only queued rows are taken, each by one
    run.

    With `pace` (the background task), on SQLite the run rests after each batch for as long
    as the batch took. SQLite lets one transaction write at a time, and the endpoint's
    INSERTs wait for the lock by retrying with growing sleeps: a worker writing back to back
    would win nearly every time and hold the endpoint off for as long as the queue lasts.
    """
    only = None if ids is None else list(ids)
    rest = pace and connection.vendor == "sqlite"
    size = batch or BATCH.get(connection.vendor, DEFAULT_BATCH)
    run = Run()
    done = Processed()
    while limit is None or done.total < limit:
        started = time.monotonic()
        want = size if limit is None else min(size, limit - done.total)
        outcome = _process_batch(only, want, run)
        if outcome is None:
            break
        done.add(outcome)
        if rest:
            time.sleep(min(time.monotonic() - started, MAX_REST))
    return done


def _process_batch(only: list[int] | None, size: int, run: Run) -> Processed | None:
    """Claim and process up to `size` queued rows; None when none is left."""
    ids: list[int] = []
    try:
        with transaction.atomic():
            rows = _claim(only, size)
            if not rows:
                return None
            ids = [row.pk for row in rows]
            return SubmissionBatch(rows, run).process()
    except OperationalError:
        # The database is unavailable or locked: the rows stay queued for the next run.
        raise
    except Exception:
        if not ids:
            raise
        log.warning("a batch of %s web-form submissions failed; one by one", len(ids), exc_info=1)
        run.forget()
        done = Processed()
        for pk in ids:
            done.count(_process_next([pk], run.known))
        return done


def _claim(only: list[int] | None, size: int) -> list[FormSubmission]:
    rows = FormSubmission.objects.queued().order_by("pk")
    if only is not None:
        rows = rows.filter(pk__in=only)
    claimed = list(rows.select_for_update(skip_locked=True)[:size])
    if claimed:
        # The rows are this transaction's (locked on PostgreSQL; SQLite writes one
        # transaction at a time), so every one of them is still queued here.
        FormSubmission.objects.filter(
            pk__in=[row.pk for row in claimed], status=Status.QUEUED
        ).update(attempts=F("attempts") + 1)
    return claimed


# One at a time: the way back when a batch fails -----------------------------------------


def _process_next(only: list[int] | None, known: Known) -> str | None:
    """Process the oldest queued row in its own transaction; its outcome, "failed", or None
    when none is left."""
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
            return make_lead(row, known)
    except OperationalError:
        raise
    except Exception as exc:
        known.forget()
        if row is None:
            raise
        mark_failed(row, exc)
        return Status.FAILED


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
