"""Settings → Users and teams: admins add people, change roles and teams, reset passwords,
deactivate those who leave, and shape teams. Nobody else may."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from lejek.core.models import Event
from lejek.leads.forms import LeadForm
from lejek.users.models import Role, Team, User
from lejek.users.services import (
    team_create,
    team_rename,
    team_set_members,
    user_create,
    user_set_active,
    user_set_password,
    user_update,
)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet tractor moonlight 42"


def new_user_data(**changes) -> dict:
    data = {
        "email": "nina@example.com",
        "first_name": "Nina",
        "last_name": "New",
        "role": Role.REP,
        "language": "pl",
        "password": NEW_PASSWORD,
    }
    data.update(changes)
    return data


def edit_data(person: User, **changes) -> dict:
    data = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "role": person.role,
        "language": person.language,
        "teams": [team.pk for team in person.teams.all()],
    }
    data.update(changes)
    return data


def field_errors(response, name: str) -> list[str]:
    return response.context["form"].errors.get(name, [])


# Who may -------------------------------------------------------------------------------------


def test_non_admins_get_403_on_every_page_and_action(client_for, admin, manager, rep, marketer):
    team = Team.objects.get(name="North")
    pages = [
        reverse("settings-users"),
        reverse("settings-user-create"),
        reverse("settings-user-edit", args=[rep.pk]),
        reverse("settings-user-password", args=[rep.pk]),
        reverse("settings-user-deactivate", args=[rep.pk]),
        reverse("settings-team-create"),
        reverse("settings-team-edit", args=[team.pk]),
    ]
    posts = {
        reverse("settings-user-create"): new_user_data(),
        reverse("settings-user-edit", args=[rep.pk]): edit_data(rep, role=Role.ADMIN),
        reverse("settings-user-password", args=[rep.pk]): {
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
        reverse("settings-user-deactivate", args=[rep.pk]): {},
        reverse("settings-user-reactivate", args=[rep.pk]): {},
        reverse("settings-team-create"): {"name": "Hackers"},
        reverse("settings-team-edit", args=[team.pk]): {"name": "Renamed"},
    }
    for person in (manager, rep, marketer):
        client = client_for(person)
        for url in pages:
            assert client.get(url).status_code == 403, (person, url)
        for url, data in posts.items():
            assert client.post(url, data).status_code == 403, (person, url)
    rep.refresh_from_db()
    assert rep.role == Role.REP and rep.is_active and rep.check_password(PASSWORD)
    assert not User.objects.filter(email="nina@example.com").exists()
    assert set(Team.objects.values_list("name", flat=True)) == {"North"}
    assert not Event.objects.filter(actor__in=[manager, rep, marketer]).exists()


def test_services_refuse_non_admin_actors(manager, rep, north):
    calls = [
        lambda: user_create(actor=manager, email="x@example.com", password=None, role=Role.REP),
        lambda: user_update(
            actor=manager, user=rep, first_name="R", last_name="R", role=Role.ADMIN,
            teams=[], language="en",
        ),
        lambda: user_set_active(actor=manager, user=rep, active=False),
        lambda: user_set_password(actor=manager, user=rep, password=NEW_PASSWORD),
        lambda: team_create(actor=manager, name="Mine"),
        lambda: team_rename(actor=manager, team=north, name="Mine"),
        lambda: team_set_members(actor=manager, team=north, members=[manager]),
    ]  # fmt: skip
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()


def test_settings_index_links_users_and_teams_for_admins_only(client_for, admin, rep):
    url = reverse("settings-users")
    assert url in client_for(admin).get(reverse("settings")).content.decode()
    assert url not in client_for(rep).get(reverse("settings")).content.decode()


# The list ------------------------------------------------------------------------------------


def test_list_shows_people_roles_teams_and_state_in_few_queries(
    client_for, admin, manager, rep, other_rep, django_assert_max_num_queries
):
    user_set_active(actor=admin, user=other_rep, active=False)
    user_create(actor=admin, email="later@example.com", password=None, role=Role.REP)
    client = client_for(admin)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("settings-users"))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Max Manager", "max@example.com", "Sales manager", "North", "South"):
        assert text in html
    assert "deactivated" in html and "no password yet" in html
    assert reverse("settings-user-edit", args=[rep.pk]) in html
    assert reverse("settings-team-edit", args=[rep.teams.get().pk]) in html


# New user ------------------------------------------------------------------------------------


def test_admin_adds_a_user_who_can_then_sign_in(client_for, admin, north):
    response = client_for(admin).post(
        reverse("settings-user-create"), new_user_data(email="Nina@Example.com", teams=[north.pk])
    )
    assert response.status_code == 302
    nina = User.objects.get(email="nina@example.com")
    assert (nina.first_name, nina.role, nina.language) == ("Nina", Role.REP, "pl")
    assert list(nina.teams.all()) == [north]
    event = Event.objects.get(verb="user.created", object_id=nina.pk)
    assert event.actor == admin
    assert Client().login(username="nina@example.com", password=NEW_PASSWORD)


def test_user_added_without_password_cannot_sign_in_until_one_is_set(client_for, admin):
    client = client_for(admin)
    response = client.post(reverse("settings-user-create"), new_user_data(password=""))
    assert response.status_code == 302
    nina = User.objects.get(email="nina@example.com")
    assert not nina.has_usable_password()
    assert "Set a password" in client.get(reverse("settings-users")).content.decode()
    response = client.post(
        reverse("settings-user-password", args=[nina.pk]),
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert Client().login(username="nina@example.com", password=NEW_PASSWORD)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"password": "short"}, "password"),
        ({"password": "password123"}, "password"),
        ({"password": "nina@example.com"}, "password"),
        ({"email": "RITA@example.com"}, "email"),
        ({"email": "not an address"}, "email"),
        ({"role": "king"}, "role"),
    ],
)
def test_bad_new_user_input_is_shown_next_to_its_field(client_for, admin, rep, changes, field):
    response = client_for(admin).post(reverse("settings-user-create"), new_user_data(**changes))
    assert response.status_code == 400
    assert field_errors(response, field)
    assert 'class="field has-error' in response.content.decode()
    assert not User.objects.filter(first_name="Nina").exists()


# Edit ----------------------------------------------------------------------------------------


def test_admin_changes_name_role_teams_and_language(client_for, admin, rep, north, south):
    response = client_for(admin).post(
        reverse("settings-user-edit", args=[rep.pk]),
        edit_data(rep, first_name="Rita Maria", role=Role.MANAGER, teams=[south.pk], language="pl"),
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.first_name, rep.role, rep.language) == ("Rita Maria", Role.MANAGER, "pl")
    assert list(rep.teams.all()) == [south]
    event = Event.objects.get(verb="user.updated", object_id=rep.pk)
    assert event.actor == admin
    assert event.before == {
        "first_name": "Rita", "role": "rep", "language": "en", "teams": [north.pk],
    }  # fmt: skip
    assert event.after == {
        "first_name": "Rita Maria", "role": "manager", "language": "pl", "teams": [south.pk],
    }  # fmt: skip


def test_saving_unchanged_user_records_nothing(client_for, admin, rep):
    response = client_for(admin).post(reverse("settings-user-edit", args=[rep.pk]), edit_data(rep))
    assert response.status_code == 302
    assert not Event.objects.filter(verb="user.updated").exists()


def test_admin_cannot_take_away_their_own_admin_role(client_for, admin):
    response = client_for(admin).post(
        reverse("settings-user-edit", args=[admin.pk]), edit_data(admin, role=Role.REP)
    )
    assert response.status_code == 400
    assert field_errors(response, "role")
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


# Deactivate and reactivate -------------------------------------------------------------------


def test_deactivated_user_cannot_sign_in_and_is_signed_out(client_for, admin, rep):
    rep_session = client_for(rep)
    assert rep_session.get(reverse("home")).status_code == 200
    admin_client = client_for(admin)
    page = admin_client.get(reverse("settings-user-deactivate", args=[rep.pk]))
    assert page.status_code == 200 and "open sessions and API tokens stop" in page.content.decode()
    response = admin_client.post(reverse("settings-user-deactivate", args=[rep.pk]))
    assert response.status_code == 302
    rep.refresh_from_db()
    assert not rep.is_active
    assert Event.objects.get(verb="user.deactivated", object_id=rep.pk).actor == admin

    assert not Client().login(username=rep.email, password=PASSWORD)
    refused = Client().post(reverse("login"), {"username": rep.email, "password": PASSWORD})
    assert refused.status_code == 200
    assert refused.context["form"].non_field_errors()
    assert rep_session.get(reverse("home")).status_code == 302  # back to the login page


def test_deactivated_user_is_not_offered_as_owner(admin, rep):
    user_set_active(actor=admin, user=rep, active=False)
    form = LeadForm(user=admin)
    owner_ids = {value for value, _label in form.fields["owner"].choices if value}
    assert rep.pk not in owner_ids
    assert admin.pk in owner_ids


def test_admin_cannot_deactivate_themselves(client_for, admin):
    client = client_for(admin)
    page = client.get(reverse("settings-user-deactivate", args=[admin.pk]))
    assert 'type="submit"' not in page.content.decode().split("<main")[1]
    response = client.post(reverse("settings-user-deactivate", args=[admin.pk]), follow=True)
    admin.refresh_from_db()
    assert admin.is_active
    assert "cannot deactivate yourself" in response.content.decode()
    with pytest.raises(ValidationError):
        user_set_active(actor=admin, user=admin, active=False)


def test_reactivated_user_can_sign_in_again(client_for, admin, rep):
    user_set_active(actor=admin, user=rep, active=False)
    response = client_for(admin).post(reverse("settings-user-reactivate", args=[rep.pk]))
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.is_active
    assert Event.objects.filter(verb="user.reactivated", object_id=rep.pk).exists()
    assert Client().login(username=rep.email, password=PASSWORD)


def test_reactivate_is_post_only(client_for, admin, rep):
    assert (
        client_for(admin).get(reverse("settings-user-reactivate", args=[rep.pk])).status_code == 405
    )


# Passwords -----------------------------------------------------------------------------------


def test_admin_sets_a_new_password_which_never_reaches_the_event_log(client_for, admin, rep):
    response = client_for(admin).post(
        reverse("settings-user-password", args=[rep.pk]),
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert Client().login(username=rep.email, password=NEW_PASSWORD)
    assert not Client().login(username=rep.email, password=PASSWORD)
    event = Event.objects.get(verb="user.password_set", object_id=rep.pk)
    assert event.actor == admin and event.before == {} and event.after == {}
    rep.refresh_from_db()
    logged = json.dumps(list(Event.objects.values("before", "after")))
    assert NEW_PASSWORD not in logged and rep.password not in logged


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"password": NEW_PASSWORD, "password_again": NEW_PASSWORD + "x"}, "password_again"),
        ({"password": "1234", "password_again": "1234"}, "password"),
        ({"password": "rita@example.com", "password_again": "rita@example.com"}, "password"),
    ],
)
def test_bad_new_password_is_refused_next_to_the_field(client_for, admin, rep, data, field):
    response = client_for(admin).post(reverse("settings-user-password", args=[rep.pk]), data)
    assert response.status_code == 400
    assert field_errors(response, field)
    rep.refresh_from_db()
    assert rep.check_password(PASSWORD)
    assert not Event.objects.filter(verb="user.password_set").exists()


def test_admin_changing_own_password_stays_signed_in(client_for, admin):
    client = client_for(admin)
    client.post(
        reverse("settings-user-password", args=[admin.pk]),
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert client.get(reverse("settings-users")).status_code == 200


# Teams ---------------------------------------------------------------------------------------


def test_admin_creates_a_team_with_members(client_for, admin, rep, teammate):
    response = client_for(admin).post(
        reverse("settings-team-create"), {"name": " East ", "members": [rep.pk, teammate.pk]}
    )
    assert response.status_code == 302
    east = Team.objects.get(name="East")
    assert set(east.members.all()) == {rep, teammate}
    assert set(rep.teams.values_list("name", flat=True)) == {"North", "East"}
    assert Event.objects.get(verb="team.created", object_id=east.pk).actor == admin
    changed = Event.objects.get(verb="team.members_changed", object_id=east.pk)
    assert changed.before == {"members": []}
    assert changed.after == {"members": sorted([rep.pk, teammate.pk])}


def test_admin_renames_a_team_and_changes_members(client_for, admin, north, rep, teammate, manager):
    client = client_for(admin)
    response = client.post(
        reverse("settings-team-edit", args=[north.pk]),
        {"name": "North-East", "members": [manager.pk, rep.pk]},
    )
    assert response.status_code == 302
    north.refresh_from_db()
    assert north.name == "North-East"
    assert set(north.members.all()) == {manager, rep}
    renamed = Event.objects.get(verb="team.renamed")
    assert (renamed.before, renamed.after) == ({"name": "North"}, {"name": "North-East"})
    html = client.get(reverse("settings-users")).content.decode()
    team_section = html.split('id="teams-title"')[1]
    assert "North-East" in team_section and "Rita Rep" in team_section
    assert "Tom Teammate" not in team_section


def test_team_names_are_unique_whatever_the_case(client_for, admin, north, south):
    client = client_for(admin)
    response = client.post(reverse("settings-team-create"), {"name": "north"})
    assert response.status_code == 400
    assert field_errors(response, "name")
    response = client.post(reverse("settings-team-edit", args=[south.pk]), {"name": "NORTH"})
    assert response.status_code == 400
    assert field_errors(response, "name")
    south.refresh_from_db()
    assert south.name == "South"
    assert Team.objects.count() == 2


def test_saving_a_team_keeps_deactivated_members(client_for, admin, north, rep, teammate):
    user_set_active(actor=admin, user=teammate, active=False)
    page = client_for(admin).get(reverse("settings-team-edit", args=[north.pk]))
    assert "Tom Teammate" in page.content.decode()
    client_for(admin).post(
        reverse("settings-team-edit", args=[north.pk]),
        {"name": "North", "members": [rep.pk, teammate.pk]},
    )
    assert set(north.members.all()) == {rep, teammate}
