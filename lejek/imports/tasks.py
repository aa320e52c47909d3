"""Background work for imports: the worker runs a queued job to the end."""

from __future__ import annotations

from django.tasks import task

from lejek.imports.models import ImportJob


@task
def run_import_job(job_id: int) -> str:
    """Run one queued import. Idempotent: a job that another worker claimed is left alone."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING
    )
    if not claimed:
        return "skipped"
    from lejek.imports.services import run_import

    job = run_import(ImportJob.objects.get(pk=job_id))
    return job.status
