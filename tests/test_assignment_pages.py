"""Settings → Lead assignment pages, and the reassign page of a lead."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lejek.core.models import Event
from lejek.leads.assignment import rule_create, team_set_assignment
from lejek.leads.models import AssignmentRule
from lejek.users.models import Team
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def rule_data(team, **changes) -> dict:
    data = {
        "name": "Poland",
        "team": team.pk,
        "is_active": "on",
        "cond-0-field": "country",
        "cond-0-op": "in",
        "cond-0-value": "PL, CZ",
        "cond-1-field": "company_size",
        "cond-1-op": "gte",
        "cond-1-value": "50",
        "cond-2-field": "",
        "cond-2-op": "",
        "cond-2-value": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def polish(admin, north):
    return rule_create(
        actor=admin,
        name="Poland",
        team=north,
        conditions=[{"field": "country", "op": "eq", "value": "PL"}],
    )


# Who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"), [("admin", 200), ("manager", 200), ("rep", 200), ("marketer", 403)]
)
def test_who_opens_the_assignment_page(request, client_for, persona, status, polish):
    response = client_for(request.getfixturevalue(persona)).get(reverse("assignment"))
    assert response.status_code == status
    if persona == "rep":
        html = response.content.decode()
        assert "Your availability" in html
        assert "Poland" not in html  # reps only switch themselves on and off


@pytest.mark.parametrize("persona", ["rep", "marketer"])
def test_reps_and_marketing_cannot_open_rule_pages(request, client_for, persona, polish):
    client = client_for(request.getfixturevalue(persona))
    for url in (
        reverse("assignment-rule-create"),
        reverse("assignment-rule-edit", args=[polish.pk]),
        reverse("assignment-rule-delete", args=[polish.pk]),
        reverse("assignment-try"),
    ):
        assert client.get(url).status_code == 403
    assert client.post(reverse("assignment-rule-move", args=[polish.pk])).status_code == 403


def test_manager_cannot_edit_another_teams_rule(client_for, manager, admin, south):
    theirs = rule_create(actor=admin, name="South", team=south, conditions=[])
    client = client_for(manager)
    assert client.get(reverse("assignment-rule-edit", args=[theirs.pk])).status_code == 403
    assert client.post(reverse("assignment-rule-delete", args=[theirs.pk])).status_code == 403
    assert AssignmentRule.objects.filter(pk=theirs.pk).exists()


# Rules --------------------------------------------------------------------------------------


def test_empty_page_offers_the_first_rule(client_for, admin):
    html = client_for(admin).get(reverse("assignment")).content.decode()
    assert "No rules yet" in html
    assert reverse("assignment-rule-create") in html


def test_manager_creates_a_rule_with_condition_rows(client_for, manager, north):
    client = client_for(manager)
    form = client.get(reverse("assignment-rule-create"))
    assert form.content.decode().count('name="cond-') == 9  # three empty rows
    response = client.post(reverse("assignment-rule-create"), rule_data(north))
    assert response.status_code == 302
    rule = AssignmentRule.objects.get()
    assert rule.conditions == [
        {"field": "country", "op": "in", "value": ["PL", "CZ"]},
        {"field": "company_size", "op": "gte", "value": "50"},
    ]
    html = client.get(reverse("assignment")).content.decode()
    assert "Country is one of PL, CZ" in html
    assert "Company size is at least 50" in html


def test_bad_condition_is_reported_next_to_its_row(client_for, admin, north):
    data = rule_data(north, **{"cond-1-value": "lots", "cond-2-op": "eq"})
    response = client_for(admin).post(reverse("assignment-rule-create"), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "Enter a number or a date (YYYY-MM-DD)." in errors["cond-1-value"]
    assert errors["cond-2-field"]
    assert not AssignmentRule.objects.exists()


def test_edit_shows_existing_conditions_plus_spare_rows(client_for, admin, polish, north):
    client = client_for(admin)
    page = client.get(reverse("assignment-rule-edit", args=[polish.pk]))
    assert page.content.decode().count('name="cond-') == 12
    data = rule_data(north, name="Poland only", is_active="")
    assert client.post(reverse("assignment-rule-edit", args=[polish.pk]), data).status_code == 302
    polish.refresh_from_db()
    assert (polish.name, polish.is_active) == ("Poland only", False)


def test_move_buttons_and_delete_with_confirmation(client_for, admin, polish, south):
    other = rule_create(actor=admin, name="Rest", team=south, conditions=[])
    client = client_for(admin)
    client.post(reverse("assignment-rule-move", args=[other.pk]), {"direction": "up"})
    names = list(AssignmentRule.objects.order_by("position").values_list("name", flat=True))
    assert names == ["Rest", "Poland"]
    confirm = client.get(reverse("assignment-rule-delete", args=[polish.pk]))
    assert "Delete the rule" in confirm.content.decode()
    assert AssignmentRule.objects.count() == 2
    client.post(reverse("assignment-rule-delete", args=[polish.pk]))
    assert list(AssignmentRule.objects.values_list("name", flat=True)) == ["Rest"]


# Teams and people ---------------------------------------------------------------------------


def test_admin_sets_strategy_and_default_pool(client_for, admin, north):
    client_for(admin).post(
        reverse("assignment-team", args=[north.pk]),
        {
            f"team{north.pk}-assignment_strategy": "weighted",
            f"team{north.pk}-is_default_pool": "on",
        },
    )
    north.refresh_from_db()
    assert (north.assignment_strategy, north.is_default_pool) == ("weighted", True)


def test_manager_sets_strategy_but_the_pool_flag_stays(client_for, manager, north):
    client_for(manager).post(
        reverse("assignment-team", args=[north.pk]),
        {
            f"team{north.pk}-assignment_strategy": "fewest_open",
            f"team{north.pk}-is_default_pool": "on",
        },
    )
    north.refresh_from_db()
    assert (north.assignment_strategy, north.is_default_pool) == ("fewest_open", False)


def test_manager_cannot_change_another_team(client_for, manager, south):
    response = client_for(manager).post(
        reverse("assignment-team", args=[south.pk]),
        {f"team{south.pk}-assignment_strategy": "weighted"},
    )
    assert response.status_code == 403
    assert Team.objects.get(pk=south.pk).assignment_strategy == "round_robin"


def test_rep_switches_own_availability_but_not_a_colleagues(client_for, rep, teammate):
    client = client_for(rep)
    client.post(reverse("assignment-availability", args=[rep.pk]), {})
    rep.refresh_from_db()
    assert rep.is_available is False
    assert Event.objects.filter(verb="user.availability_changed").count() == 1
    response = client.post(reverse("assignment-availability", args=[teammate.pk]), {})
    assert response.status_code == 403


def test_manager_sets_capacity_from_the_team_table(client_for, manager, rep):
    client = client_for(manager)
    html = client.get(reverse("assignment")).content.decode()
    assert f'action="{reverse("assignment-availability", args=[rep.pk])}"' in html
    client.post(
        reverse("assignment-availability", args=[rep.pk]),
        {"is_available": "on", "lead_capacity": "25"},
    )
    rep.refresh_from_db()
    assert (rep.is_available, rep.lead_capacity) == (True, 25)


# Test a lead --------------------------------------------------------------------------------


def test_try_a_typed_lead_shows_rule_team_and_rep_without_changing_anything(
    client_for, admin, polish, rep, north
):
    response = client_for(admin).get(reverse("assignment-try"), {"country": "pl"})
    assert response.status_code == 200
    result = response.context["result"]
    assert (result["rule"], result["team"], result["rep"]) == (polish, north, rep)
    north.refresh_from_db()
    assert north.round_robin_counter == 0
    assert "Rita Rep" in response.content.decode()


def test_try_an_existing_lead_and_the_default_pool(client_for, admin, polish, south):
    team_set_assignment(actor=admin, team=south, strategy="round_robin", is_default_pool=True)
    lead = make_lead(admin, country="DE")
    response = client_for(admin).get(reverse("assignment-try"), {"lead": lead.pk})
    result = response.context["result"]
    assert (result["lead"], result["rule"], result["team"], result["rep"]) == (
        lead,
        None,
        south,
        None,
    )
    assert "no rule matches" in response.content.decode()


def test_try_a_lead_the_manager_cannot_see(client_for, manager, other_rep, polish):
    lead = make_lead(other_rep)
    response = client_for(manager).get(reverse("assignment-try"), {"lead": lead.pk})
    assert response.status_code == 400
    assert "no lead with this number" in response.content.decode()


# Reassign -----------------------------------------------------------------------------------


def test_manager_reassigns_a_lead_from_its_page(client_for, manager, rep, teammate):
    lead = make_lead(rep)
    client = client_for(manager)
    page = client.get(reverse("lead-reassign", args=[lead.pk]))
    assert page.status_code == 200
    response = client.post(reverse("lead-reassign", args=[lead.pk]), {"owner": teammate.pk})
    assert response.status_code == 302
    assert response.url == lead.get_absolute_url()
    lead.refresh_from_db()
    assert lead.owner == teammate


@pytest.mark.parametrize(("persona", "status"), [("rep", 403), ("marketer", 403)])
def test_reps_and_marketing_cannot_reassign(request, client_for, persona, status, rep):
    lead = make_lead(rep)
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("lead-reassign", args=[lead.pk])).status_code == status


def test_manager_cannot_reassign_other_teams_leads_or_give_to_strangers(
    client_for, manager, rep, other_rep
):
    client = client_for(manager)
    theirs = make_lead(other_rep)
    assert client.get(reverse("lead-reassign", args=[theirs.pk])).status_code == 404
    mine = make_lead(rep)
    response = client.post(reverse("lead-reassign", args=[mine.pk]), {"owner": other_rep.pk})
    assert response.status_code == 400
    assert response.context["form"].errors["owner"]
    mine.refresh_from_db()
    assert mine.owner == rep


def test_settings_index_links_to_assignment(client_for, manager, marketer):
    assert reverse("assignment") in client_for(manager).get(reverse("settings")).content.decode()
    assert (
        reverse("assignment") not in client_for(marketer).get(reverse("settings")).content.decode()
    )
