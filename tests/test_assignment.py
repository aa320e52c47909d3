"""Automatic lead assignment: rules pick a team, the team's strategy picks the rep."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from lejek.core.models import CustomField, Event
from lejek.core.services_custom_fields import custom_field_create
from lejek.leads import assignment
from lejek.leads.assignment import (
    condition_holds,
    lead_assign_automatically,
    lead_reassign,
    matching_rule,
    pick_rep,
    rule_create,
    rule_delete,
    rule_move,
    rule_update,
    rules_reorder,
    team_set_assignment,
    user_set_availability,
)
from lejek.leads.models import AssignmentRule, Lead, Source
from lejek.leads.services import campaign_create, source_create
from lejek.users.models import Notification, Role, Team
from tests.conftest import make_user
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(admin):
    return source_create(actor=admin, name="Website", kind=Source.Kind.WEB_FORM)


@pytest.fixture
def industry(admin):
    return custom_field_create(
        actor=admin, entity=CustomField.Entity.LEAD, key="industry", label="Industry", type="text"
    )


@pytest.fixture
def seats(admin):
    return custom_field_create(
        actor=admin, entity=CustomField.Entity.LEAD, key="seats", label="Seats", type="number"
    )


def unassigned(admin, **values) -> Lead:
    """A lead nobody owns yet, as a web form or an import leaves it."""
    lead = make_lead(admin, assign=False, **values)
    assert lead.owner_id is None
    return lead


def cond(field, op, value=None) -> dict:
    return {"field": field, "op": op, "value": value}


# Conditions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (cond("country", "eq", "pl"), True),
        (cond("country", "eq", "DE"), False),
        (cond("country", "ne", "DE"), True),
        (cond("country", "ne", "PL"), False),
        (cond("country", "in", ["DE", "PL"]), True),
        (cond("country", "in", "DE, CZ"), False),
        (cond("region", "contains", "mazow"), True),
        (cond("region", "contains", "śląsk"), False),
        (cond("company_size", "gte", "250"), True),
        (cond("company_size", "gte", "251"), False),
        (cond("company_size", "lte", "250"), True),
        (cond("company_size", "lte", "100"), False),
        (cond("medium", "is_set", True), True),
        (cond("utm_term", "is_set", True), False),
        (cond("utm_source", "eq", "linkedin"), True),
        (cond("utm_medium", "eq", "cpc"), True),
        (cond("utm_campaign", "contains", "SPRING"), True),
        (cond("status", "eq", "new"), True),
        (cond("status", "in", ["mql", "sql"]), False),
        (cond("custom.industry", "eq", "Banking"), True),
        (cond("custom.industry", "contains", "bank"), True),
        (cond("custom.seats", "gte", "40"), True),
        (cond("custom.seats", "lte", "39"), False),
        (cond("custom.missing", "is_set", False), True),
    ],
)
def test_each_operator_on_each_kind_of_field(admin, industry, seats, condition, expected):
    lead = unassigned(
        admin,
        country="PL",
        region="Mazowieckie",
        company_size=250,
        medium="paid social",
        utm_source="linkedin",
        utm_medium="cpc",
        utm_campaign="spring-2026",
        custom={"industry": "Banking", "seats": 40},
    )
    assert condition_holds(lead, condition) is expected


def test_source_matches_by_id_channel_or_name_and_campaign_by_id_or_name(admin, web):
    campaign = campaign_create(actor=admin, name="Spring webinar", source=web)
    lead = unassigned(admin, campaign=campaign)
    for value in (web.pk, str(web.pk), "web_form", "website"):
        assert condition_holds(lead, cond("source", "eq", value))
    assert not condition_holds(lead, cond("source", "eq", "event"))
    assert condition_holds(lead, cond("campaign", "eq", campaign.pk))
    assert condition_holds(lead, cond("campaign", "in", ["Spring webinar"]))


def test_dates_compare_in_custom_fields(admin):
    custom_field_create(
        actor=admin, entity=CustomField.Entity.LEAD, key="demo_on", label="Demo", type="date"
    )
    lead = unassigned(admin, custom={"demo_on": "2026-05-10"})
    assert condition_holds(lead, cond("custom.demo_on", "gte", "2026-05-01"))
    assert not condition_holds(lead, cond("custom.demo_on", "lte", "2026-05-01"))


@pytest.mark.parametrize(
    "bad",
    [
        cond("salary", "eq", "1"),
        cond("custom.nope", "eq", "1"),
        cond("country", "like", "PL"),
        cond("country", "eq", ""),
        cond("country", "in", ""),
        cond("company_size", "gte", "many"),
        "not a condition",
    ],
)
def test_unknown_fields_ops_and_values_are_refused_when_a_rule_is_saved(admin, north, bad):
    with pytest.raises(ValidationError) as exc:
        rule_create(actor=admin, name="Bad", team=north, conditions=[bad])
    assert "conditions" in exc.value.message_dict
    assert exc.value.message_dict["conditions"][0].startswith("Condition 1:")


# Rules --------------------------------------------------------------------------------------


def test_first_matching_rule_wins_and_inactive_rules_are_skipped(admin, north, south):
    off = rule_create(actor=admin, name="Off", team=south, conditions=[cond("country", "eq", "PL")])
    rule_update(actor=admin, rule=off, name="Off", team=south, conditions=[], is_active=False)
    polish = rule_create(
        actor=admin, name="Poland", team=north, conditions=[cond("country", "eq", "PL")]
    )
    rule_create(actor=admin, name="Everyone", team=south, conditions=[])
    assert matching_rule(unassigned(admin, country="PL")) == polish
    assert matching_rule(unassigned(admin, country="DE")).name == "Everyone"


def test_reordering_changes_which_rule_wins(admin, north, south):
    first = rule_create(actor=admin, name="A", team=north, conditions=[])
    second = rule_create(actor=admin, name="B", team=south, conditions=[])
    rules_reorder(actor=admin, rule_ids=[second.pk, first.pk])
    assert matching_rule(unassigned(admin)) == second
    rule_move(actor=admin, rule=first, up=True)
    assert matching_rule(unassigned(admin)) == first
    assert Event.objects.filter(verb="assignment_rule.moved").count() == 4


def test_reorder_must_list_every_rule(admin, north):
    rule = rule_create(actor=admin, name="A", team=north, conditions=[])
    with pytest.raises(ValidationError):
        rules_reorder(actor=admin, rule_ids=[rule.pk, rule.pk + 100])


def test_managers_manage_only_their_own_teams_rules(manager, north, south, admin):
    mine = rule_create(actor=manager, name="Mine", team=north, conditions=[])
    assert Event.objects.filter(verb="assignment_rule.created", object_id=mine.pk).exists()
    theirs = rule_create(actor=admin, name="Theirs", team=south, conditions=[])
    with pytest.raises(PermissionDenied):
        rule_create(actor=manager, name="X", team=south, conditions=[])
    with pytest.raises(PermissionDenied):
        rule_update(
            actor=manager, rule=mine, name="Mine", team=south, conditions=[], is_active=True
        )
    with pytest.raises(PermissionDenied):
        rule_delete(actor=manager, rule=theirs)
    with pytest.raises(PermissionDenied):
        rules_reorder(actor=manager, rule_ids=[theirs.pk, mine.pk])
    rule_delete(actor=manager, rule=mine)
    assert Event.objects.filter(verb="assignment_rule.deleted").count() == 1


@pytest.mark.parametrize("persona", ["rep", "marketer"])
def test_reps_and_marketing_cannot_write_rules(request, persona, north):
    with pytest.raises(PermissionDenied):
        rule_create(actor=request.getfixturevalue(persona), name="X", team=north, conditions=[])


# Choosing the rep ---------------------------------------------------------------------------


def test_round_robin_takes_available_reps_in_turn(north, rep, teammate, manager):
    picks = [pick_rep(north) for _ in range(4)]
    assert picks == [rep, teammate, rep, teammate]
    north.refresh_from_db()
    assert north.round_robin_counter == 4


def test_unavailable_reps_are_skipped_and_managers_step_in_only_without_reps(
    north, rep, teammate, manager
):
    user_set_availability(actor=None, user=rep, is_available=False)
    assert {pick_rep(north) for _ in range(3)} == {teammate}
    user_set_availability(actor=None, user=teammate, is_available=False)
    assert pick_rep(north) == manager
    user_set_availability(actor=None, user=manager, is_available=False)
    assert pick_rep(north) is None


def test_fewest_open_leads_wins_ties_by_id(admin, north, rep, teammate):
    team_set_assignment(actor=admin, team=north, strategy=Team.Strategy.FEWEST_OPEN)
    north.refresh_from_db()
    assert pick_rep(north) == rep
    make_lead(rep)
    assert pick_rep(north) == teammate
    closed = make_lead(teammate, status=Lead.Status.DISQUALIFIED)
    assert closed.owner == teammate
    assert pick_rep(north) == teammate  # a closed lead does not count


def test_weighted_divides_by_capacity_and_never_picks_capacity_zero(admin, north, rep, teammate):
    team_set_assignment(actor=admin, team=north, strategy=Team.Strategy.WEIGHTED)
    north.refresh_from_db()
    user_set_availability(actor=admin, user=rep, lead_capacity=20)
    user_set_availability(actor=admin, user=teammate, lead_capacity=10)
    for _ in range(2):
        make_lead(rep)
    make_lead(teammate)
    # rep: 2/20, teammate: 1/10 — equal, so the lower id; then rep has room for more.
    assert pick_rep(north) == rep
    user_set_availability(actor=admin, user=rep, lead_capacity=0)
    assert pick_rep(north) == teammate
    user_set_availability(actor=admin, user=teammate, lead_capacity=0)
    assert pick_rep(north) is None


# Assigning ----------------------------------------------------------------------------------


def test_matching_lead_goes_to_the_next_rep_with_event_and_notification(
    admin, north, rep, teammate, django_capture_on_commit_callbacks
):
    rule_create(actor=admin, name="Poland", team=north, conditions=[cond("country", "eq", "PL")])
    rep.language = "pl"
    rep.save(update_fields=["language"])
    lead = unassigned(admin, country="PL")
    with django_capture_on_commit_callbacks() as callbacks:
        assigned = lead_assign_automatically(actor=None, lead=lead)
    assert (assigned.owner, assigned.team) == (rep, north)
    event = Event.objects.get(verb="lead.assigned", object_id=lead.pk)
    assert event.after["owner"] == rep.pk
    assert event.after["team"] == north.pk
    assert event.after["rule"] == "Poland"
    assert "Poland" in event.after["reason"]
    notification = Notification.objects.get(recipient=rep)
    assert notification.kind == "lead.assigned"
    assert notification.url == lead.get_absolute_url()
    assert notification.text.startswith("Nowy lead dla Ciebie")
    assert len(callbacks) == 1  # the e-mail is queued once the transaction commits


def test_assignment_is_idempotent(admin, north, rep, teammate):
    rule_create(actor=admin, name="All", team=north, conditions=[])
    lead = unassigned(admin)
    lead_assign_automatically(actor=None, lead=lead)
    lead_assign_automatically(actor=None, lead=lead)
    lead.refresh_from_db()
    assert lead.owner == rep
    assert Event.objects.filter(verb="lead.assigned").count() == 1
    assert Notification.objects.count() == 1
    north.refresh_from_db()
    assert north.round_robin_counter == 1


def test_lead_with_an_owner_is_left_alone(admin, north, rep, teammate):
    rule_create(actor=admin, name="All", team=north, conditions=[])
    lead = make_lead(teammate)
    assert lead_assign_automatically(actor=None, lead=lead).owner == teammate
    assert not Event.objects.filter(verb="lead.assigned").exists()


def test_unmatched_lead_waits_in_the_default_pool(admin, north, south, rep):
    team_set_assignment(actor=admin, team=south, strategy="round_robin", is_default_pool=True)
    rule_create(actor=admin, name="Poland", team=north, conditions=[cond("country", "eq", "PL")])
    lead = lead_assign_automatically(actor=None, lead=unassigned(admin, country="DE"))
    assert (lead.owner, lead.team) == (None, south)
    assert Event.objects.get(verb="lead.assigned").after["rule"] is None
    lead_assign_automatically(actor=None, lead=lead)
    assert Event.objects.filter(verb="lead.assigned").count() == 1


def test_without_rule_or_pool_the_lead_stays_as_it_is(admin, north):
    lead = lead_assign_automatically(actor=None, lead=unassigned(admin))
    assert (lead.owner, lead.team) == (None, None)
    assert not Event.objects.filter(verb="lead.assigned").exists()


def test_team_without_available_reps_keeps_the_lead_in_its_pool(admin, north, rep):
    rule_create(actor=admin, name="All", team=north, conditions=[])
    user_set_availability(actor=admin, user=rep, is_available=False)
    lead = lead_assign_automatically(actor=None, lead=unassigned(admin))
    assert (lead.owner, lead.team) == (None, north)
    user_set_availability(actor=admin, user=rep, is_available=True)
    assert lead_assign_automatically(actor=None, lead=lead).owner == rep


def test_only_one_team_is_the_default_pool(admin, north, south):
    team_set_assignment(actor=admin, team=north, strategy="round_robin", is_default_pool=True)
    team_set_assignment(actor=admin, team=south, strategy="round_robin", is_default_pool=True)
    assert list(Team.objects.filter(is_default_pool=True)) == [south]


def test_managers_set_their_teams_strategy_but_not_the_default_pool(manager, north, south):
    team_set_assignment(actor=manager, team=north, strategy=Team.Strategy.WEIGHTED)
    assert Event.objects.filter(verb="team.assignment_changed", object_id=north.pk).exists()
    with pytest.raises(PermissionDenied):
        team_set_assignment(actor=manager, team=south, strategy=Team.Strategy.WEIGHTED)
    with pytest.raises(PermissionDenied):
        team_set_assignment(actor=manager, team=north, strategy="weighted", is_default_pool=True)
    with pytest.raises(ValidationError):
        team_set_assignment(actor=manager, team=north, strategy="lottery")


def test_availability_by_self_and_capacity_by_managers(rep, teammate, manager, other_rep):
    user_set_availability(actor=rep, user=rep, is_available=False)
    assert Event.objects.filter(verb="user.availability_changed", object_id=rep.pk).exists()
    with pytest.raises(PermissionDenied):
        user_set_availability(actor=rep, user=teammate, is_available=False)
    with pytest.raises(PermissionDenied):
        user_set_availability(actor=rep, user=rep, lead_capacity=50)
    user_set_availability(actor=manager, user=teammate, is_available=False, lead_capacity=5)
    teammate.refresh_from_db()
    assert (teammate.is_available, teammate.lead_capacity) == (False, 5)
    with pytest.raises(PermissionDenied):
        user_set_availability(actor=manager, user=other_rep, is_available=False)


# Reassigning --------------------------------------------------------------------------------


def test_manager_reassigns_within_the_team_and_the_new_owner_hears_of_it(
    manager, rep, teammate, north
):
    lead = make_lead(rep)
    lead_reassign(actor=manager, lead=lead, owner=teammate)
    lead.refresh_from_db()
    assert (lead.owner, lead.team) == (teammate, north)
    event = Event.objects.get(verb="lead.assigned", object_id=lead.pk)
    assert event.before["owner"] == rep.pk
    assert event.after["reason"] == "reassigned by Max Manager"
    assert Notification.objects.get(recipient=teammate).kind == "lead.assigned"


def test_reassign_is_refused_outside_scope(manager, rep, other_rep, teammate, admin):
    lead = make_lead(rep)
    with pytest.raises(ValidationError):
        lead_reassign(actor=manager, lead=lead, owner=other_rep)
    with pytest.raises(PermissionDenied):
        lead_reassign(actor=rep, lead=lead, owner=teammate)
    theirs = make_lead(other_rep)
    with pytest.raises(PermissionDenied):
        lead_reassign(actor=manager, lead=theirs, owner=rep)
    lead_reassign(actor=admin, lead=theirs, owner=rep)
    theirs.refresh_from_db()
    assert theirs.owner == rep


# Concurrency --------------------------------------------------------------------------------


def _assign_in_thread(lead_ids: list[int], errors: list[BaseException]) -> None:
    try:
        for pk in lead_ids:
            lead_assign_automatically(actor=None, lead=Lead.objects.get(pk=pk))
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_200_leads_at_once_are_spread_evenly_by_round_robin(admin, north):
    reps = [make_user(f"r{i}@example.com", Role.REP, [north], "R", str(i)) for i in range(3)]
    rule_create(actor=admin, name="All", team=north, conditions=[])
    ids = [unassigned(admin).pk for _ in range(200)]
    if connection.vendor == "postgresql":
        errors: list[BaseException] = []
        threads = [
            threading.Thread(target=_assign_in_thread, args=(ids[i::8], errors)) for i in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
    else:
        # SQLite takes one writer at a time anyway (immediate transactions).
        for pk in ids:
            lead_assign_automatically(actor=None, lead=Lead.objects.get(pk=pk))
    counts = Counter(Lead.objects.filter(pk__in=ids).values_list("owner", flat=True))
    assert set(counts) == {r.pk for r in reps}
    assert max(counts.values()) - min(counts.values()) <= 1
    assert Event.objects.filter(verb="lead.assigned").count() == 200


def test_preview_changes_nothing(admin, north, rep, teammate):
    rule_create(actor=admin, name="All", team=north, conditions=[])
    assert assignment.preview_rep(north) == rep
    assert assignment.preview_rep(north) == rep
    north.refresh_from_db()
    assert north.round_robin_counter == 0


def test_assignment_shows_on_the_lead_timeline_with_its_reason(client_for, admin, rep, north):
    AssignmentRule.objects.create(name="Everything to North", team=north, conditions=[])
    lead = make_lead(admin, owner=None, team=None)
    lead_assign_automatically(actor=None, lead=lead)
    html = client_for(admin).get(reverse("lead-detail", args=[lead.pk])).content.decode()
    assert "Assigned" in html
    assert "Everything to North" in html
    assert "Rita Rep" in html
