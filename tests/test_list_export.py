"""Export of a record list from its page: exactly the rows the list shows, every page of them,
in its sort, and only what the user may see."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import include, path
from openpyxl import load_workbook

from lejek.core.models import CustomField
from lejek.leads.models import Lead
from lejek.scoring.models import LeadScore
from lejek.urls import urlpatterns as site_urls
from tests.factories import make_company, make_contact, make_deal, make_lead

urlpatterns = [*site_urls, path("export/", include("lejek.analytics.urls"))]
pytestmark = pytest.mark.urls(__name__)


def csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_lead_export_follows_filters_and_sort(client_for, rep):
    low = make_lead(rep, last_name="Low", status="contacted")
    high = make_lead(rep, last_name="High", status="contacted")
    make_lead(rep, last_name="Other status", status="new")
    LeadScore.objects.update_or_create(lead=low, defaults={"score": 20})
    LeadScore.objects.update_or_create(lead=high, defaults={"score": 90})
    rows = csv_rows(client_for(rep).get("/export/leads/?status=contacted&sort=-score"))
    assert [row["Last name"] for row in rows] == ["High", "Low"]
    rows = csv_rows(client_for(rep).get("/export/leads/?status=contacted&sort=score"))
    assert [row["Last name"] for row in rows] == ["Low", "High"]


def test_export_holds_every_page_not_just_the_one_shown(client_for, rep):
    Lead.objects.bulk_create(
        Lead(first_name="Jan", last_name=f"N{n}", owner=rep, team=rep.teams.first())
        for n in range(60)
    )
    rows = csv_rows(client_for(rep).get("/export/leads/?page=2"))
    assert len(rows) == 60


def test_lead_export_has_scores_and_custom_fields(client_for, rep):
    CustomField.objects.create(entity="lead", key="tier", label="Tier", type="text")
    lead = make_lead(rep, custom={"tier": "gold"})
    LeadScore.objects.create(lead=lead, score=10, probability=0.3)
    rows = csv_rows(client_for(rep).get("/export/leads/?cf_tier=gold"))
    assert rows[0]["Tier"] == "gold"
    assert rows[0]["Win probability (%)"] == "30.0"


def test_lead_export_follows_score_filters(client_for, rep):
    low, high = make_lead(rep, last_name="Low"), make_lead(rep, last_name="High")
    LeadScore.objects.update_or_create(lead=low, defaults={"score": 20})
    LeadScore.objects.update_or_create(lead=high, defaults={"score": 90})
    rows = csv_rows(client_for(rep).get("/export/leads/?score_min=50"))
    assert [row["Last name"] for row in rows] == ["High"]


def test_rep_exports_only_visible_rows(client_for, rep, other_rep):
    make_lead(rep, last_name="Mine")
    make_lead(other_rep, last_name="Theirs")
    rows = csv_rows(client_for(rep).get("/export/leads/"))
    assert [row["Last name"] for row in rows] == ["Mine"]


@pytest.mark.parametrize("kind", ["leads", "contacts", "companies", "deals"])
def test_stranger_exports_nothing_of_others(client_for, rep, other_rep, pipeline, kind):
    company = make_company(rep, name="Acme")
    make_contact(rep, last_name="Nowak", company=company)
    make_lead(rep)
    make_deal(rep, pipeline, company=company)
    assert csv_rows(client_for(other_rep).get(f"/export/{kind}/")) == []
    assert len(csv_rows(client_for(rep).get(f"/export/{kind}/"))) == 1


def test_deal_export_as_xlsx_follows_the_state_filter(client_for, rep, pipeline):
    make_deal(rep, pipeline, title="Open one")
    make_deal(rep, pipeline, title="Won one", stage=pipeline.stages.get(name="Won"))
    response = client_for(rep).get("/export/deals/?state=won&format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="deals-' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    titles = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert titles == ["Won one"]


def test_company_export_follows_search(client_for, rep):
    make_company(rep, name="Acme Sp. z o.o.")
    make_company(rep, name="Beta")
    rows = csv_rows(client_for(rep).get("/export/companies/?q=acme"))
    assert [row["Name"] for row in rows] == ["Acme Sp. z o.o."]


def test_bad_format_kind_and_field_are_refused(client_for, rep):
    client = client_for(rep)
    assert client.get("/export/leads/?format=pdf").status_code == 400
    assert client.get("/export/invoices/").status_code == 404
    response = client.get("/export/leads/?fields=salary")
    assert response.status_code == 400
    assert "win_probability" in response.content.decode()


def test_signed_out_visitor_is_sent_to_log_in(client):
    response = client.get("/export/leads/")
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_list_page_offers_export_of_its_current_state(client_for, rep):
    make_lead(rep)
    page = client_for(rep).get("/leads/?status=new&page=1").content.decode()
    assert "/export/leads/?status=new&amp;format=csv" in page
    assert "/export/leads/?status=new&amp;format=xlsx" in page


@pytest.mark.parametrize(
    ("url", "kind"),
    [("/contacts/", "contacts"), ("/companies/", "companies"), ("/deals/", "deals")],
)
def test_every_record_list_offers_export(client_for, rep, pipeline, url, kind):
    page = client_for(rep).get(url).content.decode()
    assert f"/export/{kind}/?format=csv" in page


def test_json_is_not_offered_from_the_list(client_for, rep):
    # The API serves JSON; a list page exports spreadsheets.
    response = client_for(rep).get("/export/leads/?format=json")
    assert response.status_code == 400
