from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from lejek.core.errors import ConflictError
from lejek.core.models import Event
from lejek.leads.models import Lead
from lejek.leads.services import lead_update
from tests.factories import make_deal, make_lead


def test_lead_create_records_event_and_defaults_owner(rep):
    lead = make_lead(rep)
    assert lead.owner == rep
    assert lead.team_id == rep.team_ids[0]
    event = Event.objects.get(verb="lead.created", object_id=lead.pk)
    assert event.actor == rep
    assert event.after["email"] == lead.email


def test_second_save_from_same_version_is_refused(rep, manager):
    lead = make_lead(rep)
    first = Lead.objects.get(pk=lead.pk)
    second = Lead.objects.get(pk=lead.pk)
    lead_update(actor=rep, lead=first, values={"title": "CEO"}, expected_version=1)
    with pytest.raises(ConflictError):
        lead_update(actor=manager, lead=second, values={"title": "CTO"}, expected_version=1)
    assert Lead.objects.get(pk=lead.pk).title == "CEO"


def test_rep_cannot_edit_other_teams_lead(rep, other_rep):
    lead = make_lead(rep)
    with pytest.raises(PermissionDenied):
        lead_update(actor=other_rep, lead=lead, values={"title": "x"})


def test_deal_create_writes_first_stage_change(rep, pipeline):
    deal = make_deal(rep, pipeline)
    change = deal.stage_changes.get()
    assert change.from_stage is None
    assert change.to_stage == deal.stage
