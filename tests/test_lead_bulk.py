"""Bulk actions on the lead list: all or nothing, through the same rules as one lead."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from lejek.core.models import Event
from lejek.leads.bulk import leads_bulk_delete, leads_bulk_update
from lejek.leads.models import Lead
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def test_a_manager_hands_several_leads_to_a_rep(manager, rep):
    leads = [make_lead(manager, team=manager.teams.first(), owner=None) for _ in range(3)]
    done = leads_bulk_update(actor=manager, ids=[lead.pk for lead in leads], values={"owner": rep})
    assert done == 3
    assert set(Lead.objects.values_list("owner", flat=True)) == {rep.pk}
    assert Event.objects.filter(verb="lead.updated").count() == 3


def test_one_lead_out_of_reach_changes_nothing(rep, other_rep):
    mine = make_lead(rep)
    theirs = make_lead(other_rep)
    with pytest.raises(PermissionDenied) as refused:
        leads_bulk_update(actor=rep, ids=[mine.pk, theirs.pk], values={"status": "contacted"})
    assert "1 of the selected leads" in str(refused.value)
    assert Lead.objects.get(pk=mine.pk).status == Lead.Status.NEW
    with pytest.raises(PermissionDenied):
        leads_bulk_delete(actor=rep, ids=[mine.pk, theirs.pk])
    assert Lead.objects.count() == 2


def test_list_page_offers_selection_and_sets_a_status(client_for, rep):
    leads = [make_lead(rep) for _ in range(2)]
    client = client_for(rep)
    page = client.get(reverse("lead-list"))
    assert 'form="bulk-form"' in page.text
    assert "data-select-all" in page.text
    answer = client.post(
        reverse("lead-bulk"),
        {
            "action": "status",
            "status": "contacted",
            "ids": [lead.pk for lead in leads],
            "next": "/leads/?sort=score",
        },
    )
    assert answer.status_code == 302
    assert answer["Location"] == "/leads/?sort=score"
    assert set(Lead.objects.values_list("status", flat=True)) == {"contacted"}


def test_a_rep_cannot_hand_leads_to_a_teammate_and_is_told(client_for, rep, teammate):
    lead = make_lead(rep)
    answer = client_for(rep).post(
        reverse("lead-bulk"),
        {"action": "owner", "owner": teammate.pk, "ids": [lead.pk]},
        follow=True,
    )
    assert answer.status_code == 200
    assert Lead.objects.get(pk=lead.pk).owner == rep
    assert "You can assign records only to yourself." in answer.text


@pytest.mark.parametrize(
    "data",
    [
        {"action": "status", "ids": []},
        {"action": "status", "status": "converted", "ids": ["1"]},
        {"action": "nonsense", "ids": ["1"]},
        {"action": "status", "status": "new", "ids": ["x"]},
        {"action": "owner", "ids": ["1"]},
    ],
)
def test_bad_bulk_input_is_refused_without_changes(client_for, rep, data):
    lead = make_lead(rep, status=Lead.Status.CONTACTED)
    data = {**data, "ids": [str(lead.pk) if v == "1" else v for v in data["ids"]]}
    answer = client_for(rep).post(reverse("lead-bulk"), data)
    assert answer.status_code == 302
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.CONTACTED


def test_delete_asks_first_then_deletes(client_for, rep):
    leads = [make_lead(rep) for _ in range(2)]
    ids = [lead.pk for lead in leads]
    client = client_for(rep)
    confirm = client.post(reverse("lead-bulk"), {"action": "delete", "ids": ids})
    assert confirm.status_code == 200
    assert "Delete 2 selected leads?" in confirm.text
    assert Lead.objects.count() == 2
    client.post(reverse("lead-bulk"), {"action": "delete", "ids": ids, "confirm": "on"})
    assert not Lead.objects.exists()
