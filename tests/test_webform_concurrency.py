"""Ten copies of one submission arriving at once are stored once and make exactly one lead.

On PostgreSQL the copies really race, from ten threads each with its own connection; SQLite
runs one writing transaction at a time anyway, so there they arrive one after another.
"""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from lejek.leads.capture import submissions_process
from lejek.leads.models import FormSubmission, Lead
from lejek.leads.webform_submission import TOKEN
from tests.test_webforms import make_form

pytestmark = pytest.mark.django_db(transaction=True)

COPIES = 10
BODY = {"first_name": "Zofia", "last_name": "Nowak", "email": "zofia@przyklad.pl"}


@pytest.fixture(autouse=True)
def no_rate_limit(settings):
    settings.LEJEK_FORM_RATE_LIMIT = "off"
    cache.clear()


def _send(send, results: list, errors: list, barrier: threading.Barrier | None) -> None:
    try:
        if barrier is not None:
            barrier.wait(timeout=10)
        results.append(send(Client()))
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)
    finally:
        if barrier is not None:
            connection.close()


def send_copies(send, n: int = COPIES) -> list:
    """`send(client)` n times: at once from n threads on PostgreSQL, in turn on SQLite."""
    results: list = []
    errors: list[BaseException] = []
    if connection.vendor != "postgresql":
        for _ in range(n):
            _send(send, results, errors, None)
    else:
        barrier = threading.Barrier(n)
        threads = [
            threading.Thread(target=_send, args=(send, results, errors, barrier)) for _ in range(n)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    assert len(results) == n
    return results


def json_sender(form, body: dict, key: str | None):
    headers = {"Idempotency-Key": key} if key else {}
    url = reverse("public-form", args=[form.key])

    def send(client: Client):
        return client.post(
            url, data=json.dumps(body), content_type="application/json", headers=headers
        )

    return send


def test_ten_copies_with_one_idempotency_key_make_one_lead(marketer, north):
    form = make_form(marketer, team=north)
    responses = send_copies(json_sender(form, BODY, "order-42"))
    submission = FormSubmission.objects.get()
    assert [r.status_code for r in responses] == [202] * COPIES
    assert {r.content for r in responses} == {responses[0].content}  # one answer for all
    assert responses[0].json() == {"id": submission.pk, "status": "queued"}
    submissions_process()
    lead = Lead.objects.get()
    assert FormSubmission.objects.get().lead == lead


def test_ten_copies_of_one_html_form_with_its_token_make_one_lead(marketer, north):
    form = make_form(marketer, team=north)
    url = reverse("public-form", args=[form.key])
    data = {**BODY, TOKEN: "hosted-token-1"}
    responses = send_copies(lambda client: client.post(url, data))
    assert [r.status_code for r in responses] == [200] * COPIES
    assert FormSubmission.objects.get().key == "hosted-token-1"
    submissions_process()
    assert Lead.objects.count() == 1


def test_one_key_with_ten_different_bodies_keeps_the_first_and_refuses_the_rest(marketer):
    form = make_form(marketer)
    url = reverse("public-form", args=[form.key])
    names = iter(range(COPIES))
    lock = threading.Lock()

    def send(client: Client):
        with lock:
            n = next(names)
        body = {**BODY, "first_name": f"Person {n}"}
        return client.post(
            url,
            data=json.dumps(body),
            content_type="application/json",
            headers={"Idempotency-Key": "shared"},
        )

    responses = send_copies(send)
    assert Counter(r.status_code for r in responses) == {202: 1, 422: COPIES - 1}
    submissions_process()
    assert Lead.objects.count() == 1


def test_ten_submissions_of_one_person_with_different_keys_fold_into_one_lead(marketer):
    form = make_form(marketer)
    keys = iter(range(COPIES))
    lock = threading.Lock()
    url = reverse("public-form", args=[form.key])

    def send(client: Client):
        with lock:
            key = f"k{next(keys)}"
        return client.post(
            url,
            data=json.dumps(BODY),
            content_type="application/json",
            headers={"Idempotency-Key": key},
        )

    responses = send_copies(send)
    assert [r.status_code for r in responses] == [202] * COPIES
    assert FormSubmission.objects.count() == COPIES
    done = submissions_process()
    assert (done.created, done.repeats, done.failed) == (1, COPIES - 1, 0)
    assert Lead.objects.count() == 1
