"""A form's page shows the submissions waiting for the worker and those that failed, with the
reason, and a marketer queues them again from there."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from lejek.core.models import CustomField, Event
from lejek.core.services_custom_fields import custom_field_create, custom_field_delete
from lejek.leads.capture import submissions_process
from lejek.leads.models import FormSubmission, Lead
from tests.test_webform_capture import send
from tests.test_webforms import FIELDS, make_form

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_rate_limit(settings):
    settings.LEJEK_FORM_RATE_LIMIT = "off"


@pytest.fixture
def broken(admin, marketer):
    """A form whose two submissions failed: their custom field was deleted meanwhile."""
    seats = custom_field_create(
        actor=admin, entity=CustomField.Entity.LEAD, key="seats", label="Seats", type="number"
    )
    form = make_form(marketer, fields=[*FIELDS, {"name": "custom:seats"}])
    visitor = Client()
    send(visitor, form, "k1", **{"custom:seats": "25"})
    send(visitor, form, "k2", email="adam@przyklad.pl", **{"custom:seats": "3"})
    custom_field_delete(actor=admin, field=seats)
    assert submissions_process().failed == 2
    send(visitor, form, "k3", email="ewa@przyklad.pl")  # waits for the worker
    return form


def test_the_list_and_the_form_page_say_what_waits_and_what_failed(marketer, broken, client_for):
    client = client_for(marketer)
    listing = client.get(reverse("webform-list")).content.decode()
    assert "1 waiting" in listing and "2 failed" in listing

    page = client.get(reverse("webform-edit", args=[broken.pk])).content.decode()
    assert "1 submission is waiting for the worker" in page
    assert "2 submissions could not be turned into leads" in page
    assert "zofia@przyklad.pl" in page and "adam@przyklad.pl" in page
    assert "Unknown field." in page
    assert page.count(">Retry</button>") == 2


def test_retrying_one_then_all_makes_the_leads(admin, marketer, broken, client_for):
    custom_field_create(
        actor=admin, entity=CustomField.Entity.LEAD, key="seats", label="Seats", type="number"
    )
    client = client_for(marketer)
    first = FormSubmission.objects.failed().order_by("pk").first()

    answer = client.post(reverse("webform-submission-retry", args=[broken.pk, first.pk]))

    assert answer.status_code == 302
    assert answer["Location"] == reverse("webform-edit", args=[broken.pk]) + "#failed"
    first.refresh_from_db()
    assert first.status == FormSubmission.Status.QUEUED
    submissions_process()  # what the worker does next
    first.refresh_from_db()
    assert first.status == FormSubmission.Status.PROCESSED
    assert first.lead.custom == {"seats": 25}
    assert FormSubmission.objects.failed().count() == 1

    client.post(reverse("webform-submissions-retry", args=[broken.pk]))
    assert not FormSubmission.objects.failed().exists()
    submissions_process()
    assert Lead.objects.filter(email="adam@przyklad.pl").exists()
    assert Event.objects.filter(verb="webform.submission_retried").count() == 2


def test_retrying_is_for_form_managers_and_needs_a_post(rep, marketer, broken, client_for):
    row = FormSubmission.objects.failed().first()
    url = reverse("webform-submission-retry", args=[broken.pk, row.pk])
    assert client_for(rep).post(url).status_code == 403
    assert client_for(marketer).get(url).status_code == 405
    row.refresh_from_db()
    assert row.status == FormSubmission.Status.FAILED


def test_retrying_a_submission_that_is_no_longer_failed_says_so(marketer, broken, client_for):
    waiting = FormSubmission.objects.queued().get()
    url = reverse("webform-submission-retry", args=[broken.pk, waiting.pk])
    page = client_for(marketer).post(url, follow=True).content.decode()
    assert "Nothing to retry" in page
    waiting.refresh_from_db()
    assert waiting.status == FormSubmission.Status.QUEUED
