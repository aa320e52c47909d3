"""Offers: snapshots of the deal's lines, versions and their change list, numbers, statuses."""

from __future__ import annotations

import datetime
import re
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from lejek.core.models import Event
from lejek.sales.models import Offer, OfferCounter
from lejek.sales.numbering import format_offer_number, next_offer_number
from lejek.sales.offers import (
    TRANSITIONS,
    allowed_statuses,
    offer_create,
    offer_new_version,
    offer_set_status,
)
from lejek.sales.services import deal_line_add, deal_line_remove, deal_line_update
from tests.factories import make_deal
from tests.test_deal_lines import make_product

Status = Offer.Status


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


@pytest.fixture
def licence(admin):
    return make_product(admin, name="Licence", price="1200.00")


@pytest.fixture
def support(admin):
    return make_product(admin, name="Support", price="300.00", vat="8")


@pytest.fixture
def deal(rep, pipeline, licence, support):
    deal = make_deal(rep, pipeline)
    deal_line_add(actor=rep, deal=deal, product=licence, quantity=Decimal(2))
    deal_line_add(actor=rep, deal=deal, product=support)
    return deal


def new_offer(rep, deal, **values) -> Offer:
    values.setdefault("valid_until", in_days(14))
    values.setdefault("terms", "Payment within 14 days.")
    return offer_create(actor=rep, deal=deal, **values)


def expected_prefix() -> str:
    today = timezone.localdate()
    return f"OF/{today.year}/{today.month:02d}/"


@pytest.mark.django_db
def test_an_offer_is_a_snapshot_of_the_deals_lines(rep, deal, licence):
    offer = new_offer(rep, deal)
    assert offer.version == 1
    assert offer.status == Status.DRAFT
    assert offer.created_by == rep
    assert [(line.name, line.quantity) for line in offer.lines.order_by("position")] == [
        ("Licence", Decimal("2.000")),
        ("Support", Decimal("1.000")),
    ]
    # 2400 at 23% and 300 at 8%: VAT 552 + 24.
    assert (offer.net_total, offer.vat_total, offer.gross_total) == (
        Decimal("2700.00"),
        Decimal("576.00"),
        Decimal("3276.00"),
    )
    # Later changes to the deal leave the offer as it was.
    line = deal.lines.get(name="Licence")
    deal_line_update(actor=rep, line=line, values={"unit_price": Decimal("1.00")})
    offer.refresh_from_db()
    assert offer.lines.get(name="Licence").unit_price == Decimal("1200.00")
    assert offer.gross_total == Decimal("3276.00")


@pytest.mark.django_db
def test_an_offer_needs_lines_and_a_future_date(rep, pipeline, deal):
    empty = make_deal(rep, pipeline)
    with pytest.raises(ValidationError, match="Add products"):
        new_offer(rep, empty)
    with pytest.raises(ValidationError) as error:
        new_offer(rep, deal, valid_until=in_days(-1))
    assert "valid_until" in error.value.message_dict
    assert not Offer.objects.exists()


@pytest.mark.django_db
def test_numbers_follow_each_other_within_the_month(rep, deal):
    first, second = new_offer(rep, deal), new_offer(rep, deal)
    assert first.number == expected_prefix() + "0001"
    assert second.number == expected_prefix() + "0002"


@pytest.mark.django_db
def test_a_rolled_back_offer_gives_its_number_back(rep, deal):
    with pytest.raises(RuntimeError), transaction.atomic():
        new_offer(rep, deal)
        raise RuntimeError("the request failed after the offer was made")
    assert new_offer(rep, deal).number == expected_prefix() + "0001"


@pytest.mark.django_db
def test_each_month_has_its_own_series(db):
    with transaction.atomic():
        assert next_offer_number(datetime.date(2026, 11, 30)) == "OF/2026/11/0001"
        assert next_offer_number(datetime.date(2026, 12, 1)) == "OF/2026/12/0001"
        assert next_offer_number(datetime.date(2026, 11, 2)) == "OF/2026/11/0002"
    assert format_offer_number(datetime.date(2027, 1, 5), 12345) == "OF/2027/01/12345"


@pytest.mark.django_db(transaction=True)
def test_a_number_is_only_taken_inside_a_transaction(db):
    with pytest.raises(RuntimeError):
        next_offer_number()


def run_at_once(jobs: list) -> list[BaseException]:
    """Each job in its own thread and connection on PostgreSQL; one after another on SQLite."""
    errors: list[BaseException] = []
    concurrent = connection.vendor == "postgresql"
    barrier = threading.Barrier(len(jobs)) if concurrent else None

    def run(job) -> None:
        try:
            if barrier is not None:
                barrier.wait(timeout=10)
            job()
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            if concurrent:
                connection.close()

    if not concurrent:
        for job in jobs:
            run(job)
        return errors
    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_numbers_stay_gap_free_when_offers_are_made_at_once(rep, pipeline, licence):
    """On PostgreSQL eight threads race with their own connections; SQLite takes them in turn."""
    deals = []
    for _ in range(8):
        deal = make_deal(rep, pipeline)
        deal_line_add(actor=rep, deal=deal, product=licence)
        deals.append(deal)
    numbers: list[str] = []

    def maker(deal):
        return lambda: numbers.append(new_offer(rep, deal).number)

    errors = run_at_once([maker(deal) for deal in deals])
    assert not errors
    sequences = sorted(int(n.rsplit("/", 1)[1]) for n in numbers)
    assert sequences == list(range(1, len(deals) + 1))
    assert OfferCounter.objects.get().last == len(deals)


@pytest.mark.django_db(transaction=True)
def test_versions_made_at_once_each_get_their_own_number(rep, deal):
    first = new_offer(rep, deal)

    def make_version() -> None:
        offer_new_version(actor=rep, offer=first, valid_until=in_days(10), terms="")

    assert run_at_once([make_version] * 4) == []
    versions = sorted(Offer.objects.filter(number=first.number).values_list("version", flat=True))
    assert versions == [1, 2, 3, 4, 5]


@pytest.mark.django_db
def test_a_new_version_keeps_the_number_and_lists_what_changed(rep, deal, admin):
    first = new_offer(rep, deal)
    licence_line = deal.lines.get(name="Licence")
    deal_line_update(
        actor=rep,
        line=licence_line,
        values={"unit_price": Decimal("1100.00"), "discount": Decimal(5)},
    )
    deal_line_remove(actor=rep, line=deal.lines.get(name="Support"))
    extra = make_product(admin, name="Onboarding", price="500.00")
    deal_line_add(actor=rep, deal=deal, product=extra, quantity=Decimal(3))
    second = offer_new_version(
        actor=rep, offer=first, valid_until=in_days(20), terms="Payment within 30 days."
    )
    assert (second.number, second.version) == (first.number, 2)
    kinds = {(c["kind"], c.get("name")) for c in second.changes}
    assert kinds == {
        ("price", "Licence"),
        ("discount", "Licence"),
        ("added", "Onboarding"),
        ("removed", "Support"),
        ("terms", None),
    }
    price = next(c for c in second.changes if c["kind"] == "price")
    assert (price["before"], price["after"]) == ("1200.00", "1100.00")
    # The earlier version is untouched.
    first.refresh_from_db()
    assert first.lines.count() == 2
    assert first.terms == "Payment within 14 days."
    event = Event.objects.get(verb="offer.version_created")
    assert event.after["version"] == 2


@pytest.mark.django_db
def test_a_version_from_an_old_one_still_comes_after_the_newest(rep, deal):
    first = new_offer(rep, deal)
    offer_new_version(actor=rep, offer=first, valid_until=in_days(10), terms="")
    third = offer_new_version(actor=rep, offer=first, valid_until=in_days(10), terms="")
    assert third.version == 3


@pytest.mark.django_db
def test_quantity_changes_are_listed_too(rep, deal):
    first = new_offer(rep, deal)
    line = deal.lines.get(name="Support")
    deal_line_update(actor=rep, line=line, values={"quantity": Decimal("2.5")})
    second = offer_new_version(actor=rep, offer=first, valid_until=in_days(10), terms=first.terms)
    assert second.changes == [
        {"kind": "quantity", "name": "Support", "before": "1.000", "after": "2.500"}
    ]


@pytest.mark.django_db
def test_the_change_list_is_shown_on_the_offer_page(client_for, rep, deal):
    first = new_offer(rep, deal)
    line = deal.lines.get(name="Licence")
    deal_line_update(actor=rep, line=line, values={"unit_price": Decimal("1100.00")})
    second = offer_new_version(actor=rep, offer=first, valid_until=in_days(10), terms=first.terms)
    html = client_for(rep).get(second.get_absolute_url()).content.decode()
    assert "Price of Licence: PLN\u00a01,200.00 → PLN\u00a01,100.00" in html
    rep.language = "pl"
    rep.save(update_fields=["language"])
    html = client_for(rep).get(second.get_absolute_url()).content.decode()
    assert "1\u00a0200,00\u00a0zł → 1\u00a0100,00\u00a0zł" in html


def test_transitions_are_declared_as_data():
    assert TRANSITIONS[Status.DRAFT] >= {Status.SENT}
    assert TRANSITIONS[Status.ACCEPTED] == frozenset()


@pytest.mark.django_db
def test_allowed_status_changes_and_a_forbidden_one(rep, deal):
    offer = new_offer(rep, deal)
    offer = offer_set_status(actor=rep, offer=offer, status=Status.SENT)
    assert offer.sent_at is not None
    offer = offer_set_status(actor=rep, offer=offer, status=Status.ACCEPTED)
    with pytest.raises(ValidationError) as error:
        offer_set_status(actor=rep, offer=offer, status=Status.DRAFT)
    assert "cannot go from" in str(error.value)
    offer.refresh_from_db()
    assert offer.status == Status.ACCEPTED
    assert Event.objects.filter(verb="offer.status_changed", object_id=offer.pk).count() == 2


@pytest.mark.django_db
def test_only_the_newest_version_changes_status(rep, deal):
    first = new_offer(rep, deal)
    offer_new_version(actor=rep, offer=first, valid_until=in_days(10), terms="")
    assert allowed_statuses(first) == []
    with pytest.raises(ValidationError, match="newer version"):
        offer_set_status(actor=rep, offer=first, status=Status.SENT)


@pytest.mark.django_db
def test_an_open_offer_past_its_date_shows_as_expired(client_for, rep, deal):
    offer = new_offer(rep, deal)
    Offer.objects.filter(pk=offer.pk).update(valid_until=in_days(-1))
    offer.refresh_from_db()
    assert offer.status == Status.DRAFT  # stored as it was ...
    assert offer.shown_status() == Status.EXPIRED  # ... read as expired
    assert offer.shown_status(today=in_days(-2)) == Status.DRAFT
    with pytest.raises(ValidationError):
        offer_set_status(actor=rep, offer=offer, status=Status.ACCEPTED)
    html = client_for(rep).get(offer.get_absolute_url()).content.decode()
    assert "Expired" in html


@pytest.mark.django_db
def test_an_accepted_offer_does_not_expire(rep, deal):
    offer = offer_set_status(actor=rep, offer=new_offer(rep, deal), status=Status.ACCEPTED)
    Offer.objects.filter(pk=offer.pk).update(valid_until=in_days(-30))
    offer.refresh_from_db()
    assert offer.shown_status() == Status.ACCEPTED


@pytest.mark.django_db
def test_a_rep_of_another_team_cannot_make_or_move_offers(other_rep, rep, deal):
    with pytest.raises(PermissionDenied):
        new_offer(other_rep, deal)
    offer = new_offer(rep, deal)
    with pytest.raises(PermissionDenied):
        offer_set_status(actor=other_rep, offer=offer, status=Status.SENT)


# Pages ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_creating_an_offer_from_the_page(client_for, rep, deal):
    client = client_for(rep)
    url = reverse("offer-create", args=[deal.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {"valid_until": in_days(30).isoformat(), "language": "en", "terms": "Net 14."},
    )
    offer = Offer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == offer.get_absolute_url()
    assert re.fullmatch(r"OF/\d{4}/\d{2}/0001", offer.number)
    panel = client.get(reverse("deal-products", args=[deal.pk])).content.decode()
    assert offer.number in panel
    assert "PLN\u00a03,276.00" in panel


@pytest.mark.django_db
def test_a_past_date_on_the_offer_form_is_explained(client_for, rep, deal):
    response = client_for(rep).post(
        reverse("offer-create", args=[deal.pk]),
        {"valid_until": in_days(-3).isoformat(), "language": "pl", "terms": ""},
    )
    assert response.status_code == 400
    assert "An offer cannot be valid until a past date." in response.content.decode()
    assert not Offer.objects.exists()


@pytest.mark.django_db
def test_new_version_and_status_from_the_pages(client_for, rep, deal):
    offer = new_offer(rep, deal)
    client = client_for(rep)
    response = client.post(
        reverse("offer-version", args=[deal.pk, offer.pk]),
        {"valid_until": in_days(30).isoformat(), "language": "pl", "terms": "New terms"},
    )
    assert response.status_code == 302
    newest = Offer.objects.get(version=2)
    client.post(reverse("offer-status", args=[deal.pk, newest.pk]), {"status": "rejected"})
    newest.refresh_from_db()
    assert newest.status == Status.REJECTED
    # A forbidden move is a message, not an error page.
    response = client.post(
        reverse("offer-status", args=[deal.pk, newest.pk]), {"status": "sent"}, follow=True
    )
    assert response.status_code == 200
    assert "cannot go from" in response.content.decode()


@pytest.mark.django_db
def test_a_stranger_cannot_open_an_offer(client_for, other_rep, rep, deal):
    offer = new_offer(rep, deal)
    client = client_for(other_rep)
    for name in ("offer-detail", "offer-pdf", "offer-send", "offer-version"):
        assert client.get(reverse(name, args=[deal.pk, offer.pk])).status_code == 404


@pytest.mark.django_db
def test_an_offer_is_only_reachable_under_its_own_deal(client_for, rep, pipeline, deal):
    offer = new_offer(rep, deal)
    other = make_deal(rep, pipeline)
    response = client_for(rep).get(reverse("offer-detail", args=[other.pk, offer.pk]))
    assert response.status_code == 404
