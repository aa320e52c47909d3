"""Record pages for leads, contacts, companies and deals: lists, detail pages and forms."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from lejek.contacts.models import Company, Contact
from lejek.core.models import CustomField, Event
from lejek.leads.models import Lead
from lejek.pipeline.models import Deal, StageChange
from tests.factories import make_company, make_contact, make_deal, make_lead


def text(response) -> str:
    return response.content.decode()


def version_of(response) -> str:
    return re.search(r'name="version" value="(\d+)"', text(response)).group(1)


# Lists ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "make"),
    [
        ("lead-list", lambda user, name, pipeline: make_lead(user, last_name=name)),
        ("contact-list", lambda user, name, pipeline: make_contact(user, last_name=name)),
        ("company-list", lambda user, name, pipeline: make_company(user, name=name)),
        ("deal-list", lambda user, name, pipeline: make_deal(user, pipeline, title=name)),
    ],
)
def test_list_shows_only_visible_rows(client_for, rep, other_rep, pipeline, url_name, make):
    make(rep, "Visible-Record", pipeline)
    make(other_rep, "Hidden-Record", pipeline)
    response = client_for(rep).get(reverse(url_name))
    assert response.status_code == 200
    assert "Visible-Record" in text(response)
    assert "Hidden-Record" not in text(response)


@pytest.mark.parametrize("url_name", ["lead-list", "contact-list", "company-list", "deal-list"])
def test_empty_list_offers_a_first_step(client_for, rep, url_name):
    response = client_for(rep).get(reverse(url_name))
    assert response.status_code == 200
    assert "lejek import" in text(response)
    create = {"lead-list": "lead-create", "contact-list": "contact-create"}
    create |= {"company-list": "company-create", "deal-list": "deal-create"}
    assert f'href="{reverse(create[url_name])}"' in text(response)


def test_lead_list_search_filter_sort_and_chips(client_for, rep):
    make_lead(rep, first_name="Anna", last_name="Zielińska", status=Lead.Status.MQL)
    make_lead(rep, first_name="Adam", last_name="Zając", status=Lead.Status.MQL)
    make_lead(rep, first_name="Piotr", last_name="Zieliński", status=Lead.Status.NEW)
    response = client_for(rep).get(reverse("lead-list"), {"q": "ziel", "status": "mql"})
    body = text(response)
    assert "Anna Zielińska" in body
    assert "Adam Zając" not in body and "Piotr Zieliński" not in body
    assert "Search: “ziel”" in body and "Status: Marketing-qualified" in body
    assert "1 lead" in body

    sorted_page = text(client_for(rep).get(reverse("lead-list"), {"sort": "name"}))
    assert sorted_page.index("Adam Zając") < sorted_page.index("Anna Zielińska")
    assert 'aria-sort="ascending"' in sorted_page


def test_list_pages_fifty_rows_at_a_time(client_for, rep):
    for _ in range(51):
        make_lead(rep)
    first = text(client_for(rep).get(reverse("lead-list")))
    assert len(re.findall(r'<td><a href="/leads/\d+/">', first)) == 50
    assert "1\u201350 of 51" in first and 'rel="next"' in first
    second = text(client_for(rep).get(reverse("lead-list"), {"page": 2}))
    assert len(re.findall(r'<td><a href="/leads/\d+/">', second)) == 1
    assert "51\u201351 of 51" in second and 'rel="prev"' in second


def test_blank_form_fields_are_dropped_from_the_address(client_for, rep):
    response = client_for(rep).get(reverse("lead-list"), {"q": "", "owner": "me", "status": ""})
    assert response.status_code == 302
    assert response["Location"] == "/leads/?owner=me"


def test_htmx_request_gets_only_the_results_partial(client_for, rep):
    make_lead(rep, last_name="Partial")
    response = client_for(rep).get(
        reverse("lead-list"), {"q": "partial", "owner": ""}, headers={"HX-Request": "true"}
    )
    body = text(response)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="list-results"')
    assert "<html" not in body and "Jan Partial" in body
    assert response["HX-Push-Url"] == "/leads/?q=partial"
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    "query",
    [
        "owner=x&team=y&source=%00&campaign=-1",
        "created_from=2024-99-99&created_to=nope&page=1e999",
        "sort=;drop table&page=-1&cf_missing=1",
        "stage=abc&pipeline=9999999999999999999999&state=maybe&lead=0",
        "company=1%27&contact=%F0%9F%98%80",
    ],
)
@pytest.mark.parametrize("url_name", ["lead-list", "contact-list", "company-list", "deal-list"])
def test_bad_query_parameters_do_not_fail(client_for, rep, pipeline, url_name, query):
    make_deal(rep, pipeline)
    response = client_for(rep).get(f"{reverse(url_name)}?{query}")
    assert response.status_code == 200


def test_list_query_count_does_not_grow_with_rows(
    client_for, manager, rep, pipeline, django_assert_max_num_queries
):
    CustomField.objects.create(entity="deal", key="size", label="Size", type="number")
    client = client_for(manager)

    def add_deals(count: int) -> None:
        for n in range(count):
            make_deal(rep, pipeline, company=make_company(rep), amount=n, custom={"size": 5})

    add_deals(3)
    with django_assert_max_num_queries(20) as baseline:
        response = client.get(reverse("deal-list"), {"cf_size_min": "1", "sort": "company"})
    assert text(response).count('<td><a href="/deals/') == 3
    add_deals(30)
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        response = client.get(reverse("deal-list"), {"cf_size_min": "1", "sort": "company"})
    assert text(response).count('<td><a href="/deals/') == 33


def test_custom_field_filter_control_is_offered_and_applied(client_for, rep):
    CustomField.objects.create(
        entity="company", key="tier", label="Tier", type="choice", choices=["Gold", "Silver"]
    )
    make_company(rep, name="Golden Ltd", custom={"tier": "Gold"})
    make_company(rep, name="Silver Ltd", custom={"tier": "Silver"})
    page = text(client_for(rep).get(reverse("company-list")))
    assert 'name="cf_tier"' in page and '<option value="Gold">Gold</option>' in page
    filtered = text(client_for(rep).get(reverse("company-list"), {"cf_tier": "Gold"}))
    assert "Golden Ltd" in filtered and "Silver Ltd" not in filtered
    assert "Tier: Gold" in filtered


# Detail pages -----------------------------------------------------------------------------


def test_rep_cannot_open_other_teams_records(client_for, rep, other_rep, pipeline):
    client = client_for(rep)
    lead = make_lead(other_rep)
    contact = make_contact(other_rep)
    company = make_company(other_rep)
    deal = make_deal(other_rep, pipeline)
    for url in (
        reverse("lead-detail", args=[lead.pk]),
        reverse("lead-edit", args=[lead.pk]),
        reverse("contact-detail", args=[contact.pk]),
        reverse("company-detail", args=[company.pk]),
        reverse("company-delete", args=[company.pk]),
        reverse("deal-detail", args=[deal.pk]),
        reverse("deal-edit", args=[deal.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("deal-move", args=[deal.pk]), {}).status_code == 404


def test_lead_page_shows_fields_custom_fields_timeline_and_visible_relations(
    client_for, rep, other_rep, pipeline
):
    CustomField.objects.create(entity="lead", key="budget", label="Budget", type="decimal")
    CustomField.objects.create(entity="lead", key="vip", label="VIP", type="boolean")
    company = make_company(rep, name="Alfa Sp. z o.o.")
    hidden_contact = make_contact(other_rep, last_name="Secret")
    lead = make_lead(
        rep,
        first_name="Ola",
        last_name="Nowak",
        company=company,
        contact=hidden_contact,
        custom={"budget": "1500"},
    )
    make_deal(rep, pipeline, title="Alfa rollout", lead=lead)
    make_deal(other_rep, pipeline, title="Not yours", lead=lead)
    body = text(client_for(rep).get(reverse("lead-detail", args=[lead.pk])))
    assert "<h1>Ola Nowak</h1>" in body
    assert "Budget" in body and "1500.00" in body
    assert "VIP" in body  # unset custom fields still show their label
    assert 'id="timeline"' in body
    assert "Alfa Sp. z o.o." in body and "Alfa rollout" in body
    assert "Not yours" not in body and "Secret" not in body
    assert reverse("lead-edit", args=[lead.pk]) in body


def test_company_page_lists_related_contacts_deals_and_leads(client_for, rep, pipeline):
    company = make_company(rep, name="Beta SA")
    make_contact(rep, last_name="Kowal", company=company)
    make_deal(rep, pipeline, title="Beta deal", company=company)
    make_lead(rep, last_name="Beta lead", company=company)
    body = text(client_for(rep).get(reverse("company-detail", args=[company.pk])))
    assert "Anna Kowal" in body and "Beta deal" in body and "Jan Beta lead" in body
    assert f"{reverse('contact-create')}?company={company.pk}" in body


def test_marketer_reads_a_deal_without_edit_actions(client_for, marketer, rep, pipeline):
    deal = make_deal(rep, pipeline)
    client = client_for(marketer)
    body = text(client.get(reverse("deal-detail", args=[deal.pk])))
    assert reverse("deal-edit", args=[deal.pk]) not in body
    assert reverse("deal-move", args=[deal.pk]) not in body
    assert client.get(reverse("deal-edit", args=[deal.pk])).status_code == 403
    assert client.get(reverse("deal-create")).status_code == 403


# Forms ------------------------------------------------------------------------------------


def test_lead_create_with_errors_rerenders_with_messages(client_for, rep):
    response = client_for(rep).post(reverse("lead-create"), {"email": "not-an-email"})
    assert response.status_code == 200
    assert "Enter a valid email address." in text(response)
    assert 'value="not-an-email"' in text(response)
    empty = client_for(rep).post(reverse("lead-create"), {"status": "new"})
    assert "Give the lead a name, an e-mail address or a company." in text(empty)
    assert not Lead.objects.exists()


def test_service_errors_land_on_their_fields(rep):
    from django.core.exceptions import ValidationError

    from lejek.contacts.forms import save_through
    from lejek.leads.forms import LeadForm

    CustomField.objects.create(entity="lead", key="size", label="Size", type="number")
    form = LeadForm({"last_name": "X", "status": "new"}, user=rep)
    assert form.is_valid(), form.errors

    def refuse():
        raise ValidationError(
            {"custom.size": ["Too big."], "owner": ["Not yours."], "__all__": ["Nope."]}
        )

    assert save_through(form, refuse) is None
    assert form.errors["cf_size"] == ["Too big."]
    assert form.errors["owner"] == ["Not yours."]
    assert form.non_field_errors() == ["Nope."]


def test_history_restore_gets_the_full_page(client_for, rep):
    response = client_for(rep).get(
        reverse("lead-list"), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in text(response)


def test_lead_create_saves_through_the_service_and_redirects(client_for, rep):
    CustomField.objects.create(entity="lead", key="size", label="Size", type="number")
    response = client_for(rep).post(
        reverse("lead-create"),
        {"first_name": "Ida", "last_name": "Lis", "status": "new", "cf_size": "40"},
        follow=True,
    )
    lead = Lead.objects.get()
    assert response.redirect_chain[-1][0] == lead.get_absolute_url()
    assert "Lead “Ida Lis” created." in text(response)
    assert lead.owner == rep and lead.custom == {"size": 40}
    assert Event.objects.filter(verb="lead.created", object_id=lead.pk).exists()


def test_owner_choices_follow_the_role(client_for, rep, teammate, manager, other_rep, admin):
    rep_form = text(client_for(rep).get(reverse("lead-create")))
    owners = re.search(r'<select name="owner".*?</select>', rep_form, re.S).group(0)
    assert "Rita Rep" in owners and "Tom Teammate" not in owners
    manager_form = text(client_for(manager).get(reverse("lead-create")))
    owners = re.search(r'<select name="owner".*?</select>', manager_form, re.S).group(0)
    assert "Tom Teammate" in owners and "Oskar Other" not in owners
    admin_form = text(client_for(admin).get(reverse("lead-create")))
    owners = re.search(r'<select name="owner".*?</select>', admin_form, re.S).group(0)
    assert "Oskar Other" in owners and "Tom Teammate" in owners


def test_rep_cannot_hand_a_lead_to_another_team(client_for, rep, other_rep):
    response = client_for(rep).post(
        reverse("lead-create"), {"last_name": "X", "status": "new", "owner": other_rep.pk}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in text(response)
    assert not Lead.objects.exists()


def test_company_select_offers_only_visible_companies(client_for, rep, other_rep):
    make_company(rep, name="Ours Sp. z o.o.")
    make_company(other_rep, name="Theirs Sp. z o.o.")
    body = text(client_for(rep).get(reverse("contact-create")))
    assert "Ours Sp. z o.o." in body and "Theirs Sp. z o.o." not in body


def test_edit_conflict_keeps_first_change_and_tells_the_second(client_for, rep, manager):
    lead = make_lead(rep, title="Buyer")
    url = reverse("lead-edit", args=[lead.pk])
    first, second = client_for(rep), client_for(manager)
    version = version_of(first.get(url))
    assert version_of(second.get(url)) == version
    data = {"first_name": "Jan", "last_name": lead.last_name, "status": "new", "team": lead.team_id}
    saved = first.post(url, {**data, "title": "CEO", "owner": rep.pk, "version": version})
    assert saved.status_code == 302
    refused = second.post(url, {**data, "title": "CTO", "owner": rep.pk, "version": version})
    assert refused.status_code == 200
    assert "Someone else changed this record" in text(refused)
    assert 'value="CTO"' in text(refused)
    assert Lead.objects.get(pk=lead.pk).title == "CEO"


def test_custom_field_shown_on_edit_form_and_bad_value_reported_next_to_it(client_for, rep):
    CustomField.objects.create(entity="contact", key="shoe", label="Shoe size", type="number")
    contact = make_contact(rep, last_name="Fit", custom={"shoe": 41})
    url = reverse("contact-edit", args=[contact.pk])
    client = client_for(rep)
    form = text(client.get(url))
    assert re.search(r'name="cf_shoe" value="41"', form)
    assert "Shoe size" in text(client.get(reverse("contact-detail", args=[contact.pk])))
    data = {"last_name": "Fit", "owner": rep.pk, "team": contact.team_id}
    bad = client.post(url, {**data, "cf_shoe": "big", "version": contact.version})
    assert bad.status_code == 200
    assert re.search(r'has-error">\s*<label for="id_cf_shoe"', text(bad))
    assert "Enter a whole number." in text(bad)


def test_custom_field_edit_is_saved(client_for, rep):
    CustomField.objects.create(entity="contact", key="shoe", label="Shoe size", type="number")
    contact = make_contact(rep, last_name="Fit")
    url = reverse("contact-edit", args=[contact.pk])
    client = client_for(rep)
    data = {"last_name": "Fit", "owner": rep.pk, "team": contact.team_id}
    response = client.post(url, {**data, "cf_shoe": "44", "version": contact.version})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.custom == {"shoe": 44}


def test_company_nip_is_normalised_and_checked(client_for, rep):
    client = client_for(rep)
    ok = client.post(
        reverse("company-create"), {"name": "Gamma", "nip": "PL 123-456-32-18", "country": "pl"}
    )
    assert ok.status_code == 302
    assert Company.objects.get().nip == "1234563218"
    bad = client.post(reverse("company-create"), {"name": "Delta", "nip": "12345", "country": "PL"})
    assert "A NIP has 10 digits." in text(bad)


def test_delete_asks_then_deletes_through_the_service(client_for, rep):
    contact = make_contact(rep)
    client = client_for(rep)
    url = reverse("contact-delete", args=[contact.pk])
    assert "cannot be undone" in text(client.get(url))
    assert Contact.objects.filter(pk=contact.pk).exists()
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("contact-list")
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert Event.objects.filter(verb="contact.deleted", object_id=contact.pk).exists()


def test_deal_create_with_pipeline_and_initial_stage(client_for, rep, pipeline):
    proposal = pipeline.stages.get(name="Proposal")
    client = client_for(rep)
    form = text(client.get(reverse("deal-create")))
    assert '<optgroup label="New business">' in form
    response = client.post(
        reverse("deal-create"),
        {
            "title": "Big one",
            "pipeline": pipeline.pk,
            "stage": proposal.pk,
            "amount": "12,500.50",
            "currency": "PLN",
            "owner": rep.pk,
        },
    )
    deal = Deal.objects.get()
    assert response.status_code == 302 and response["Location"] == deal.get_absolute_url()
    assert deal.stage == proposal and str(deal.amount) == "12500.50"
    page = text(client.get(deal.get_absolute_url()))
    assert "12,500.50" in page


def test_deal_move_records_a_stage_change(client_for, rep, pipeline):
    deal = make_deal(rep, pipeline)
    proposal = pipeline.stages.get(name="Proposal")
    client = client_for(rep)
    response = client.post(
        reverse("deal-move", args=[deal.pk]), {"stage": proposal.pk, "version": deal.version}
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == proposal
    change = StageChange.objects.filter(deal=deal).latest("id")
    assert change.to_stage == proposal and change.actor == rep


def test_deal_move_to_lost_asks_for_a_reason(client_for, rep, pipeline):
    deal = make_deal(rep, pipeline)
    lost = pipeline.stages.get(is_lost=True)
    client = client_for(rep)
    url = reverse("deal-move", args=[deal.pk])
    asked = client.post(url, {"stage": lost.pk, "version": deal.version})
    assert asked.status_code == 200
    assert "Say why the deal was lost." in text(asked)
    assert "needs-reason" in text(asked)
    assert Deal.objects.get(pk=deal.pk).stage_id == deal.stage_id
    done = client.post(url, {"stage": lost.pk, "version": deal.version, "lost_reason": "Price"})
    assert done.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == lost and deal.lost_reason == "Price"


def test_deal_move_from_a_stale_page_is_refused(client_for, rep, pipeline):
    deal = make_deal(rep, pipeline)
    proposal = pipeline.stages.get(name="Proposal")
    negotiation = pipeline.stages.get(name="Negotiation")
    client = client_for(rep)
    url = reverse("deal-move", args=[deal.pk])
    client.post(url, {"stage": proposal.pk, "version": deal.version})
    stale = client.post(url, {"stage": negotiation.pk, "version": deal.version})
    assert stale.status_code == 200
    assert "Someone else changed this record" in text(stale)
    assert Deal.objects.get(pk=deal.pk).stage == proposal


def test_deal_edit_cannot_touch_other_pipelines_stage(client_for, rep, pipeline):
    deal = make_deal(rep, pipeline, title="Old title")
    client = client_for(rep)
    url = reverse("deal-edit", args=[deal.pk])
    form = text(client.get(url))
    assert 'name="stage"' not in form and 'name="pipeline"' not in form
    response = client.post(
        url,
        {"title": "New title", "currency": "PLN", "owner": rep.pk, "team": deal.team_id}
        | {"version": version_of(client.get(url))},
    )
    assert response.status_code == 302
    assert Deal.objects.get(pk=deal.pk).title == "New title"
