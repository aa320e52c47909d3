"""E-mailing an offer: a real local SMTP server receives it with the PDF attached."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from lejek.activities.models import Activity
from lejek.core.models import Event
from lejek.sales.models import Offer
from lejek.sales.offers import offer_create, offer_email_defaults, offer_send, offer_set_status
from lejek.sales.pdf import offer_filename
from lejek.sales.services import deal_line_add
from tests import smtp
from tests.factories import make_contact, make_deal
from tests.test_deal_lines import make_product

smtp_server = smtp.smtp_server  # the fixture, shared with other tests

pytestmark = pytest.mark.django_db

Status = Offer.Status


def make_offer(admin, rep, pipeline, language="en", email="jozef@fabryka.pl") -> Offer:
    contact = make_contact(rep, first_name="Józef", last_name="Wąsik", email=email)
    deal = make_deal(rep, pipeline, contact=contact)
    product = make_product(admin, name="Zażółć gęślą jaźń", sku="ZGJ", price="1000.00")
    deal_line_add(actor=rep, deal=deal, product=product, quantity=Decimal(2))
    return offer_create(
        actor=rep,
        deal=deal,
        valid_until=timezone.localdate() + datetime.timedelta(days=14),
        terms="Net 14.",
        language=language,
    )


def test_the_send_page_is_prefilled_in_the_offers_language(client_for, admin, rep, pipeline):
    offer = make_offer(admin, rep, pipeline, language="en")
    html = client_for(rep).get(reverse("offer-send", args=[offer.deal_id, offer.pk]))
    content = html.content.decode()
    assert html.status_code == 200
    assert 'value="jozef@fabryka.pl"' in content
    assert f"Offer {offer.number} (version 1)" in content
    assert "Hello Józef," in content
    assert "PLN\u00a02,460.00" in content  # gross in the body
    assert offer_filename(offer) in content


def test_sending_delivers_subject_body_and_pdf_and_marks_the_offer_sent(
    smtp_server,
    client_for,
    admin,
    rep,
    pipeline,
):
    offer = make_offer(admin, rep, pipeline)
    defaults = offer_email_defaults(offer)
    response = client_for(rep).post(
        reverse("offer-send", args=[offer.deal_id, offer.pk]),
        {"to": defaults["to"], "title": defaults["title"], "body": defaults["body"]},
    )
    assert response.status_code == 302

    assert len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert received.recipients == ["jozef@fabryka.pl"]
    assert received.message["Subject"] == f"Offer {offer.number} (version 1)"
    assert "Please find attached our offer" in received.text
    assert "PLN\u00a02,460.00" in received.text
    pdf = received.attachments[offer_filename(offer)]
    assert pdf.startswith(b"%PDF-")
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Zażółć gęślą jaźń" in text

    offer.refresh_from_db()
    assert offer.status == Status.SENT
    assert offer.sent_at is not None
    activity = Activity.objects.get(deal=offer.deal, kind=Activity.Kind.EMAIL)
    assert activity.subject_line == defaults["title"]
    assert Event.objects.filter(verb="offer.emailed", object_id=offer.pk).exists()
    timeline = client_for(rep).get(offer.deal.get_absolute_url()).content.decode()
    assert defaults["title"] in timeline


def test_a_polish_offer_gets_a_polish_body_with_polish_money(admin, rep, pipeline):
    offer = make_offer(admin, rep, pipeline, language="pl")
    body = offer_email_defaults(offer)["body"]
    assert "2\u00a0460,00\u00a0zł" in body
    assert "2\u00a0000,00\u00a0zł" in body


def test_a_bad_address_is_explained_and_nothing_is_sent(
    smtp_server,
    client_for,
    admin,
    rep,
    pipeline,
):
    offer = make_offer(admin, rep, pipeline)
    response = client_for(rep).post(
        reverse("offer-send", args=[offer.deal_id, offer.pk]),
        {"to": "jozef@fabryka.pl, not-an-address", "title": "Offer", "body": "Hello"},
    )
    assert response.status_code == 400
    assert "not-an-address" in response.content.decode()
    assert smtp_server.messages == []
    offer.refresh_from_db()
    assert offer.status == Status.DRAFT


def test_an_unreachable_mail_server_leaves_the_offer_a_draft(
    smtp_server,
    admin,
    rep,
    pipeline,
):
    offer = make_offer(admin, rep, pipeline)
    smtp_server.stop()
    with pytest.raises(ValidationError, match="was not sent"):
        offer_send(actor=rep, offer=offer, to=["a@example.pl"], title="Offer", body="Hi")
    offer.refresh_from_db()
    assert offer.status == Status.DRAFT
    assert not Activity.objects.filter(kind=Activity.Kind.EMAIL).exists()


def test_an_accepted_offer_is_not_sent_again(
    smtp_server,
    admin,
    rep,
    pipeline,
):
    offer = offer_set_status(
        actor=rep, offer=make_offer(admin, rep, pipeline), status=Status.ACCEPTED
    )
    with pytest.raises(ValidationError, match="Only a draft or sent offer"):
        offer_send(actor=rep, offer=offer, to=["a@example.pl"], title="Offer", body="Hi")
    assert smtp_server.messages == []


def test_a_sent_offer_can_go_out_again_and_stays_sent(
    smtp_server,
    admin,
    rep,
    pipeline,
):
    offer = make_offer(admin, rep, pipeline)
    offer_send(actor=rep, offer=offer, to=["a@example.pl"], title="Offer", body="Hi")
    offer.refresh_from_db()
    first_sent = offer.sent_at
    offer_send(actor=rep, offer=offer, to=["b@example.pl"], title="Offer again", body="Hi")
    offer.refresh_from_db()
    assert offer.status == Status.SENT
    assert offer.sent_at == first_sent
    assert [m.recipients for m in smtp_server.messages] == [["a@example.pl"], ["b@example.pl"]]


def test_a_marketer_cannot_send_offers(client_for, admin, rep, marketer, pipeline):
    offer = make_offer(admin, rep, pipeline)
    url = reverse("offer-send", args=[offer.deal_id, offer.pk])
    assert client_for(marketer).get(url).status_code == 403
