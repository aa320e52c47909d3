"""`lejek export KIND`: records with their scores and custom fields as CSV, XLSX or JSON."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from lejek.analytics.exports import KINDS, UnknownFields, spec_for
from lejek.core.exporting import FORMATS, write_text, write_xlsx
from lejek.users.models import User


class Command(BaseCommand):
    help = "Export leads, contacts, companies or deals as CSV, XLSX or JSON (docs/export.md)."

    def add_arguments(self, parser):
        parser.add_argument("kind", help="leads, contacts, companies or deals")
        parser.add_argument("--format", default="csv", help="csv (default), xlsx or json")
        parser.add_argument("--fields", help="comma-separated column names (default: all)")
        parser.add_argument("--output", help="a file to write (required for xlsx)")
        parser.add_argument(
            "--as",
            dest="actor",
            help="export only what this user (by e-mail) may see (default: everything)",
        )

    def handle(self, *args, **options):
        kind, fmt = options["kind"], options["format"].lower()
        if kind not in KINDS:
            raise CommandError(
                _("Unknown kind “%(kind)s”; choose one of: %(kinds)s.")
                % {"kind": kind, "kinds": ", ".join(KINDS)}
            )
        if fmt not in FORMATS:
            raise CommandError(
                _("Unknown format “%(format)s”; choose one of: %(formats)s.")
                % {"format": fmt, "formats": ", ".join(FORMATS)}
            )
        output = options.get("output")
        if fmt == "xlsx" and not output:
            raise CommandError(_("An XLSX file needs --output PATH."))
        spec = spec_for(kind)
        names = [n.strip() for n in (options.get("fields") or "").split(",") if n.strip()]
        actor = self._actor(options.get("actor"))
        try:
            table = spec.table(spec.base(actor), names or None)
        except UnknownFields as exc:
            raise CommandError(str(exc)) from exc
        if output:
            self._to_file(table, fmt, Path(output))
        else:
            write_text(table, fmt, _Stdout(self.stdout))

    def _actor(self, email: str | None) -> User | None:
        if not email:
            return None
        actor = User.objects.filter(email__iexact=email, is_active=True).first()
        if actor is None:
            raise CommandError(_("No active user has the e-mail %(email)s.") % {"email": email})
        return actor

    def _to_file(self, table, fmt: str, path: Path) -> None:
        if not path.parent.is_dir():
            raise CommandError(_("No such folder: %(path)s") % {"path": path.parent})
        try:
            if fmt == "xlsx":
                write_xlsx(table, str(path))
            else:
                with path.open("w", encoding="utf-8", newline="") as handle:
                    write_text(table, fmt, handle)
        except OSError as exc:
            raise CommandError(
                _("Cannot write %(path)s: %(error)s") % {"path": path, "error": exc}
            ) from exc


class _Stdout:
    """Django's output wrapper adds a newline to every write; chunks must go out as they are."""

    def __init__(self, wrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")
