"""Settings → Web forms: who builds forms, what a form keeps, and the HTML it hands out."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.loader import render_to_string
from django.urls import reverse

from lejek.core.models import CustomField, Event
from lejek.core.services_custom_fields import custom_field_create, custom_field_delete
from lejek.leads.capture import submissions_process
from lejek.leads.models import Consent, ConsentText, FormSubmission, Lead, WebForm
from lejek.leads.webform_forms import row_prefix
from lejek.leads.webform_submission import HONEYPOT, TOKEN
from lejek.leads.webforms import consents_of, webform_create, webform_delete, webform_update

pytestmark = pytest.mark.django_db

FIELDS = [
    {"name": "first_name", "required": False, "label": ""},
    {"name": "last_name", "required": False, "label": ""},
    {"name": "email", "required": True, "label": ""},
    {"name": "phone", "required": False, "label": "Phone (optional)"},
]


def make_form(actor, **values) -> WebForm:
    values.setdefault("name", "Contact us")
    values.setdefault("fields", FIELDS)
    values.setdefault("success_message", "Thanks, we will call you.")
    values.setdefault("allowed_origins", "https://example.com")
    values.setdefault("consent_text", "I agree to be contacted.")
    return webform_create(actor=actor, **values)


def builder_post(**overrides) -> dict:
    """What the builder page posts for a form asking name, e-mail (required) and phone."""
    data = {
        "name": "Newsletter",
        "is_active": "on",
        "consent_text": "I agree to the newsletter.",
        "consent_required": "on",
        "success_message": "Welcome aboard.",
        "allowed_origins": "https://example.com/\nhttps://shop.example.com:8443",
    }
    for position, (name, required) in enumerate(
        [("first_name", False), ("email", True), ("phone", False)], start=1
    ):
        data[f"{row_prefix(name)}-on"] = "on"
        data[f"{row_prefix(name)}-position"] = str(position)
        if required:
            data[f"{row_prefix(name)}-required"] = "on"
    data[f"{row_prefix('phone')}-label"] = "Mobile"
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


def test_marketer_builds_a_form_in_the_settings_page(client_for, marketer, north):
    response = client_for(marketer).post(
        reverse("webform-create"), builder_post(team=str(north.pk))
    )
    form = WebForm.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("webform-edit", args=[form.pk])
    assert form.fields == [
        {"name": "first_name", "required": False, "label": ""},
        {"name": "email", "required": True, "label": ""},
        {"name": "phone", "required": False, "label": "Mobile"},
    ]
    assert form.team == north
    assert form.consent_required
    assert form.allowed_origins == "https://example.com\nhttps://shop.example.com:8443"
    assert form.current_consent().text == "I agree to the newsletter."
    event = Event.objects.get(verb="webform.created")
    assert event.actor == marketer
    assert event.after["consent_text"] == "I agree to the newsletter."


@pytest.mark.parametrize("persona", ["manager", "admin"])
def test_managers_and_admins_build_forms_too(client_for, persona, request):
    user = request.getfixturevalue(persona)
    assert client_for(user).get(reverse("webform-list")).status_code == 200
    response = client_for(user).post(reverse("webform-create"), builder_post())
    assert response.status_code == 302
    assert WebForm.objects.count() == 1


def test_reps_cannot_see_or_build_forms(client_for, rep, marketer):
    form = make_form(marketer)
    client = client_for(rep)
    assert client.get(reverse("webform-list")).status_code == 403
    assert client.post(reverse("webform-create"), builder_post()).status_code == 403
    assert client.get(reverse("webform-edit", args=[form.pk])).status_code == 403
    assert client.post(reverse("webform-delete", args=[form.pk])).status_code == 403
    with pytest.raises(PermissionDenied):
        webform_update(actor=rep, form=form, values={"name": "Hacked"})
    assert WebForm.objects.get().name == "Contact us"


def test_positions_order_the_fields(client_for, marketer):
    data = builder_post()
    data[f"{row_prefix('phone')}-position"] = "0"
    client_for(marketer).post(reverse("webform-create"), data)
    names = [spec["name"] for spec in WebForm.objects.get().fields]
    assert names == ["phone", "first_name", "email"]


def test_builder_offers_lead_custom_fields(client_for, marketer, admin):
    custom_field_create(
        actor=admin, entity=CustomField.Entity.LEAD, key="industry", label="Industry", type="text"
    )
    client = client_for(marketer)
    assert "Industry" in client.get(reverse("webform-create")).content.decode()
    data = builder_post(**{f"{row_prefix('custom:industry')}-on": "on"})
    client.post(reverse("webform-create"), data)
    assert {"name": "custom:industry", "required": False, "label": ""} in (
        WebForm.objects.get().fields
    )


def test_builder_refuses_bad_settings_with_messages_next_to_fields(client_for, marketer):
    data = builder_post(consent_text="", allowed_origins="example.com/path", redirect_url="nope:")
    response = client_for(marketer).post(reverse("webform-create"), data)
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "Write the consent text people must agree to." in html
    assert "“example.com/path” is not an origin" in html
    assert "Enter a valid URL." in html
    assert not WebForm.objects.exists()


def test_form_without_a_name_email_or_company_is_refused(client_for, marketer):
    data = {"name": "Phones", f"{row_prefix('phone')}-on": "on"}
    response = client_for(marketer).post(reverse("webform-create"), data)
    assert response.status_code == 400
    assert "Ask for a name, an e-mail or a company" in unescape(response.content.decode())
    with pytest.raises(ValidationError):
        webform_create(actor=marketer, name="X", fields=[{"name": "phone"}])


def test_form_with_no_fields_ticked_is_refused(client_for, marketer):
    response = client_for(marketer).post(reverse("webform-create"), {"name": "Empty"})
    assert response.status_code == 400
    assert "Put at least one field on the form." in response.content.decode()


def test_editing_the_consent_text_adds_a_version_and_keeps_the_old_one(client_for, marketer):
    form = make_form(marketer)
    client = client_for(marketer)
    data = builder_post(consent_text="New wording, version two.")
    assert client.post(reverse("webform-edit", args=[form.pk]), data).status_code == 302
    versions = list(ConsentText.objects.filter(form=form).order_by("version"))
    assert [(v.version, v.text) for v in versions] == [
        (1, "I agree to be contacted."),
        (2, "New wording, version two."),
    ]
    event = Event.objects.get(verb="webform.updated")
    assert event.before["consent_text"] == "I agree to be contacted."
    assert event.after["consent_text"] == "New wording, version two."


def test_saving_without_changing_the_consent_adds_no_version_and_no_event(marketer):
    form = make_form(marketer)
    webform_update(actor=marketer, form=form, values={}, consent_text="I agree to be contacted.")
    assert ConsentText.objects.filter(form=form).count() == 1
    assert not Event.objects.filter(verb="webform.updated").exists()


def test_list_shows_forms_and_the_empty_state_offers_the_first_step(client_for, marketer):
    client = client_for(marketer)
    empty = client.get(reverse("webform-list")).content.decode()
    assert "No web forms yet" in empty
    assert reverse("webform-create") in empty
    make_form(marketer, name="Demo request")
    listing = client.get(reverse("webform-list")).content.decode()
    assert "Demo request" in listing
    assert "accepting" in listing


def test_list_runs_a_fixed_number_of_queries(client_for, marketer, django_assert_max_num_queries):
    for n in range(5):
        make_form(marketer, name=f"Form {n}")
    client = client_for(marketer)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("webform-list")).status_code == 200


def test_switching_a_form_off_makes_its_address_answer_404(client_for, marketer, client):
    form = make_form(marketer)
    response = client_for(marketer).post(
        reverse("webform-delete", args=[form.pk]), {"action": "deactivate"}
    )
    assert response.status_code == 302
    form.refresh_from_db()
    assert not form.is_active
    assert client.get(reverse("public-form", args=[form.key])).status_code == 404
    assert Event.objects.get(verb="webform.updated").after == {"is_active": False}


def test_deleting_a_form_keeps_its_leads_and_logs_the_deletion(client_for, marketer, client):
    form = make_form(marketer)
    client.post(reverse("public-form", args=[form.key]), {"email": "a@example.pl"})
    submissions_process()
    response = client_for(marketer).post(
        reverse("webform-delete", args=[form.pk]), {"action": "delete"}
    )
    assert response.status_code == 302
    assert not WebForm.objects.exists()
    assert Lead.objects.count() == 1
    assert Event.objects.get(verb="webform.deleted").before["name"] == "Contact us"


def test_a_form_with_queued_submissions_cannot_be_deleted_yet(marketer, client):
    form = make_form(marketer)
    client.post(reverse("public-form", args=[form.key]), {"email": "a@example.pl"})
    with pytest.raises(ValidationError, match="still being processed"):
        webform_delete(actor=marketer, form=form)
    submissions_process()
    webform_delete(actor=marketer, form=form)
    assert Lead.objects.count() == 1
    assert not FormSubmission.objects.exists()


def test_a_form_with_consents_cannot_be_deleted_only_switched_off(client_for, marketer, client):
    form = make_form(marketer)
    client.post(reverse("public-form", args=[form.key]), {"email": "a@example.pl", "consent": "1"})
    submissions_process()
    page = client_for(marketer).get(reverse("webform-delete", args=[form.pk])).content.decode()
    assert "Consents are kept as proof" in page
    response = client_for(marketer).post(
        reverse("webform-delete", args=[form.pk]), {"action": "delete"}
    )
    assert response.status_code == 400
    assert WebForm.objects.filter(pk=form.pk).exists()
    with pytest.raises(ValidationError):
        webform_delete(actor=marketer, form=form)


# The snippet -------------------------------------------------------------------------------


class FormReader(HTMLParser):
    """The action and the inputs of the first <form> in a piece of HTML."""

    def __init__(self):
        super().__init__()
        self.action = ""
        self.inputs: dict[str, str] = {}
        self.labels: set[str] = set()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs["action"]
        if tag in ("input", "textarea", "select") and attrs.get("name"):
            self.inputs[attrs["name"]] = attrs.get("value") or ""
            self.ids.add(attrs.get("id"))
        if tag == "label":
            self.labels.add(attrs.get("for"))


def snippet_of(client, form) -> str:
    page = client.get(reverse("webform-edit", args=[form.pk])).content.decode()
    return unescape(
        re.search(r'<textarea id="webform-snippet"[^>]*>(.*?)</textarea>', page, re.S)[1]
    )


def test_snippet_is_a_plain_form_posting_to_the_public_address(client_for, marketer, settings):
    settings.LEJEK_BASE_URL = "https://crm.example.pl/"
    form = make_form(marketer)
    snippet = snippet_of(client_for(marketer), form)
    reader = FormReader()
    reader.feed(snippet)
    assert '<form method="post"' in snippet
    assert reader.action == f"https://crm.example.pl/f/{form.key}/"
    assert set(reader.inputs) == {
        "first_name",
        "last_name",
        "email",
        "phone",
        "consent",
        HONEYPOT,
        TOKEN,
    }
    assert reader.inputs[TOKEN] == ""
    assert reader.ids - {None} <= reader.labels  # every visible input has its label
    assert "left:-10000px" in snippet
    assert "I agree to be contacted." in snippet


def test_snippet_submitted_as_is_without_javascript_creates_a_lead(
    client_for, marketer, client, settings
):
    settings.LEJEK_BASE_URL = "https://crm.example.pl"
    form = make_form(marketer)
    reader = FormReader()
    reader.feed(snippet_of(client_for(marketer), form))
    data = {**reader.inputs, "first_name": "Ewa", "email": "ewa@example.pl", "consent": "1"}
    response = client.post(reader.action.removeprefix("https://crm.example.pl"), data)
    assert response.status_code == 200
    submissions_process()
    lead = Lead.objects.get()
    assert (lead.first_name, lead.email) == ("Ewa", "ewa@example.pl")
    assert lead.consents.count() == 1


def test_consents_panel_lists_what_a_lead_agreed_to(marketer, client):
    form = make_form(marketer, name="Demo request")
    client.post(
        reverse("public-form", args=[form.key]),
        {"email": "a@example.pl", "consent": "1"},
        REMOTE_ADDR="203.0.113.7",
    )
    submissions_process()
    lead = Lead.objects.get()
    html = render_to_string("leads/webform_consents_panel.html", {"consents": consents_of(lead)})
    assert "Demo request" in html
    assert "version 1" in html
    assert "I agree to be contacted." in html
    assert "203.0.113.7" in html
    empty = render_to_string("leads/webform_consents_panel.html", {"consents": []})
    assert "No consent recorded." in empty


def test_a_form_whose_custom_field_was_deleted_still_works_and_switches_off(
    marketer, admin, client
):
    industry = custom_field_create(
        actor=admin, entity=CustomField.Entity.LEAD, key="industry", label="Industry", type="text"
    )
    form = make_form(marketer, fields=[*FIELDS, {"name": "custom:industry"}])
    custom_field_delete(actor=admin, field=industry)
    page = client.get(reverse("public-form", args=[form.key])).content.decode()
    assert "Industry" not in page
    sent = client.post(reverse("public-form", args=[form.key]), {"email": "a@example.pl"})
    assert sent.status_code == 200
    assert submissions_process().created == 1
    webform_update(actor=marketer, form=form, values={"is_active": False})
    form.refresh_from_db()
    assert not form.is_active


def test_clearing_the_consent_text_keeps_the_old_wording_and_stops_asking(marketer, client):
    form = make_form(marketer)
    webform_update(actor=marketer, form=form, values={}, consent_text="")
    assert ConsentText.objects.get(form=form, version=1).text == "I agree to be contacted."
    page = client.get(reverse("public-form", args=[form.key])).content.decode()
    assert 'name="consent"' not in page
    client.post(reverse("public-form", args=[form.key]), {"email": "a@example.pl", "consent": "1"})
    submissions_process()
    assert Lead.objects.count() == 1
    assert not Consent.objects.exists()
