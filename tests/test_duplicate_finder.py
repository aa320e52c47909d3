"""The duplicate finder: which records group together, for whom, in what order, per page."""

from __future__ import annotations

import pytest

from lejek.contacts import duplicates
from lejek.contacts.duplicates import duplicates_of, find_duplicates, finder_kinds
from tests.factories import make_company, make_contact, make_lead


def ids(group) -> set[int]:
    return {obj.pk for obj in group.records}


def groups_by_reason(page) -> dict[str, list[set[int]]]:
    found: dict[str, list[set[int]]] = {}
    for group in page.groups:
        found.setdefault(group.reason, []).append(ids(group))
    return found


# Contacts -----------------------------------------------------------------------------------


def test_contacts_with_the_same_email_phone_or_name_at_one_company_are_grouped(rep):
    acme = make_company(rep, name="Acme")
    a = make_contact(rep, email="anna@acme.pl")
    b = make_contact(rep, email="ANNA@acme.pl ")
    c = make_contact(rep, phone="601 234 567")
    d = make_contact(rep, phone="+48601234567")
    e = make_contact(rep, first_name="Jan", last_name="Kos", company=acme)
    f = make_contact(rep, first_name="jan", last_name="KOS", company=acme)
    make_contact(rep, first_name="Jan", last_name="Kos")  # no company: not a match
    make_contact(rep, email="solo@acme.pl")

    page = find_duplicates(rep, "contact")

    assert groups_by_reason(page) == {
        "same e-mail": [{a.pk, b.pk}],
        "same phone": [{c.pk, d.pk}],
        "same name and company": [{e.pk, f.pk}],
    }
    assert page.total == 3
    assert page.groups[0].label == "anna@acme.pl"


# Companies ----------------------------------------------------------------------------------


def test_companies_with_the_same_nip_domain_or_name_up_to_legal_form_are_grouped(rep):
    a = make_company(rep, name="Alpha", nip="526-025-02-74")
    b = make_company(rep, name="Beta", nip="PL5260250274")
    c = make_company(rep, name="Gamma", domain="https://www.gamma.pl/")
    d = make_company(rep, name="Gamma Trading", domain="gamma.pl")
    e = make_company(rep, name="Łódzkie Młyny Sp. z o.o.")
    f = make_company(rep, name="LODZKIE MLYNY spółka z ograniczoną odpowiedzialnością")
    make_company(rep, name="Łódzkie Młyny Północ")

    found = groups_by_reason(find_duplicates(rep, "company"))

    assert found == {
        "same NIP": [{a.pk, b.pk}],
        "same domain": [{c.pk, d.pk}],
        "same name": [{e.pk, f.pk}],
    }


def test_company_names_are_keyed_in_chunks_without_missing_a_pair(rep, monkeypatch):
    monkeypatch.setattr(duplicates, "NAME_CHUNK", 2)
    first = make_company(rep, name="Orbis S.A.")
    for n in range(5):
        make_company(rep, name=f"Filler {n}")
    last = make_company(rep, name="ORBIS SA")

    page = find_duplicates(rep, "company", reason="name")

    assert [ids(g) for g in page.groups] == [{first.pk, last.pk}]


# Leads --------------------------------------------------------------------------------------


def test_leads_group_by_email_and_phone_with_open_leads_first(rep):
    closed_a = make_lead(rep, email="old@acme.pl", status="converted", dedupe=False)
    closed_b = make_lead(rep, email="old@acme.pl", status="disqualified", dedupe=False)
    won = make_lead(rep, email="ewa@acme.pl", status="converted", dedupe=False)
    open_lead = make_lead(rep, email="ewa@acme.pl", dedupe=False)
    p1 = make_lead(rep, email="", phone="601 234 567", company_name="X", dedupe=False)
    p2 = make_lead(rep, email="", phone="601234567", company_name="Y", dedupe=False)

    page = find_duplicates(rep, "lead")

    emails = [g for g in page.groups if g.reason == "same e-mail"]
    assert [ids(g) for g in emails] == [{won.pk, open_lead.pk}, {closed_a.pk, closed_b.pk}]
    assert emails[0].records[0] == open_lead
    phones = [g for g in page.groups if g.reason == "same phone"]
    assert [ids(g) for g in phones] == [{p1.pk, p2.pk}]


# Who sees what ------------------------------------------------------------------------------


def test_a_rep_finds_only_duplicates_among_records_they_may_edit(rep, teammate, other_rep):
    mine = make_contact(rep, email="dup@acme.pl")
    make_contact(teammate, email="dup@acme.pl")
    make_contact(other_rep, email="dup@acme.pl")
    assert find_duplicates(rep, "contact").total == 0

    also_mine = make_contact(rep, email="dup@acme.pl")

    page = find_duplicates(rep, "contact")
    assert [ids(g) for g in page.groups] == [{mine.pk, also_mine.pk}]


def test_manager_sees_the_teams_duplicates_and_admin_sees_all(admin, manager, rep, other_rep):
    make_lead(rep, email="x@acme.pl", dedupe=False)
    make_lead(rep, email="x@acme.pl", dedupe=False)
    make_lead(other_rep, email="y@acme.pl", dedupe=False)
    make_lead(other_rep, email="y@acme.pl", dedupe=False)

    assert find_duplicates(manager, "lead").total == 1
    assert find_duplicates(admin, "lead").total == 2


def test_marketing_looks_for_duplicate_leads_only(marketer, manager, rep):
    assert finder_kinds(marketer) == ["lead"]
    assert finder_kinds(rep) == ["lead", "contact", "company"]
    assert finder_kinds(manager) == ["lead", "contact", "company"]


# Pages --------------------------------------------------------------------------------------


def test_groups_are_paged_across_reasons(rep):
    for n in range(3):
        make_contact(rep, email=f"p{n}@acme.pl")
        make_contact(rep, email=f"p{n}@acme.pl")
    for n in range(2):
        make_contact(rep, email="", phone=f"60123456{n}")
        make_contact(rep, email="", phone=f"60123456{n}")

    first = find_duplicates(rep, "contact", per_page=4)
    second = find_duplicates(rep, "contact", page=2, per_page=4)

    assert first.total == second.total == 5
    assert [g.reason for g in first.groups] == ["same e-mail"] * 3 + ["same phone"]
    assert [g.reason for g in second.groups] == ["same phone"]
    assert first.has_next and not second.has_next
    assert not ids(first.groups[3]) & ids(second.groups[0])


@pytest.mark.parametrize("pairs", [2, 12])
def test_finder_query_count_does_not_grow_with_the_number_of_groups(
    rep, pairs, django_assert_max_num_queries
):
    for n in range(pairs):
        make_lead(rep, email=f"q{n}@acme.pl", dedupe=False)
        make_lead(rep, email=f"q{n}@acme.pl", dedupe=False)

    with django_assert_max_num_queries(8):
        page = find_duplicates(rep, "lead")

    assert page.total == pairs


def test_likely_duplicates_of_one_company_cover_every_reason(rep, teammate):
    company = make_company(rep, name="Łódzkie Młyny Sp. z o.o.", nip="5260250274")
    same_nip = make_company(rep, name="Other", nip="526-025-02-74")
    same_name = make_company(rep, name="LODZKIE MLYNY S.A.")
    make_company(teammate, name="Łódzkie Młyny")  # not the rep's to merge
    make_company(rep, name="Łódzkie Młyny Północ")

    found = duplicates_of(rep, company)

    assert found == [("same NIP", same_nip), ("same name", same_name)]
