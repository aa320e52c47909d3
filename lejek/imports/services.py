"""Every write to imports: creating a job from an upload, mapping it, starting it, running it."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lejek.core.events import record_event
from lejek.imports.mapping import clean_mapping, guess_mapping
from lejek.imports.models import ImportJob, ImportMapping, Kind
from lejek.imports.reading import ImportFileError, open_table
from lejek.users.models import Role

IMPORTERS = {
    Kind.LEAD: (Role.ADMIN, Role.MANAGER, Role.MARKETING),
    Kind.CONTACT: (Role.ADMIN, Role.MANAGER, Role.MARKETING),
    Kind.COMPANY: (Role.ADMIN, Role.MANAGER, Role.MARKETING),
    Kind.DEAL: (Role.ADMIN, Role.MANAGER),
}
JOB_FIELDS = ["kind", "status", "dry_run", "original_name", "total_rows"]

__all__ = [
    "ImportFileError",
    "can_import",
    "import_job_create",
    "import_job_set_mapping",
    "import_job_start",
    "import_mapping_save",
    "run_import",
]


def can_import(user, kind: str) -> bool:
    """Admins, managers and marketing import leads, contacts and companies; deals need a
    manager or an admin."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.role in IMPORTERS.get(kind, ())


def _ensure_can_import(actor, kind: str) -> None:
    if kind not in IMPORTERS:
        raise ValidationError({"kind": _("Choose leads, contacts, companies or deals.")})
    if not can_import(actor, kind):
        raise PermissionDenied(_("You are not allowed to import these records."))


@contextlib.contextmanager
def local_path(field_file) -> Iterator[Path]:
    """A path on disk for a stored file; storages without one are copied to a temporary file."""
    try:
        yield Path(field_file.path)
        return
    except NotImplementedError:
        pass
    with tempfile.NamedTemporaryFile(suffix=Path(field_file.name).suffix) as copy:
        with field_file.open("rb") as source:
            shutil.copyfileobj(source, copy)
        copy.flush()
        yield Path(copy.name)


@transaction.atomic
def import_job_create(*, actor, kind: str, uploaded, name: str) -> ImportJob:
    """Store an uploaded file as a draft import, with its headers and a guessed mapping.

    Raises ImportFileError (nothing is kept) when the file is empty, not a CSV/XLSX, in an
    unreadable encoding, or has no header row.
    """
    _ensure_can_import(actor, kind)
    job = ImportJob(kind=kind, original_name=(name or "import.csv")[:255], actor=actor)
    job.file.save(Path(job.original_name).name, uploaded, save=False)
    try:
        with local_path(job.file) as path, open_table(path, job.original_name) as table:
            job.headers = table.headers
    except ImportFileError:
        job.file.delete(save=False)
        raise
    job.mapping = guess_mapping(kind, job.headers)
    job.save()
    record_event(
        actor=actor,
        verb="import.created",
        obj=job,
        after={"kind": kind, "file": job.original_name, "headers": job.headers},
    )
    return job


@transaction.atomic
def import_job_set_mapping(*, actor, job: ImportJob, mapping: dict) -> ImportJob:
    _ensure_can_import(actor, job.kind)
    if job.status != ImportJob.Status.DRAFT:
        raise ValidationError(_("This import has already started; its mapping is fixed."))
    cleaned = clean_mapping(job.kind, mapping, job.headers)
    job.mapping = cleaned
    defaults = cleaned.get("defaults") or {}
    if defaults:
        job.defaults = {**job.defaults, **defaults}
    job.save(update_fields=["mapping", "defaults"])
    record_event(actor=actor, verb="import.mapped", obj=job, after={"mapping": cleaned})
    return job


@transaction.atomic
def import_job_start(*, actor, job: ImportJob, dry_run: bool) -> ImportJob:
    """Queue a job for the background worker and return the job that will run.

    A draft job runs itself. A job that has already run (typically a dry run that looked
    right) is left as its record, and a new job with the same file, mapping and defaults is
    queued, so the dry run's counts and error report stay to compare with.
    """
    _ensure_can_import(actor, job.kind)
    job.mapping = clean_mapping(job.kind, job.mapping, job.headers)
    if job.status != ImportJob.Status.DRAFT:
        job = ImportJob.objects.create(
            kind=job.kind,
            file=job.file.name,
            original_name=job.original_name,
            headers=job.headers,
            mapping=job.mapping,
            defaults=job.defaults,
            actor=actor,
        )
    job.dry_run = dry_run
    job.status = ImportJob.Status.QUEUED
    job.save(update_fields=["dry_run", "status", "mapping"])
    record_event(actor=actor, verb="import.queued", obj=job, after={"dry_run": dry_run})
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from lejek.imports.tasks import run_import_job

    run_import_job.enqueue(job_id)


@transaction.atomic
def import_mapping_save(*, actor, kind: str, name: str, mapping: dict) -> ImportMapping:
    """Save a mapping under a name for the next file of the same kind (same name replaces)."""
    _ensure_can_import(actor, kind)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the mapping a name.")})
    if not isinstance(mapping, dict):
        raise ValidationError({"mapping": _("The mapping must be a JSON object.")})
    saved, created = ImportMapping.objects.update_or_create(
        kind=kind, name=name[:100], defaults={"mapping": mapping, "created_by": actor}
    )
    record_event(
        actor=actor,
        verb="import_mapping.created" if created else "import_mapping.updated",
        obj=saved,
        after={"kind": kind, "name": saved.name},
    )
    return saved


def run_import(job: ImportJob, *, progress_every: int = 1000) -> ImportJob:
    """Run a job now: read, validate, write in batches, write the error report, finish.

    Each batch of `progress_every` rows is one transaction with one progress UPDATE; a failure
    leaves the batches before it written and the job failed with a message.
    """
    from lejek.imports.engine import execute

    job.started_at = timezone.now()
    return execute(job, batch_size=progress_every)


def import_job_run_now(*, actor, job: ImportJob, dry_run: bool) -> ImportJob:
    """Run a draft job in this process (the command line), instead of queueing it."""
    _ensure_can_import(actor, job.kind)
    job.dry_run = dry_run
    job.save(update_fields=["dry_run"])
    record_event(actor=actor, verb="import.started", obj=job, after={"dry_run": dry_run})
    return run_import(job)
