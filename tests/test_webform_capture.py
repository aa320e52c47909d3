"""Capture, then process: the endpoint stores a checked submission and answers at once; the
worker makes the lead, marks the row, and never loses or doubles one."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from lejek.core.models import CustomField, Event
from lejek.core.services_custom_fields import custom_field_create, custom_field_delete
from lejek.leads.capture import enqueue_processing, submission_retry, submissions_process
from lejek.leads.models import Consent, FormSubmission, Lead
from lejek.leads.tasks import process_form_submissions
from tests.test_webforms import FIELDS, make_form

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
DUMMY = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


@pytest.fixture(autouse=True)
def no_rate_limit(settings):
    settings.LEJEK_FORM_RATE_LIMIT = "off"
    cache.clear()


@pytest.fixture
def webform(marketer, north):
    return make_form(marketer, team=north)


def send(client, form, key: str, **body):
    data = {"first_name": "Zofia", "email": "zofia@przyklad.pl", **body}
    return client.post(
        reverse("public-form", args=[form.key]),
        data=json.dumps(data),
        content_type="application/json",
        headers={"Idempotency-Key": key, "User-Agent": "Firefox/130"},
        REMOTE_ADDR="203.0.113.7",
    )


def test_the_request_stores_the_checked_values_and_makes_no_lead(client, webform):
    response = send(
        client, webform, "k1", phone="601 234 567", consent=True, utm_source="newsletter"
    )
    assert response.status_code == 202
    row = FormSubmission.objects.get()
    assert response.json() == {"id": row.pk, "status": "queued"}
    assert row.status == FormSubmission.Status.QUEUED
    assert row.data == {
        "values": {
            "first_name": "Zofia",
            "email": "zofia@przyklad.pl",
            "phone": "+48601234567",
            "utm_source": "newsletter",
        },
        "custom": {},
    }
    assert row.consent_text == webform.current_consent()
    assert (row.ip, row.user_agent) == ("203.0.113.7", "Firefox/130")
    assert not Lead.objects.exists()
    assert not Consent.objects.exists()


def test_the_request_costs_a_handful_of_queries(
    client, webform, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    send(client, webform, "warm-up")  # the first request also fills per-process caches
    # The form (with its consent version) and the row's INSERT (in a savepoint here); after
    # commit, the look at the task queue and, when no run is waiting, the task row.
    with django_assert_max_num_queries(6), django_capture_on_commit_callbacks(execute=True):
        send(client, webform, "counted", email="other@przyklad.pl")
    assert FormSubmission.objects.count() == 2


def test_processing_marks_each_row_with_its_lead_and_outcome(client, webform):
    first = send(client, webform, "k1").json()["id"]
    again = send(client, webform, "k2", last_name="Nowak").json()["id"]
    other = send(client, webform, "k3", email="ewa@przyklad.pl", first_name="Ewa").json()["id"]
    done = submissions_process()
    assert (done.created, done.repeats, done.failed) == (2, 1, 0)
    rows = {row.pk: row for row in FormSubmission.objects.all()}
    zofia = Lead.objects.get(email="zofia@przyklad.pl")
    assert (rows[first].lead, rows[first].outcome) == (zofia, "created")
    assert (rows[again].lead, rows[again].outcome) == (zofia, "repeat")
    assert rows[other].lead == Lead.objects.get(email="ewa@przyklad.pl")
    assert all(row.status == "processed" and row.processed_at for row in rows.values())
    assert zofia.last_name == "Nowak"  # the repeat filled the empty field
    assert submissions_process().total == 0  # nothing is processed twice


def test_processing_only_the_given_submissions(client, webform):
    mine = send(client, webform, "k1").json()["id"]
    send(client, webform, "k2", email="ewa@przyklad.pl")
    assert submissions_process(ids=[mine]).created == 1
    assert FormSubmission.objects.queued().count() == 1
    assert Lead.objects.get().email == "zofia@przyklad.pl"


def test_a_submission_the_worker_cannot_process_is_failed_with_the_reason_and_can_be_retried(
    client, marketer, admin
):
    seats = custom_field_create(
        actor=admin, entity=CustomField.Entity.LEAD, key="seats", label="Seats", type="number"
    )
    form = make_form(marketer, fields=[*FIELDS, {"name": "custom:seats"}])
    send(client, form, "k1", **{"custom:seats": "25"})
    # The field disappears between the submission and its processing.
    custom_field_delete(actor=admin, field=seats)
    done = submissions_process()
    assert (done.created, done.failed) == (0, 1)
    row = FormSubmission.objects.get()
    assert row.status == FormSubmission.Status.FAILED
    assert "Unknown field." in row.error
    assert row.attempts == 1
    assert not Lead.objects.exists()
    failed = Event.objects.get(verb="webform.submission_failed")
    assert failed.after == {"submission": row.pk, "error": row.error}
    assert submissions_process().total == 0  # a failed row waits for someone to retry it

    custom_field_create(
        actor=admin, entity=CustomField.Entity.LEAD, key="seats", label="Seats", type="number"
    )
    assert submission_retry(actor=marketer, submission=row)
    assert not submission_retry(actor=marketer, submission=row)  # already queued
    assert Event.objects.filter(verb="webform.submission_retried").count() == 1
    assert submissions_process().created == 1
    row.refresh_from_db()
    assert (row.status, row.error, row.attempts) == ("processed", "", 2)
    assert row.lead.custom == {"seats": 25}


def test_only_form_managers_retry_submissions(client, webform, rep):
    from django.core.exceptions import PermissionDenied

    send(client, webform, "k1")
    FormSubmission.objects.update(status=FormSubmission.Status.FAILED)
    with pytest.raises(PermissionDenied):
        submission_retry(actor=rep, submission=FormSubmission.objects.get())


def test_a_submission_whose_task_was_lost_is_taken_by_the_next_run(client, webform, settings):
    settings.TASKS = DUMMY  # enqueued tasks go nowhere
    send(client, webform, "lost")
    assert FormSubmission.objects.queued().count() == 1
    settings.TASKS = IMMEDIATE
    send(client, webform, "next", email="ewa@przyklad.pl")
    process_form_submissions.call()
    assert FormSubmission.objects.queued().count() == 0
    assert Lead.objects.count() == 2


def test_one_waiting_run_serves_a_burst_of_submissions(client, webform):
    for n in range(5):
        send(client, webform, f"k{n}", email=f"p{n}@przyklad.pl")
        enqueue_processing()  # what each request does once its row is committed
    waiting = DBTaskResult.objects.filter(task_path=process_form_submissions.module_path)
    assert waiting.count() == 1
    assert waiting.get().status == "READY"


@pytest.mark.django_db(transaction=True)
def test_the_task_is_enqueued_once_the_row_is_committed(marketer, north, settings):
    settings.TASKS = IMMEDIATE  # the "worker" runs the task as soon as it is enqueued
    form = make_form(marketer, team=north)
    response = send(Client(), form, "k1", consent=True)
    assert response.status_code == 202
    row = FormSubmission.objects.get()
    assert row.status == FormSubmission.Status.PROCESSED
    assert row.lead == Lead.objects.get()
    assert Consent.objects.get().lead == row.lead
