"""Where a lead came from: medium, UTM parameters, referrer, country, region and company size,
in the form, on the lead page, in the API and in the list filters."""

from __future__ import annotations

from django.urls import reverse

from lejek.leads.models import Lead
from tests.factories import make_lead
from tests.test_api_support import Api, error_fields

ATTRIBUTION = {
    "medium": "cpc",
    "utm_source": "google",
    "utm_medium": "cpc",
    "utm_campaign": "spring-2026",
    "utm_term": "crm dla firm",
    "utm_content": "banner-a",
    "referrer": "https://www.google.com/search?q=crm",
    "region": "mazowieckie",
    "company_size": 40,
}


def text(response) -> str:
    return response.content.decode()


def test_api_takes_and_returns_attribution(rep):
    api = Api(rep)
    response = api.post("/leads", {"last_name": "Utm", **ATTRIBUTION, "country": "pl"})
    assert response.status_code == 201, response.content
    body = api.get(f"/leads/{response.json()['id']}").json()
    assert {name: body[name] for name in ATTRIBUTION} == ATTRIBUTION
    assert body["country"] == "PL"


def test_api_refuses_a_country_that_is_not_an_iso_code(rep):
    response = Api(rep).post("/leads", {"last_name": "X", "country": "XX"})
    assert "country" in error_fields(response)


def test_api_patch_changes_attribution(rep):
    lead = make_lead(rep)
    response = Api(rep).patch(f"/leads/{lead.pk}", {"utm_campaign": "autumn", "country": "de"})
    assert response.status_code == 200, response.content
    lead.refresh_from_db()
    assert (lead.utm_campaign, lead.country) == ("autumn", "DE")


def test_api_filters_leads_by_attribution(rep):
    match = make_lead(
        rep,
        medium="email",
        utm_source="newsletter",
        utm_medium="email",
        utm_campaign="may",
        country="PL",
    )
    make_lead(rep, medium="cpc", utm_source="google", utm_medium="cpc", utm_campaign="june")
    api = Api(rep)
    for name, value in [
        ("medium", "Email"),
        ("utm_source", "newsletter"),
        ("utm_medium", "email"),
        ("utm_campaign", "MAY"),
        ("country", "pl"),
    ]:
        rows = api.get("/leads", {name: value}).json()["items"]
        assert [row["id"] for row in rows] == [match.pk], name


def test_form_saves_attribution_and_the_page_shows_it(client_for, rep):
    client = client_for(rep)
    form = text(client.get(reverse("lead-create")))
    assert 'name="utm_campaign"' in form and 'name="company_size"' in form
    response = client.post(
        reverse("lead-create"),
        {"last_name": "Utm", "status": "new", **ATTRIBUTION, "country": "pl"},
        follow=True,
    )
    lead = Lead.objects.get()
    assert (lead.utm_campaign, lead.country, lead.company_size) == ("spring-2026", "PL", 40)
    page = text(response)
    assert "spring-2026" in page and "mazowieckie" in page and "Referrer" in page


def test_lead_page_leaves_out_attribution_that_is_not_set(client_for, rep):
    lead = make_lead(rep)
    page = text(client_for(rep).get(lead.get_absolute_url()))
    assert "utm_source" not in page and "Referrer" not in page and "Company size" not in page


def test_lead_page_shows_the_phone_for_reading(client_for, rep):
    lead = make_lead(rep, phone="601234567")
    page = text(client_for(rep).get(lead.get_absolute_url()))
    assert "+48 601 234 567" in page and 'href="tel:+48601234567"' in page


def test_form_refuses_a_bad_country(client_for, rep):
    response = client_for(rep).post(
        reverse("lead-create"), {"last_name": "X", "status": "new", "country": "QQ"}
    )
    assert "Enter a two-letter country code, e.g. PL." in text(response)
    assert not Lead.objects.exists()


def test_list_filters_by_medium_and_utm_campaign(client_for, rep):
    make_lead(rep, last_name="Mailed", medium="email", utm_campaign="may")
    make_lead(rep, last_name="Clicked", medium="cpc", utm_campaign="june")
    client = client_for(rep)
    by_medium = text(client.get(reverse("lead-list"), {"medium": "Email"}))
    assert "Mailed" in by_medium and "Clicked" not in by_medium
    by_campaign = text(client.get(reverse("lead-list"), {"utm_campaign": "june"}))
    assert "Clicked" in by_campaign and "Mailed" not in by_campaign
    assert 'name="medium"' in by_campaign and 'name="utm_campaign"' in by_campaign
