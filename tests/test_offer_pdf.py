"""The offer as a PDF: rendered by WeasyPrint, read back with pypdf."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from lejek.sales.offers import offer_create
from lejek.sales.pdf import offer_filename, offer_pdf
from lejek.sales.services import deal_line_add
from tests.factories import make_company, make_contact, make_deal
from tests.test_deal_lines import make_product

pytestmark = pytest.mark.django_db

POLISH = "Zażółć gęślą jaźń"


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    # Money uses no-break spaces; the extracted text may give them back as either kind.
    return re.sub(r"[ \u00a0\u202f]+", " ", text)


@pytest.fixture
def seller(settings):
    settings.LEJEK_COMPANY_NAME = "Lejek Software Sp. z o.o."
    settings.LEJEK_COMPANY_ADDRESS = "ul. Długa 1\n00-001 Warszawa"
    settings.LEJEK_COMPANY_NIP = "5260001246"


def make_offer(admin, rep, pipeline, language: str):
    company = make_company(rep, name="Łódzka Fabryka Śrub", nip="7250012344", city="Łódź")
    contact = make_contact(rep, first_name="Józef", last_name="Wąsik", company=company)
    deal = make_deal(rep, pipeline, company=company, contact=contact)
    product = make_product(admin, name=POLISH, sku="ZGJ-1", price="1234.50")
    cheap = make_product(admin, name="Szkolenie", sku="SZK-1", price="100.00", vat="8")
    deal_line_add(actor=rep, deal=deal, product=product, quantity=Decimal(10))
    deal_line_add(actor=rep, deal=deal, product=cheap, discount=Decimal("12.5"))
    valid = timezone.localdate() + datetime.timedelta(days=14)
    return offer_create(
        actor=rep,
        deal=deal,
        valid_until=valid,
        terms="Płatność przelewem w ciągu 14 dni.",
        language=language,
    )


def test_polish_pdf_has_polish_letters_amounts_and_parties(seller, admin, rep, pipeline):
    offer = make_offer(admin, rep, pipeline, "pl")
    content = offer_pdf(offer)
    assert content.startswith(b"%PDF-")
    text = pdf_text(content)
    assert POLISH in text
    assert offer.number in text
    assert "Oferta" in text
    # 10 x 1 234,50 = 12 345,00 at 23%; 87,50 at 8%.
    assert "12 345,00 zł" in text
    assert "87,50 zł" in text
    assert "2 839,35 zł" in text  # VAT 23%
    assert "7,00 zł" in text  # VAT 8%
    assert "15 278,85 zł" in text  # gross
    assert "Łódzka Fabryka Śrub" in text
    assert "Lejek Software Sp. z o.o." in text
    assert "5260001246" in text
    assert "Płatność przelewem w ciągu 14 dni." in text
    assert "Rita Rep" in text


def test_english_pdf_formats_money_the_english_way(seller, admin, rep, pipeline):
    offer = make_offer(admin, rep, pipeline, "en")
    text = pdf_text(offer_pdf(offer))
    assert POLISH in text
    assert "PLN 12,345.00" in text
    assert "PLN 15,278.85" in text
    assert "Valid until" in text
    assert "12 345,00 zł" not in text


def test_the_pdf_is_served_to_people_who_see_the_deal(admin, rep, other_rep, pipeline, client_for):
    offer = make_offer(admin, rep, pipeline, "pl")
    url = reverse("offer-pdf", args=[offer.deal_id, offer.pk])
    response = client_for(rep).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert offer_filename(offer) in response["Content-Disposition"]
    assert POLISH in pdf_text(response.content)
    assert client_for(other_rep).get(url).status_code == 404


def test_the_file_name_has_no_slashes(admin, rep, pipeline):
    offer = make_offer(admin, rep, pipeline, "pl")
    name = offer_filename(offer)
    assert "/" not in name
    assert name.endswith(f"-v{offer.version}.pdf")
