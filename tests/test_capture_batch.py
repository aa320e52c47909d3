"""The worker makes web-form leads a batch at a time, with the same result as one by one:
new leads, repeats folded into open leads, contacts and companies linked, consents, the
assignment with its reason and the assignee told, failures kept with their reason."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from lejek.activities.models import Activity
from lejek.core.models import CustomField, Event
from lejek.core.services_custom_fields import custom_field_create, custom_field_delete
from lejek.leads import capture, capture_batch
from lejek.leads.assignment import rule_create
from lejek.leads.capture import submissions_process
from lejek.leads.models import Consent, FormSubmission, Lead, LeadStatusChange
from lejek.leads.services import lead_create
from lejek.users.models import Notification
from tests import smtp
from tests.factories import make_company, make_contact
from tests.test_webform_capture import send
from tests.test_webforms import FIELDS, make_form

pytestmark = pytest.mark.django_db

smtp_server = smtp.smtp_server
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def no_rate_limit(settings):
    settings.LEJEK_FORM_RATE_LIMIT = "off"
    cache.clear()


def lead_verbs(lead: Lead) -> list[str]:
    events = Event.objects.filter(object_id=lead.pk, verb__regex=r"^(lead|consent)\.")
    return list(events.order_by("id").values_list("verb", flat=True))


@pytest.fixture
def mixed(admin, marketer, north):
    """A form, people already known, and seven submissions: new people, repeats of an open
    lead and of each other (by e-mail and by phone), and one that can no longer be made."""
    seats = custom_field_create(
        actor=admin, entity=CustomField.Entity.LEAD, key="seats", label="Seats", type="number"
    )
    fields = [
        {"name": "first_name"},
        {"name": "last_name"},
        {"name": "email"},  # not required: a person may leave only a phone
        {"name": "phone"},
        {"name": "company_name"},
        {"name": "custom:seats"},
    ]
    form = make_form(marketer, team=north, fields=fields)
    lead_create(actor=None, first_name="Olga", email="old@przyklad.pl", team=north)
    make_contact(admin, first_name="Ewa", email="ewa@przyklad.pl")
    make_company(admin, name="Acme Sp. z o.o.", domain="acme.pl")
    make_company(admin, name="Zenit S.A.")
    visitor = Client()
    sent = [
        ("k1", {"first_name": "Anna", "email": "anna@acme.pl", "phone": "601000001"}),
        ("k2", {"first_name": "Ewa", "email": "ewa@przyklad.pl", "company_name": "ZENIT SA"}),
        ("k3", {"last_name": "Stara", "email": "old@przyklad.pl", "phone": "601000003"}),
        ("k4", {"first_name": "Ania", "email": "", "phone": "601000001"}),
        ("k5", {"email": "kasia@przyklad.pl", "custom:seats": "4"}),
        ("k6", {"first_name": "Jan", "email": "jan@przyklad.pl"}),
        ("k7", {"first_name": "Jan", "email": "jan@przyklad.pl", "last_name": "Kowalski"}),
    ]
    for key, values in sent:
        assert send(visitor, form, key, consent=True, **values).status_code == 202
    custom_field_delete(actor=admin, field=seats)  # k5 can no longer be made
    return form


@pytest.mark.parametrize("way", ["batch", "one_by_one"])
def test_a_batch_gives_what_processing_one_by_one_gives(mixed, north, way, monkeypatch):
    if way == "one_by_one":
        # A batch that fails is rolled back and its rows processed one per transaction:
        # the way every row was processed before batches.
        def fail(self):
            raise RuntimeError("batch path unavailable")

        monkeypatch.setattr(capture_batch.SubmissionBatch, "process", fail)
    done = submissions_process()
    assert (done.created, done.repeats, done.failed) == (3, 3, 1)

    rows = {row.key: row for row in FormSubmission.objects.select_related("lead")}
    anna = Lead.objects.get(email="anna@acme.pl")
    ewa = Lead.objects.get(email="ewa@przyklad.pl")
    jan = Lead.objects.get(email="jan@przyklad.pl")
    olga = Lead.objects.get(email="old@przyklad.pl")
    assert Lead.objects.count() == 4
    outcomes = {key: (row.status, row.outcome, row.lead) for key, row in rows.items()}
    assert outcomes == {
        "k1": ("processed", "created", anna),
        "k2": ("processed", "created", ewa),
        "k3": ("processed", "repeat", olga),
        "k4": ("processed", "repeat", anna),  # no e-mail: found by the phone of k1's lead
        "k5": ("failed", "", None),
        "k6": ("processed", "created", jan),
        "k7": ("processed", "repeat", jan),  # a repeat of a lead made in the same run
    }
    assert all(row.attempts == 1 for row in rows.values())
    assert "Unknown field." in rows["k5"].error
    failed = Event.objects.get(verb="webform.submission_failed")
    assert failed.after == {"submission": rows["k5"].pk, "error": rows["k5"].error}

    # Links to the contact and companies they are known as; the form's team and source.
    assert (anna.company.name, anna.contact) == ("Acme Sp. z o.o.", None)
    assert (ewa.contact.first_name, ewa.company.name) == ("Ewa", "Zenit S.A.")
    assert {lead.team for lead in (anna, ewa, jan)} == {north}
    assert {lead.source.name for lead in (anna, ewa, jan)} == {"Web form"}
    assert {lead.version for lead in (anna, ewa)} == {1}  # no rule: nobody assigned
    # Repeats fill in what the open lead lacked, and are logged on its timeline.
    assert (olga.last_name, olga.phone, olga.version) == ("Stara", "+48601000003", 2)
    assert (anna.first_name, jan.last_name) == ("Anna", "Kowalski")
    assert lead_verbs(anna) == [
        "lead.created",
        "consent.given",
        "lead.repeated",
        "consent.given",
    ]
    assert lead_verbs(jan) == [
        "lead.created",
        "consent.given",
        "lead.updated",
        "lead.repeated",
        "consent.given",
    ]
    assert Activity.objects.filter(subject_line="Repeated submission").count() == 3
    # A consent per ticked submission that made or repeated a lead, given when it was sent.
    assert Consent.objects.count() == 6
    consent = Consent.objects.get(lead=ewa)
    assert (consent.contact, consent.given_at) == (ewa.contact, rows["k2"].created_at)
    assert (consent.ip, consent.user_agent) == ("203.0.113.7", "Firefox/130")
    assert consent.text == mixed.current_consent()
    history = LeadStatusChange.objects.filter(lead__in=[anna, ewa, jan])
    assert sorted(history.values_list("from_status", "to_status")) == [("", "new")] * 3
    assert submissions_process().total == 0


def test_a_batch_hands_leads_out_in_turn_and_tells_each_rep(
    admin, marketer, north, rep, teammate, settings, smtp_server, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    teammate.language = "pl"
    teammate.save(update_fields=["language"])
    rule_create(actor=admin, name="All", team=north, conditions=[])
    form = make_form(marketer, team=north)
    visitor = Client()
    for n in range(4):
        send(
            visitor, form, f"k{n}", first_name=f"Osoba{n}", email=f"p{n}@przyklad.pl", consent=True
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert submissions_process().created == 4

    leads = list(Lead.objects.order_by("id"))
    assert [lead.owner for lead in leads] == [rep, teammate, rep, teammate]
    assert {(lead.team, lead.version) for lead in leads} == {(north, 2)}
    assigned = Event.objects.get(verb="lead.assigned", object_id=leads[0].pk)
    assert assigned.before == {"owner": None, "team": north.pk}
    assert assigned.after == {
        "owner": rep.pk,
        "team": north.pk,
        "rule": "All",
        "reason": "rule “All”",
    }
    assert lead_verbs(leads[0]) == ["lead.created", "lead.assigned", "consent.given"]
    created = Event.objects.get(verb="lead.created", object_id=leads[0].pk)
    assert (created.after["owner"], created.after["team"]) == (None, north.pk)
    north.refresh_from_db()
    assert north.round_robin_counter == 4
    # In the app, in each rep's language, and by e-mail.
    texts = dict(Notification.objects.filter(kind="lead.assigned").values_list("url", "text"))
    assert texts[leads[0].get_absolute_url()] == "New lead for you: Osoba0 (rule “All”)"
    assert texts[leads[1].get_absolute_url()].startswith("Nowy lead dla Ciebie")
    assert sorted(m.recipients[0] for m in smtp_server.messages) == [
        rep.email,
        rep.email,
        teammate.email,
        teammate.email,
    ]
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_a_batch_of_new_leads_is_scored_by_one_task(
    marketer, north, django_capture_on_commit_callbacks
):
    form = make_form(marketer, team=north)
    visitor = Client()
    for n in range(3):
        send(visitor, form, f"k{n}", email=f"p{n}@przyklad.pl")
    with django_capture_on_commit_callbacks(execute=True):
        submissions_process()
    # (Ids that earlier tests left uncommitted may ride along: they name no lead.)
    [task] = DBTaskResult.objects.filter(task_path="lejek.scoring.tasks.rescore_changed")
    assert set(Lead.objects.values_list("pk", flat=True)) <= set(task.args_kwargs["args"][0])


def test_a_batch_costs_the_same_queries_for_few_or_many_leads(admin, marketer, north, rep):
    rule_create(actor=admin, name="All", team=north, conditions=[])
    form = make_form(marketer, team=north, fields=[*FIELDS, {"name": "company_name"}])
    visitor = Client()

    def queries_for(count: int, first: int) -> int:
        for n in range(first, first + count):
            send(
                visitor,
                form,
                f"k{n}",
                consent=True,
                email=f"p{n}@firma{n}.pl",
                phone=f"601{n:06d}",
                company_name=f"Firma {n}",
            )
        with CaptureQueriesContext(connection) as queries:
            assert submissions_process(batch=100).created == count
        return len(queries.captured_queries)

    few = queries_for(5, 0)
    many = queries_for(40, 100)
    # Per lead only the advisory lock on its person, on PostgreSQL.
    per_lead = 1 if connection.vendor == "postgresql" else 0
    assert many <= few + 35 * per_lead
    assert few - 5 * per_lead < 40


def test_runs_take_rows_in_batches_of_the_given_size_each_once(marketer, north):
    form = make_form(marketer, team=north)
    visitor = Client()
    for n in range(5):
        send(visitor, form, f"k{n}", email=f"p{n}@przyklad.pl")
    assert submissions_process(batch=2, limit=3).created == 3
    assert FormSubmission.objects.queued().count() == 2
    assert submissions_process(batch=2).created == 2
    assert set(FormSubmission.objects.values_list("status", "attempts")) == {("processed", 1)}


def test_a_batch_that_fails_leaves_nothing_half_written_and_fails_only_the_bad_row(
    marketer, north, monkeypatch
):
    form = make_form(marketer, team=north)
    visitor = Client()
    for n in range(3):
        send(visitor, form, f"k{n}", email=f"p{n}@przyklad.pl")
    bad = FormSubmission.objects.get(key="k1")
    real = capture_batch.make_lead

    def broken_write(self, built):
        raise RuntimeError("disk full")

    def make_lead(row, known):
        if row.pk == bad.pk:
            raise RuntimeError("this one breaks")
        return real(row, known)

    monkeypatch.setattr(capture_batch.SubmissionBatch, "_write", broken_write)
    monkeypatch.setattr(capture, "make_lead", make_lead)
    done = submissions_process()
    assert (done.created, done.failed) == (2, 1)
    bad.refresh_from_db()
    assert (bad.status, bad.attempts, bad.lead) == ("failed", 1, None)
    assert bad.error == "RuntimeError: this one breaks"
    assert Lead.objects.count() == 2
    assert Consent.objects.count() == 0
    assert Event.objects.filter(verb="lead.created").count() == 2


@pytest.mark.django_db(transaction=True)
def test_workers_taking_small_batches_at_once_make_each_person_one_lead(marketer, north):
    import threading

    form = make_form(marketer, team=north)
    visitor = Client()
    for n in range(40):
        # Every fourth one is the same person, so batches of different workers race on her.
        email = "same@przyklad.pl" if n % 4 == 0 else f"p{n}@przyklad.pl"
        assert send(visitor, form, f"k{n}", email=email).status_code == 202
    errors: list[BaseException] = []
    runs: list = []

    def worker() -> None:
        try:
            runs.append(submissions_process(batch=3))
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    if connection.vendor == "postgresql":
        threads = [threading.Thread(target=worker) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        worker()  # SQLite writes one transaction at a time
    assert not errors
    assert sum(run.total for run in runs) == 40
    assert sum(run.created for run in runs) == 31
    assert Lead.objects.filter(email="same@przyklad.pl").count() == 1
    assert FormSubmission.objects.filter(status="processed", attempts=1).count() == 40
    assert Event.objects.filter(verb="lead.repeated").count() == 9
