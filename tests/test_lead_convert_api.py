"""POST /api/v1/leads/{id}/convert: the Convert button for integrations."""

from __future__ import annotations

import pytest

from lejek.leads.models import Lead
from lejek.pipeline.models import Deal
from tests.factories import make_lead
from tests.test_api_support import Api, assert_problem, error_fields

pytestmark = pytest.mark.django_db


def test_converting_over_the_api_makes_the_deal_contact_and_company(rep, pipeline):
    lead = make_lead(
        rep, first_name="Ewa", last_name="Lis", email="ewa@acme.pl", company_name="Acme S.A."
    )
    response = Api(rep).post(
        f"/leads/{lead.pk}/convert",
        {"amount": "15000", "currency": "EUR", "expected_close_date": "2027-01-31"},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    deal = Deal.objects.get()
    assert response["Location"] == f"/api/v1/deals/{deal.pk}"
    assert body["deal"]["id"] == deal.pk and body["deal"]["lead"] == lead.pk
    assert (body["deal"]["amount"], body["deal"]["currency"]) == ("15000.00", "EUR")
    assert body["deal"]["title"] == "Acme S.A."
    assert body["created_contact"] and body["created_company"]
    assert body["contact"] == deal.contact_id and body["company"] == deal.company_id
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED
    assert (lead.contact_id, lead.company_id) == (deal.contact_id, deal.company_id)


def test_a_chosen_pipeline_and_title_are_used(rep, pipeline, onboarding):
    lead = make_lead(rep)
    response = Api(rep).post(
        f"/leads/{lead.pk}/convert", {"pipeline": onboarding.pk, "title": "Partnership"}
    )

    assert response.status_code == 201, response.content
    assert (response.json()["deal"]["pipeline"], response.json()["deal"]["title"]) == (
        onboarding.pk,
        "Partnership",
    )


def test_bad_conversions_are_refused_and_write_nothing(rep, other_rep, pipeline):
    api = Api(rep)
    lead = make_lead(rep)
    stranger = make_lead(other_rep)

    assert error_fields(api.post(f"/leads/{lead.pk}/convert", {"pipeline": 99999})) == {
        "pipeline": "There is no pipeline with id 99999."
    }
    assert "amount" in error_fields(api.post(f"/leads/{lead.pk}/convert", {"amount": "-5"}))
    assert_problem(api.post(f"/leads/{lead.pk}/convert", {"version": 7}), 409)
    assert_problem(api.post(f"/leads/{stranger.pk}/convert", {}), 404)
    assert not Deal.objects.exists()

    assert api.post(f"/leads/{lead.pk}/convert", {"version": 1}).status_code == 201
    again = assert_problem(api.post(f"/leads/{lead.pk}/convert", {}), 422)
    assert "cannot be converted" in str(again)
    assert Deal.objects.count() == 1
