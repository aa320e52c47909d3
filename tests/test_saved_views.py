"""Saved views: a list's filters and sort kept under a name, private or shared."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from lejek.core.models import SavedView
from lejek.core.saved_views import saved_view_create, saved_view_delete

pytestmark = pytest.mark.django_db


def test_saving_keeps_the_filters_and_sort_but_not_the_page(client_for, rep):
    client = client_for(rep)
    answer = client.post(
        reverse("saved-view-save"),
        {"path": "/leads/", "query": "status=new&sort=-score&page=3&q=", "name": "Hot new"},
    )
    view = SavedView.objects.get()
    assert (view.owner, view.path, view.query, view.shared) == (
        rep,
        "/leads/",
        "status=new&sort=-score",
        False,
    )
    assert answer.status_code == 302
    assert answer["Location"] == "/leads/?status=new&sort=-score"
    page = client.get("/leads/?status=new")
    assert 'href="/leads/?status=new&amp;sort=-score"' in page.text
    assert "Hot new" in page.text


def test_views_are_private_unless_shared_by_a_manager(client_for, rep, teammate, manager):
    saved_view_create(actor=rep, path="/leads/", name="Mine", query="status=new")
    saved_view_create(actor=manager, path="/leads/", name="Team", query="owner=me", shared=True)
    text = client_for(teammate).get("/leads/").text
    assert "Team" in text
    assert "Mine" not in text
    with pytest.raises(PermissionDenied):
        saved_view_create(actor=rep, path="/leads/", name="All", query="", shared=True)


def test_views_belong_to_their_list(client_for, rep):
    saved_view_create(actor=rep, path="/contacts/", name="Warsaw contacts", query="q=Warszawa")
    assert "Warsaw contacts" not in client_for(rep).get("/leads/").text
    assert "Warsaw contacts" in client_for(rep).get("/contacts/").text


@pytest.mark.parametrize(
    ("path", "name", "field"),
    [
        ("/settings/", "x", "path"),
        ("https://evil.example/", "x", "path"),
        ("/leads/", "  ", "name"),
    ],
)
def test_bad_views_are_refused_with_a_message(client_for, rep, path, name, field):
    with pytest.raises(ValidationError) as refused:
        saved_view_create(actor=rep, path=path, name=name, query="")
    assert field in refused.value.message_dict
    answer = client_for(rep).post(
        reverse("saved-view-save"), {"path": path, "query": "", "name": name}, follow=True
    )
    assert answer.status_code == 200
    assert not SavedView.objects.exists()


def test_the_same_name_twice_is_refused_not_a_crash(client_for, rep):
    saved_view_create(actor=rep, path="/leads/", name="Hot", query="status=new")
    answer = client_for(rep).post(
        reverse("saved-view-save"),
        {"path": "/leads/", "query": "status=mql", "name": "Hot"},
        follow=True,
    )
    assert "already have a view with this name" in answer.text
    assert SavedView.objects.get().query == "status=new"


def test_only_the_owner_or_an_admin_removes_a_view(client_for, rep, manager, admin):
    shared = saved_view_create(actor=manager, path="/leads/", name="Team", query="", shared=True)
    with pytest.raises(PermissionDenied):
        saved_view_delete(actor=rep, view=shared)
    assert client_for(rep).post(reverse("saved-view-delete", args=[shared.pk])).status_code == 403
    own = saved_view_create(actor=rep, path="/leads/", name="Mine", query="")
    assert client_for(rep).post(reverse("saved-view-delete", args=[own.pk])).status_code == 302
    saved_view_delete(actor=admin, view=shared)
    assert not SavedView.objects.exists()


def test_someone_elses_private_view_is_not_found(client_for, rep, teammate):
    private = saved_view_create(actor=rep, path="/leads/", name="Mine", query="")
    answer = client_for(teammate).post(reverse("saved-view-delete", args=[private.pk]))
    assert answer.status_code == 404
    assert SavedView.objects.filter(pk=private.pk).exists()
