"""The shell: sign-in, home per role, global search, profile and API tokens."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lejek.core.models import Event
from lejek.leads.services import campaign_create, source_create
from lejek.users.models import ApiToken, User
from lejek.users.services import token_authenticate
from tests.conftest import PASSWORD
from tests.factories import make_company, make_contact, make_deal, make_lead, make_task

pytestmark = pytest.mark.django_db


def page(client, name, *args, **query):
    response = client.get(reverse(name, args=args), query)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# Sign-in -----------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login():
    response = Client().get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_has_labelled_email_and_password_fields():
    html = Client().get(reverse("login")).content.decode()
    assert 'type="email"' in html
    assert '<label for="id_username">E-mail' in html
    assert 'for="id_password"' in html


def test_login_with_email_in_any_case_then_logout(rep):
    client = Client()
    response = client.post(reverse("login"), {"username": "Rita@Example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_wrong_password_shows_error_and_keeps_user_out(rep):
    client = Client()
    response = client.post(reverse("login"), {"username": rep.email, "password": "nope"})
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_logout_needs_post(rep, client_for):
    client = client_for(rep)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("home")).status_code == 200


# Home --------------------------------------------------------------------------------------


def test_rep_home_shows_only_own_tasks_and_leads(rep, teammate, pipeline):
    today = timezone.localdate()
    mine = make_lead(rep, company_name="Mine Sp. z o.o.")
    theirs = make_lead(teammate, company_name="Theirs S.A.")
    make_task(rep, mine, title="Call back Mine", due_date=today)
    make_task(rep, mine, title="Overdue thing", due_date=today - datetime.timedelta(days=2))
    make_task(rep, mine, title="Far future task", due_date=today + datetime.timedelta(days=9))
    make_task(teammate, theirs, title="Teammate's call", due_date=today)
    make_deal(rep, pipeline, title="My open deal", amount="1000.00")
    make_deal(teammate, pipeline, title="Their open deal")

    client = Client()
    client.force_login(rep)
    html = page(client, "home")
    assert "Call back Mine" in html
    assert "Overdue thing" in html
    assert "overdue" in html
    assert "Far future task" not in html
    assert "Teammate&#x27;s call" not in html and "Teammate's call" not in html
    assert mine.company_name in html
    assert theirs.company_name not in html
    assert "My open deal" in html
    assert "Their open deal" not in html


def test_rep_home_query_count_does_not_grow_with_data(rep, pipeline, django_assert_max_num_queries):
    today = timezone.localdate()
    for i in range(6):
        lead = make_lead(rep)
        make_task(rep, lead, title=f"Task {i}", due_date=today)
        make_deal(rep, pipeline, company=make_company(rep))
    client = Client()
    client.force_login(rep)
    with django_assert_max_num_queries(9):
        page(client, "home")


def test_manager_home_counts_team_deals_and_lists_overdue_team_tasks(
    manager, rep, other_rep, pipeline
):
    make_deal(rep, pipeline, amount="1500.00")
    make_deal(rep, pipeline, amount="500.00")
    make_deal(other_rep, pipeline, amount="99999.00")
    lead = make_lead(rep)
    make_task(
        rep, lead, title="Slipped task", due_date=timezone.localdate() - datetime.timedelta(1)
    )
    south_lead = make_lead(other_rep)
    make_task(
        other_rep,
        south_lead,
        title="South slipped",
        due_date=timezone.localdate() - datetime.timedelta(1),
    )
    client = Client()
    client.force_login(manager)
    response = client.get(reverse("home"))
    assert response.context["deal_count"] == 2
    assert [(r["currency"], r["value"]) for r in response.context["deal_values"]] == [
        ("PLN", Decimal("2000.00"))
    ]
    html = response.content.decode()
    assert "Slipped task" in html
    assert "South slipped" not in html


def test_manager_home_query_count_does_not_grow_with_team_work(
    manager, rep, teammate, pipeline, django_assert_max_num_queries
):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    for person in (rep, teammate) * 3:
        lead = make_lead(person)
        make_task(person, lead, due_date=yesterday)
        make_deal(person, pipeline, amount="10.00")
    client = Client()
    client.force_login(manager)
    with django_assert_max_num_queries(11):
        response = client.get(reverse("home"))
    assert response.context["overdue_count"] == 6


def test_admin_home_covers_everyone_and_links_to_settings(admin, rep, other_rep, pipeline):
    make_deal(rep, pipeline, amount="10.00")
    make_deal(other_rep, pipeline, amount="20.00")
    client = Client()
    client.force_login(admin)
    response = client.get(reverse("home"))
    assert response.context["deal_count"] == 2
    html = response.content.decode()
    assert reverse("custom-field-list") in html
    assert reverse("settings-users") in html


def test_marketing_home_counts_new_leads_by_source_and_lists_campaigns(marketer, rep):
    web = source_create(actor=marketer, name="Website")
    fair = source_create(actor=marketer, name="Trade fair")
    campaign_create(actor=marketer, name="Spring webinar", source=web)
    make_lead(marketer, source=web, team=rep.teams.first())
    make_lead(marketer, source=web, team=rep.teams.first())
    make_lead(marketer, source=fair, team=rep.teams.first())
    client = Client()
    client.force_login(marketer)
    response = client.get(reverse("home"))
    counts = {row["source__name"]: row["count"] for row in response.context["by_source"]}
    assert counts == {"Website": 2, "Trade fair": 1}
    assert "Spring webinar" in response.content.decode()


def test_home_done_button_ticks_task_off(rep):
    lead = make_lead(rep)
    task = make_task(rep, lead, title="Send offer", due_date=timezone.localdate())
    client = Client()
    client.force_login(rep)
    html = page(client, "home")
    assert reverse("task-done", args=[task.pk]) in html
    response = client.post(reverse("task-done", args=[task.pk]), {"done": "1", "next": "/"})
    assert response.status_code == 302 and response.url == "/"
    task.refresh_from_db()
    assert task.done_at is not None
    assert "Send offer" not in page(client, "home")


# Search ------------------------------------------------------------------------------------


def test_search_finds_each_record_type_by_name_email_phone_company(rep, pipeline):
    lead = make_lead(rep, first_name="Zenon", last_name="Zagórski", phone="+48 600 100 200")
    company = make_company(rep, name="Zebra Logistics")
    contact = make_contact(rep, last_name="Ziółkowska", email="z.ziol@zebra.pl", company=company)
    deal = make_deal(rep, pipeline, title="Fleet renewal", company=company)
    client = Client()
    client.force_login(rep)
    html = page(client, "search", q="zebra")
    assert company.get_absolute_url() in html
    assert contact.get_absolute_url() in html
    assert deal.get_absolute_url() in html
    assert lead.get_absolute_url() not in html
    assert lead.get_absolute_url() in page(client, "search", q="600 100")
    assert lead.get_absolute_url() in page(client, "search", q="zenon zagórski")


def test_search_never_returns_another_teams_records(rep, other_rep, pipeline):
    theirs = make_lead(other_rep, company_name="Secret Corp")
    their_company = make_company(other_rep, name="Secret Corp")
    their_deal = make_deal(other_rep, pipeline, title="Secret Corp deal")
    mine = make_lead(rep, company_name="Secret Corp Polska")
    client = Client()
    client.force_login(rep)
    response = client.get(reverse("search"), {"q": "secret"})
    html = response.content.decode()
    assert mine.get_absolute_url() in html
    for record in (theirs, their_company, their_deal):
        assert record.get_absolute_url() not in html
    assert response.context["found"] == 1


def test_search_shows_at_most_ten_per_type(rep):
    for _ in range(12):
        make_lead(rep, company_name="Acme")
    client = Client()
    client.force_login(rep)
    response = client.get(reverse("search"), {"q": "acme"})
    leads = next(g for g in response.context["results"] if g["key"] == "leads")
    assert len(leads["rows"]) == 10
    assert leads["more"] is True


def test_search_empty_states(rep):
    client = Client()
    client.force_login(rep)
    assert "Find leads, contacts" in page(client, "search")
    assert "Nothing you can see matches" in page(client, "search", q="qwertyuiop")
    assert "at least two characters" in page(client, "search", q="a")


# Profile and tokens ------------------------------------------------------------------------


def test_profile_switches_language_at_once_and_records_event(rep):
    client = Client()
    client.force_login(rep)
    response = client.post(
        reverse("profile"),
        {"first_name": "Rita", "last_name": "Nowa", "language": "pl", "email_notifications": ""},
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.language, rep.last_name, rep.email_notifications) == ("pl", "Nowa", False)
    assert client.get(reverse("profile")).headers["Content-Language"] == "pl"
    event = Event.objects.filter(verb="user.updated", object_id=rep.pk).latest("id")
    assert event.after == {"last_name": "Nowa", "language": "pl", "email_notifications": False}


def test_profile_rejects_unknown_language(rep):
    client = Client()
    client.force_login(rep)
    response = client.post(reverse("profile"), {"last_name": "X", "language": "de"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    rep.refresh_from_db()
    assert rep.language == "en"


def test_token_created_in_ui_is_shown_once_and_stored_hashed(rep):
    client = Client()
    client.force_login(rep)
    response = client.post(reverse("token-list"), {"name": "Reporting script"})
    assert response.status_code == 200
    raw = response.context["raw"]
    assert raw.startswith("lejek_") and raw in response.content.decode()
    assert "no-store" in response.headers["Cache-Control"]
    token = ApiToken.objects.get(user=rep)
    assert token.key_hash != raw and raw not in token.key_hash
    assert token_authenticate(raw) == rep
    listing = page(client, "token-list")
    assert "Reporting script" in listing
    assert raw not in listing
    assert token.prefix in listing


def test_revoked_token_stops_working_and_others_cannot_revoke(rep, teammate):
    client = Client()
    client.force_login(rep)
    raw = client.post(reverse("token-list"), {"name": "CI"}).context["raw"]
    token = ApiToken.objects.get(user=rep)
    stranger = Client()
    stranger.force_login(teammate)
    assert stranger.post(reverse("token-revoke", args=[token.pk])).status_code == 404
    assert token_authenticate(raw) == rep
    assert client.post(reverse("token-revoke", args=[token.pk])).status_code == 302
    assert token_authenticate(raw) is None
    assert "revoked" in page(client, "token-list")


def test_token_needs_a_name(rep):
    client = Client()
    client.force_login(rep)
    response = client.post(reverse("token-list"), {"name": ""})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not ApiToken.objects.exists()


# Settings ----------------------------------------------------------------------------------


def test_settings_index_shows_admin_sections_only_to_admins(admin, rep):
    client = Client()
    client.force_login(rep)
    html = page(client, "settings")
    assert reverse("profile") in html
    assert reverse("custom-field-list") not in html
    client.force_login(admin)
    assert reverse("custom-field-list") in page(client, "settings")


def test_users_and_teams_page_is_admin_only_and_lists_roles_and_teams(
    admin, manager, rep, other_rep, django_assert_max_num_queries
):
    client = Client()
    client.force_login(rep)
    assert client.get(reverse("settings-users")).status_code == 403
    client.force_login(admin)
    with django_assert_max_num_queries(8):
        html = page(client, "settings-users")
    assert "Oskar Other" in html and "South" in html and "Sales manager" in html
    assert User.objects.count() == 4
