"""Mappings: guessed from English and Polish headers, checked, value translations, custom
fields created from the mapping, dates and amounts in their usual spellings, XLSX cells."""

from __future__ import annotations

import datetime
import decimal
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from lejek.core.models import CustomField, Event
from lejek.core.services_custom_fields import custom_field_create
from lejek.imports.mapping import clean_mapping, guess_mapping, target_fields
from lejek.imports.models import ImportJob
from lejek.imports.values import parse_date, parse_datetime, parse_decimal
from lejek.leads.models import Lead
from tests.test_import_support import media, report_rows, run_file, write_csv  # noqa: F401


def fields_of(mapping: dict) -> dict[str, str]:
    return {header: spec["field"] for header, spec in mapping["columns"].items()}


def test_polish_and_english_headers_are_recognised(db):
    headers = ["Imię", "NAZWISKO", "Adres e-mail", "Tel.", "Nazwa firmy", "Źródło", "Uwagi", "?"]
    assert fields_of(guess_mapping("lead", headers)) == {
        "Imię": "first_name",
        "NAZWISKO": "last_name",
        "Adres e-mail": "email",
        "Tel.": "phone",
        "Nazwa firmy": "company",
        "Źródło": "source",
        "Uwagi": "description",
        "?": "",
    }
    english = ["First Name", "Last name", "Email", "Phone number", "Company", "Job Title"]
    assert list(fields_of(guess_mapping("contact", english)).values()) == [
        "first_name",
        "last_name",
        "email",
        "phone",
        "company",
        "title",
    ]


def test_a_field_is_guessed_for_one_column_only(db):
    assert fields_of(guess_mapping("company", ["Nazwa", "Name"])) == {"Nazwa": "name", "Name": ""}


def test_custom_fields_and_deal_stages_are_offered_and_guessed(admin, pipeline):
    custom_field_create(actor=admin, entity="deal", key="region_code", label="Region", type="text")
    names = [f.name for f in target_fields("deal")]
    assert "custom:region_code" in names and "reached:Proposal" in names
    guessed = fields_of(guess_mapping("deal", ["Tytuł", "Etap", "Kwota", "Region", "Proposal"]))
    assert guessed == {
        "Tytuł": "title",
        "Etap": "stage",
        "Kwota": "amount",
        "Region": "custom:region_code",
        "Proposal": "reached:Proposal",
    }


def test_clean_mapping_explains_every_problem(db):
    mapping = {
        "columns": {
            "A": {"field": "email"},
            "B": {"field": "email"},
            "C": {"field": "shoe_size"},
            "Z": {"field": "phone"},
        },
        "defaults": {"colour": "red"},
    }
    with pytest.raises(ValidationError) as caught:
        clean_mapping("contact", mapping, ["A", "B", "C"])
    text = " ".join(caught.value.messages)
    assert "both fill “email”" in text
    assert "“shoe_size” is not a field" in text
    assert "“Z” is not in the file" in text
    assert "Last name" in text and "required" in text
    assert "“colour” cannot be given as a default" in text


def test_value_translation_and_custom_field_creation_from_the_mapping(admin, tmp_path):
    path = write_csv(
        tmp_path,
        [
            ["E-mail", "Etap", "Budżet", "Newsletter", "Wizyta"],
            ["a@example.com", "Gorący", "12 345,50", "Tak", "31.12.2025"],
            ["b@example.com", "nowy", "1.5", "Nie", "2025/01/02"],
            ["c@example.com", "", "dużo", "Może", "wczoraj"],
        ],
    )
    mapping = {
        "columns": {
            "Etap": {"field": "status", "values": {"gorący": "mql", "Nowy": "new"}},
            "Budżet": {"field": "custom:budget"},
            "Newsletter": {"field": "custom:newsletter", "values": {"Tak": True, "Nie": False}},
            "Wizyta": {"field": "custom:visited"},
        },
        "create_custom_fields": [
            {"key": "budget", "label": "Budget", "type": "decimal"},
            {"key": "newsletter", "label": "Newsletter", "type": "boolean"},
            {"key": "visited", "label": "Visited", "type": "date"},
        ],
    }
    job = run_file(admin, "lead", path, mapping=mapping)
    assert job.status == ImportJob.Status.DONE, job.message
    assert (job.created_count, job.rejected_count) == (2, 1)
    assert set(CustomField.objects.values_list("key", flat=True)) == {
        "budget",
        "newsletter",
        "visited",
    }
    assert Event.objects.filter(verb="custom_field.created").count() == 3
    a = Lead.objects.get(email="a@example.com")
    assert a.status == "mql"
    assert a.custom == {"budget": "12345.50", "newsletter": True, "visited": "2025-12-31"}
    b = Lead.objects.get(email="b@example.com")
    assert b.custom == {"budget": "1.50", "newsletter": False, "visited": "2025-01-02"}
    error = report_rows(job)[0]["error"]
    assert "Budget" in error and "Newsletter" in error and "Visited" in error


def test_only_admins_create_custom_fields_through_an_import(marketer, tmp_path):
    path = write_csv(tmp_path, [["E-mail", "X"], ["a@example.com", "1"]])
    mapping = {
        "columns": {"X": {"field": "custom:x"}},
        "create_custom_fields": [{"key": "x", "label": "X", "type": "number"}],
    }
    job = run_file(marketer, "lead", path, mapping=mapping)
    assert job.status == ImportJob.Status.FAILED
    assert "Only admins create custom fields" in job.message
    assert not Lead.objects.exists() and not CustomField.objects.exists()
    with pytest.raises(PermissionDenied):
        custom_field_create(actor=marketer, entity="lead", key="x", label="X", type="text")


def test_date_format_override_reads_american_dates(admin, pipeline, tmp_path):
    path = write_csv(tmp_path, [["Title", "Created"], ["US", "12/31/2024"]])
    run_file(admin, "deal", path, mapping={"date_format": "MM/DD/YYYY"})
    from lejek.pipeline.models import Deal

    assert timezone.localtime(Deal.objects.get().created_at).date() == datetime.date(2024, 12, 31)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-12-31", datetime.datetime(2025, 12, 31)),
        ("31.12.2025", datetime.datetime(2025, 12, 31)),
        ("31/12/2025", datetime.datetime(2025, 12, 31)),
        ("2025/12/31", datetime.datetime(2025, 12, 31)),
        ("31.12.2025 14:30", datetime.datetime(2025, 12, 31, 14, 30)),
        ("2025-12-31T14:30:15", datetime.datetime(2025, 12, 31, 14, 30, 15)),
        ("46022", datetime.datetime(2025, 12, 31)),
        ("46022.5", datetime.datetime(2025, 12, 31, 12)),
    ],
)
def test_dates_in_common_spellings(text, expected):
    assert parse_datetime(text) == expected


def test_impossible_dates_are_refused():
    for text in ("31.02.2025", "yesterday", "2025-13-01"):
        with pytest.raises(ValidationError):
            parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 345,50", "12345.50"),
        ("12,345.50", "12345.50"),
        ("12.345,50", "12345.50"),
        ("1234.5", "1234.5"),
        ("1 234 567", "1234567"),
        ("99,9 zł", "99.9"),
        ("-5", "-5"),
    ],
)
def test_amounts_with_comma_or_dot_and_spaces(text, expected):
    assert parse_decimal(text) == decimal.Decimal(expected)


def xlsx_with_cached_formula(path: Path) -> Path:
    """A workbook as Excel saves it: dates, a serial number, a formula with its value, gaps."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([])
    sheet.append(["First name", "E-mail", "Created", "Company size", "Visited"])
    sheet.append(["Ala", "ala@example.com", datetime.datetime(2025, 3, 4, 9, 15), 21, 46022])
    sheet.append([])
    sheet.append(["Ola", "ola@example.com", datetime.date(2025, 3, 5), "=D3*2", None])
    sheet.append([None, None, None, None, None])
    workbook.save(path)
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    sheet_xml = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = re.sub(
        r"<f>D3\*2</f><v\s*/>", "<f>D3*2</f><v>42</v>", sheet_xml
    ).encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


def test_xlsx_with_dates_formulas_and_empty_rows(admin, tmp_path):
    path = xlsx_with_cached_formula(tmp_path / "leads.xlsx")
    mapping = {
        "columns": {"Visited": {"field": "custom:visited"}},
        "create_custom_fields": [{"key": "visited", "label": "Visited", "type": "date"}],
    }
    job = run_file(admin, "lead", path, mapping=mapping)
    assert job.status == ImportJob.Status.DONE, job.message
    assert (job.total_rows, job.created_count) == (2, 2)
    ala = Lead.objects.get(first_name="Ala")
    assert timezone.localtime(ala.created_at) == timezone.make_aware(
        datetime.datetime(2025, 3, 4, 9, 15)
    )
    assert ala.company_size == 21
    assert ala.custom == {"visited": "2025-12-31"}
    assert Lead.objects.get(first_name="Ola").company_size == 42
