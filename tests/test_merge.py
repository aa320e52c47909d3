"""record_merge and merge_undo: what moves, what fills in, who may, and that undo loses nothing."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from lejek.activities.models import Activity, Comment, Task
from lejek.activities.services import comment_add
from lejek.contacts.merge import MergeError, merge_undo, record_merge, resolve_merged
from lejek.contacts.models import Company, Contact, Merge
from lejek.contacts.services import contact_update
from lejek.core.models import CustomField, Event
from lejek.core.services_custom_fields import custom_field_create
from lejek.leads.models import Consent, FormSubmission, Lead
from lejek.leads.webforms import webform_create
from lejek.pipeline.models import Deal
from tests.factories import (
    make_activity,
    make_company,
    make_contact,
    make_deal,
    make_lead,
    make_task,
)

# Every table a merge may touch, compared row by row before the merge and after its undo.
TABLES = (Lead, Contact, Company, Activity, Task, Comment, Deal, Consent, FormSubmission)
# The survivor's version and timestamp move forward with every save, by design.
BOOKKEEPING = {"version", "updated_at"}


def database_state() -> dict[str, list[dict]]:
    state = {}
    for model in TABLES:
        rows = model._base_manager.order_by("pk").values()
        state[model._meta.label] = [
            {k: v for k, v in row.items() if k not in BOOKKEEPING} for row in rows
        ]
    return state


def event_links() -> dict[int, tuple[int, int]]:
    return {
        pk: (ct, oid)
        for pk, ct, oid in Event.objects.values_list("pk", "content_type", "object_id")
    }


def assert_restored(before: dict, links: dict[int, tuple[int, int]]) -> None:
    """The database as before the merge, apart from the Merge row and the new Events."""
    assert database_state() == before
    now = event_links()
    assert {pk: now[pk] for pk in links} == links


@pytest.fixture
def consent_form(admin):
    return webform_create(
        actor=admin,
        name="Newsletter",
        fields=[{"name": "email", "required": True, "label": "E-mail"}],
        consent_text="I agree to e-mails.",
    )


def give_consent(form, **subject) -> Consent:
    return Consent.objects.create(text=form.current_consent(), **subject)


def submission(form, lead, key: str) -> FormSubmission:
    return FormSubmission.objects.create(form=form, key=key, body_hash="0" * 64, lead=lead)


# Relations move, and come back on undo ------------------------------------------------------


def test_contact_merge_moves_every_relation_and_undo_restores_the_database(
    admin, rep, pipeline, consent_form
):
    survivor = make_contact(rep, first_name="Anna", last_name="Nowak")
    other = make_contact(rep, first_name="Anna", last_name="Nowak", phone="601 234 567")
    make_activity(rep, survivor)
    activity = make_activity(rep, other)
    task = make_task(rep, other)
    comment = comment_add(actor=rep, subject=other, body="Met at the fair")
    deal = make_deal(rep, pipeline, contact=other)
    lead = make_lead(rep, contact=other)
    consent = give_consent(consent_form, contact=other)
    before, links = database_state(), event_links()

    merge = record_merge(actor=rep, survivor=survivor, other=other)

    assert not Contact.objects.filter(pk=other.pk).exists()
    for row in (activity, task, comment, deal, lead, consent):
        row.refresh_from_db()
        assert row.contact_id == survivor.pk, type(row).__name__
    assert merge.moved["activities.activity.contact"] == [activity.pk]
    assert merge.moved["leads.consent.contact"] == [consent.pk]

    merge_undo(actor=rep, merge=merge)

    assert_restored(before, links)


def test_company_merge_moves_contacts_leads_deals_and_activities_and_round_trips(rep, pipeline):
    survivor = make_company(rep, name="Acme Sp. z o.o.")
    other = make_company(rep, name="ACME spółka z o.o.", nip="5260250274")
    contact = make_contact(rep, company=other)
    lead = make_lead(rep, company=other)
    deal = make_deal(rep, pipeline, company=other)
    activity = make_activity(rep, other)
    task = make_task(rep, other)
    comment = comment_add(actor=rep, subject=other, body="Big one")
    before, links = database_state(), event_links()

    merge = record_merge(actor=rep, survivor=survivor, other=other)

    for row in (contact, lead, deal, activity, task, comment):
        row.refresh_from_db()
        assert row.company_id == survivor.pk, type(row).__name__
    survivor.refresh_from_db()
    assert survivor.nip == "5260250274"

    merge_undo(actor=rep, merge=merge)

    assert_restored(before, links)


def test_lead_merge_moves_deals_consents_submissions_and_activities_and_round_trips(
    rep, pipeline, consent_form
):
    survivor = make_lead(rep, email="jan@acme.pl")
    other = make_lead(rep, email="jan.k@acme.pl", phone="+48 601 234 567", dedupe=False)
    deal = make_deal(rep, pipeline, lead=other)
    consent = give_consent(consent_form, lead=other)
    sent = submission(consent_form, other, "first")
    activity = make_activity(rep, other)
    task = make_task(rep, other)
    comment = comment_add(actor=rep, subject=other, body="Called back")
    before, links = database_state(), event_links()

    merge = record_merge(actor=rep, survivor=survivor, other=other)

    for row in (deal, consent, sent, activity, task, comment):
        row.refresh_from_db()
        assert row.lead_id == survivor.pk, type(row).__name__

    merge_undo(actor=rep, merge=merge)

    assert_restored(before, links)
    assert Lead.objects.get(pk=other.pk).phone == "+48601234567"


def test_merged_records_history_shows_on_the_survivors_timeline_and_goes_back_on_undo(rep):
    survivor = make_contact(rep)
    other = make_contact(rep)
    contact_type = ContentType.objects.get_for_model(Contact)
    created = Event.objects.get(content_type=contact_type, object_id=other.pk)

    merge = record_merge(actor=rep, survivor=survivor, other=other)

    created.refresh_from_db()
    assert created.object_id == survivor.pk
    verbs = set(Event.objects.filter(object_id=survivor.pk).values_list("verb", flat=True))
    assert {"contact.created", "contact.merged"} <= verbs

    merge_undo(actor=rep, merge=merge)

    created.refresh_from_db()
    assert created.object_id == other.pk
    assert Event.objects.filter(object_id=other.pk, verb="contact.restored").exists()


# Fields -------------------------------------------------------------------------------------


def test_empty_fields_of_the_survivor_fill_from_the_other_including_custom_fields(admin, rep):
    custom_field_create(
        actor=admin, entity=CustomField.Entity.CONTACT, key="shoe", label="Shoe", type="number"
    )
    custom_field_create(
        actor=admin, entity=CustomField.Entity.CONTACT, key="pet", label="Pet", type="text"
    )
    survivor = make_contact(rep, title="", phone="", custom={"pet": "cat"})
    other = make_contact(
        rep, title="CEO", phone="601 234 567", notes="Likes tea", custom={"shoe": 42, "pet": "dog"}
    )

    merge = record_merge(actor=rep, survivor=survivor, other=other)

    survivor.refresh_from_db()
    assert survivor.title == "CEO"
    assert survivor.phone == "+48601234567"
    assert survivor.notes == "Likes tea"
    assert survivor.custom == {"pet": "cat", "shoe": 42}
    assert set(merge.filled) == {"title", "phone", "notes", "custom.shoe"}


def test_the_survivors_own_values_win_over_the_others(rep):
    survivor = make_contact(rep, last_name="Nowak", email="anna@acme.pl", title="CTO")
    other = make_contact(rep, last_name="Nowakowska", email="a.nowak@acme.pl", title="CEO")

    record_merge(actor=rep, survivor=survivor, other=other)

    survivor.refresh_from_db()
    assert (survivor.last_name, survivor.email, survivor.title) == (
        "Nowak",
        "anna@acme.pl",
        "CTO",
    )


def test_merge_is_recorded_as_a_merge_row_and_an_event_on_the_survivor(rep):
    survivor = make_company(rep, name="Acme")
    other = make_company(rep, name="Acme S.A.", city="Kraków")

    merge = record_merge(actor=rep, survivor=survivor, other=other)

    assert merge.survivor_id == survivor.pk and merge.merged_id == other.pk
    assert merge.merged_repr == "Acme S.A."
    assert merge.merged_data["city"] == "Kraków"
    assert merge.actor == rep
    event = Event.objects.get(verb="company.merged")
    assert event.object_id == survivor.pk
    assert event.after["merged_id"] == other.pk
    assert event.after["city"] == "Kraków"


# Undo ---------------------------------------------------------------------------------------


def test_undo_keeps_a_survivor_field_changed_since_the_merge_and_says_so(rep):
    survivor = make_contact(rep, title="")
    other = make_contact(rep, title="CEO", notes="From the fair")
    merge = record_merge(actor=rep, survivor=survivor, other=other)
    survivor.refresh_from_db()
    contact_update(actor=rep, contact=survivor, values={"title": "Founder"})

    result = merge_undo(actor=rep, merge=merge)

    survivor.refresh_from_db()
    assert survivor.title == "Founder"
    assert survivor.notes == ""
    assert result.kept == ["job title"]
    assert Contact.objects.get(pk=other.pk).title == "CEO"


def test_undo_after_thirty_days_is_refused(rep):
    merge = record_merge(actor=rep, survivor=make_lead(rep), other=make_lead(rep))
    Merge.objects.filter(pk=merge.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=31)
    )
    merge.refresh_from_db()

    with pytest.raises(MergeError, match="30 days"):
        merge_undo(actor=rep, merge=merge)

    assert not Lead.objects.filter(pk=merge.merged_id).exists()
    merge.refresh_from_db()
    assert merge.undone_at is None


def test_undo_within_thirty_days_is_marked_and_cannot_run_twice(rep):
    merge = record_merge(actor=rep, survivor=make_lead(rep), other=make_lead(rep))
    Merge.objects.filter(pk=merge.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=29)
    )

    merge_undo(actor=rep, merge=merge)

    merge.refresh_from_db()
    assert merge.undone_at is not None and merge.undone_by == rep
    assert resolve_merged(Lead, merge.merged_id) is None
    with pytest.raises(MergeError, match="already been undone"):
        merge_undo(actor=rep, merge=merge)


def test_undo_is_refused_while_the_survivor_is_merged_into_another_record(rep):
    a, b, c = make_contact(rep), make_contact(rep), make_contact(rep)
    first = record_merge(actor=rep, survivor=b, other=a)
    record_merge(actor=rep, survivor=c, other=b)

    with pytest.raises(MergeError, match="Undo that merge first"):
        merge_undo(actor=rep, merge=first)


# Old ids ------------------------------------------------------------------------------------


def test_merged_id_resolves_to_the_survivor_through_a_chain_of_merges(rep):
    a, b, c = make_contact(rep), make_contact(rep), make_contact(rep)

    record_merge(actor=rep, survivor=b, other=a)
    record_merge(actor=rep, survivor=c, other=b)

    assert resolve_merged(Contact, a.pk) == c.pk
    assert resolve_merged(Contact, b.pk) == c.pk
    assert resolve_merged(Contact, c.pk) is None


# Refusals -----------------------------------------------------------------------------------


def test_rep_cannot_merge_a_teammates_record(rep, teammate):
    mine = make_contact(rep)
    theirs = make_contact(teammate)

    with pytest.raises(PermissionDenied):
        record_merge(actor=rep, survivor=mine, other=theirs)

    assert Contact.objects.filter(pk=theirs.pk).exists()
    assert not Merge.objects.exists()


def test_stranger_cannot_merge_records_of_another_team(rep, other_rep):
    a, b = make_lead(rep), make_lead(rep)

    with pytest.raises(PermissionDenied):
        record_merge(actor=other_rep, survivor=a, other=b)

    assert Lead.objects.filter(pk__in=[a.pk, b.pk]).count() == 2


def test_marketing_may_merge_leads_but_not_contacts(marketer, rep):
    merge = record_merge(actor=marketer, survivor=make_lead(rep), other=make_lead(rep))
    assert merge.pk is not None

    with pytest.raises(PermissionDenied):
        record_merge(actor=marketer, survivor=make_contact(rep), other=make_contact(rep))


def test_a_record_cannot_be_merged_into_itself(rep):
    lead = make_lead(rep)

    with pytest.raises(MergeError, match="into itself"):
        record_merge(actor=rep, survivor=lead, other=Lead.objects.get(pk=lead.pk))


def test_records_of_different_kinds_cannot_be_merged(rep):
    with pytest.raises(MergeError, match="same kind"):
        record_merge(actor=rep, survivor=make_contact(rep), other=make_company(rep))


def test_merging_a_record_that_is_already_gone_gives_a_clear_error(rep):
    a, b, c = make_lead(rep), make_lead(rep), make_lead(rep)
    record_merge(actor=rep, survivor=a, other=b)

    with pytest.raises(MergeError, match="no longer exists"):
        record_merge(actor=rep, survivor=c, other=b)

    assert Lead.objects.filter(pk=c.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_merges_of_one_record_leave_exactly_one_merge(rep):
    if connection.vendor == "sqlite":
        # SQLite runs one writing transaction at a time, and its shared in-memory test
        # database answers a second writer "table is locked" instead of waiting.
        pytest.skip("needs a database with row locks")
    a, b, c = make_contact(rep), make_contact(rep), make_contact(rep)
    make_activity(rep, a)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def merge_into(survivor) -> None:
        start.wait()
        try:
            record_merge(actor=rep, survivor=survivor, other=a)
            outcomes.append("merged")
        except MergeError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=merge_into, args=(s,)) for s in (b, c)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcomes.count("merged") == 1
    assert any("no longer exists" in outcome for outcome in outcomes)
    merge = Merge.objects.get()
    assert Activity.objects.get().contact_id == merge.survivor_id
    assert not Contact.objects.filter(pk=a.pk).exists()
