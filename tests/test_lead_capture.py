"""A new lead, from a person or from Lejek itself (forms, imports), is routed at once and only
ever once per person, however many copies of it arrive together."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from lejek.core.models import Event
from lejek.leads.assignment import rule_create
from lejek.leads.models import Lead
from lejek.leads.services import lead_create
from lejek.users.models import Notification

pytestmark = pytest.mark.django_db


def test_a_new_unowned_lead_is_assigned_by_the_rules_as_it_is_created(admin, north, rep):
    rule_create(actor=admin, name="Poland", team=north, conditions=[])
    lead = lead_create(actor=None, first_name="Ewa", email="ewa@firma.pl", country="PL")
    assert (lead.owner, lead.team) == (rep, north)
    verbs = list(
        Event.objects.filter(object_id=lead.pk, verb__startswith="lead.")
        .order_by("id")
        .values_list("verb", flat=True)
    )
    assert verbs == ["lead.created", "lead.assigned"]
    assert Notification.objects.filter(recipient=rep, kind="lead.assigned").count() == 1


def test_a_lead_created_by_a_rep_stays_theirs(admin, north, rep, teammate):
    rule_create(actor=admin, name="All", team=north, conditions=[])
    lead = lead_create(actor=teammate, last_name="Nowak", email="nowak@firma.pl")
    assert lead.owner == teammate
    assert not Event.objects.filter(verb="lead.assigned").exists()


def test_without_a_matching_rule_a_lead_waits_in_the_team_it_came_with(north, rep):
    lead = lead_create(actor=None, last_name="Nowak", team=north)
    assert (lead.owner, lead.team) == (None, north)
    assert not Event.objects.filter(verb="lead.assigned").exists()


def test_assignment_can_be_left_for_later(admin, north, rep):
    rule_create(actor=admin, name="All", team=north, conditions=[])
    lead = lead_create(actor=None, last_name="Nowak", assign=False)
    assert lead.owner is None


def test_lejek_itself_folds_a_repeat_into_any_open_lead(other_rep, north):
    """A public form sees no one's records, yet a repeat must not become a second lead."""
    first = lead_create(actor=other_rep, last_name="Nowak", email="nowak@firma.pl")
    again = lead_create(actor=None, last_name="Nowak", email="NOWAK@firma.pl", phone="601200300")
    assert again.was_repeat
    assert again.pk == first.pk
    assert Lead.objects.get(pk=first.pk).phone == "+48601200300"


def _submit(errors: list[BaseException], results: list[Lead]) -> None:
    try:
        results.append(lead_create(actor=None, last_name="Nowak", email="nowak@firma.pl"))
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_ten_copies_of_one_person_at_once_make_one_lead(north):
    errors: list[BaseException] = []
    results: list[Lead] = []
    if connection.vendor == "postgresql":
        threads = [threading.Thread(target=_submit, args=(errors, results)) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        # SQLite runs one writing transaction at a time (BEGIN IMMEDIATE): copies queue up.
        for _ in range(10):
            results.append(lead_create(actor=None, last_name="Nowak", email="nowak@firma.pl"))
    assert not errors
    assert Lead.objects.filter(email="nowak@firma.pl").count() == 1
    assert sorted(lead.was_repeat for lead in results) == [False] + [True] * 9
    assert Event.objects.filter(verb="lead.repeated").count() == 9
