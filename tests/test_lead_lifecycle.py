"""Disqualifying a lead takes a reason from the list; reopening brings it back."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from lejek.activities.models import Activity
from lejek.core.models import Event, Reason
from lejek.core.reasons import reason_create
from lejek.leads.models import Lead
from lejek.leads.services import lead_disqualify, lead_reopen, lead_update
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def reasons(manager):
    for label in ("No budget", "Not our market"):
        reason_create(actor=manager, kind=Reason.Kind.LEAD_DISQUALIFIED, label=label)


def test_disqualifying_records_the_reason_the_comment_and_who(rep, reasons):
    lead = make_lead(rep)
    lead_disqualify(actor=rep, lead=lead, reason="No budget", comment="Maybe next year.")
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.status, lead.disqualified_reason) == ("disqualified", "No budget")
    event = Event.objects.get(verb="lead.disqualified", object_id=lead.pk)
    assert event.actor == rep
    assert event.after == {"reason": "No budget", "comment": "Maybe next year."}
    assert Activity.objects.get(lead=lead).body == "Maybe next year."


def test_a_reason_off_the_list_or_none_is_refused(rep, reasons):
    lead = make_lead(rep)
    for reason in ("", "Bad vibes"):
        with pytest.raises(ValidationError):
            lead_disqualify(actor=rep, lead=lead, reason=reason)
    with pytest.raises(ValidationError):
        lead_update(actor=rep, lead=lead, values={"status": "disqualified"})
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_reopening_brings_the_lead_back_and_drops_the_reason(rep, reasons):
    lead = lead_disqualify(actor=rep, lead=make_lead(rep), reason="No budget")
    lead = lead_reopen(actor=rep, lead=lead)
    assert (lead.status, lead.disqualified_reason) == ("contacted", "")
    assert Event.objects.filter(verb="lead.reopened", object_id=lead.pk).exists()
    with pytest.raises(ValidationError):
        lead_reopen(actor=rep, lead=lead)


def test_others_cannot_disqualify_a_reps_lead(rep, other_rep, reasons):
    lead = make_lead(rep)
    with pytest.raises(PermissionDenied):
        lead_disqualify(actor=other_rep, lead=lead, reason="No budget")


def test_disqualify_page_offers_the_list_and_reports_errors(client_for, rep, reasons):
    lead = make_lead(rep)
    client = client_for(rep)
    page = client.get(reverse("lead-disqualify", args=[lead.pk]))
    assert '<option value="Not our market">' in page.text
    refused = client.post(reverse("lead-disqualify", args=[lead.pk]), {"reason": "", "version": 1})
    assert refused.status_code == 400
    done = client.post(
        reverse("lead-disqualify", args=[lead.pk]),
        {"reason": "Not our market", "version": lead.version},
    )
    assert done.status_code == 302
    lead_page = client.get(lead.get_absolute_url()).text
    assert "Not our market" in lead_page
    assert reverse("lead-reopen", args=[lead.pk]) in lead_page
    client.post(reverse("lead-reopen", args=[lead.pk]))
    assert Lead.objects.get(pk=lead.pk).status == "contacted"


def test_the_edit_form_and_bulk_leave_converting_and_disqualifying_to_their_buttons(
    client_for, rep
):
    lead = make_lead(rep)
    client = client_for(rep)
    form = client.get(reverse("lead-edit", args=[lead.pk])).text
    assert 'value="disqualified"' not in form
    assert 'value="converted"' not in form
    page = client.get(reverse("lead-list")).text
    bulk_statuses = page[page.index('id="bulk-status"') :].split("</select>")[0]
    assert 'value="contacted"' in bulk_statuses
    assert 'value="disqualified"' not in bulk_statuses
