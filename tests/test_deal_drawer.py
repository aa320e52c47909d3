"""The board's drawer: a deal at a glance, from the same view as its page, for those who see it."""

from __future__ import annotations

from decimal import Decimal

from lejek.activities.services import task_create
from lejek.pipeline.services import deal_move_to_stage
from tests.factories import make_company, make_deal

HTMX = {"HX-Request": "true"}


def test_the_drawer_shows_the_deal_at_a_glance_without_the_page_around_it(
    client_for, rep, pipeline
):
    company = make_company(rep, name="Stocznia Gdańska")
    deal = make_deal(rep, pipeline, title="Crane retrofit", amount=Decimal("1200"), company=company)
    proposal = pipeline.stages.get(name="Proposal")
    deal_move_to_stage(actor=rep, deal=deal, stage=proposal, expected_version=deal.version)
    task_create(actor=rep, subject=deal, title="Call the harbour master", due_date=None)

    response = client_for(rep).get(f"{deal.get_absolute_url()}?drawer=1", headers=HTMX)

    assert response.status_code == 200
    html = response.text
    assert "<html" not in html and "<nav" not in html  # the drawer only, not a page
    assert 'id="deal-drawer-title"' in html
    assert "Crane retrofit" in html and "Stocznia Gdańska" in html
    assert "Proposal" in html and "1,200.00" in html
    assert "Next step: Call the harbour master" in html
    assert "Open the deal" in html and f'href="{deal.get_absolute_url()}"' in html


def test_without_htmx_the_drawer_link_is_the_deals_page(client_for, rep, pipeline):
    deal = make_deal(rep, pipeline, title="Crane retrofit")
    page = client_for(rep).get(f"{deal.get_absolute_url()}?drawer=1").text
    assert "<html" in page and 'id="deal-drawer-title"' not in page


def test_a_rep_cannot_open_another_teams_deal_in_the_drawer(client_for, rep, other_rep, pipeline):
    deal = make_deal(rep, pipeline, title="Crane retrofit")
    response = client_for(other_rep).get(f"{deal.get_absolute_url()}?drawer=1", headers=HTMX)
    assert response.status_code == 404
    assert "Crane retrofit" not in response.text


def test_the_drawer_offers_edits_only_to_those_who_may_edit(client_for, rep, pipeline, marketer):
    deal = make_deal(rep, pipeline, title="Crane retrofit")
    owner_view = client_for(rep).get(f"{deal.get_absolute_url()}?drawer=1", headers=HTMX).text
    assert f"/deals/{deal.pk}/edit/" in owner_view
    reader_view = client_for(marketer).get(f"{deal.get_absolute_url()}?drawer=1", headers=HTMX)
    assert reader_view.status_code == 200
    assert f"/deals/{deal.pk}/edit/" not in reader_view.text
