"""A qualified lead becomes a deal in one step, finding its contact and company or making them
once, and the lead stays reachable from the deal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from lejek.contacts.models import Company, Contact
from lejek.core.errors import ConflictError
from lejek.core.models import Event
from lejek.leads.models import Lead
from lejek.pipeline.conversion import lead_convert
from lejek.pipeline.models import Deal, StageChange
from tests.factories import make_company, make_contact, make_lead

pytestmark = pytest.mark.django_db


def qualified(actor, **values) -> Lead:
    values.setdefault("status", Lead.Status.SQL)
    return make_lead(actor, **values)


def test_converting_creates_the_deal_contact_and_company_once(rep, pipeline):
    lead = qualified(
        rep, first_name="Ewa", last_name="Lis", email="ewa@acme.pl", company_name="Acme Sp. z o.o."
    )
    result = lead_convert(actor=rep, lead=lead, amount=Decimal("12000.00"))
    deal = result.deal
    assert (result.created_contact, result.created_company) == (True, True)
    assert deal.lead == lead
    assert deal.contact.email == "ewa@acme.pl"
    assert deal.company.name == "Acme Sp. z o.o."
    assert deal.company.domain == "acme.pl"
    assert deal.contact.company == deal.company
    assert deal.owner == rep
    assert deal.amount == Decimal("12000.00")
    assert deal.pipeline == pipeline
    assert StageChange.objects.filter(deal=deal).count() == 1
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED
    assert (lead.contact, lead.company) == (deal.contact, deal.company)
    assert Event.objects.filter(verb="lead.converted", object_id=lead.pk).exists()


def test_known_contact_and_company_are_linked_not_duplicated(rep, other_rep, pipeline):
    """Even when they belong to another team: a second Acme is the duplicate to prevent."""
    company = make_company(other_rep, name="ACME spółka z o.o.")
    contact = make_contact(other_rep, last_name="Lis", email="ewa@acme.pl")
    lead = qualified(rep, last_name="Lis", email="EWA@acme.pl", company_name="Acme Sp. z o.o.")
    result = lead_convert(actor=rep, lead=lead)
    assert (result.created_contact, result.created_company) == (False, False)
    assert (result.deal.contact, result.deal.company) == (contact, company)
    assert Contact.objects.count() == 1
    assert Company.objects.count() == 1


def test_a_lead_without_a_person_makes_no_contact(rep, pipeline):
    lead = qualified(rep, first_name="", last_name="", email="", company_name="Beta SA")
    result = lead_convert(actor=rep, lead=lead)
    assert result.contact is None
    assert result.deal.title == "Beta SA"


def test_a_closed_lead_cannot_be_converted_twice(rep, pipeline):
    lead = qualified(rep, last_name="Lis")
    lead_convert(actor=rep, lead=lead)
    with pytest.raises(ValidationError):
        lead_convert(actor=rep, lead=Lead.objects.get(pk=lead.pk))
    assert Deal.objects.count() == 1


def test_a_stale_conversion_is_refused(rep, pipeline):
    lead = qualified(rep, last_name="Lis")
    with pytest.raises(ConflictError):
        lead_convert(actor=rep, lead=lead, expected_version=lead.version - 1)
    assert not Deal.objects.exists()


def test_others_cannot_convert_a_reps_lead(rep, other_rep, marketer, pipeline):
    lead = qualified(rep, last_name="Lis")
    for stranger in (other_rep, marketer):
        with pytest.raises(PermissionDenied):
            lead_convert(actor=stranger, lead=lead)
    assert not Deal.objects.exists()


def test_convert_page_shows_the_plan_and_converts(client_for, rep, other_rep, pipeline):
    make_company(other_rep, name="Acme")
    lead = qualified(rep, last_name="Lis", email="ewa@acme.pl", company_name="Acme")
    client = client_for(rep)
    page = client.get(reverse("lead-convert", args=[lead.pk]))
    assert page.status_code == 200
    assert "links to the existing company" in page.text
    assert "a new contact is created" in page.text
    answer = client.post(
        reverse("lead-convert", args=[lead.pk]),
        {
            "title": "Acme - licences",
            "pipeline": pipeline.pk,
            "amount": "12,345.50",
            "currency": "PLN",
            "expected_close_date": "2027-01-31",
            "version": lead.version,
        },
    )
    deal = Deal.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == deal.get_absolute_url()
    assert deal.amount == Decimal("12345.50")
    assert str(deal.expected_close_date) == "2027-01-31"
    deal_page = client.get(deal.get_absolute_url())
    assert lead.get_absolute_url() in deal_page.text


def test_convert_page_reports_bad_input_and_writes_nothing(client_for, rep, pipeline):
    lead = qualified(rep, last_name="Lis")
    answer = client_for(rep).post(
        reverse("lead-convert", args=[lead.pk]),
        {"title": "", "pipeline": pipeline.pk, "amount": "-5", "currency": "XXX", "version": 1},
    )
    assert answer.status_code == 400
    assert answer.text.count('class="errorlist') >= 3
    assert not Deal.objects.exists()


def test_lead_page_offers_conversion_only_to_sales(client_for, rep, marketer, pipeline):
    lead = qualified(rep, last_name="Lis")
    url = reverse("lead-convert", args=[lead.pk])
    assert url in client_for(rep).get(lead.get_absolute_url()).text
    assert url not in client_for(marketer).get(lead.get_absolute_url()).text
    assert client_for(marketer).get(url).status_code == 403
