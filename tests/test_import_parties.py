"""Importing companies and contacts: validation, dedup by the keys of contacts/dedup.py."""

from __future__ import annotations

from lejek.contacts.models import Company, Contact
from lejek.core.models import Event
from lejek.imports.models import ImportJob
from tests.factories import make_company, make_contact
from tests.test_import_support import media, report_rows, run_file, write_csv  # noqa: F401

COMPANY_HEADERS = ["Nazwa", "NIP", "WWW", "Miasto", "Liczba pracowników"]


def test_companies_are_created_and_deduplicated_by_nip_domain_and_name(admin, tmp_path):
    make_company(admin, name="Stara Firma", nip="5260250995")
    path = write_csv(
        tmp_path,
        [
            COMPANY_HEADERS,
            ["Acme Sp. z o.o.", "", "https://www.acme.pl/o-nas", "Kraków", "120"],
            ["ACME spółka z ograniczoną odpowiedzialnością", "", "", "", ""],
            ["Inna nazwa", "", "acme.pl", "", ""],
            ["Stara Firma po zmianie", "PL 526-025-09-95", "", "Warszawa", ""],
            ["Nowa S.A.", "", "", "", "12"],
        ],
    )
    job = run_file(admin, "company", path)
    assert job.status == ImportJob.Status.DONE, job.message
    assert (job.created_count, job.updated_count, job.skipped_count) == (2, 1, 2)
    acme = Company.objects.get(domain="acme.pl")
    assert (acme.city, acme.size) == ("Kraków", 120)
    old = Company.objects.get(nip="5260250995")
    assert old.name == "Stara Firma" and old.city == "Warszawa"
    assert Event.objects.filter(verb="company.updated", object_id=old.pk).exists()
    assert Company.objects.count() == 3


def test_bad_company_rows_are_rejected(admin, tmp_path):
    path = write_csv(
        tmp_path,
        [
            COMPANY_HEADERS,
            ["", "", "", "", ""],
            ["Zły NIP", "1234567890", "", "", ""],
            ["Zła domena", "", "nie domena", "", ""],
            ["Ujemna", "", "", "", "-3"],
        ],
    )
    job = run_file(admin, "company", path)
    assert job.rejected_count == 3, report_rows(job)
    errors = [row["error"] for row in report_rows(job)]
    assert "NIP" in errors[0] and "check digit" in errors[0]
    assert "domain" in errors[1]
    assert "negative" in errors[2]


def test_contacts_dedupe_by_email_then_phone_and_create_their_company(admin, tmp_path):
    existing = make_contact(admin, first_name="Ewa", last_name="Lis", email="ewa@lis.pl")
    path = write_csv(
        tmp_path,
        [
            ["Imię i nazwisko", "E-mail", "Telefon", "Firma", "Stanowisko", "Język"],
            ["Ewa Lis", "EWA@lis.pl", "", "", "CEO", ""],
            ["Jan Nowak", "", "601 234 567", "Nowak i Syn", "", "Polski"],
            ["Jan Nowak", "", "+48 601-234-567", "", "", ""],
            ["Kasia Kot", "k@kot.pl", "", "Nowak i Syn", "", "English"],
            ["Bez Nazwiska", "", "", "", "", "Klingon"],
        ],
    )
    job = run_file(admin, "contact", path)
    assert (job.created_count, job.updated_count, job.skipped_count, job.rejected_count) == (
        2,
        1,
        1,
        1,
    )
    existing.refresh_from_db()
    assert existing.title == "CEO"
    jan = Contact.objects.get(phone="+48601234567")
    assert (jan.first_name, jan.last_name, jan.language) == ("Jan", "Nowak", "pl")
    kasia = Contact.objects.get(email="k@kot.pl")
    assert kasia.company == jan.company and jan.company.name == "Nowak i Syn"
    assert Company.objects.count() == 1
    assert "Klingon" in report_rows(job)[0]["error"]


def test_a_manager_imports_contacts_into_their_own_team(manager, north, tmp_path):
    path = write_csv(tmp_path, [["Last name"], ["Kowalski"]])
    job = run_file(manager, "contact", path)
    contact = Contact.objects.get()
    assert job.created_count == 1
    assert (contact.owner, contact.team) == (manager, north)
