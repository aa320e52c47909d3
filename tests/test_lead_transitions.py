"""The lead lifecycle as data: allowed and forbidden moves, and the history row of each move."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse
from django.utils import timezone

from lejek.core.models import Reason
from lejek.core.reasons import reason_create
from lejek.leads import handoff_urls
from lejek.leads.bulk import leads_bulk_update
from lejek.leads.lifecycle import GUARDED, TRANSITIONS, allowed_moves, check_transition
from lejek.leads.models import Handoff, Lead, LeadStatusChange
from lejek.leads.services import lead_create, lead_disqualify, lead_reopen, lead_update
from lejek.pipeline.conversion import lead_convert
from lejek.pipeline.models import Deal
from tests.factories import make_lead
from tests.test_api_support import Api, assert_problem

S = Lead.Status

# The hand-off pages under /leads/ whether or not the project's URLconf includes them yet.
urlpatterns = [path("leads/", include(handoff_urls)), path("", include("lejek.urls"))]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def reasons(manager):
    reason_create(actor=manager, kind=Reason.Kind.LEAD_DISQUALIFIED, label="No budget")


def history(lead) -> list[tuple[str, str]]:
    return list(
        LeadStatusChange.objects.filter(lead=lead)
        .order_by("changed_at", "pk")
        .values_list("from_status", "to_status")
    )


def test_every_status_has_its_moves_declared_and_guarded_moves_are_allowed_ones():
    assert set(TRANSITIONS) == set(S.values)
    for (source, target), _action in GUARDED.items():
        assert target in TRANSITIONS[source]
        assert target not in allowed_moves(source)
    assert TRANSITIONS[S.CONVERTED] == frozenset()
    assert TRANSITIONS[S.DISQUALIFIED] == {S.CONTACTED}
    assert allowed_moves(S.DISQUALIFIED) == frozenset()
    assert allowed_moves(S.MQL) == {S.NEW, S.DISQUALIFIED}
    assert all(S.CONVERTED not in allowed_moves(status) for status in S.values)


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (S.SQL, S.NEW),
        (S.SQL, S.MQL),
        (S.SQL, S.CONTACTED),
        (S.CONTACTED, S.NEW),
        (S.CONVERTED, S.SQL),
        (S.CONVERTED, S.NEW),
    ],
)
def test_a_forbidden_move_is_refused_and_changes_nothing(rep, start, target):
    lead = make_lead(rep, status=start)
    rows = history(lead)
    with pytest.raises(ValidationError) as refused:
        lead_update(actor=rep, lead=lead, values={"status": target})
    assert "status" in refused.value.message_dict
    assert str(lead) in refused.value.message_dict["status"][0]
    assert Lead.objects.get(pk=lead.pk).status == start
    assert history(lead) == rows


@pytest.mark.parametrize(
    ("start", "target", "words"),
    [
        (S.MQL, S.SQL, "accepts"),
        (S.MQL, S.CONTACTED, "rejects"),
        (S.DISQUALIFIED, S.CONTACTED, "Reopen"),
    ],
)
def test_a_guarded_move_is_refused_as_a_plain_status_change(rep, start, target, words):
    lead = make_lead(rep, status=start)
    with pytest.raises(ValidationError) as refused:
        lead_update(actor=rep, lead=lead, values={"status": target})
    assert words in refused.value.message_dict["status"][0]
    assert Lead.objects.get(pk=lead.pk).status == start


def test_check_transition_refuses_an_unknown_status(rep):
    lead = make_lead(rep)
    with pytest.raises(ValidationError):
        check_transition(lead, "won")


def test_creation_writes_the_first_history_row_with_who_and_when(rep):
    before = timezone.now()
    lead = make_lead(rep, status=S.CONTACTED)
    row = LeadStatusChange.objects.get(lead=lead)
    assert (row.from_status, row.to_status, row.actor) == ("", S.CONTACTED, rep)
    assert before <= row.changed_at <= timezone.now()


def test_each_status_change_writes_one_row_and_other_edits_none(rep):
    lead = make_lead(rep)
    lead = lead_update(actor=rep, lead=lead, values={"title": "CEO"})
    lead = lead_update(actor=rep, lead=lead, values={"status": S.CONTACTED})
    lead = lead_update(actor=rep, lead=lead, values={"status": S.CONTACTED})
    assert history(lead) == [("", S.NEW), (S.NEW, S.CONTACTED)]
    latest = LeadStatusChange.objects.filter(lead=lead).latest("pk")
    assert latest.actor == rep


def test_lejek_itself_is_recorded_as_no_one(db):
    lead = lead_create(actor=None, last_name="Form", email="form@example.pl")
    assert LeadStatusChange.objects.get(lead=lead).actor is None


def test_the_transition_is_checked_against_the_stored_status_not_a_stale_copy(rep):
    lead = make_lead(rep, status=S.NEW)
    stale = Lead.objects.get(pk=lead.pk)
    lead_update(actor=rep, lead=lead, values={"status": S.SQL})
    with pytest.raises(ValidationError):
        lead_update(actor=rep, lead=stale, values={"status": S.CONTACTED})
    assert Lead.objects.get(pk=lead.pk).status == S.SQL


def test_marketing_hands_leads_over_instead_of_marking_them_sales_qualified(rep, marketer):
    lead = make_lead(rep)
    with pytest.raises(ValidationError):
        lead_update(actor=marketer, lead=lead, values={"status": S.SQL})
    lead_update(actor=marketer, lead=lead, values={"status": S.MQL})
    assert Lead.objects.get(pk=lead.pk).status == S.MQL


def test_disqualify_and_reopen_go_through_the_lifecycle(rep, reasons):
    lead = lead_disqualify(actor=rep, lead=make_lead(rep), reason="No budget")
    with pytest.raises(ValidationError):
        lead_update(actor=rep, lead=lead, values={"status": S.MQL})
    lead = lead_reopen(actor=rep, lead=lead)
    assert history(lead) == [
        ("", S.NEW),
        (S.NEW, S.DISQUALIFIED),
        (S.DISQUALIFIED, S.CONTACTED),
    ]


def test_a_converted_lead_cannot_be_disqualified(rep, reasons):
    lead = make_lead(rep, status=S.CONVERTED)
    with pytest.raises(ValidationError):
        lead_disqualify(actor=rep, lead=lead, reason="No budget")


def test_bulk_refuses_a_guarded_move_for_all_and_says_which_lead(rep):
    waiting = make_lead(rep, status=S.MQL)
    fresh = make_lead(rep)
    with pytest.raises(ValidationError) as refused:
        leads_bulk_update(actor=rep, ids=[waiting.pk, fresh.pk], values={"status": S.SQL})
    assert str(waiting) in " ".join(refused.value.messages)
    assert set(Lead.objects.values_list("status", flat=True)) == {S.MQL, S.NEW}


def test_the_edit_form_shows_a_forbidden_move_as_a_field_error(client_for, rep):
    lead = make_lead(rep, status=S.SQL)
    data = {
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "email": lead.email,
        "status": S.NEW,
        "owner": rep.pk,
        "team": lead.team_id,
        "version": lead.version,
    }
    answer = client_for(rep).post(reverse("lead-edit", args=[lead.pk]), data)
    assert answer.status_code in (200, 400)
    assert "cannot go from Sales-qualified to New" in answer.text
    assert Lead.objects.get(pk=lead.pk).status == S.SQL


def test_capturing_a_lead_adds_one_insert_and_no_hand_off_reads(db):
    with CaptureQueriesContext(connection) as captured:
        lead_create(actor=None, last_name="Fast", email="fast@example.pl")
    statements = [query["sql"].lower() for query in captured]
    history_inserts = [s for s in statements if "insert" in s and "leadstatuschange" in s]
    assert len(history_inserts) == 1
    assert not [s for s in statements if "handoff" in s]


def test_a_lead_created_marketing_qualified_is_offered_to_its_assigned_owner(rep):
    lead = make_lead(rep, status=S.MQL)
    offer = Handoff.objects.get(lead=lead)
    assert (offer.owner, offer.outcome) == (rep, Handoff.Outcome.PENDING)


@pytest.mark.parametrize("start", [S.NEW, S.CONTACTED, S.MQL, S.SQL])
def test_a_lead_is_converted_only_by_converting_it_into_a_deal(rep, pipeline, start):
    lead = make_lead(rep, status=start)
    with pytest.raises(ValidationError) as error:
        lead_update(actor=rep, lead=lead, values={"status": S.CONVERTED})
    assert "converted into a deal" in str(error.value)
    lead.refresh_from_db()
    assert lead.status == start

    result = lead_convert(actor=rep, lead=lead)

    lead.refresh_from_db()
    assert lead.status == S.CONVERTED and result.deal.lead_id == lead.pk
    assert history(lead)[-1] == (start, S.CONVERTED)


def test_the_api_refuses_to_mark_a_lead_converted_without_a_deal(rep):
    lead = make_lead(rep)
    response = Api(rep).patch(f"/leads/{lead.pk}", {"status": "converted", "title": "CEO"})

    problem = assert_problem(response, 422)
    assert "converted into a deal" in str(problem)
    lead.refresh_from_db()
    assert (lead.status, lead.title, lead.version) == (S.NEW, "", 1)
    assert not Deal.objects.exists()
