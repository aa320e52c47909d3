"""`lejek import`, the background task, queueing from the UI services, and error reports
that can be fixed and imported again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django_tasks_db.models import DBTaskResult

from lejek.imports.models import ImportJob
from lejek.imports.services import import_job_start, import_mapping_save
from lejek.imports.tasks import run_import_job
from lejek.leads.models import Lead, Source
from tests.test_import_support import (  # noqa: F401
    FIXTURES,
    media,
    report_rows,
    upload,
    write_csv,
)

ROWS = [
    ["Imię", "Nazwisko", "E-mail", "Telefon"],
    ["Jan", "Kowalski", "jan@example.pl", "601234567"],
    ["Zły", "Mail", "zly@@example", ""],
    ["Jan", "", "jan@example.pl", ""],
]


def test_command_imports_and_prints_a_summary(admin, tmp_path, capsys):
    call_command("import_records", "leads", str(write_csv(tmp_path, ROWS)))
    out = capsys.readouterr().out
    assert "3 rows: 1 created, 0 updated, 1 skipped as duplicates, 1 rejected." in out
    assert "Rejected rows and why:" in out
    report = Path(out.split("Rejected rows and why: ")[1].strip())
    assert report.is_file() and "zly@@example" in report.read_text(encoding="utf-8-sig")
    job = ImportJob.objects.get()
    assert job.actor == admin and job.status == ImportJob.Status.DONE
    assert Lead.objects.count() == 1


def test_command_dry_run_writes_nothing(admin, tmp_path, capsys):
    call_command("import_records", "leads", str(write_csv(tmp_path, ROWS)), dry_run=True)
    assert "Dry run (nothing written): 3 rows: 1 created" in capsys.readouterr().out
    assert not Lead.objects.exists()


def test_command_acts_as_the_given_user_and_checks_their_role(admin, rep, marketer, tmp_path):
    path = str(write_csv(tmp_path, ROWS))
    with pytest.raises(CommandError, match="not allowed"):
        call_command("import_records", "leads", path, **{"actor": rep.email})
    call_command("import_records", "leads", path, **{"actor": marketer.email})
    assert ImportJob.objects.get().actor == marketer


def test_command_refuses_unreadable_files(admin, tmp_path):
    png = tmp_path / "photo.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(CommandError, match="not a CSV or XLSX"):
        call_command("import_records", "leads", str(png))
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_records", "leads", str(tmp_path / "missing.csv"))
    assert not ImportJob.objects.exists()


def test_command_with_mapping_file_and_event(admin, tmp_path, capsys):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps({"columns": {"Telefon": {"field": ""}}, "defaults": {"status": "mql"}})
    )
    path = str(write_csv(tmp_path, ROWS))
    call_command("import_records", "leads", path, mapping=str(mapping), event="Targi 2026")
    lead = Lead.objects.get()
    assert lead.phone == ""
    assert lead.status == "mql"
    assert lead.campaign.name == "Targi 2026"
    assert lead.source.kind == Source.Kind.EVENT


def test_sample_fixture_files_import(admin, pipeline, capsys):
    call_command(
        "import_records",
        "leads",
        str(FIXTURES / "leads-cp1250.csv"),
        mapping=str(FIXTURES / "leads-mapping.json"),
    )
    call_command("import_records", "deals", str(FIXTURES / "deals.csv"))
    out = capsys.readouterr().out
    assert "4 rows: 3 created, 0 updated, 1 skipped as duplicates, 0 rejected." in out
    assert "3 rows: 3 created" in out
    assert Lead.objects.get(email="jozef@zolw.pl").custom == {"newsletter": True}


def test_error_report_can_be_fixed_and_imported_again(admin, tmp_path):
    path = write_csv(
        tmp_path,
        [
            ["Imię", "E-mail", "Utworzono"],
            ["Ok", "ok@example.com", "1.1.2025"],
            ["Ala", "ala(at)example.com", "2025-01-02"],
            ["Ela", "ela@example.com", "32.01.2025"],
        ],
        delimiter=";",
    )
    from lejek.imports.services import run_import

    job = run_import(upload(admin, "lead", path))
    assert job.rejected_count == 2
    rows = report_rows(job)
    assert list(rows[0]) == ["Imię", "E-mail", "Utworzono", "error"]
    report = Path(job.error_report.path)
    fixed = report.read_text(encoding="utf-8-sig").replace("ala(at)example", "ala@example")
    fixed = fixed.replace("32.01.2025", "31.01.2025")
    report.write_text(fixed, encoding="utf-8-sig")
    again = run_import(upload(admin, "lead", report))
    assert (again.created_count, again.rejected_count) == (2, 0), again.message
    assert Lead.objects.count() == 3


def test_start_queues_the_task_and_the_worker_runs_it(
    marketer, tmp_path, django_capture_on_commit_callbacks
):
    job = upload(marketer, "lead", write_csv(tmp_path, ROWS))
    with django_capture_on_commit_callbacks(execute=True):
        dry = import_job_start(actor=marketer, job=job, dry_run=True)
    assert dry.pk == job.pk and dry.status == ImportJob.Status.QUEUED
    queued = DBTaskResult.objects.get(task_path="lejek.imports.tasks.run_import_job")
    assert queued.args_kwargs["args"] == [dry.pk]
    # What the worker does with the row (the worker loop itself is django-tasks-db's).
    assert queued.task.call(*queued.args_kwargs["args"]) == "done"
    dry.refresh_from_db()
    assert dry.status == ImportJob.Status.DONE and dry.created_count == 1
    assert not Lead.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        real = import_job_start(actor=marketer, job=dry, dry_run=False)
    assert real.pk != dry.pk and real.file.name == dry.file.name
    assert run_import_job.call(real.pk) == "done"
    assert run_import_job.call(real.pk) == "skipped"
    real.refresh_from_db()
    assert (real.created_count, real.skipped_count, real.rejected_count) == (1, 1, 1)
    assert Lead.objects.count() == 1


def test_mappings_are_saved_by_name(marketer):
    saved = import_mapping_save(
        actor=marketer, kind="lead", name="Targi", mapping={"columns": {"A": {"field": "email"}}}
    )
    again = import_mapping_save(actor=marketer, kind="lead", name="Targi", mapping={})
    assert saved.pk == again.pk and again.mapping == {}


@pytest.fixture(scope="module")
def lejek_home(tmp_path_factory) -> tuple[dict, Path]:
    """A fresh Lejek on SQLite, migrated, with one admin, driven through the real command."""
    home = tmp_path_factory.mktemp("lejek-home")
    env = {**os.environ, "LEJEK_VAR_DIR": str(home), "MEDIA_ROOT": str(home / "media")}
    env["LEJEK_LANGUAGE"] = "en"  # the messages below are checked in English
    env.pop("DATABASE_URL", None)
    env.update(DJANGO_SUPERUSER_EMAIL="boss@example.com", DJANGO_SUPERUSER_PASSWORD="x-y-z-1-2")
    for argv in (["migrate", "-v0"], ["createsuperuser", "--noinput"]):
        done = subprocess.run(lejek(argv), env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    return env, home


def lejek(argv: list[str]) -> list[str]:
    script = Path(sys.executable).with_name("lejek")
    return [str(script), *argv] if script.exists() else [sys.executable, "-m", "lejek.cli", *argv]


def test_real_lejek_command_imports_a_file(lejek_home, tmp_path):
    env, _home = lejek_home
    path = write_csv(tmp_path, ROWS)
    done = subprocess.run(
        lejek(["import", "leads", str(path)]), env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "1 created, 0 updated, 1 skipped as duplicates, 1 rejected" in done.stdout


def test_real_lejek_command_exits_non_zero_on_an_unreadable_file(lejek_home, tmp_path):
    env, _home = lejek_home
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    done = subprocess.run(
        lejek(["import", "leads", str(path)]), env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "The file is empty." in done.stderr
