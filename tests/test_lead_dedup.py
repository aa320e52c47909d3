"""A new lead lands once: repeats fill the open lead, known people and companies are linked,
and every stored key is normalised on the way in."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from lejek.activities.models import Activity
from lejek.contacts.dedup import find_company, find_contact
from lejek.contacts.models import Company
from lejek.contacts.services import company_update, contact_update
from lejek.core.models import Event
from lejek.leads.models import Lead
from lejek.leads.services import lead_create, lead_update
from tests.factories import make_company, make_contact, make_lead
from tests.test_api_support import Api, error_fields


def text(response) -> str:
    return response.content.decode()


# --- repeated submissions ------------------------------------------------------------------


def test_same_email_in_another_case_fills_the_open_lead_instead_of_a_second(rep):
    first = lead_create(actor=rep, first_name="Jan", last_name="Nowak", email="jan@acme.pl")
    again = lead_create(
        actor=rep,
        first_name="Janek",
        email="  JAN@Acme.PL ",
        phone="601-234-567",
        title="CTO",
    )
    assert again.pk == first.pk and again.was_repeat
    assert Lead.objects.count() == 1
    first.refresh_from_db()
    # Empty fields are filled; what the team already had stays.
    assert (first.first_name, first.phone, first.title) == ("Jan", "+48601234567", "CTO")
    repeat = Event.objects.get(verb="lead.repeated", object_id=first.pk)
    assert repeat.after["first_name"] == "Janek" and repeat.after["email"] == "jan@acme.pl"
    note = Activity.objects.get(lead=first)
    assert note.kind == "note" and note.author == rep
    assert note.subject_line == "Repeated submission"
    assert "Janek" in note.body and "+48601234567" in note.body
    filled = Event.objects.filter(verb="lead.updated", object_id=first.pk).get()
    assert filled.after == {"phone": "+48601234567", "title": "CTO"}


def test_first_lead_is_not_a_repeat(rep):
    assert lead_create(actor=rep, last_name="Solo", email="solo@acme.pl").was_repeat is False


def test_without_email_the_same_phone_is_a_repeat(rep):
    first = lead_create(actor=rep, last_name="Phone", phone="+48 601 234 567")
    again = lead_create(actor=rep, last_name="Phone", phone="0048601234567", company_name="X")
    assert again.pk == first.pk and again.was_repeat
    first.refresh_from_db()
    assert first.company_name == "X"


def test_dedupe_can_be_turned_off(rep):
    make_lead(rep, email="twice@acme.pl")
    make_lead(rep, email="twice@acme.pl", dedupe=False)
    assert Lead.objects.filter(email="twice@acme.pl").count() == 2


@pytest.mark.parametrize("status", [Lead.Status.CONVERTED, Lead.Status.DISQUALIFIED])
def test_closed_lead_does_not_absorb_a_new_one(rep, status):
    closed = make_lead(rep, email="back@acme.pl", status=status)
    fresh = lead_create(actor=rep, last_name="Back", email="Back@acme.pl")
    assert fresh.pk != closed.pk and not fresh.was_repeat
    assert not Activity.objects.filter(lead=closed).exists()


def test_lead_of_another_team_is_neither_touched_nor_revealed(rep, other_rep):
    theirs = make_lead(other_rep, email="shared@acme.pl", title="")
    mine = lead_create(actor=rep, last_name="Mine", email="shared@acme.pl", title="CEO")
    assert mine.pk != theirs.pk and not mine.was_repeat
    theirs.refresh_from_db()
    assert theirs.title == "" and not Activity.objects.filter(lead=theirs).exists()


def test_repeat_shows_on_the_lead_timeline(client_for, rep):
    lead = make_lead(rep, email="timeline@acme.pl")
    lead_create(actor=rep, email="timeline@acme.pl", title="Buyer")
    page = text(client_for(rep).get(lead.get_absolute_url()))
    assert "Repeated submission" in page and "Buyer" in page


def test_api_answers_200_with_the_existing_lead_on_a_repeat(rep):
    api = Api(rep)
    created = api.post("/leads", {"last_name": "Api", "email": "api@acme.pl"})
    assert created.status_code == 201, created.content
    again = api.post("/leads", {"first_name": "Ann", "email": "API@acme.pl "})
    assert again.status_code == 200, again.content
    assert again.json()["id"] == created.json()["id"]
    assert again.json()["first_name"] == "Ann"
    assert again["ETag"] and Lead.objects.count() == 1


def test_form_repeat_says_so_and_opens_the_existing_lead(client_for, rep):
    lead = make_lead(rep, email="form@acme.pl")
    response = client_for(rep).post(
        reverse("lead-create"),
        {"last_name": "Form", "email": "Form@Acme.pl", "status": "new", "owner": rep.pk},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == lead.get_absolute_url()
    assert "This person already had an open lead; the new details were added to it." in text(
        response
    )
    assert Lead.objects.count() == 1


def test_form_new_lead_still_says_created(client_for, rep):
    response = client_for(rep).post(
        reverse("lead-create"),
        {"first_name": "Ida", "last_name": "Lis", "status": "new"},
        follow=True,
    )
    assert "Lead “Ida Lis” created." in text(response)


# --- links to known people and companies ----------------------------------------------------


def test_lead_whose_email_matches_a_contact_is_linked(rep):
    contact = make_contact(rep, email="Anna@Acme.pl")
    lead = lead_create(actor=rep, last_name="Nowak", email="anna@acme.PL")
    assert lead.contact == contact


def test_lead_whose_phone_matches_a_contact_is_linked(rep):
    contact = make_contact(rep, email="", phone="601 234 567")
    lead = lead_create(actor=rep, last_name="Nowak", phone="+48601234567")
    assert lead.contact == contact


def test_oldest_matching_contact_wins(rep):
    older = make_contact(rep, email="dup@acme.pl")
    make_contact(rep, email="dup@acme.pl")
    assert find_contact(email="DUP@acme.pl") == older


def test_company_matched_by_nip_first(rep):
    by_nip = make_company(rep, name="Other name", nip="526-025-02-74")
    make_company(rep, name="Acme", domain="acme.pl")
    assert find_company(nip="PL5260250274", domain="acme.pl", name="Acme") == by_nip


def test_lead_is_linked_to_the_company_of_its_email_domain(rep):
    company = make_company(rep, name="Acme", domain="https://www.acme.pl/")
    lead = lead_create(actor=rep, last_name="Kot", email="kot@ACME.pl")
    assert lead.company == company


def test_free_mail_domain_links_no_company(rep):
    make_company(rep, name="Google", domain="gmail.com")
    lead = lead_create(actor=rep, last_name="Kot", email="kot@gmail.com")
    assert lead.company is None


def test_company_matched_by_name_despite_its_legal_form(rep):
    company = make_company(rep, name="Acme Sp. z o.o.")
    lead = lead_create(
        actor=rep, last_name="Kot", company_name="ACME spółka z ograniczoną odpowiedzialnością"
    )
    assert lead.company == company


def test_different_company_name_is_not_matched(rep):
    make_company(rep, name="Acme Sp. z o.o.")
    assert find_company(name="Acme Polska Sp. z o.o.") is None


def test_company_the_actor_cannot_see_is_not_linked(rep, other_rep):
    make_company(other_rep, name="Hidden S.A.")
    lead = lead_create(actor=rep, last_name="Kot", company_name="Hidden SA")
    assert lead.company is None


def test_repeat_links_the_company_the_open_lead_lacked(rep):
    lead = make_lead(rep, email="kot@gmail.com")
    company = make_company(rep, name="Beta sp.j.")
    lead_create(actor=rep, email="kot@gmail.com", company_name="BETA")
    lead.refresh_from_db()
    assert lead.company == company and lead.company_name == "BETA"


# --- normalised on every write ----------------------------------------------------------------


def test_lead_keys_are_stored_normalised(rep):
    lead = make_lead(rep, email=" Ola@Firma.PL", phone="601-234-567")
    assert (lead.email, lead.phone) == ("ola@firma.pl", "+48601234567")
    lead_update(actor=rep, lead=lead, values={"phone": "(+48) 22 123 45 67"})
    assert Lead.objects.get(pk=lead.pk).phone == "+48221234567"


def test_bad_lead_phone_is_an_error_on_the_phone_field(rep):
    with pytest.raises(ValidationError) as raised:
        lead_create(actor=rep, last_name="X", phone="123")
    assert set(raised.value.message_dict) == {"phone"}
    assert not Lead.objects.exists()


def test_contact_keys_are_stored_normalised(rep):
    contact = make_contact(rep, email="Ewa@Firma.pl ", phone="0048 601 234 567")
    assert (contact.email, contact.phone) == ("ewa@firma.pl", "+48601234567")
    with pytest.raises(ValidationError) as raised:
        contact_update(actor=rep, contact=contact, values={"phone": "12"})
    assert "phone" in raised.value.message_dict


def test_company_nip_and_domain_are_stored_normalised(rep):
    company = make_company(rep, nip="PL 526-025-02-74", domain="HTTP://www.Acme.pl/o-nas")
    assert (company.nip, company.domain) == ("5260250274", "acme.pl")


def test_company_nip_with_a_bad_check_digit_is_refused(rep):
    with pytest.raises(ValidationError) as raised:
        make_company(rep, nip="5260250275")
    assert "nip" in raised.value.message_dict
    assert not Company.objects.exists()


def test_company_domain_comes_from_its_email_unless_free_mail(rep):
    assert make_company(rep, email="biuro@Gamma.com.pl").domain == "gamma.com.pl"
    assert make_company(rep, email="gamma@wp.pl").domain == ""
    company = make_company(rep)
    company = company_update(actor=rep, company=company, values={"email": "info@delta.pl"})
    assert company.domain == "delta.pl"


def test_bad_phone_on_the_lead_form_is_a_field_error(client_for, rep):
    response = client_for(rep).post(
        reverse("lead-create"), {"last_name": "X", "status": "new", "phone": "12"}
    )
    assert response.status_code == 200
    assert "This is not a valid phone number." in text(response)
    assert not Lead.objects.exists()


def test_bad_nip_on_the_company_form_is_a_field_error(client_for, rep):
    response = client_for(rep).post(
        reverse("company-create"), {"name": "Zeta", "nip": "5260250275", "country": "PL"}
    )
    assert response.status_code == 200
    assert "check digit" in text(response)
    assert not Company.objects.exists()


def test_bad_phone_over_the_api_is_a_422_on_the_phone_field(rep):
    response = Api(rep).post("/leads", {"last_name": "X", "phone": "12"})
    assert "phone" in error_fields(response)


def test_bad_contact_phone_over_the_api_is_a_422_on_the_phone_field(rep):
    response = Api(rep).post("/contacts", {"last_name": "X", "phone": "abc"})
    assert "phone" in error_fields(response)
