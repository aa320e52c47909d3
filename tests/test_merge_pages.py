"""The duplicates pages, merged ids on record pages and in the API, and the merge endpoints."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from lejek.activities.models import Activity
from lejek.contacts.merge import record_merge
from lejek.contacts.models import Company, Contact, Merge
from lejek.leads.models import Lead
from tests.factories import make_activity, make_company, make_contact, make_lead
from tests.test_api_support import Api, assert_problem


def compare_url(kind: str, a, b) -> str:
    return reverse("merge-compare", args=[kind, a.pk, b.pk])


# The finder page ----------------------------------------------------------------------------


def test_finder_page_shows_groups_with_their_reason_and_a_merge_link(client_for, rep):
    a = make_contact(rep, last_name="Nowak", email="anna@acme.pl")
    b = make_contact(rep, last_name="Nowakowska", email="anna@acme.pl")

    response = client_for(rep).get(reverse("duplicate-list"), {"kind": "contact"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Same e-mail" in page and "anna@acme.pl" in page
    assert compare_url("contact", a, b) in page


def test_finder_page_offers_marketing_the_leads_tab_only(client_for, marketer, rep):
    make_lead(rep, email="same@acme.pl", dedupe=False)
    make_lead(rep, email="same@acme.pl", dedupe=False)
    client = client_for(marketer)

    response = client.get(reverse("duplicate-list"))

    assert response.status_code == 200
    assert response.context["kind"] == "lead"
    assert [code for code, _label in response.context["tabs"]] == ["lead"]
    assert len(response.context["groups"]) == 1
    assert client.get(reverse("duplicate-list"), {"kind": "contact"}).status_code == 404


def test_finder_page_says_what_belongs_there_when_nothing_is_found(client_for, rep):
    response = client_for(rep).get(reverse("duplicate-list"), {"kind": "company"})

    assert "No likely duplicates here" in response.content.decode()


def test_finder_page_query_count_stays_flat(client_for, rep, django_assert_max_num_queries):
    for n in range(15):
        make_company(rep, name=f"Orbis {n}", nip="", domain=f"orbis{n}.pl")
        make_company(rep, name=f"Orbis Group {n}", domain=f"orbis{n}.pl")
    client = client_for(rep)

    with django_assert_max_num_queries(20):
        response = client.get(reverse("duplicate-list"), {"kind": "company"})

    assert len(response.context["groups"]) == 15


# The merge page -----------------------------------------------------------------------------


def test_merge_page_shows_both_records_and_which_fields_fill_in(client_for, rep):
    a = make_contact(rep, title="")
    b = make_contact(rep, title="CEO")

    response = client_for(rep).get(compare_url("contact", a, b), {"survivor": a.pk})

    assert response.status_code == 200
    rows = {row.label: row for row in response.context["rows"]}
    assert rows["Job title"].fills and rows["Job title"].second == "CEO"
    assert not rows["Last name"].fills


def test_confirming_the_merge_keeps_the_chosen_record_and_goes_to_it(client_for, rep):
    a = make_contact(rep)
    b = make_contact(rep, title="CEO")
    make_activity(rep, a)

    response = client_for(rep).post(compare_url("contact", a, b), {"survivor": b.pk})

    assert response.status_code == 302
    assert response["Location"] == b.get_absolute_url()
    assert not Contact.objects.filter(pk=a.pk).exists()
    assert Activity.objects.get().contact_id == b.pk


def test_rep_cannot_merge_a_teammates_record_through_the_page(client_for, rep, teammate):
    mine = make_lead(rep)
    theirs = make_lead(teammate)
    client = client_for(rep)

    assert client.get(compare_url("lead", mine, theirs)).status_code == 404
    assert client.post(compare_url("lead", mine, theirs), {"survivor": mine.pk}).status_code == 404
    assert Lead.objects.filter(pk=theirs.pk).exists()


def test_manager_cannot_merge_a_record_of_another_team(client_for, manager, rep, other_rep):
    ours = make_contact(rep)
    elsewhere = make_contact(other_rep)

    response = client_for(manager).post(
        compare_url("contact", ours, elsewhere), {"survivor": ours.pk}
    )

    assert response.status_code == 404
    assert Contact.objects.filter(pk=elsewhere.pk).exists()


def test_stranger_cannot_merge_through_the_page(client_for, rep, other_rep):
    a, b = make_company(rep), make_company(rep)

    response = client_for(other_rep).post(compare_url("company", a, b), {"survivor": a.pk})

    assert response.status_code == 404
    assert Company.objects.filter(pk__in=[a.pk, b.pk]).count() == 2


def test_marketing_may_not_merge_contacts_it_can_only_read(client_for, marketer, rep):
    a, b = make_contact(rep), make_contact(rep)

    response = client_for(marketer).post(compare_url("contact", a, b), {"survivor": a.pk})

    assert response.status_code == 403
    assert Contact.objects.filter(pk__in=[a.pk, b.pk]).count() == 2


def test_merge_page_for_a_record_merged_meanwhile_says_so(client_for, rep):
    a, b, c = make_lead(rep), make_lead(rep), make_lead(rep)
    record_merge(actor=rep, survivor=a, other=b)

    response = client_for(rep).post(compare_url("lead", c, b), {"survivor": c.pk}, follow=True)

    assert response.status_code == 200
    assert "has already been merged" in response.content.decode()
    assert Lead.objects.filter(pk=c.pk).exists()


# Old ids on record pages --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "url_name"),
    [
        (make_lead, "lead-detail"),
        (make_contact, "contact-detail"),
        (make_company, "company-detail"),
    ],
)
def test_a_merged_id_redirects_to_the_survivor_with_a_note(client_for, rep, make, url_name):
    survivor, other = make(rep), make(rep)
    record_merge(actor=rep, survivor=survivor, other=other)

    response = client_for(rep).get(reverse(url_name, args=[other.pk]), follow=True)

    assert response.redirect_chain[0] == (survivor.get_absolute_url(), 302)
    assert "This record was merged into" in response.content.decode()


def test_an_id_merged_twice_still_resolves_to_the_last_survivor(client_for, rep):
    a, b, c = make_lead(rep), make_lead(rep), make_lead(rep)
    record_merge(actor=rep, survivor=b, other=a)
    record_merge(actor=rep, survivor=c, other=b)

    response = client_for(rep).get(reverse("lead-detail", args=[a.pk]))

    assert response.status_code == 302
    assert response["Location"] == c.get_absolute_url()


def test_a_merged_id_stays_not_found_for_someone_who_cannot_see_the_survivor(
    client_for, rep, other_rep
):
    survivor, other = make_contact(rep), make_contact(rep)
    record_merge(actor=rep, survivor=survivor, other=other)

    response = client_for(other_rep).get(reverse("contact-detail", args=[other.pk]))

    assert response.status_code == 404


# History and undo ---------------------------------------------------------------------------


def test_merge_history_lists_the_merge_and_undo_brings_the_record_back(client_for, rep):
    survivor, other = make_company(rep, name="Acme"), make_company(rep, name="Acme S.A.")
    merge = record_merge(actor=rep, survivor=survivor, other=other)
    client = client_for(rep)

    page = client.get(reverse("merge-list")).content.decode()
    assert "Acme S.A." in page and reverse("merge-undo", args=[merge.pk]) in page

    response = client.post(reverse("merge-undo", args=[merge.pk]))

    assert response.status_code == 302
    assert response["Location"] == other.get_absolute_url()
    assert Company.objects.filter(pk=other.pk).exists()
    merge.refresh_from_db()
    assert merge.undone_by == rep


def test_an_old_merge_has_no_undo_button_and_undo_is_refused(client_for, rep):
    merge = record_merge(actor=rep, survivor=make_lead(rep), other=make_lead(rep))
    Merge.objects.filter(pk=merge.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=31)
    )
    client = client_for(rep)

    page = client.get(reverse("merge-list")).content.decode()
    assert "no longer undoable" in page

    response = client.post(reverse("merge-undo", args=[merge.pk]), follow=True)
    assert "can be undone for 30 days" in response.content.decode()
    assert not Lead.objects.filter(pk=merge.merged_id).exists()


def test_others_merges_are_hidden_from_a_stranger(client_for, rep, other_rep):
    merge = record_merge(actor=rep, survivor=make_lead(rep), other=make_lead(rep))
    client = client_for(other_rep)

    assert client.get(reverse("merge-list")).context["entries"] == []
    assert client.post(reverse("merge-undo", args=[merge.pk])).status_code == 404


# The API ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "path"),
    [(make_lead, "/leads"), (make_contact, "/contacts"), (make_company, "/companies")],
)
def test_api_answers_a_merged_id_with_a_permanent_redirect_to_the_survivor(rep, make, path):
    survivor, other = make(rep), make(rep)
    record_merge(actor=rep, survivor=survivor, other=other)
    api = Api(rep)

    response = api.get(f"{path}/{other.pk}")

    assert response.status_code == 308
    assert response["Location"] == f"/api/v1{path}/{survivor.pk}"
    assert api.get(response["Location"].removeprefix("/api/v1")).json()["id"] == survivor.pk


def test_api_merged_id_is_404_for_someone_who_cannot_see_the_survivor(rep, other_rep):
    survivor, other = make_lead(rep), make_lead(rep)
    record_merge(actor=rep, survivor=survivor, other=other)

    assert_problem(Api(other_rep).get(f"/leads/{other.pk}"), 404)


def test_api_merges_a_contact_into_another(rep):
    survivor, other = make_contact(rep, title=""), make_contact(rep, title="CEO")
    make_activity(rep, other)

    response = Api(rep).post(f"/contacts/{survivor.pk}/merge", {"other": other.pk})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["survivor"], body["merged"]) == (survivor.pk, other.pk)
    assert "title" in body["filled"]
    assert body["moved"]["activities.activity.contact"] == 1
    assert not Contact.objects.filter(pk=other.pk).exists()


def test_api_refuses_merging_a_record_into_itself_or_someone_elses(rep, teammate):
    lead = make_lead(rep)
    theirs = make_lead(teammate)
    api = Api(rep)

    assert_problem(api.post(f"/leads/{lead.pk}/merge", {"other": lead.pk}), 422)
    assert_problem(api.post(f"/leads/{lead.pk}/merge", {"other": theirs.pk}), 422)
    assert Lead.objects.filter(pk__in=[lead.pk, theirs.pk]).count() == 2


def test_api_merge_of_a_company_the_caller_may_only_read_is_forbidden(marketer, rep):
    a, b = make_company(rep), make_company(rep)

    assert_problem(Api(marketer).post(f"/companies/{a.pk}/merge", {"other": b.pk}), 403)


# "Merge with…" ------------------------------------------------------------------------------


def test_merge_with_page_suggests_likely_duplicates_and_finds_others_by_search(client_for, rep):
    record = make_contact(rep, last_name="Nowak", email="anna@acme.pl")
    twin = make_contact(rep, last_name="Nowakowska", email="anna@acme.pl")
    unrelated = make_contact(rep, last_name="Zielińska", email="z@acme.pl")
    url = reverse("merge-pick", args=["contact", record.pk])
    client = client_for(rep)

    suggested = client.get(url)
    searched = client.get(url, {"q": "zieli"})

    assert [r for _reason, r in suggested.context["suggestions"]] == [twin]
    assert compare_url("contact", record, twin) in suggested.content.decode()
    assert searched.context["results"] == [unrelated]


def test_merge_with_page_is_forbidden_for_a_record_the_user_may_only_read(
    client_for, marketer, rep
):
    company = make_company(rep)

    response = client_for(marketer).get(reverse("merge-pick", args=["company", company.pk]))

    assert response.status_code == 403


def test_history_shows_no_undo_button_to_someone_who_may_only_read_the_record(
    client_for, marketer, rep
):
    merge = record_merge(actor=rep, survivor=make_contact(rep), other=make_contact(rep))

    page = client_for(marketer).get(reverse("merge-list")).content.decode()

    assert "undo needs the right to change the record" in page
    assert reverse("merge-undo", args=[merge.pk]) not in page
