"""Running an import job: rows streamed from the file, checked, written in batches.

Each batch (1,000 rows by default) is one transaction: the rows are checked in Python, the
existing records they may duplicate are fetched with one query per key, new records and their
Events are inserted with multi-row INSERTs (bulk.py), and the job's counters are moved with
one UPDATE. If
the database refuses a batch, it is retried row by row, each row in its own savepoint, so one
bad row costs only itself and a row is written entirely or not at all.

A dry run does the same work and rolls every batch back: the counts and the error report say
what a real run would do.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import logging
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lejek.core.events import record_event
from lejek.imports.mapping import clean_mapping
from lejek.imports.models import ImportJob
from lejek.imports.reading import ImportFileError, open_table
from lejek.imports.rows import Row

log = logging.getLogger(__name__)
ERROR_COLUMN = "error"


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    processed: int = 0

    def add(self, other: Counts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.skipped += other.skipped
        self.rejected += other.rejected
        self.processed += other.processed


class ErrorReport:
    """Rejected rows as CSV: the original columns plus “error”, UTF-8 with a BOM for Excel.

    Written to a temporary file as the import goes, so it never sits in memory whole; fix the
    rows in it and import it again.
    """

    def __init__(self, headers: list[str], delimiter: str):
        self.file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in save()/discard()
            "w", encoding="utf-8-sig", newline="", suffix=".csv", delete=False
        )
        self.writer = csv.writer(self.file, delimiter=delimiter)
        self.writer.writerow([*headers, ERROR_COLUMN])
        self.rows = 0

    def add(self, rows: Iterable[Row]) -> None:
        for row in rows:
            message = _("Row %(number)s: %(error)s") % {"number": row.number, "error": row.error}
            self.writer.writerow([*row.cells, message])
            self.rows += 1

    def save(self, job: ImportJob) -> None:
        self.file.close()
        path = Path(self.file.name)
        try:
            if self.rows:
                stem = Path(job.original_name).stem or "import"
                with path.open("rb") as handle:
                    job.error_report.save(f"{stem}-errors.csv", File(handle), save=False)
        finally:
            path.unlink(missing_ok=True)

    def discard(self) -> None:
        self.file.close()
        Path(self.file.name).unlink(missing_ok=True)


def batched(rows: Iterator, size: int) -> Iterator[list]:
    while batch := list(itertools.islice(rows, size)):
        yield batch


@contextlib.contextmanager
def unmapped_database(db=connection):
    """On SQLite, no memory-mapped reads while an import runs (settings turn them on for the
    reports). The mapped pages of the growing file count in the importing process's memory:
    a million-row import peaked at 796 MB with them, and the import's own reads are a few
    index lookups per batch. The connection's setting is restored afterwards; a database in
    memory has none."""
    size = None
    if db.vendor == "sqlite":
        with db.cursor() as cursor:
            cursor.execute("PRAGMA mmap_size")
            row = cursor.fetchone()
            if row is not None:
                size = int(row[0])
                cursor.execute("PRAGMA mmap_size=0")
    try:
        yield
    finally:
        if size is not None:
            with db.cursor() as cursor:
                cursor.execute(f"PRAGMA mmap_size={size}")


def execute(job: ImportJob, *, batch_size: int = 1000) -> ImportJob:
    """Run `job` to the end, recording progress after every batch. Never raises for bad input:
    the job ends failed, with `message` saying why."""
    from lejek.imports.services import local_path

    job.status = ImportJob.Status.RUNNING
    job.started_at = job.started_at or timezone.now()
    job.processed_rows = job.created_count = job.updated_count = 0
    job.skipped_count = job.rejected_count = 0
    job.message = ""
    job.save()
    counts = Counts()
    report: ErrorReport | None = None
    try:
        with (
            unmapped_database(),
            local_path(job.file) as path,
            open_table(path, job.original_name) as table,
        ):
            job.total_rows = table.count_rows()
            ImportJob.objects.filter(pk=job.pk).update(total_rows=job.total_rows)
            mapping = clean_mapping(job.kind, job.mapping or {}, table.headers)
            importer = importer_for(job, mapping, table.headers)
            report = ErrorReport(table.headers, table.delimiter)
            for batch in batched(table.numbered_rows(), batch_size):
                done = run_batch(importer, batch, dry_run=job.dry_run)
                report.add(row for row in done if row.error)
                counts.add(importer.take_counts(done))
                _save_progress(job, counts)
            importer.finish(dry_run=job.dry_run)
        report.save(job)
        job.status = ImportJob.Status.DONE
    except (ImportFileError, PermissionDenied) as exc:
        _fail(job, str(exc), report)
    except ValidationError as exc:
        _fail(job, " ".join(exc.messages), report)
    except Exception as exc:
        log.exception("import %s failed", job.pk)
        message = _("The import stopped after %(n)s rows: %(error)s") % {
            "n": counts.processed,
            "error": exc,
        }
        _fail(job, message, report)
    _apply_counts(job, counts)
    job.finished_at = timezone.now()
    job.save()
    record_event(
        actor=job.actor,
        verb="import.finished" if job.status == ImportJob.Status.DONE else "import.failed",
        obj=job,
        after=_summary(job),
    )
    return job


def _fail(job: ImportJob, message: str, report: ErrorReport | None) -> None:
    job.status = ImportJob.Status.FAILED
    job.message = message
    if report is not None:
        try:
            report.save(job)
        except OSError:
            report.discard()


def _apply_counts(job: ImportJob, counts: Counts) -> None:
    job.processed_rows = counts.processed
    job.created_count = counts.created
    job.updated_count = counts.updated
    job.skipped_count = counts.skipped
    job.rejected_count = counts.rejected


def _save_progress(job: ImportJob, counts: Counts) -> None:
    _apply_counts(job, counts)
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=counts.processed,
        created_count=counts.created,
        updated_count=counts.updated,
        skipped_count=counts.skipped,
        rejected_count=counts.rejected,
    )


def _summary(job: ImportJob) -> dict:
    return {
        "dry_run": job.dry_run,
        "total_rows": job.total_rows,
        "processed": job.processed_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "skipped": job.skipped_count,
        "rejected": job.rejected_count,
        "message": job.message,
    }


def importer_for(job: ImportJob, mapping: dict, headers: list[str]):
    from lejek.imports.deals import DealImporter
    from lejek.imports.leads import LeadImporter
    from lejek.imports.parties import CompanyImporter, ContactImporter

    classes = {
        "lead": LeadImporter,
        "contact": ContactImporter,
        "company": CompanyImporter,
        "deal": DealImporter,
    }
    return classes[job.kind](job=job, mapping=mapping, headers=headers)


class Rollback(Exception):
    """Raised inside a dry run's batch to undo it after the work is done."""


def run_batch(importer, batch: list[tuple[int, list[str]]], *, dry_run: bool) -> list[Row]:
    """Check and write one batch in one transaction; on a database error, row by row."""
    rows = [importer.check(number, cells) for number, cells in batch]
    good = [row for row in rows if not row.error]
    try:
        with transaction.atomic():
            importer.write(good)
            if dry_run:
                raise Rollback
    except Rollback:
        importer.after_rollback()
    except (DatabaseError, ValidationError):
        log.warning("import %s: batch refused, retrying row by row", importer.job.pk)
        importer.after_rollback()
        _write_one_by_one(importer, good, dry_run=dry_run)
    return rows


def _write_one_by_one(importer, rows: list[Row], *, dry_run: bool) -> None:
    for row in rows:
        row.outcome = ""
        try:
            with transaction.atomic():
                importer.write([row])
                if dry_run:
                    raise Rollback
        except Rollback:
            importer.after_rollback()
        except (DatabaseError, ValidationError) as exc:
            importer.after_rollback()
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            row.error = " ".join(messages)
