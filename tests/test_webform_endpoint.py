"""The public endpoint /f/<key>/: leads from websites, and everything hostile traffic tries.

The endpoint stores a checked submission and answers; the lead is made by the worker, here
run in the test with `submissions_process()` (what the background task calls).
"""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from lejek.core.models import CustomField, Event
from lejek.core.services_custom_fields import custom_field_create
from lejek.leads.assignment import rule_create
from lejek.leads.capture import submissions_process
from lejek.leads.models import Consent, FormSubmission, Lead, Source
from lejek.leads.services import campaign_create, source_create
from lejek.leads.webform_submission import HONEYPOT, TOKEN
from lejek.leads.webforms import webform_update
from lejek.users.models import Notification
from tests.factories import make_contact
from tests.test_webforms import FIELDS, make_form

pytestmark = pytest.mark.django_db

JSON = "application/json"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def webform(marketer, north):
    return make_form(marketer, team=north)


def url(form) -> str:
    return reverse("public-form", args=[form.key])


def post_json(client, form, body, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url(form), data=data, content_type=JSON, headers=headers)


def person(**extra) -> dict:
    return {"first_name": "Zofia", "last_name": "Nowak", "email": "zofia@przyklad.pl", **extra}


# Success -----------------------------------------------------------------------------------


def test_html_submission_creates_a_lead_in_the_forms_team_and_thanks(client, webform, north):
    response = client.post(url(webform), person(phone="601 234 567"))
    assert response.status_code == 200
    assert "Thanks, we will call you." in response.content.decode()
    assert submissions_process().created == 1
    lead = Lead.objects.get()
    assert (lead.first_name, lead.email, lead.phone) == (
        "Zofia",
        "zofia@przyklad.pl",
        "+48601234567",
    )
    assert lead.team == north
    assert lead.source.name == "Web form"
    assert lead.source.kind == Source.Kind.WEB_FORM
    submission = FormSubmission.objects.get()
    assert (submission.lead, submission.status) == (lead, FormSubmission.Status.PROCESSED)


def test_html_submission_redirects_with_303_when_the_form_has_a_redirect(client, webform, marketer):
    webform_update(
        actor=marketer, form=webform, values={"redirect_url": "https://example.com/dzieki"}
    )
    response = client.post(url(webform), person())
    assert response.status_code == 303
    assert response["Location"] == "https://example.com/dzieki"
    submissions_process()
    assert Lead.objects.count() == 1


def test_json_submission_answers_202_with_the_queued_submissions_id(client, webform):
    response = post_json(client, webform, person())
    assert response.status_code == 202
    submission = FormSubmission.objects.get()
    assert response.json() == {"id": submission.pk, "status": "queued"}
    assert submission.status == FormSubmission.Status.QUEUED
    assert not Lead.objects.exists()
    submissions_process()
    submission.refresh_from_db()
    assert submission.lead == Lead.objects.get()
    assert submission.outcome == FormSubmission.Outcome.CREATED


def test_repeat_of_an_open_lead_fills_the_same_lead_and_logs_the_repeat(client, webform):
    first = post_json(client, webform, person(), **{"Idempotency-Key": "a1"})
    submissions_process()
    again = post_json(client, webform, person(phone="+48 601 234 567"), **{"Idempotency-Key": "a2"})
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] != first.json()["id"]
    assert submissions_process().repeats == 1
    lead = Lead.objects.get()
    assert lead.phone == "+48601234567"
    repeat = FormSubmission.objects.get(pk=again.json()["id"])
    assert (repeat.lead, repeat.outcome) == (lead, FormSubmission.Outcome.REPEAT)
    assert Event.objects.filter(verb="lead.repeated", object_id=lead.pk).count() == 1
    assert lead.activity_set.filter(subject_line="Repeated submission").exists()


def test_form_stamps_its_source_campaign_and_the_visitors_utm_and_referrer(client, marketer, north):
    source = source_create(actor=marketer, name="Website", kind=Source.Kind.WEB_FORM)
    campaign = campaign_create(actor=marketer, name="Spring webinar", currency="PLN")
    form = make_form(marketer, team=north, source=source, campaign=campaign)
    client.post(
        url(form),
        person(utm_source="newsletter", utm_campaign="spring"),
        headers={"Referer": "https://example.com/pricing"},
    )
    submissions_process()
    lead = Lead.objects.get()
    assert (lead.source, lead.campaign) == (source, campaign)
    assert (lead.utm_source, lead.utm_campaign) == ("newsletter", "spring")
    assert lead.referrer == "https://example.com/pricing"


def test_explicit_referrer_wins_over_the_header(client, webform):
    post_json(client, webform, person(referrer="https://a.example/x"), Referer="https://b.example/")
    submissions_process()
    assert Lead.objects.get().referrer == "https://a.example/x"


def test_form_lead_goes_through_automatic_assignment(client, webform, admin, north, rep):
    rule_create(actor=admin, name="All", team=north, conditions=[])
    post_json(client, webform, person())
    submissions_process()
    lead = Lead.objects.get()
    assert lead.owner == rep
    assert Event.objects.filter(verb="lead.assigned", object_id=lead.pk).exists()
    assert Notification.objects.filter(recipient=rep, kind="lead.assigned").count() == 1
    created = Event.objects.get(verb="lead.created", object_id=lead.pk)
    assert created.actor is None


def test_custom_fields_on_the_form_are_stored_and_checked(client, marketer, admin, north):
    custom_field_create(
        actor=admin, entity=CustomField.Entity.LEAD, key="seats", label="Seats", type="number"
    )
    form = make_form(marketer, fields=[*FIELDS, {"name": "custom:seats", "required": True}])
    bad = post_json(client, form, person(**{"custom:seats": "many"}))
    assert bad.status_code == 422
    assert {"field": "custom:seats", "message": "Enter a whole number."} in bad.json()["errors"]
    good = post_json(client, form, person(**{"custom:seats": "25"}))
    assert good.status_code == 202
    submissions_process()
    assert Lead.objects.get().custom == {"seats": 25}


# Consent -----------------------------------------------------------------------------------


def test_ticked_consent_is_recorded_with_version_ip_browser_and_contact(client, webform, admin):
    contact = make_contact(admin, email="zofia@przyklad.pl")
    client.post(
        url(webform),
        {**person(), "consent": "1"},
        REMOTE_ADDR="203.0.113.7",
        headers={"User-Agent": "Firefox/130"},
    )
    submitted_at = FormSubmission.objects.get().created_at
    submissions_process()
    consent = Consent.objects.get()
    lead = Lead.objects.get()
    assert consent.text == webform.current_consent()
    assert consent.text.version == 1
    assert (consent.lead, consent.contact) == (lead, contact)
    assert (consent.ip, consent.user_agent) == ("203.0.113.7", "Firefox/130")
    assert consent.given_at == submitted_at  # when the person sent it, not when it was processed
    assert Event.objects.filter(verb="consent.given", object_id=lead.pk).exists()


def test_consent_given_after_a_wording_change_points_at_the_new_version(client, webform, marketer):
    webform_update(actor=marketer, form=webform, values={}, consent_text="New wording.")
    post_json(client, webform, person(consent=True))
    submissions_process()
    assert Consent.objects.get().text.version == 2


def test_consent_keeps_the_wording_shown_even_if_it_changes_before_processing(
    client, webform, marketer
):
    post_json(client, webform, person(consent=True))
    webform_update(actor=marketer, form=webform, values={}, consent_text="Newer wording.")
    submissions_process()
    assert Consent.objects.get().text.version == 1


def test_required_consent_not_given_is_a_field_error_and_nothing_is_written(
    client, marketer, north
):
    form = make_form(marketer, consent_required=True)
    html = client.post(url(form), person())
    assert html.status_code == 400
    assert "Please agree to the consent to send this form." in html.content.decode()
    api = post_json(client, form, person())
    assert api.status_code == 422
    assert api.json()["errors"] == [
        {"field": "consent", "message": "Please agree to the consent to send this form."}
    ]
    assert not Lead.objects.exists()
    assert not FormSubmission.objects.exists()


def test_unticked_optional_consent_records_nothing(client, webform):
    client.post(url(webform), person())
    submissions_process()
    assert Lead.objects.count() == 1
    assert not Consent.objects.exists()


# Validation --------------------------------------------------------------------------------


def test_bad_values_get_a_message_next_to_each_field_in_html(client, webform):
    response = client.post(
        url(webform),
        {"first_name": "Z" * 101, "email": "not-an-email", "phone": "12", "last_name": ""},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Use at most 100 characters." in html
    assert "Enter a valid email address." in html
    assert "valid phone number" in html
    assert 'aria-invalid="true"' in html
    assert 'value="not-an-email"' in html  # what they typed stays in the form
    assert not Lead.objects.exists()


def test_missing_required_fields_are_reported_per_field_in_json(client, webform):
    response = post_json(client, webform, {"first_name": "Zofia"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:lejek:problem:validation"
    assert {"field": "email", "message": "This field is required."} in body["errors"]


def test_json_reports_unknown_fields_while_html_ignores_them(client, webform):
    api = post_json(client, webform, person(favourite_colour="blue"))
    assert api.status_code == 422
    assert api.json()["errors"] == [{"field": "favourite_colour", "message": "Unknown field."}]
    html = client.post(url(webform), person(favourite_colour="blue", submit="Send"))
    assert html.status_code == 200
    submissions_process()
    assert Lead.objects.count() == 1


def test_json_values_must_be_single_values(client, webform):
    response = post_json(client, webform, person(first_name=["a", "b"]))
    assert response.status_code == 422
    assert {"field": "first_name", "message": "Send a single value."} in response.json()["errors"]


def test_nul_bytes_are_refused_not_crashed_on(client, webform):
    response = post_json(client, webform, person(last_name="Now\x00ak"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "last_name"


def test_a_lead_needs_a_name_email_or_company(client, marketer):
    form = make_form(marketer, fields=[{"name": "email"}, {"name": "phone"}])
    response = post_json(client, form, {"phone": "+48 601 234 567"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] is None
    assert not FormSubmission.objects.exists()


def test_malformed_json_answers_400(client, webform):
    for body in ("{not json", "[1, 2]", "null", '"text"'):
        response = post_json(client, webform, body)
        assert response.status_code == 400, body
        assert response.json()["type"] == "urn:lejek:problem:malformed-body"


def test_other_content_types_answer_415(client, webform):
    response = client.post(url(webform), data="x", content_type="text/plain")
    assert response.status_code == 415


def test_unknown_or_inactive_form_answers_404(client, webform, marketer):
    assert client.post("/f/nope/", person()).status_code == 404
    assert post_json(client, type(webform)(key="nope"), person()).status_code == 404
    webform_update(actor=marketer, form=webform, values={"is_active": False})
    assert client.post(url(webform), person()).status_code == 404
    assert client.get(url(webform)).status_code == 404
    assert not Lead.objects.exists()


def test_wrong_method_answers_405(client, webform):
    assert client.put(url(webform), data="{}", content_type=JSON).status_code == 405
    assert client.delete(url(webform)).status_code == 405


# Hostile traffic ---------------------------------------------------------------------------


def test_honeypot_creates_nothing_and_looks_like_success_in_html(client, webform):
    normal = client.post(url(webform), person(email="a@example.pl"))
    Lead.objects.all().delete()
    FormSubmission.objects.all().delete()
    trapped = client.post(url(webform), {**person(), HONEYPOT: "http://spam.example"})
    assert trapped.status_code == normal.status_code == 200
    assert "Thanks, we will call you." in trapped.content.decode()
    assert not Lead.objects.exists()
    assert not FormSubmission.objects.exists()


def test_honeypot_creates_nothing_and_answers_202_in_json(client, webform):
    response = post_json(client, webform, {**person(), HONEYPOT: "x"})
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert not FormSubmission.objects.exists()


def test_body_over_64_kb_answers_413_without_a_lead(client, webform):
    html = client.post(url(webform), person(description="x" * 70_000))
    assert html.status_code == 413
    assert "64 KB" in html.content.decode()
    api = post_json(client, webform, person(description="x" * 70_000))
    assert api.status_code == 413
    assert "64 KB" in api.json()["detail"]
    assert not Lead.objects.exists()


def test_rate_limit_answers_429_with_retry_after(client, webform, settings):
    settings.LEJEK_FORM_RATE_LIMIT = "3/m"
    codes = [
        post_json(client, webform, person(email=f"p{i}@example.pl")).status_code for i in range(4)
    ]
    assert codes == [202, 202, 202, 429]
    limited = post_json(client, webform, person(email="p9@example.pl"))
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["status"] == 429
    assert FormSubmission.objects.count() == 3


def test_rate_limit_counts_per_ip_and_ignores_forwarded_for_from_untrusted_clients(
    client, webform, settings
):
    settings.LEJEK_FORM_RATE_LIMIT = "1/m"
    first = client.post(url(webform), person(), headers={"X-Forwarded-For": "198.51.100.1"})
    spoofed = client.post(url(webform), person(), headers={"X-Forwarded-For": "198.51.100.2"})
    other_ip = client.post(url(webform), person(), REMOTE_ADDR="192.0.2.9")
    assert (first.status_code, spoofed.status_code, other_ip.status_code) == (200, 429, 200)


def test_forwarded_for_is_believed_behind_a_trusted_proxy(client, webform, settings):
    settings.LEJEK_FORM_RATE_LIMIT = "1/m"
    settings.LEJEK_TRUSTED_PROXIES = 1
    a = client.post(url(webform), person(), headers={"X-Forwarded-For": "1.1.1.1, 198.51.100.1"})
    b = client.post(url(webform), person(), headers={"X-Forwarded-For": "198.51.100.2"})
    c = client.post(url(webform), person(), headers={"X-Forwarded-For": "9.9.9.9, 198.51.100.2"})
    assert (a.status_code, b.status_code, c.status_code) == (200, 200, 429)
    assert FormSubmission.objects.filter(ip="198.51.100.1").exists()


# Idempotency -------------------------------------------------------------------------------


def test_json_replay_with_the_same_key_creates_one_lead(client, webform):
    responses = [
        post_json(client, webform, person(), **{"Idempotency-Key": "order-1"}) for _ in range(5)
    ]
    assert [r.status_code for r in responses] == [202] * 5
    assert all(r.json() == responses[0].json() for r in responses)  # the very same answer
    submissions_process()
    assert Lead.objects.count() == 1
    assert FormSubmission.objects.count() == 1
    assert Event.objects.filter(verb="lead.repeated").count() == 0


def test_same_key_with_a_different_body_answers_422(client, webform):
    post_json(client, webform, person(), **{"Idempotency-Key": "k"})
    other = post_json(client, webform, person(first_name="Anna"), **{"Idempotency-Key": "k"})
    assert other.status_code == 422
    assert other.json()["type"] == "urn:lejek:problem:idempotency-conflict"
    assert FormSubmission.objects.count() == 1
    submissions_process()
    assert Lead.objects.get().first_name == "Zofia"


def test_bad_idempotency_key_answers_400(client, webform):
    response = post_json(client, webform, person(), **{"Idempotency-Key": "x" * 200})
    assert response.status_code == 400
    assert not FormSubmission.objects.exists()


def test_html_token_replay_creates_one_submission(client, webform):
    page = client.get(url(webform)).content.decode()
    token = re.search(rf'name="{TOKEN}" value="([^"]+)"', page).group(1)
    for _ in range(3):
        response = client.post(url(webform), {**person(), TOKEN: token})
        assert response.status_code == 200
    assert FormSubmission.objects.get().key == token
    submissions_process()
    assert Lead.objects.count() == 1


def test_html_token_reused_with_other_values_asks_to_send_again(client, webform):
    client.post(url(webform), {**person(), TOKEN: "tok-1"})
    response = client.post(url(webform), {**person(first_name="Anna"), TOKEN: "tok-1"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "already sent with other values" in html
    assert 'value="tok-1"' not in html  # a fresh token, so sending again works
    submissions_process()
    assert Lead.objects.get().first_name == "Zofia"


def test_identical_posts_without_a_token_are_one_submission(client, webform):
    client.post(url(webform), person())
    client.post(url(webform), person())
    assert FormSubmission.objects.count() == 1
    submissions_process()
    assert Lead.objects.count() == 1


# CORS --------------------------------------------------------------------------------------


def test_preflight_from_an_allowed_origin_is_answered(client, webform):
    response = client.options(url(webform), headers={"Origin": "https://example.com"})
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://example.com"
    assert "Idempotency-Key" in response["Access-Control-Allow-Headers"]


def test_preflight_from_another_origin_is_refused_without_cors_headers(client, webform):
    response = client.options(url(webform), headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response


def test_json_answer_carries_cors_only_for_allowed_origins(client, webform):
    allowed = post_json(client, webform, person(), Origin="https://example.com")
    assert allowed["Access-Control-Allow-Origin"] == "https://example.com"
    other = post_json(client, webform, person(email="b@example.pl"), Origin="https://evil.example")
    assert other.status_code == 202
    assert "Access-Control-Allow-Origin" not in other


# The hosted form ---------------------------------------------------------------------------


def test_hosted_form_is_a_standalone_page_with_labels_honeypot_and_fresh_token(client, webform):
    first = client.get(url(webform), {"utm_source": "linkedin"})
    assert first.status_code == 200
    html = first.content.decode()
    assert "global-search" not in html  # not the app shell
    assert '<label for="lejek-email">E-mail *</label>' in html
    assert f'name="{HONEYPOT}"' in html and "left:-10000px" in html
    assert 'name="utm_source" value="linkedin"' in html
    assert "I agree to be contacted." in html
    token = re.compile(rf'name="{TOKEN}" value="([^"]+)"')
    second = client.get(url(webform)).content.decode()
    assert token.search(html).group(1) != token.search(second).group(1)


def test_broken_bodies_answer_400_never_500(client, webform):
    garbage = client.generic(
        "POST", url(webform), b"--x\r\ngarbage", content_type="multipart/form-data; boundary=x"
    )
    too_many = client.generic(
        "POST",
        url(webform),
        "&".join(f"f{i}=1" for i in range(1500)).encode(),
        content_type="application/x-www-form-urlencoded",
    )
    bad_utf8 = client.generic("POST", url(webform), b'{"email": "\xff"}', content_type=JSON)
    assert (garbage.status_code, too_many.status_code, bad_utf8.status_code) == (400, 400, 400)
    assert not Lead.objects.exists()


def test_multipart_html_form_is_accepted(client, webform):
    response = client.post(url(webform), person())  # the test client sends multipart
    assert response.status_code == 200
    urlencoded = client.generic(
        "POST",
        url(webform),
        b"first_name=Ewa&email=ewa%40example.pl",
        content_type="application/x-www-form-urlencoded",
    )
    assert urlencoded.status_code == 200
    assert submissions_process().created == 2


def test_a_replay_from_another_page_is_still_a_replay(client, webform):
    key = {"Idempotency-Key": "same"}
    first = post_json(client, webform, person(), Referer="https://example.com/a", **key)
    again = post_json(client, webform, person(), Referer="https://example.com/b", **key)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    submissions_process()
    assert Lead.objects.get().referrer == "https://example.com/a"
