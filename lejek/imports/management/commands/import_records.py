"""`lejek import KIND PATH`: import a CSV or XLSX file now, in this process."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from lejek.imports.models import ImportJob
from lejek.imports.reading import ImportFileError
from lejek.imports.services import (
    can_import,
    import_job_create,
    import_job_run_now,
    import_job_set_mapping,
)
from lejek.users.models import Role, User

KINDS = {
    "leads": "lead",
    "lead": "lead",
    "contacts": "contact",
    "contact": "contact",
    "companies": "company",
    "company": "company",
    "deals": "deal",
    "deal": "deal",
}


class Command(BaseCommand):
    help = "Import leads, contacts, companies or deals from a CSV or XLSX file."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["leads", "contacts", "companies", "deals"])
        parser.add_argument("path", help="the CSV or XLSX file")
        parser.add_argument("--mapping", help="a JSON mapping file (see docs/import.md)")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument(
            "--as", dest="actor", help="e-mail of the user importing (default: first admin)"
        )
        parser.add_argument(
            "--event",
            help="an event's attendee list: leads get this campaign and an event source",
        )

    def handle(self, *args, **options):
        kind = KINDS[options["kind"]]
        actor = self._actor(options.get("actor"))
        if not can_import(actor, kind):
            raise CommandError(
                _("%(user)s is not allowed to import %(kind)s.")
                % {"user": actor.email, "kind": options["kind"]}
            )
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        overrides = self._mapping_file(options.get("mapping"))
        try:
            with path.open("rb") as handle:
                job = import_job_create(
                    actor=actor, kind=kind, uploaded=File(handle), name=path.name
                )
            mapping = merge_mapping(job.mapping, overrides)
            if options.get("event"):
                defaults = mapping.setdefault("defaults", {})
                defaults["event"] = options["event"]
                defaults.setdefault("campaign", options["event"])
            job = import_job_set_mapping(actor=actor, job=job, mapping=mapping)
            job = import_job_run_now(actor=actor, job=job, dry_run=options["dry_run"])
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        self._summary(job)
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(job.message)

    def _actor(self, email: str | None) -> User:
        if email:
            actor = User.objects.filter(email__iexact=email, is_active=True).first()
            if actor is None:
                raise CommandError(_("No active user has the e-mail %(email)s.") % {"email": email})
            return actor
        actor = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()
        if actor is None:
            raise CommandError(_("No active admin to import as; give one with --as EMAIL."))
        return actor

    def _mapping_file(self, name: str | None) -> dict:
        if not name:
            return {}
        try:
            with open(name, encoding="utf-8-sig") as handle:
                mapping = json.load(handle)
        except OSError as exc:
            raise CommandError(
                _("Cannot read the mapping file: %(error)s") % {"error": exc}
            ) from exc
        except json.JSONDecodeError as exc:
            raise CommandError(
                _("The mapping file is not valid JSON: %(error)s") % {"error": exc}
            ) from exc
        if not isinstance(mapping, dict):
            raise CommandError(_("The mapping file must hold a JSON object."))
        return mapping

    def _summary(self, job: ImportJob) -> None:
        summary = _(
            "%(rows)s rows: %(created)s created, %(updated)s updated, "
            "%(skipped)s skipped as duplicates, %(rejected)s rejected."
        ) % {
            "rows": job.processed_rows,
            "created": job.created_count,
            "updated": job.updated_count,
            "skipped": job.skipped_count,
            "rejected": job.rejected_count,
        }
        if job.dry_run:
            summary = _("Dry run (nothing written): %(summary)s") % {"summary": summary}
        self.stdout.write(summary)
        if job.error_report:
            self.stdout.write(
                _("Rejected rows and why: %(path)s") % {"path": job.error_report.path}
            )


def merge_mapping(guessed: dict, overrides: dict) -> dict:
    """The guessed mapping with the file's settings on top: a column the file maps wins, and a
    guessed column loses its field when the file sends another column there."""
    mapping = {**guessed, **{k: v for k, v in overrides.items() if k != "columns"}}
    columns = {header: dict(spec) for header, spec in (guessed.get("columns") or {}).items()}
    given = overrides.get("columns") or {}
    if not isinstance(given, dict):
        mapping["columns"] = given
        return mapping
    claimed = set()
    for spec in given.values():
        field = spec.get("field") if isinstance(spec, dict) else spec
        if field:
            claimed.add(field)
    for header, spec in columns.items():
        if header not in given and spec.get("field") in claimed:
            spec["field"] = ""
    columns.update(given)
    mapping["columns"] = columns
    return mapping
