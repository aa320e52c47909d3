"""`lejek export KIND`: every kind in every format, with scores and custom fields, column
selection, visibility with --as, and clear errors."""

from __future__ import annotations

import csv
import datetime
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from openpyxl import load_workbook

from lejek.analytics.exports import KINDS, spec_for
from lejek.core.models import CustomField
from lejek.leads.models import Lead
from lejek.pipeline.models import Deal
from lejek.scoring.models import LeadScore
from tests.factories import make_company, make_contact, make_deal, make_lead


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export", *args, stdout=out)
    return out.getvalue()


def read_csv(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff"), "Excel needs the byte-order mark to read UTF-8"
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def read_xlsx(path) -> list[dict]:
    sheet = load_workbook(path, read_only=True).active
    rows = list(sheet.values)
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def add_custom_fields(entity: str) -> None:
    CustomField.objects.create(entity=entity, key="budget", label="Budżet", type="decimal")
    CustomField.objects.create(entity=entity, key="visit", label="Wizyta", type="date")
    CustomField.objects.create(
        entity=entity, key="tier", label="Poziom", type="choice", choices=["złoty", "srebrny"]
    )


CUSTOM = {"budget": "1250.50", "visit": "2026-03-14", "tier": "złoty"}


@pytest.fixture
def records(rep, pipeline):
    """One record of each kind, with custom fields; the lead also has both scores."""
    for entity in ("lead", "contact", "company", "deal"):
        add_custom_fields(entity)
    company = make_company(rep, name="Łódzka Fabryka Śrub", custom=CUSTOM)
    contact = make_contact(
        rep, first_name="Żaneta", last_name="Gęś", company=company, custom=CUSTOM
    )
    lead = make_lead(rep, first_name="Źdźisław", company=company, custom=CUSTOM)
    LeadScore.objects.update_or_create(lead=lead, defaults={"score": 73, "probability": 0.425})
    deal = make_deal(
        rep,
        pipeline,
        title="Śruby 2026",
        amount=Decimal("12345.67"),
        company=company,
        custom=CUSTOM,
    )
    return {"leads": lead, "contacts": contact, "companies": company, "deals": deal}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_every_kind_exports_in_every_format_with_custom_fields(kind, fmt, records, tmp_path):
    record = records[kind]
    if fmt == "xlsx":
        path = tmp_path / "out.xlsx"
        export(kind, "--format", fmt, "--output", str(path))
        rows = read_xlsx(path)
        key = {"id": "ID", "budget": "Budżet", "visit": "Wizyta", "tier": "Poziom"}
    elif fmt == "csv":
        rows = read_csv(export(kind))
        key = {"id": "ID", "budget": "Budżet", "visit": "Wizyta", "tier": "Poziom"}
    else:
        rows = json.loads(export(kind, "--format", "json"))
        key = {"id": "id", "budget": "cf_budget", "visit": "cf_visit", "tier": "cf_tier"}
    assert len(rows) == 1
    row = rows[0]
    assert str(row[key["id"]]) == str(record.pk)
    assert row[key["tier"]] == "złoty"
    budget, visit = row[key["budget"]], row[key["visit"]]
    if fmt == "csv":
        assert (budget, visit) == ("1250.50", "2026-03-14")
    elif fmt == "json":
        assert (budget, visit) == (1250.5, "2026-03-14")
    else:
        assert budget == 1250.5  # a number cell, not text
        assert visit == datetime.datetime(2026, 3, 14)  # a date cell


def test_lead_export_has_both_scores_and_names_not_ids(records, rep):
    row = json.loads(export("leads", "--format", "json"))[0]
    assert row["score"] == 73
    assert row["win_probability"] == 42.5
    assert row["owner"] == rep.email
    assert row["team"] == "North"
    assert row["company"] == "Łódzka Fabryka Śrub"
    assert row["first_name"] == "Źdźisław"


def test_lead_without_a_model_score_has_empty_win_probability(rep):
    make_lead(rep)
    row = read_csv(export("leads"))[0]
    assert row["Win probability (%)"] == ""
    assert row["Score"] == "0"


def test_deal_export_has_pipeline_stage_money_and_close_dates(records, pipeline):
    deal = records["deals"]
    closed = timezone.now().replace(microsecond=0)
    won = pipeline.stages.get(name="Won")
    Deal.objects.filter(pk=deal.pk).update(stage=won, closed_at=closed)
    row = json.loads(export("deals", "--format", "json"))[0]
    assert row["pipeline"] == "New business"
    assert row["stage"] == "Won"
    assert row["amount"] == 12345.67
    assert row["currency"] == "PLN"
    assert datetime.datetime.fromisoformat(row["won_at"]) == closed
    assert row["lost_at"] is None


def test_lost_deal_has_lost_date_not_won(records, pipeline, tmp_path):
    deal = records["deals"]
    lost = pipeline.stages.get(name="Lost")
    Deal.objects.filter(pk=deal.pk).update(stage=lost, closed_at=timezone.now())
    path = tmp_path / "deals.xlsx"
    export("deals", "--format", "xlsx", "--output", str(path))
    row = read_xlsx(path)[0]
    assert row["Won on"] is None
    assert isinstance(row["Lost on"], datetime.datetime)
    assert row["Amount"] == pytest.approx(12345.67)


def test_fields_picks_columns_in_the_order_given(records):
    rows = read_csv(export("leads", "--fields", "win_probability,email,cf_tier,score"))
    assert list(rows[0]) == ["Win probability (%)", "E-mail", "Poziom", "Score"]
    assert rows[0]["Win probability (%)"] == "42.5"


def test_unknown_field_is_refused_with_the_valid_names(records):
    with pytest.raises(CommandError) as error:
        export("leads", "--fields", "email,salary")
    message = str(error.value)
    assert "salary" in message
    for valid in ("email", "score", "win_probability", "cf_budget"):
        assert valid in message


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["invoices"], "leads, contacts, companies, deals"),
        (["leads", "--format", "pdf"], "csv, xlsx, json"),
        (["leads", "--format", "xlsx"], "--output"),
        (["leads", "--as", "nobody@example.com"], "nobody@example.com"),
        (["leads", "--output", "/no/such/folder/x.csv"], "/no/such/folder"),
    ],
)
def test_bad_arguments_are_refused_clearly(db, args, words):
    with pytest.raises(CommandError, match=words):
        export(*args)


def test_bad_kind_exits_non_zero(db, capsys):
    with pytest.raises(SystemExit) as done:
        call_command_from_argv(["export", "invoices"])
    assert done.value.code != 0
    assert "invoices" in capsys.readouterr().err


def call_command_from_argv(argv: list[str]) -> None:
    from django.core.management import load_command_class

    load_command_class("lejek.analytics", "export").run_from_argv(["lejek", *argv])


def test_as_rep_exports_only_what_the_rep_sees(rep, other_rep, admin):
    mine = make_lead(rep)
    theirs = make_lead(other_rep)
    as_rep = {
        row["id"] for row in json.loads(export("leads", "--format", "json", "--as", rep.email))
    }
    everything = {row["id"] for row in json.loads(export("leads", "--format", "json"))}
    assert as_rep == {mine.pk}
    assert everything == {mine.pk, theirs.pk}


def test_stranger_exports_nothing_of_others(rep, other_rep, pipeline):
    make_deal(rep, pipeline)
    make_company(rep, name="Acme")
    for kind in ("deals", "companies"):
        assert json.loads(export(kind, "--format", "json", "--as", other_rep.email)) == []


def test_csv_file_output_is_written_with_bom(records, tmp_path):
    path = tmp_path / "contacts.csv"
    export("contacts", "--output", str(path))
    rows = read_csv(path.read_text(encoding="utf-8"))
    assert rows[0]["Last name"] == "Gęś"
    assert rows[0]["Company"] == "Łódzka Fabryka Śrub"


def test_text_that_looks_like_a_formula_stays_text_in_xlsx(rep, tmp_path):
    make_lead(rep, company_name='=HYPERLINK("http://x")')
    path = tmp_path / "leads.xlsx"
    export("leads", "--format", "xlsx", "--output", str(path), "--fields", "company_name")
    sheet = load_workbook(path).active
    assert sheet["A2"].data_type == "s"
    assert sheet["A2"].value == '=HYPERLINK("http://x")'


def test_five_thousand_leads_round_trip_through_xlsx_and_json(rep, tmp_path):
    Lead.objects.bulk_create(
        Lead(
            first_name="Anna",
            last_name=f"Nowak {n}",
            email=f"a{n}@example.pl",
            owner=rep,
            custom={"budget": f"{n}.25"},
        )
        for n in range(5000)
    )
    LeadScore.objects.bulk_create(
        LeadScore(lead_id=pk, score=n % 101)
        for n, pk in enumerate(Lead.objects.order_by("pk").values_list("pk", flat=True))
    )
    CustomField.objects.create(entity="lead", key="budget", label="Budżet", type="decimal")
    expected = {
        pk: (score, Decimal(custom["budget"]))
        for pk, score, custom in Lead.objects.values_list("pk", "lead_score__score", "custom")
    }
    fields = "id,score,cf_budget"
    rows = json.loads(export("leads", "--format", "json", "--fields", fields))
    assert {r["id"]: (r["score"], Decimal(str(r["cf_budget"]))) for r in rows} == expected
    path = tmp_path / "leads.xlsx"
    export("leads", "--format", "xlsx", "--output", str(path), "--fields", fields)
    sheet = read_xlsx(path)
    assert {r["ID"]: (r["Score"], Decimal(str(r["Budżet"]))) for r in sheet} == expected


def test_rows_are_read_in_chunks_not_all_at_once(rep, monkeypatch):
    from django.db.models.query import QuerySet

    make_lead(rep)
    sizes = []
    original = QuerySet.iterator

    def spy(self, chunk_size=None):
        sizes.append(chunk_size)
        return original(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    spec = spec_for("leads")
    assert len(list(spec.table(spec.base()).rows)) == 1
    assert sizes == [2000]
