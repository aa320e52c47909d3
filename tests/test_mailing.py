"""Sending e-mail about a record over a real SMTP server, and what it leaves on the timeline."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from lejek.activities.email_templates import email_template_create
from lejek.activities.mailing import email_send
from lejek.activities.models import Activity, Attachment
from lejek.core.models import Event
from tests import smtp
from tests.factories import make_company, make_contact, make_deal, make_lead

smtp_server = smtp.smtp_server  # the fixture, shared with other tests

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# The service -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_email_with_polish_text_and_attachment_arrives_and_is_logged(smtp_server, rep, pipeline):
    deal = make_deal(rep, pipeline, title="Wdrożenie CRM")
    activity = email_send(
        actor=rep,
        subject=deal,
        to=["klient@example.pl"],
        cc=["szef@example.pl"],
        title="Oferta: wdrożenie — zażółć gęślą jaźń",
        body="Dzień dobry,\nw załączniku oferta. Pozdrawiam, Rita\nŁódź, źdźbło",
        attachments=[("oferta_żółć.pdf", PDF, "application/pdf")],
    )

    assert len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert sorted(received.recipients) == ["klient@example.pl", "szef@example.pl"]
    assert received.message["Subject"] == "Oferta: wdrożenie — zażółć gęślą jaźń"
    assert received.message["Reply-To"] == "rita@example.com"
    assert "Łódź, źdźbło" in received.text
    assert received.attachments == {"oferta_żółć.pdf": PDF}

    assert activity.kind == Activity.Kind.EMAIL
    assert activity.deal == deal
    assert activity.author == rep
    assert activity.subject_line == "Oferta: wdrożenie — zażółć gęślą jaźń"
    assert activity.sent_email.to == ["klient@example.pl"]
    assert activity.sent_email.cc == ["szef@example.pl"]
    assert activity.sent_email.attachment_names == ["oferta_żółć.pdf"]
    assert activity.sent_email.message_id == received.message["Message-ID"]
    event = Event.objects.get(verb="email.sent")
    assert event.object_id == deal.pk
    assert event.after["to"] == ["klient@example.pl"]
    assert event.after["activity"] == activity.pk
    # email_send itself keeps no files; the composer does.
    assert not Attachment.objects.exists()


@pytest.mark.django_db
def test_bad_addresses_are_named_and_nothing_is_sent_or_logged(smtp_server, rep):
    lead = make_lead(rep)
    with pytest.raises(ValidationError) as caught:
        email_send(
            actor=rep,
            subject=lead,
            to=["ok@example.pl", "not-an-address", "jan@@example.pl"],
            cc=["also bad"],
            title="Hello",
            body="Hi",
        )
    errors = caught.value.message_dict
    assert "not-an-address" in errors["to"][0]
    assert "jan@@example.pl" in errors["to"][0]
    assert "also bad" in errors["cc"][0]
    assert smtp_server.messages == []
    assert not Activity.objects.exists()
    assert not Event.objects.filter(verb="email.sent").exists()


@pytest.mark.django_db
def test_missing_recipient_and_subject_line_are_field_errors(smtp_server, rep):
    with pytest.raises(ValidationError) as caught:
        email_send(actor=rep, subject=make_lead(rep), to=[], title="  ", body="Hi")
    assert set(caught.value.message_dict) == {"to", "title"}
    assert smtp_server.messages == []


@pytest.mark.django_db
def test_header_injection_in_the_subject_line_is_refused(smtp_server, rep):
    with pytest.raises(ValidationError) as caught:
        email_send(
            actor=rep,
            subject=make_lead(rep),
            to=["a@example.pl"],
            title="Hi\nBcc: victim@example.pl",
            body="x",
        )
    assert "single line" in caught.value.message_dict["title"][0]
    assert smtp_server.messages == []


@pytest.mark.django_db
def test_server_down_gives_a_clear_error_and_logs_nothing(smtp_server, rep, pipeline):
    deal = make_deal(rep, pipeline)
    smtp_server.stop()
    with pytest.raises(ValidationError) as caught:
        email_send(actor=rep, subject=deal, to=["a@example.pl"], title="Offer", body="x")
    assert "was not sent" in caught.value.messages[0]
    assert "Nothing was logged" in caught.value.messages[0]
    assert not Activity.objects.exists()
    assert not Event.objects.filter(verb="email.sent").exists()


@pytest.mark.django_db
def test_stranger_cannot_email_about_a_record_they_cannot_see(smtp_server, rep, other_rep):
    lead = make_lead(rep)
    with pytest.raises(PermissionDenied):
        email_send(actor=other_rep, subject=lead, to=["a@example.pl"], title="Hi", body="x")
    assert smtp_server.messages == []
    assert not Activity.objects.exists()


@pytest.mark.django_db
def test_marketing_reads_deals_but_cannot_email_about_them(smtp_server, rep, marketer, pipeline):
    deal = make_deal(rep, pipeline)
    with pytest.raises(PermissionDenied):
        email_send(actor=marketer, subject=deal, to=["a@example.pl"], title="Hi", body="x")
    assert smtp_server.messages == []


@pytest.mark.django_db
def test_manager_can_email_about_a_team_members_record(smtp_server, rep, manager):
    contact = make_contact(rep)
    activity = email_send(
        actor=manager, subject=contact, to=[contact.email], title="Hello", body="x"
    )
    assert activity.contact == contact
    assert smtp_server.messages[0].recipients == [contact.email]


@pytest.mark.django_db
def test_attachments_over_the_limit_are_refused_before_sending(smtp_server, settings, rep):
    settings.LEJEK_MAX_ATTACHMENT_MB = 1
    big = PDF + b"0" * (1024 * 1024)
    with pytest.raises(ValidationError) as caught:
        email_send(
            actor=rep,
            subject=make_company(rep),
            to=["a@example.pl"],
            title="Big",
            body="x",
            attachments=[("big.pdf", big, "application/pdf")],
        )
    assert "1 MB" in caught.value.message_dict["attachments"][0]
    assert smtp_server.messages == []


# The composer page -------------------------------------------------------------------------


def compose_url(record) -> str:
    return f"{reverse('email-compose')}?{record._meta.model_name}={record.pk}"


@pytest.fixture
def offer_template(admin):
    return email_template_create(
        actor=admin,
        name="Oferta",
        language="pl",
        subject="Oferta: {{ deal.title }}",
        body=(
            "Dzień dobry {{ contact.first_name }},\nkwota {{ deal.amount }}.\n{{ rep.first_name }}"
        ),
        record_kinds=["deal"],
    )


@pytest.fixture
def deal_with_contact(rep, pipeline):
    contact = make_contact(rep, first_name="Łucja", email="lucja@klient.pl")
    return make_deal(rep, pipeline, title="Wdrożenie", amount=Decimal("1500"), contact=contact)


@pytest.mark.django_db
def test_composer_prefills_the_recipient_and_offers_templates(
    client_for, rep, deal_with_contact, offer_template
):
    page = client_for(rep).get(compose_url(deal_with_contact))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="lucja@klient.pl"' in html
    assert "Oferta (pl)" in html


@pytest.mark.django_db
def test_choosing_a_template_fills_subject_and_body_with_its_text(
    client_for, rep, deal_with_contact, offer_template
):
    client = client_for(rep)
    by_link = client.get(f"{compose_url(deal_with_contact)}&template={offer_template.pk}")
    assert "Oferta: {{ deal.title }}" in by_link.content.decode()
    applied = client.post(
        compose_url(deal_with_contact),
        {"action": "apply", "template": offer_template.pk, "to": "x@example.pl", "title": ""},
    )
    html = applied.content.decode()
    assert applied.status_code == 200
    assert "Oferta: {{ deal.title }}" in html
    assert 'value="x@example.pl"' in html  # what was typed stays


@pytest.mark.django_db
def test_preview_shows_exactly_what_will_be_sent_in_the_templates_language(
    client_for, rep, deal_with_contact, offer_template, smtp_server
):
    data = {
        "action": "preview",
        "template": offer_template.pk,
        "to": "lucja@klient.pl",
        "title": offer_template.subject,
        "body": offer_template.body + "{{ contact.shoe_size }}",
    }
    response = client_for(rep).post(compose_url(deal_with_contact), data, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # only the preview part
    assert "Oferta: Wdrożenie" in html
    assert "Dzień dobry Łucja," in html
    assert "1\xa0500,00\xa0zł" in html
    assert "contact.shoe_size" in html
    assert smtp_server.messages == []
    assert not Activity.objects.exists()


@pytest.mark.django_db
def test_send_delivers_keeps_the_files_and_shows_on_the_timeline(
    client_for, rep, deal_with_contact, offer_template, smtp_server
):
    deal = deal_with_contact
    client = client_for(rep)
    response = client.post(
        compose_url(deal),
        {
            "action": "send",
            "template": offer_template.pk,
            "to": "lucja@klient.pl; szef@klient.pl",
            "cc": "",
            "title": offer_template.subject,
            "body": offer_template.body,
            "files": [SimpleUploadedFile("oferta_żółć.pdf", PDF, content_type="text/plain")],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{deal.get_absolute_url()}#timeline"

    received = smtp_server.messages[0]
    assert received.recipients == ["lucja@klient.pl", "szef@klient.pl"]
    assert received.message["Subject"] == "Oferta: Wdrożenie"
    assert "Dzień dobry Łucja," in received.text
    assert "Rita" in received.text
    assert received.attachments == {"oferta_żółć.pdf": PDF}

    activity = Activity.objects.get()
    attachment = Attachment.objects.get()
    assert attachment.deal == deal
    assert attachment.activity == activity
    assert attachment.content_type == "application/pdf"

    page = client.get(deal.get_absolute_url()).content.decode()
    assert "E-mail sent to lucja@klient.pl, szef@klient.pl. 1 file kept with the record." in page
    assert "Oferta: Wdrożenie" in page
    assert "lucja@klient.pl, szef@klient.pl" in page
    assert "oferta_żółć.pdf" in page
    filtered = client.get(f"{deal.get_absolute_url()}?timeline=email").content.decode()
    assert "Oferta: Wdrożenie" in filtered


@pytest.mark.django_db
def test_a_refused_file_stops_the_send(client_for, rep, deal_with_contact, smtp_server):
    response = client_for(rep).post(
        compose_url(deal_with_contact),
        {
            "to": "lucja@klient.pl",
            "title": "Hi",
            "body": "x",
            "files": [SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 40)],
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "“invoice.pdf” is a program" in html
    assert "Choose the files to attach again" in html
    assert smtp_server.messages == []
    assert not Activity.objects.exists()


@pytest.mark.django_db
def test_bad_address_is_shown_next_to_the_field(client_for, rep, deal_with_contact, smtp_server):
    response = client_for(rep).post(
        compose_url(deal_with_contact), {"to": "lucja@", "title": "Hi", "body": "x"}
    )
    assert response.status_code == 400
    assert "This is not a valid e-mail address: lucja@." in response.content.decode()
    assert smtp_server.messages == []


@pytest.mark.django_db
def test_server_down_on_the_page_keeps_the_text_and_logs_nothing(
    client_for, rep, deal_with_contact, smtp_server
):
    smtp_server.stop()
    response = client_for(rep).post(
        compose_url(deal_with_contact),
        {"to": "lucja@klient.pl", "title": "Ważne", "body": "Treść wiadomości"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "The e-mail was not sent" in html
    assert "Treść wiadomości" in html
    assert not Activity.objects.exists()
    assert not Attachment.objects.exists()


@pytest.mark.django_db
def test_composer_is_closed_to_people_who_cannot_edit_the_record(
    client_for, rep, other_rep, marketer, deal_with_contact, smtp_server
):
    url = compose_url(deal_with_contact)
    assert client_for(other_rep).get(url).status_code == 404
    assert client_for(marketer).get(url).status_code == 403
    data = {"to": "a@example.pl", "title": "Hi", "body": "x"}
    assert client_for(other_rep).post(url, data).status_code == 404
    assert smtp_server.messages == []


@pytest.mark.parametrize("kind", ["lead", "contact", "company"])
@pytest.mark.django_db
def test_composer_works_from_every_kind_of_record(client_for, rep, kind, smtp_server):
    maker = {"lead": make_lead, "contact": make_contact, "company": make_company}[kind]
    record = maker(rep, email="jan@firma.pl")
    response = client_for(rep).post(
        compose_url(record),
        {"to": "jan@firma.pl", "title": "Hi {{ contact.first_name }}", "body": "x"},
    )
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert getattr(activity, kind) == record
    assert smtp_server.messages[0].recipients == ["jan@firma.pl"]


@pytest.mark.django_db
def test_preview_without_htmx_renders_the_whole_page_and_sends_nothing(
    client_for, rep, deal_with_contact, smtp_server
):
    response = client_for(rep).post(
        compose_url(deal_with_contact),
        {
            "action": "preview",
            "to": "lucja@klient.pl",
            "title": "Hi {{ contact.first_name }}",
            "body": "Body for {{ deal.title }}",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert "Hi Łucja" in html
    assert "Body for Wdrożenie" in html
    assert "Hi {{ contact.first_name }}" in html  # the form keeps the merge fields
    assert smtp_server.messages == []


@pytest.mark.django_db
def test_htmx_preview_names_bad_addresses_and_still_shows_the_text(
    client_for, rep, deal_with_contact, smtp_server
):
    response = client_for(rep).post(
        compose_url(deal_with_contact),
        {"action": "preview", "to": "lucja@", "title": "Hi", "body": "For {{ deal.title }}"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps only successful responses
    assert "This is not a valid e-mail address: lucja@." in html
    assert "For Wdrożenie" in html
    assert smtp_server.messages == []
