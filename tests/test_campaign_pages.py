"""Settings → Lead sources and Campaigns: marketing, managers and admins keep them; everyone
reads them, with the number of leads each brought and a link to those leads."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from lejek.core.models import Event
from lejek.leads.models import Campaign, Source
from lejek.leads.services import campaign_create, source_create, source_update
from tests.factories import make_lead

pytestmark = pytest.mark.django_db

EDITORS = ["admin", "manager", "marketer"]


@pytest.fixture
def web(marketer):
    return source_create(actor=marketer, name="Website", kind=Source.Kind.WEB_FORM)


@pytest.fixture
def fair(marketer):
    return source_create(actor=marketer, name="Trade fair", kind=Source.Kind.EVENT)


@pytest.fixture
def webinar(marketer, web):
    return campaign_create(
        actor=marketer,
        name="Spring webinar",
        source=web,
        channel="LinkedIn Ads",
        starts_on=datetime.date(2026, 3, 1),
        ends_on=datetime.date(2026, 3, 31),
        cost=Decimal("1200.00"),
    )


def campaign_data(**changes) -> dict:
    data = {
        "name": "Autumn newsletter",
        "source": "",
        "channel": "newsletter",
        "starts_on": "2026-09-01",
        "ends_on": "2026-09-30",
        "cost": "500.00",
        "currency": "PLN",
    }
    data.update(changes)
    return data


def errors_on(response, name: str) -> list[str]:
    return response.context["form"].errors.get(name, [])


# Who may -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["admin", "manager", "rep", "marketer"])
def test_everyone_reads_both_lists_and_only_editors_see_edit_buttons(
    request, client_for, persona, web, webinar
):
    client = client_for(request.getfixturevalue(persona))
    for list_name, edit_url, new_url in (
        ("source-list", reverse("source-edit", args=[web.pk]), reverse("source-create")),
        ("campaign-list", reverse("campaign-edit", args=[webinar.pk]), reverse("campaign-create")),
    ):
        response = client.get(reverse(list_name))
        assert response.status_code == 200
        html = response.content.decode()
        assert ("Website" in html) and (list_name == "source-list" or "Spring webinar" in html)
        may_edit = persona in EDITORS
        assert (edit_url in html) is may_edit
        assert (new_url in html) is may_edit


def test_reps_get_403_on_every_form_and_post(client_for, rep, web, webinar):
    client = client_for(rep)
    forms = {
        reverse("source-create"): {"name": "Rep source", "kind": "manual"},
        reverse("source-edit", args=[web.pk]): {"name": "Renamed", "kind": "manual"},
        reverse("campaign-create"): campaign_data(),
        reverse("campaign-edit", args=[webinar.pk]): campaign_data(name="Renamed"),
    }
    for url, data in forms.items():
        assert client.get(url).status_code == 403, url
        assert client.post(url, data).status_code == 403, url
    assert set(Source.objects.values_list("name", flat=True)) == {"Website"}
    assert set(Campaign.objects.values_list("name", flat=True)) == {"Spring webinar"}


def test_source_update_service_refuses_reps(rep, web):
    with pytest.raises(PermissionDenied):
        source_update(actor=rep, source=web, values={"name": "Mine"})


def test_settings_index_links_sources_and_campaigns(client_for, rep):
    html = client_for(rep).get(reverse("settings")).content.decode()
    assert reverse("source-list") in html and reverse("campaign-list") in html


# Sources -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", EDITORS)
def test_editors_add_and_rename_sources(request, client_for, persona):
    user = request.getfixturevalue(persona)
    client = client_for(user)
    response = client.post(reverse("source-create"), {"name": " Partners ", "kind": "referral"})
    assert response.status_code == 302
    source = Source.objects.get(name="Partners")
    assert source.kind == Source.Kind.REFERRAL
    assert Event.objects.get(verb="source.created", object_id=source.pk).actor == user

    response = client.post(
        reverse("source-edit", args=[source.pk]), {"name": "Partner network", "kind": "referral"}
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.name == "Partner network"
    event = Event.objects.get(verb="source.updated", object_id=source.pk)
    assert (event.before, event.after) == ({"name": "Partners"}, {"name": "Partner network"})


def test_source_names_are_unique_whatever_the_case(client_for, marketer, web, fair):
    client = client_for(marketer)
    response = client.post(reverse("source-create"), {"name": "WEBSITE", "kind": "manual"})
    assert response.status_code == 400
    assert errors_on(response, "name")
    response = client.post(
        reverse("source-edit", args=[fair.pk]), {"name": "website", "kind": "event"}
    )
    assert response.status_code == 400
    assert errors_on(response, "name")
    assert 'class="field has-error' in response.content.decode()
    fair.refresh_from_db()
    assert fair.name == "Trade fair"


def test_lead_counts_per_source_are_right_and_link_to_the_leads(
    client_for, admin, marketer, rep, other_rep, web, fair
):
    for _ in range(3):
        make_lead(rep, source=web)
    make_lead(other_rep, source=web)
    make_lead(rep, source=fair)
    make_lead(rep)  # no source
    source_create(actor=marketer, name="Radio")

    response = client_for(admin).get(reverse("source-list"))
    counts = {source.name: source.lead_count for source in response.context["sources"]}
    assert counts == {"Website": 4, "Trade fair": 1, "Radio": 0}
    html = response.content.decode()
    link = f"{reverse('lead-list')}?source={web.pk}"
    assert f'href="{link}"' in html
    leads = client_for(admin).get(link).context["listing"]
    assert leads.total == 4

    # A rep counts what their lead list shows: their own leads, not the other team's.
    response = client_for(rep).get(reverse("source-list"))
    counts = {source.name: source.lead_count for source in response.context["sources"]}
    assert counts == {"Website": 3, "Trade fair": 1, "Radio": 0}


def test_source_list_query_count_does_not_grow_with_rows(
    client_for, marketer, rep, django_assert_max_num_queries
):
    client = client_for(marketer)
    for n in range(2):
        make_lead(rep, source=source_create(actor=marketer, name=f"Source {n}"))
    with django_assert_max_num_queries(6) as few:
        client.get(reverse("source-list"))
    for n in range(2, 30):
        source = source_create(actor=marketer, name=f"Source {n}")
        campaign_create(actor=marketer, name=f"Campaign {n}", source=source)
        make_lead(rep, source=source)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("source-list"))
    assert len(response.context["sources"]) == 30


def test_empty_source_list_offers_the_first_step(client_for, marketer, rep):
    html = client_for(marketer).get(reverse("source-list")).content.decode()
    assert "No sources yet" in html and reverse("source-create") in html
    html = client_for(rep).get(reverse("source-list")).content.decode()
    assert "No sources yet" in html and reverse("source-create") not in html


# Campaigns -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", EDITORS)
def test_editors_add_and_edit_campaigns(request, client_for, persona, web):
    user = request.getfixturevalue(persona)
    client = client_for(user)
    response = client.post(reverse("campaign-create"), campaign_data(source=web.pk))
    assert response.status_code == 302
    campaign = Campaign.objects.get(name="Autumn newsletter")
    assert campaign.source == web and campaign.cost == Decimal("500.00")
    assert campaign.ends_on == datetime.date(2026, 9, 30)
    assert Event.objects.get(verb="campaign.created", object_id=campaign.pk).actor == user

    response = client.post(
        reverse("campaign-edit", args=[campaign.pk]), campaign_data(source=web.pk, cost="750")
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.cost == Decimal("750.00")
    event = Event.objects.get(verb="campaign.updated", object_id=campaign.pk)
    assert event.before["cost"] == "500.00" and event.after["cost"] == "750.00"


def test_cost_can_be_typed_the_polish_way(client_for, marketer):
    marketer.language = "pl"
    marketer.save(update_fields=["language"])
    response = client_for(marketer).post(
        reverse("campaign-create"), campaign_data(cost="12 500,50", currency="PLN")
    )
    assert response.status_code == 302
    assert Campaign.objects.get().cost == Decimal("12500.50")


def test_empty_cost_means_nothing_spent_yet(client_for, marketer):
    response = client_for(marketer).post(reverse("campaign-create"), campaign_data(cost=""))
    assert response.status_code == 302
    assert Campaign.objects.get().cost == Decimal("0")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"starts_on": "2026-09-10", "ends_on": "2026-09-01"}, "ends_on"),
        ({"cost": "-1"}, "cost"),
        ({"cost": "1" * 20}, "cost"),
        ({"cost": "abc"}, "cost"),
        ({"name": "spring WEBINAR"}, "name"),
        ({"name": ""}, "name"),
        ({"starts_on": "31.02.2026"}, "starts_on"),
    ],
)
def test_bad_campaign_input_is_a_field_error_not_a_crash(
    client_for, marketer, webinar, changes, field
):
    client = client_for(marketer)
    response = client.post(reverse("campaign-create"), campaign_data(**changes))
    assert response.status_code == 400
    assert errors_on(response, field)
    assert Campaign.objects.count() == 1
    # The same input on the edit form is refused the same way, and nothing changes.
    other = campaign_create(actor=marketer, name="Other")
    response = client.post(
        reverse("campaign-edit", args=[other.pk]), campaign_data(**{"name": "Other", **changes})
    )
    assert response.status_code == 400
    assert errors_on(response, field)
    other.refresh_from_db()
    assert other.name == "Other" and other.cost == 0


def test_campaign_list_counts_leads_shows_cost_and_links_to_the_leads(
    client_for, admin, marketer, rep, webinar
):
    make_lead(rep, campaign=webinar)
    make_lead(rep, campaign=webinar)
    make_lead(rep, campaign=webinar)
    make_lead(rep)
    free = campaign_create(actor=marketer, name="Word of mouth")
    response = client_for(admin).get(reverse("campaign-list"))
    rows = {c.name: c for c in response.context["campaigns"]}
    assert rows["Spring webinar"].lead_count == 3
    assert rows["Spring webinar"].cost_per_lead == Decimal("400.00")
    assert rows["Word of mouth"].lead_count == 0 and rows["Word of mouth"].cost_per_lead is None
    html = response.content.decode()
    assert f'href="{reverse("lead-list")}?campaign={webinar.pk}"' in html
    assert '<td class="num">PLN\xa01,200.00</td>' in html
    assert client_for(admin).get(f"{reverse('lead-list')}?campaign={free.pk}").status_code == 200


def test_campaign_list_query_count_does_not_grow_with_rows(
    client_for, marketer, rep, web, django_assert_max_num_queries
):
    client = client_for(rep)
    make_lead(rep, campaign=campaign_create(actor=marketer, name="First", source=web))
    with django_assert_max_num_queries(7) as few:
        client.get(reverse("campaign-list"))
    for n in range(30):
        make_lead(rep, campaign=campaign_create(actor=marketer, name=f"Campaign {n}", source=web))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("campaign-list"))
    assert len(response.context["campaigns"]) == 31


def test_empty_campaign_list_offers_the_first_step(client_for, marketer):
    html = client_for(marketer).get(reverse("campaign-list")).content.decode()
    assert "No campaigns yet" in html and reverse("campaign-create") in html
