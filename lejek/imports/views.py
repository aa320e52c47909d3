"""The import wizard: upload a file, map its columns, check it with a dry run, import it.

The work itself runs in the background (lejek.imports.tasks); these pages start it and follow
it. Everyone who may import sees their own imports; admins see all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.forms import BoundField
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lejek.contacts.forms import attach_errors
from lejek.imports.forms import MappingForm, UploadForm, importable_kinds
from lejek.imports.models import ImportJob, ImportMapping, Kind
from lejek.imports.reading import ImportFileError, open_table
from lejek.imports.services import (
    can_import,
    import_job_create,
    import_job_set_mapping,
    import_job_start,
    import_mapping_save,
)
from lejek.leads.models import Campaign
from lejek.users.models import Role

SAMPLE_ROWS = 3
REJECTED_PREVIEW_ROWS = 50
RECORD_LISTS = {
    Kind.LEAD: "lead-list",
    Kind.CONTACT: "contact-list",
    Kind.COMPANY: "company-list",
    Kind.DEAL: "deal-list",
}
ACTIVE = (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)


# Access -------------------------------------------------------------------------------------


def _ensure_may_import(user) -> None:
    if not importable_kinds(user):
        raise PermissionDenied(_("Only marketing, managers and admins import records."))


def jobs_for(user) -> QuerySet[ImportJob]:
    """The imports a user may follow: all for an admin, their own for everyone else."""
    jobs = ImportJob.objects.select_related("actor")
    if user.role == Role.ADMIN:
        return jobs
    return jobs.filter(actor=user)


def _job_for(request: HttpRequest, pk: int) -> ImportJob:
    _ensure_may_import(request.user)
    job = get_object_or_404(jobs_for(request.user), pk=pk)
    if not can_import(request.user, job.kind):
        raise PermissionDenied(_("You may not import these records."))
    return job


def mapping_editable(job: ImportJob) -> bool:
    # Once a job has run, its mapping is its record: a new mapping means a new upload.
    return job.status == ImportJob.Status.DRAFT


# List and upload ----------------------------------------------------------------------------


@login_required
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    _ensure_may_import(request.user)
    page = Paginator(jobs_for(request.user), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "jobs": page.object_list,
        "show_actor": request.user.role == Role.ADMIN,
    }
    return render(request, "imports/import_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    _ensure_may_import(request.user)
    kinds = dict(importable_kinds(request.user))
    initial_kind = (
        request.GET.get("kind") if request.GET.get("kind") in kinds else next(iter(kinds))
    )
    form = UploadForm(
        request.POST or None,
        request.FILES or None,
        user=request.user,
        initial={"kind": initial_kind},
    )
    if request.method == "POST" and form.is_valid():
        job = _create_job(request, form)
        if job is not None:
            return redirect("import-mapping", pk=job.pk)
    status = 400 if form.errors else 200
    return render(request, "imports/import_new.html", {"form": form}, status=status)


def _create_job(request: HttpRequest, form: UploadForm) -> ImportJob | None:
    uploaded = form.cleaned_data["file"]
    try:
        with transaction.atomic():
            job = import_job_create(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                uploaded=uploaded,
                name=uploaded.name,
            )
            if form.cleaned_data["event_list"]:
                # The engine finds or creates the campaign, with an event source, on the real run.
                request.session[_event_key(job)] = {"event": form.cleaned_data["campaign"]}
    except ImportFileError as exc:
        form.add_error("file", str(exc))
    except ValidationError as exc:
        attach_errors(form, exc)
    else:
        return job
    return None


def _event_key(job: ImportJob) -> str:
    return f"import-event-{job.pk}"


# Mapping ------------------------------------------------------------------------------------


@dataclass
class Sample:
    rows: list[list[str]]
    error: str = ""

    def column(self, index: int) -> list[str]:
        return [row[index] for row in self.rows if index < len(row) and row[index]]


def read_sample(job: ImportJob) -> Sample:
    """The first rows of the file, to show what each column holds."""
    try:
        with open_table(job.file.path, job.original_name) as table:
            return Sample(rows=list(islice(table.rows(), SAMPLE_ROWS)))
    except ImportFileError as exc:
        return Sample(rows=[], error=str(exc))


@dataclass
class MappingRow:
    header: str
    select: BoundField
    values: BoundField
    samples: list[str]


def mapping_rows(form: MappingForm, sample: Sample) -> list[MappingRow]:
    return [
        MappingRow(header, form[f"col_{i}"], form[f"values_{i}"], sample.column(i))
        for i, header in enumerate(form.headers)
    ]


def _chosen_saved_mapping(request: HttpRequest, job: ImportJob) -> ImportMapping | None:
    saved_id = request.GET.get("saved", "")
    if not saved_id.isdigit():
        return None
    return ImportMapping.objects.filter(kind=job.kind, pk=int(saved_id)).first()


def _starting_mapping(request: HttpRequest, job: ImportJob, saved: ImportMapping | None) -> dict:
    """The job's mapping, or a saved one's columns and options over this file's own defaults.

    An event list's source and campaign, chosen at upload, join the defaults here: the engine
    takes defaults with the mapping, and the guessed mapping may not be valid before this step.
    """
    mapping = dict(job.mapping)
    if saved is not None:
        mapping.update({key: value for key, value in saved.mapping.items() if key != "defaults"})
    event = request.session.get(_event_key(job))
    if event:
        mapping["defaults"] = {**(mapping.get("defaults") or {}), **event}
    return mapping


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_for(request, pk)
    if not mapping_editable(job):
        return redirect("import-job", pk=job.pk)
    saved = _chosen_saved_mapping(request, job)
    form = MappingForm(
        request.POST or None,
        kind=job.kind,
        headers=job.headers,
        mapping=_starting_mapping(request, job, saved),
    )
    if request.method == "POST" and form.is_valid():
        started = _save_mapping(request, job, form)
        if started is not None:
            return redirect("import-job", pk=started.pk)
    sample = read_sample(job)
    context = {
        "job": job,
        "form": form,
        "sample": sample,
        "rows": mapping_rows(form, sample),
        "saved_mappings": ImportMapping.objects.filter(kind=job.kind),
        "saved": saved,
        "event": request.session.get(_event_key(job)),
    }
    return render(
        request, "imports/import_mapping.html", context, status=400 if form.errors else 200
    )


def _save_mapping(request: HttpRequest, job: ImportJob, form: MappingForm) -> ImportJob | None:
    """Store the mapping (and a named copy if asked) and start the dry run, all or nothing."""
    name = form.cleaned_data["save_as"].strip()
    try:
        with transaction.atomic():
            job = import_job_set_mapping(actor=request.user, job=job, mapping=form.mapping())
            if name:
                import_mapping_save(
                    actor=request.user, kind=job.kind, name=name, mapping=form.reusable_mapping()
                )
            started = import_job_start(actor=request.user, job=job, dry_run=True)
    except ValidationError as exc:
        _attach_mapping_errors(form, exc)
        return None
    request.session.pop(_event_key(job), None)
    return started


def _attach_mapping_errors(form: MappingForm, exc: ValidationError) -> None:
    # The services name the saved mapping's field "name"; on this page it is "save_as".
    if hasattr(exc, "error_dict") and "name" in exc.error_dict:
        errors = dict(exc.error_dict)
        form.add_error("save_as", errors.pop("name"))
        if not errors:
            return
        exc = ValidationError(errors)
    attach_errors(form, exc)


# Progress and outcome -----------------------------------------------------------------------


@dataclass
class RejectedRows:
    headers: list[str]
    rows: list[list[str]]
    error: str = ""
    reason_first: bool = False


def read_rejected(job: ImportJob, limit: int = REJECTED_PREVIEW_ROWS) -> RejectedRows:
    """The first rows of the error report, with the reason first.

    The report is read like any uploaded file, since it keeps the delimiter of the original.
    """
    if not job.error_report:
        return RejectedRows(headers=[], rows=[])
    try:
        with open_table(job.error_report.path, job.error_report.name) as table:
            return _reason_first(table.headers, list(islice(table.rows(), limit)))
    except (ImportFileError, NotImplementedError):
        return RejectedRows(headers=[], rows=[], error=_("The error report cannot be read."))


def _reason_first(header: list[str], rows: list[list[str]]) -> RejectedRows:
    # The engine appends the reason as the last column (named "error", or "error (2)" when
    # the file had an "error" column of its own).
    if not header or not header[-1].startswith("error"):
        return RejectedRows(headers=header, rows=rows)
    reordered = [[row[-1], *row[:-1]] for row in rows]
    return RejectedRows(headers=[header[-1], *header[:-1]], rows=reordered, reason_first=True)


def records_url(job: ImportJob) -> str:
    """The list of the imported kind; for an event list, filtered to its campaign."""
    url = reverse(RECORD_LISTS[Kind(job.kind)])
    defaults = job.defaults or {}
    campaign = defaults.get("campaign") or defaults.get("event")
    if job.kind != Kind.LEAD or not campaign:
        return url
    # Defaults name the campaign by id or by name (see lejek.imports.sources).
    if str(campaign).isdigit():
        found = Campaign.objects.filter(pk=int(campaign))
    else:
        found = Campaign.objects.filter(name__iexact=str(campaign))
    pk = found.values_list("pk", flat=True).first()
    return f"{url}?campaign={pk}" if pk else url


@login_required
@require_GET
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_for(request, pk)
    finished = job.status == ImportJob.Status.DONE
    context = {
        "job": job,
        "active": job.status in ACTIVE,
        "rejected": read_rejected(job) if finished and job.rejected_count else None,
        "records_url": records_url(job) if finished and not job.dry_run else "",
    }
    if request.htmx:
        return render(request, "imports/import_job.html#progress", context)
    return render(request, "imports/import_job.html", context)


@login_required
@require_POST
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    """Import for real, after a dry run has shown what would happen."""
    job = _job_for(request, pk)
    if not (job.dry_run and job.status == ImportJob.Status.DONE):
        messages.error(request, _("Check the file with a dry run first."))
        return redirect("import-job", pk=job.pk)
    try:
        started = _start_real_run(request, job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("import-job", pk=job.pk)
    return redirect("import-job", pk=started.pk)


def _start_real_run(request: HttpRequest, dry: ImportJob) -> ImportJob:
    """The real run of a dry run's file, started once however often the button is pressed."""
    with transaction.atomic():
        # The lock makes a double click wait here, then find the run the first click started.
        dry = ImportJob.objects.select_for_update().get(pk=dry.pk)
        earlier = (
            ImportJob.objects.filter(file=dry.file.name, dry_run=False, pk__gt=dry.pk)
            .order_by("pk")
            .first()
        )
        if earlier is not None:
            return earlier
        return import_job_start(actor=request.user, job=dry, dry_run=False)


@login_required
@require_GET
def import_report(request: HttpRequest, pk: int) -> FileResponse:
    job = _job_for(request, pk)
    if not job.error_report:
        raise Http404(_("This import has no error report."))
    try:
        handle = job.error_report.open("rb")
    except OSError as exc:
        raise Http404(_("This import has no error report.")) from exc
    filename = f"{Path(job.original_name).stem}-errors.csv"
    return FileResponse(
        handle, as_attachment=True, filename=filename, content_type="text/csv; charset=utf-8"
    )
