"""Importing leads: mapping, validation, dedup like lead_create, sources, assignment, events."""

from __future__ import annotations

import pytest

from lejek.contacts.models import Company, Contact
from lejek.core.models import Event
from lejek.imports.models import ImportJob
from lejek.leads.assignment import rule_create, team_set_assignment
from lejek.leads.models import Lead, Source
from lejek.leads.services import lead_create
from lejek.users.models import Notification
from tests.factories import make_company, make_contact
from tests.test_import_support import media, report_rows, run_file, write_csv  # noqa: F401

HEADERS = ["Imię", "Nazwisko", "E-mail", "Telefon", "Firma", "Kraj"]


def test_leads_are_created_with_the_import_source_and_an_event_each(admin, tmp_path):
    path = write_csv(
        tmp_path,
        [
            HEADERS,
            ["Jan", "Kowalski", "JAN@Example.PL ", "601 234 567", "Acme", "pl"],
            ["Anna", "Nowak", "anna@example.com", "", "", "DE"],
        ],
    )
    job = run_file(admin, "lead", path)
    assert job.status == ImportJob.Status.DONE, job.message
    assert (job.created_count, job.updated_count, job.rejected_count) == (2, 0, 0)
    jan = Lead.objects.get(email="jan@example.pl")
    assert jan.phone == "+48601234567"
    assert jan.country == "PL"
    assert jan.company_name == "Acme"
    assert jan.source.name == "Import"
    assert jan.source.kind == Source.Kind.IMPORT
    events = Event.objects.filter(verb="lead.created", object_id__in=[jan.pk])
    assert events.get().after["import"] == job.pk


def test_bad_rows_are_rejected_with_their_row_number_and_reason(admin, tmp_path):
    path = write_csv(
        tmp_path,
        [
            ["First name", "E-mail", "Phone", "Status", "Created"],
            ["Ok", "ok@example.com", "", "new", "2025-01-02"],
            ["Bad mail", "not-an-email", "", "", ""],
            ["Bad phone", "p@example.com", "12", "", ""],
            ["Bad status", "s@example.com", "", "Hot!", ""],
            ["Bad date", "d@example.com", "", "", "31.02.2025"],
            ["", "", "", "", ""],
            ["", "", "601234567", "", ""],
        ],
    )
    job = run_file(admin, "lead", path)
    assert job.status == ImportJob.Status.DONE
    assert (job.created_count, job.rejected_count) == (1, 5)
    errors = {row["First name"]: row["error"] for row in report_rows(job)}
    assert errors["Bad mail"].startswith("Row 3: E-mail:")
    assert "valid email" in errors["Bad mail"]
    assert "phone" in errors["Bad phone"]
    assert "Row 5: Status: “Hot!” is not one of" in errors["Bad status"]
    assert "Row 6: Created on: “31.02.2025” is not a date" in errors["Bad date"]
    assert "at least a name, an e-mail or a company" in errors[""]
    assert not Lead.objects.filter(first_name__startswith="Bad").exists()


def test_repeat_of_an_open_lead_fills_its_empty_fields_instead_of_duplicating(admin, tmp_path):
    existing = lead_create(actor=admin, first_name="Jan", email="jan@example.pl", assign=False)
    path = write_csv(
        tmp_path,
        [
            HEADERS,
            ["Jan", "Kowalski", "jan@example.pl", "601234567", "", ""],
            ["Jan", "", "jan@example.pl", "", "", ""],
        ],
    )
    job = run_file(admin, "lead", path)
    assert (job.created_count, job.updated_count, job.skipped_count) == (0, 1, 1)
    existing.refresh_from_db()
    assert existing.last_name == "Kowalski"
    assert existing.phone == "+48601234567"
    assert existing.version == 2
    assert Lead.objects.count() == 1
    event = Event.objects.get(verb="lead.updated", object_id=existing.pk)
    assert event.after["last_name"] == "Kowalski"


def test_duplicates_inside_the_file_make_one_lead_across_batches(admin, tmp_path):
    rows = [HEADERS]
    for n in range(7):
        rows.append([f"P{n}", "", f"p{n % 3}@example.com", "", "", ""])
    rows.append(["Phone", "Only", "", "601 234 567", "", ""])
    rows.append(["Phone", "Again", "", "+48601234567", "Firma X", ""])
    path = write_csv(tmp_path, rows)
    from lejek.imports.services import run_import
    from tests.test_import_support import upload

    job = upload(admin, "lead", path)
    job = run_import(job, progress_every=2)
    assert job.status == ImportJob.Status.DONE, job.message
    assert Lead.objects.count() == 4
    assert job.created_count == 4
    assert job.created_count + job.updated_count + job.skipped_count == 9
    assert Lead.objects.get(phone="+48601234567").company_name == "Firma X"


def test_dry_run_writes_nothing_but_counts_like_a_real_run(admin, tmp_path):
    path = write_csv(
        tmp_path,
        [
            HEADERS,
            ["A", "B", "a@example.com", "", "", ""],
            ["A", "", "a@example.com", "", "", ""],
            ["C", "D", "bad", "", "", ""],
        ],
    )
    events_before = Event.objects.count()
    job = run_file(admin, "lead", path, dry_run=True)
    assert job.status == ImportJob.Status.DONE
    assert (job.created_count, job.skipped_count, job.rejected_count) == (1, 1, 1)
    assert not Lead.objects.exists()
    assert not Source.objects.exists()
    verbs = set(
        Event.objects.all()[: Event.objects.count() - events_before].values_list("verb", flat=True)
    )
    assert verbs <= {"import.created", "import.mapped", "import.started", "import.finished"}
    assert len(report_rows(job)) == 1


def test_new_leads_link_to_known_contacts_and_companies(admin, tmp_path):
    contact = make_contact(admin, first_name="Ewa", last_name="Lis", email="ewa@lis.pl")
    company = make_company(admin, name="Lis Sp. z o.o.", domain="lis.pl")
    other = make_company(admin, name="Kret S.A.")
    path = write_csv(
        tmp_path,
        [HEADERS, ["Ewa", "Lis", "ewa@lis.pl", "", "", ""], ["Jan", "Kret", "", "", "KRET SA", ""]],
    )
    run_file(admin, "lead", path)
    assert Lead.objects.get(email="ewa@lis.pl").contact == contact
    assert Lead.objects.get(email="ewa@lis.pl").company == company
    assert Lead.objects.get(last_name="Kret").company == other
    assert Contact.objects.count() == 1 and Company.objects.count() == 2


def test_imported_leads_go_through_assignment_rules_and_round_robin(
    admin, rep, teammate, north, tmp_path
):
    team_set_assignment(actor=admin, team=north, strategy="round_robin")
    rule_create(
        actor=admin,
        name="Poland",
        team=north,
        conditions=[{"field": "country", "op": "eq", "value": "PL"}],
    )
    rows = [HEADERS] + [[f"L{n}", "X", f"l{n}@example.com", "", "", "PL"] for n in range(4)]
    rows.append(["Ger", "Man", "g@example.com", "", "", "DE"])
    job = run_file(admin, "lead", write_csv(tmp_path, rows))
    assert job.created_count == 5
    owners = list(
        Lead.objects.filter(country="PL").order_by("first_name").values_list("owner", flat=True)
    )
    assert owners == [rep.pk, teammate.pk, rep.pk, teammate.pk]
    north.refresh_from_db()
    assert north.round_robin_counter == 4
    assert Lead.objects.get(country="DE").owner is None
    event = Event.objects.get(verb="lead.created", object_id=Lead.objects.get(first_name="L0").pk)
    assert event.after["assignment"]["rule"] == "Poland"
    notes = Notification.objects.filter(recipient=rep, kind="lead.assigned")
    assert [n.text for n in notes] == ["2 new leads for you from the import “file.csv”"]


def test_event_list_imports_with_campaign_and_event_source(marketer, tmp_path):
    path = write_csv(tmp_path, [["Name", "Email"], ["Jan Kowalski", "jan@example.pl"]])
    job = run_file(marketer, "lead", path, mapping={"defaults": {"event": "Targi 2026"}})
    assert job.status == ImportJob.Status.DONE, job.message
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name) == ("Jan", "Kowalski")
    assert lead.campaign.name == "Targi 2026"
    assert lead.source.kind == Source.Kind.EVENT
    assert lead.campaign.source == lead.source


@pytest.mark.parametrize("role_fixture", ["rep"])
def test_reps_cannot_import(request, role_fixture, tmp_path):
    from django.core.exceptions import PermissionDenied

    from tests.test_import_support import upload

    person = request.getfixturevalue(role_fixture)
    with pytest.raises(PermissionDenied):
        upload(person, "lead", write_csv(tmp_path, [HEADERS, ["A", "", "", "", "", ""]]))


def test_owner_the_importer_may_not_assign_rejects_the_row(manager, other_rep, rep, tmp_path):
    path = write_csv(
        tmp_path,
        [["E-mail", "Owner"], ["a@example.com", other_rep.email], ["b@example.com", "Rita Rep"]],
    )
    job = run_file(manager, "lead", path)
    assert (job.created_count, job.rejected_count) == (1, 1)
    assert "members of your teams" in report_rows(job)[0]["error"]
    assert Lead.objects.get().owner == rep


def test_a_failing_batch_keeps_earlier_batches_and_records_progress(admin, tmp_path, monkeypatch):
    from lejek.imports.leads import LeadImporter
    from lejek.imports.services import run_import
    from tests.test_import_support import upload

    rows = [HEADERS] + [[f"P{n}", "", f"p{n}@example.com", "", "", ""] for n in range(7)]
    job = upload(admin, "lead", write_csv(tmp_path, rows))
    real_write = LeadImporter.write
    calls = []

    def write(self, batch):
        calls.append(len(batch))
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real_write(self, batch)

    monkeypatch.setattr(LeadImporter, "write", write)
    job = run_import(job, progress_every=2)
    assert job.status == ImportJob.Status.FAILED
    assert job.message == "The import stopped after 4 rows: disk full"
    assert (job.processed_rows, job.created_count) == (4, 4)
    assert Lead.objects.count() == 4
    job.refresh_from_db()
    assert job.processed_rows == 4 and job.finished_at is not None


def test_fewest_open_strategy_counts_the_leads_handed_out_in_the_batch(
    admin, rep, teammate, north, tmp_path
):
    team_set_assignment(actor=admin, team=north, strategy="fewest_open")
    rule_create(actor=admin, name="All", team=north, conditions=[])
    for n in range(2):
        lead_create(actor=admin, first_name=f"Old{n}", owner=rep, team=north, assign=False)
    rows = [HEADERS] + [[f"N{n}", "X", f"n{n}@example.com", "", "", ""] for n in range(3)]
    run_file(admin, "lead", write_csv(tmp_path, rows))
    owners = [Lead.objects.get(first_name=f"N{n}").owner for n in range(3)]
    assert owners == [teammate, teammate, rep]


def test_fewest_open_counts_stay_exact_across_batches_and_live_leads(
    admin, rep, teammate, north, tmp_path, monkeypatch
):
    from lejek.imports.services import run_import
    from lejek.leads import assignment_batch
    from tests.test_import_support import upload

    # Recount every second batch: a lead assigned live between batches shows up then.
    monkeypatch.setattr(assignment_batch, "RECOUNT_EVERY", 2)
    team_set_assignment(actor=admin, team=north, strategy="fewest_open")
    rule_create(actor=admin, name="All", team=north, conditions=[])
    for n in range(3):
        lead_create(actor=admin, first_name=f"Old{n}", owner=rep, team=north, assign=False)
    rows = [HEADERS] + [[f"N{n}", "X", f"n{n}@example.com", "", "", ""] for n in range(11)]
    job = upload(admin, "lead", write_csv(tmp_path, rows))
    job = run_import(job, progress_every=2)
    assert job.created_count == 11
    open_counts = {
        person: Lead.objects.open().filter(owner=person).count() for person in (rep, teammate)
    }
    # 14 open leads between two reps, handed out fewest-first: 7 each.
    assert open_counts == {rep: 7, teammate: 7}


def test_each_imported_lead_starts_its_status_history(admin, tmp_path):
    from django.utils import timezone

    from lejek.leads.models import LeadStatusChange

    rows = [[*HEADERS, "Status", "Utworzono"]]
    rows += [["Jan", "K", "jan@example.pl", "", "", "", "contacted", "2025-03-01"]]
    rows += [["Ewa", "N", "ewa@example.pl", "", "", "", "", ""]]
    run_file(admin, "lead", write_csv(tmp_path, rows))
    history = {
        change.lead.email: change
        for change in LeadStatusChange.objects.select_related("lead", "actor")
    }
    assert set(history) == {"jan@example.pl", "ewa@example.pl"}
    jan = history["jan@example.pl"]
    assert (jan.from_status, jan.to_status, jan.actor) == ("", "contacted", admin)
    assert jan.changed_at == jan.lead.created_at
    assert timezone.localtime(jan.changed_at).date().isoformat() == "2025-03-01"
    assert history["ewa@example.pl"].to_status == Lead.Status.NEW


def test_imported_leads_are_scored_once_the_import_is_done(
    admin, manager, tmp_path, settings, django_capture_on_commit_callbacks
):
    from lejek.scoring.models import LeadScore
    from lejek.scoring.services import fit_rule_create

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    fit_rule_create(
        actor=manager,
        name="Poland",
        conditions=[{"field": "country", "op": "eq", "value": "PL"}],
        points=30,
    )
    path = write_csv(tmp_path, [HEADERS, ["Jan", "Kowalski", "jan@example.pl", "", "", "PL"]])
    with django_capture_on_commit_callbacks(execute=True):
        run_file(admin, "lead", path, dry_run=True)
    assert not LeadScore.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        run_file(admin, "lead", path)
    jan = Lead.objects.get(email="jan@example.pl")
    assert LeadScore.objects.get(lead=jan).score >= 30


@pytest.mark.django_db
def test_an_import_on_sqlite_reads_without_mapping_the_file_and_restores_it_after(tmp_path):
    from django.conf import settings
    from django.db.backends.sqlite3.base import DatabaseWrapper

    from lejek.imports.engine import unmapped_database

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("memory-mapped reads are a SQLite setting")
    # A database in a file, with the settings' options (the tests' own lives in memory).
    db = DatabaseWrapper({**settings.DATABASES["default"], "NAME": str(tmp_path / "x.db")})

    def mmap_size() -> int:
        with db.cursor() as cursor:
            cursor.execute("PRAGMA mmap_size")
            return cursor.fetchone()[0]

    try:
        before = mmap_size()
        assert before > 0  # settings turn them on for the reports
        with unmapped_database(db):
            assert mmap_size() == 0
        assert mmap_size() == before
    finally:
        db.close()
