"""Every role against every record type and action, through the HTML pages.

The records belong to `rep` (team North). The same rules are checked through the API in
tests/test_api_visibility.py; here they are checked on the pages people click through.
A record someone may not see answers 404 and shows none of its data; one they may see but
not change answers 403 to the edit form and to delete, and stays as it was.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from lejek.leads.models import Lead
from tests.factories import (
    make_activity,
    make_company,
    make_contact,
    make_deal,
    make_lead,
    make_task,
)

PERSONAS = ["admin", "manager", "rep", "teammate", "other_rep", "marketer"]
KINDS = ["lead", "contact", "company", "deal"]

# persona → kinds they may see / edit when the record is owned by `rep`
SEES = {
    "admin": set(KINDS),
    "manager": set(KINDS),
    "rep": set(KINDS),
    "teammate": set(),
    "other_rep": set(),
    "marketer": set(KINDS),
}
EDITS = {
    "admin": set(KINDS),
    "manager": set(KINDS),
    "rep": set(KINDS),
    "teammate": set(),
    "other_rep": set(),
    "marketer": {"lead"},
}


@pytest.fixture
def owned(rep, pipeline):
    company = make_company(rep, name="Zakłady Tajne Sp. z o.o.")
    return {
        "lead": make_lead(rep, last_name="Tajny", email="tajny@example.pl"),
        "contact": make_contact(rep, last_name="Tajna", email="tajna@example.pl"),
        "company": company,
        "deal": make_deal(rep, pipeline, title="Tajny kontrakt"),
    }


def secret_text(kind, record) -> str:
    return {
        "lead": "Tajny",
        "contact": "Tajna",
        "company": "Zakłady Tajne",
        "deal": "Tajny kontrakt",
    }[kind]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_detail_page_follows_visibility(request, client_for, owned, persona, kind):
    user = request.getfixturevalue(persona)
    record = owned[kind]
    response = client_for(user).get(reverse(f"{kind}-detail", args=[record.pk]))
    if kind in SEES[persona]:
        assert response.status_code == 200
        assert secret_text(kind, record) in response.content.decode()
    else:
        assert response.status_code == 404
        assert secret_text(kind, record) not in response.content.decode()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_list_page_follows_visibility(request, client_for, owned, persona, kind):
    user = request.getfixturevalue(persona)
    list_name = {"company": "company-list"}.get(kind, f"{kind}-list")
    html = client_for(user).get(reverse(list_name)).content.decode()
    assert (secret_text(kind, owned[kind]) in html) == (kind in SEES[persona])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_edit_form_follows_edit_rights(request, client_for, owned, persona, kind):
    user = request.getfixturevalue(persona)
    record = owned[kind]
    response = client_for(user).get(reverse(f"{kind}-edit", args=[record.pk]))
    if kind in EDITS[persona]:
        assert response.status_code == 200
    elif kind in SEES[persona]:
        assert response.status_code == 403
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_delete_follows_edit_rights(request, client_for, owned, persona, kind):
    user = request.getfixturevalue(persona)
    record = owned[kind]
    response = client_for(user).post(reverse(f"{kind}-delete", args=[record.pk]))
    still_there = type(record).objects.filter(pk=record.pk).exists()
    if kind in EDITS[persona]:
        assert response.status_code == 302
        assert not still_there
    else:
        assert response.status_code == (403 if kind in SEES[persona] else 404)
        assert still_there


@pytest.mark.parametrize("persona", PERSONAS)
def test_unassigned_lead_in_team_pool(request, client_for, rep, persona):
    pooled = make_lead(rep, owner=None, team=rep.teams.get(), last_name="Pulowy")
    user = request.getfixturevalue(persona)
    response = client_for(user).get(reverse("lead-detail", args=[pooled.pk]))
    expected = 404 if persona == "other_rep" else 200
    assert response.status_code == expected


@pytest.mark.parametrize("persona", PERSONAS)
def test_composer_and_task_edit_follow_the_record(request, client_for, owned, rep, persona):
    user = request.getfixturevalue(persona)
    lead = owned["lead"]
    make_activity(rep, lead, subject_line="Rozmowa poufna")
    task = make_task(rep, owned["deal"], title="Zadanie poufne")
    client = client_for(user)

    timeline = client.get(reverse("timeline", args=["lead", lead.pk]), HTTP_HX_REQUEST="true")
    assert timeline.status_code == (200 if "lead" in SEES[persona] else 404)
    if timeline.status_code == 200:
        assert "Rozmowa poufna" in timeline.content.decode()

    logged = client.post(
        reverse("timeline-activity", args=["lead", lead.pk]),
        {"kind": "call", "call-subject_line": "Próba", "call-occurred_at": "2026-01-05T10:00"},
    )
    made = lead.activity_set.filter(subject_line="Próba").exists()
    if "lead" in EDITS[persona]:
        assert made
    else:
        assert logged.status_code in (403, 404)
        assert not made

    edit = client.get(reverse("task-edit", args=[task.pk]))
    may_edit_task = "deal" in EDITS[persona]
    assert (edit.status_code == 200) == may_edit_task
    if not may_edit_task:
        assert "Zadanie poufne" not in edit.content.decode()


def test_marketer_cannot_create_deals_contacts_or_companies(client_for, marketer):
    client = client_for(marketer)
    for name in ("deal-create", "contact-create", "company-create"):
        assert client.get(reverse(name)).status_code == 403
    assert client.get(reverse("lead-create")).status_code == 200
    assert Lead.objects.count() == 0
