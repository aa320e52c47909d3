"""The import's short cuts give the answers of the slow paths they stand in for."""

from __future__ import annotations

import random

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from lejek.contacts.normalize import normalize_phone
from lejek.core.models import Event
from lejek.imports import phones
from lejek.imports.bulk import Inserter, StatisticsKeeper, columns_of, event_inserter
from lejek.imports.models import ImportJob
from lejek.imports.phones import import_phone
from lejek.imports.rows import DomainRememberingEmailValidator, RowError, remembered
from lejek.leads.models import Lead
from lejek.leads.services import lead_create
from tests.test_import_support import media, run_file, write_csv  # noqa: F401

pytestmark = pytest.mark.django_db


def outcome(convert, value):
    try:
        return ("ok", convert(value))
    except ValidationError as exc:
        return ("error", exc.messages)


def polish_shaped_numbers(count: int) -> list[str]:
    """Numbers in the shapes the short cut takes, valid or not, and near misses it refuses."""
    rng = random.Random(11)
    numbers = [
        "+48 601 234 567",
        "601-234-567",
        " 601234567 ",
        "+48 012 345 678",
        "048 601 234 5",
        "481234567",
        "001234567",
        "+48 123 456 789",
        "+48 601 234 5678",
        "+49 30 1234567",
        "601 234 567 ext. 12",
        "(22) 123 45 67",
        "+48 ٦٠١ ٢٣٤ ٥٦٧",
        "٦٠١٢٣٤٥٦٧",
    ]
    for _n in range(count):
        digits = "".join(rng.choice("0123456789") for _d in range(9))
        spaced = "".join(rng.choice(["", "", " ", "-"]) + digit for digit in digits)
        numbers.append(rng.choice(["+48", "+48 ", "+48-", ""]) + spaced.lstrip(" -"))
    return numbers


def test_import_phone_gives_normalize_phones_value_or_error():
    for number in polish_shaped_numbers(5000):
        assert outcome(import_phone, number) == outcome(normalize_phone, number), number


def test_import_phone_takes_the_short_cut_for_a_usual_polish_number(monkeypatch):
    def refuse(_raw):
        raise AssertionError("the parser was asked")

    monkeypatch.setattr(phones, "normalize_phone", refuse)
    assert import_phone("+48 601 234 567") == "+48601234567"
    assert import_phone("601-234-567") == "+48601234567"


def test_remembered_converter_answers_like_the_converter_and_repeats_refusals():
    calls = []

    def convert(value):
        calls.append(value)
        if value == "bad":
            raise ValidationError("Bad value.")
        if value == "worse":
            raise RowError(["Worse value."])
        return value.upper()

    cached = remembered(convert, limit=2)
    assert cached("a") == "A"
    assert cached("a") == "A"
    assert calls == ["a"]
    for _n in range(2):
        with pytest.raises(ValidationError) as refused:
            cached("bad")
        assert refused.value.messages == ["Bad value."]
        with pytest.raises(RowError) as worse:
            cached("worse")
        assert worse.value.messages == ["Worse value."]
    # The memo starts afresh past its limit; unhashable values are converted every time.
    assert calls.count("bad") + calls.count("worse") == 3
    assert remembered(lambda v: len(v))(["x", "y"]) == 2


EMAILS = [
    "jan@example.pl",
    "jan.kowalski+tag@sub.example.co.uk",
    "jan@localhost",
    "jan@[127.0.0.1]",
    "jan@[not-an-ip]",
    "jan@example",
    "jan@-example.pl",
    "jan kowalski@example.pl",
    '"jan kowalski"@example.pl',
    "jan@@example.pl",
    "@example.pl",
    "jan@",
    "",
    "j" * 310 + "@example.pl",
    "jan@" + "a" * 64 + ".pl",
    "jan@exämple.pl",
]


def test_domain_remembering_email_validator_agrees_with_django():
    django_validator = EmailValidator()
    remembering = DomainRememberingEmailValidator(EmailValidator())
    for _round in range(2):  # the second time from the remembered domains
        for email in EMAILS:
            assert outcome(remembering, email)[0] == outcome(django_validator, email)[0], email


def test_inserter_returns_ids_in_row_order_and_inserts_without_them():
    inserter = Inserter(Lead, columns_of(Lead))
    now = timezone.now()
    template = dict.fromkeys(inserter.columns, "")
    rows = []
    for n in range(300):
        values = {
            **template,
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "first_name": f"Lead {n}",
            "status": "new",
            "company_size": None,
            "source_id": None,
            "campaign_id": None,
            "contact_id": None,
            "company_id": None,
            "owner_id": None,
            "team_id": None,
            "custom": {"n": n} if n % 2 else {},
        }
        rows.append([values[name] for name in inserter.columns])
    with transaction.atomic():
        ids = inserter.insert(rows)
    assert len(ids) == 300
    names = dict(Lead.objects.values_list("pk", "first_name"))
    assert [names[pk] for pk in ids] == [f"Lead {n}" for n in range(300)]
    assert Lead.objects.get(pk=ids[1]).custom == {"n": 1}
    assert Lead.objects.get(pk=ids[2]).custom == {}
    assert inserter.insert(rows[:5], returning=False) == []
    assert Lead.objects.count() == 305


def test_inserter_refusal_is_a_django_database_error():
    inserter = Inserter(Lead, columns_of(Lead))
    now = timezone.now()
    values = dict.fromkeys(inserter.columns, "")
    values.update(
        created_at=now,
        updated_at=now,
        version=1,
        status="new",
        company_size=None,
        source_id=None,
        campaign_id=None,
        contact_id=None,
        company_id=None,
        owner_id=None,
        team_id=None,
        custom={},
    )
    # No name, e-mail or company: the lead_has_some_identity constraint refuses it.
    with pytest.raises(IntegrityError), transaction.atomic():
        inserter.insert([[values[name] for name in inserter.columns]])
    assert not Lead.objects.exists()


def test_events_inserted_without_ids_keep_their_json():
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(Lead)
    row = (timezone.now(), None, "lead.created", content_type.pk, 7, "Jan", {}, {"a": [1, "ż"]})
    with transaction.atomic():
        assert event_inserter().insert([row], returning=False) == []
    event = Event.objects.get(object_id=7)
    assert event.after == {"a": [1, "ż"]}
    assert event.before == {}


def test_statistics_are_refreshed_only_on_postgresql_as_the_table_doubles():
    keeper = StatisticsKeeper(Lead)
    assert keeper.enabled == (connection.vendor == "postgresql")
    keeper.grew(StatisticsKeeper.FIRST - 1)
    assert keeper.added == (StatisticsKeeper.FIRST - 1 if keeper.enabled else 0)
    keeper.grew(1)
    assert keeper.added == 0


def test_a_repeat_fills_the_oldest_of_two_open_leads(admin, tmp_path):
    older = lead_create(actor=admin, first_name="Old", email="jan@example.pl", assign=False)
    newer = lead_create(actor=admin, first_name="New", email="other@example.pl", assign=False)
    # Both now share the e-mail; the older one is the one a repeat folds into.
    Lead.objects.filter(pk=newer.pk).update(email="jan@example.pl")
    path = write_csv(tmp_path, [["E-mail", "Nazwisko"], ["jan@example.pl", "Kowalski"]])
    job = run_file(admin, "lead", path)
    assert job.status == ImportJob.Status.DONE, job.message
    assert job.updated_count == 1
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.last_name, newer.last_name) == ("Kowalski", "")
