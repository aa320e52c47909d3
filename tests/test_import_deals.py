"""Importing deals with their history: stages reached, dates, won/lost, links, products."""

from __future__ import annotations

import datetime
import decimal

from django.utils import timezone

from lejek.contacts.models import Company, Contact
from lejek.core.models import Event
from lejek.imports.models import ImportJob
from lejek.pipeline.models import Deal, StageChange
from lejek.sales.models import Product
from tests.analytics_history import assert_stage_entries_match_histories
from tests.factories import make_company
from tests.test_import_support import media, report_rows, run_file, write_csv  # noqa: F401

HEADERS = [
    "Id",
    "Title",
    "Stage",
    "Amount",
    "Currency",
    "Created",
    "Closed",
    "Company",
    "Contact",
    "Owner",
    "Products",
]


def local(*args) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*args))


def history(deal: Deal) -> list[tuple[str, datetime.datetime]]:
    changes = StageChange.objects.filter(deal=deal).order_by("changed_at", "id")
    return [(c.to_stage.name, c.changed_at) for c in changes.select_related("to_stage")]


def test_won_deal_gets_every_stage_up_to_won_with_historical_dates(admin, rep, pipeline, tmp_path):
    Product.objects.create(name="Licencja", sku="LIC-1", net_price=100)
    Product.objects.create(name="Wdrożenie", sku="IMPL", net_price=500)
    path = write_csv(
        tmp_path,
        [
            [*HEADERS, "Proposal"],
            [
                "D-1",
                "CRM dla Acme",
                "Won",
                "12 345,50",
                "pln",
                "03.01.2025",
                "2025-03-01",
                "Acme Sp. z o.o.",
                "jan@acme.pl",
                "rita@example.com",
                "LIC-1; Wdrożenie",
                "2025-02-01 10:30",
            ],
        ],
    )
    job = run_file(admin, "deal", path)
    assert job.status == ImportJob.Status.DONE, job.message
    assert job.created_count == 1, report_rows(job) if job.rejected_count else job
    deal = Deal.objects.get()
    assert deal.stage.name == "Won" and deal.stage.is_won
    assert deal.amount == decimal.Decimal("12345.50")
    assert deal.currency == "PLN"
    assert deal.owner == rep
    assert deal.created_at == local(2025, 1, 3)
    assert deal.closed_at == local(2025, 3, 1)
    assert history(deal) == [
        ("Qualified", local(2025, 1, 3)),
        ("Proposal", local(2025, 2, 1, 10, 30)),
        ("Negotiation", local(2025, 2, 1, 10, 30)),
        ("Won", local(2025, 3, 1)),
    ]
    assert_stage_entries_match_histories()
    assert deal.company.name == "Acme Sp. z o.o."
    assert deal.contact.email == "jan@acme.pl"
    assert deal.contact.company == deal.company
    event = Event.objects.get(verb="deal.created", object_id=deal.pk)
    assert event.after["external_id"] == "D-1"
    assert sorted(event.after["products"]) == sorted(Product.objects.values_list("pk", flat=True))
    assert list(deal.lines.values_list("name", "unit_price")) == [
        ("Licencja", decimal.Decimal("100.00")),
        ("Wdrożenie", decimal.Decimal("500.00")),
    ]
    assert deal.pricing.amount_from_lines is False  # the amount paid stays as imported


def test_lost_deal_records_only_the_stages_it_reached(admin, pipeline, tmp_path):
    path = write_csv(
        tmp_path,
        [
            ["Title", "Stage", "Created", "Closed", "Lost reason", "Negotiation"],
            ["Lost one", "Lost", "2025-01-01", "2025-01-20", "Price", "2025-01-10"],
        ],
    )
    job = run_file(admin, "deal", path)
    assert job.created_count == 1, job.message
    deal = Deal.objects.get()
    assert deal.stage.is_lost and deal.lost_reason == "Price"
    assert [name for name, _when in history(deal)] == ["Qualified", "Negotiation", "Lost"]
    assert deal.closed_at == local(2025, 1, 20)


def test_open_deal_has_no_closed_date_and_uses_known_company(admin, pipeline, tmp_path):
    company = make_company(admin, name="Kret S.A.")
    path = write_csv(tmp_path, [["Title", "Stage", "Company"], ["Open", "Proposal", "KRET SA"]])
    run_file(admin, "deal", path)
    deal = Deal.objects.get()
    assert deal.closed_at is None
    assert deal.company == company
    assert Company.objects.count() == 1
    assert [name for name, _when in history(deal)] == ["Qualified", "Proposal"]


def test_bad_deal_rows_are_rejected_with_reasons(admin, pipeline, tmp_path):
    path = write_csv(
        tmp_path,
        [
            ["Title", "Stage", "Amount", "Created", "Closed", "Products"],
            ["", "Won", "", "", "", ""],
            ["Unknown stage", "Signed", "", "", "", ""],
            ["Negative", "Won", "-5", "", "", ""],
            ["Lost without reason", "Lost", "", "", "", ""],
            ["Closed but open", "Proposal", "", "", "2025-01-01", ""],
            ["Backwards", "Won", "", "2025-02-01", "2025-01-01", ""],
            ["No product", "Won", "", "", "", "Nope"],
        ],
    )
    job = run_file(admin, "deal", path)
    assert job.rejected_count == 7 and job.created_count == 0
    errors = [row["error"] for row in report_rows(job)]
    assert "Title" in errors[0]
    assert "no stage “Signed”" in errors[1]
    assert "negative" in errors[2]
    assert "lost" in errors[3]
    assert "open stage" in errors[4]
    assert "dated before" in errors[5]
    assert "No product" in errors[6]
    assert not Deal.objects.exists()


def test_external_id_skips_deals_already_imported_and_repeated_in_file(admin, pipeline, tmp_path):
    rows = [["Id", "Title"], ["A", "First"], ["A", "First again"], ["B", "Second"]]
    first = run_file(admin, "deal", write_csv(tmp_path, rows))
    assert (first.created_count, first.skipped_count) == (2, 1)
    again = run_file(admin, "deal", write_csv(tmp_path, rows, name="again.csv"))
    assert (again.created_count, again.skipped_count) == (0, 3)
    assert Deal.objects.count() == 2


def test_contact_named_by_name_is_found_or_created(admin, pipeline, tmp_path):
    Contact.objects.create(first_name="Ewa", last_name="Lis")
    path = write_csv(
        tmp_path,
        [["Title", "Contact"], ["One", "Ewa Lis"], ["Two", "Piotr Nowy"], ["3", "Piotr Nowy"]],
    )
    run_file(admin, "deal", path)
    assert Contact.objects.count() == 2
    assert Deal.objects.get(title="One").contact.last_name == "Lis"
    assert Deal.objects.get(title="Two").contact == Deal.objects.get(title="3").contact


def test_managers_import_deals_but_marketing_cannot(manager, marketer, pipeline, tmp_path):
    import pytest
    from django.core.exceptions import PermissionDenied

    path = write_csv(tmp_path, [["Title"], ["Mine"]])
    job = run_file(manager, "deal", path)
    deal = Deal.objects.get()
    assert job.created_count == 1 and deal.owner == manager
    with pytest.raises(PermissionDenied):
        run_file(marketer, "deal", path)
