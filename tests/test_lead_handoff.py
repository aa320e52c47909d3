"""The marketing → sales hand-off: offered when a lead becomes marketing-qualified, accepted or
rejected by its owner within the deadline, withdrawn when the lead leaves another way, and
counted per source for marketing."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse
from django.utils import timezone

from lejek.core.models import Event, Reason
from lejek.core.reasons import reason_create
from lejek.leads import handoff_urls
from lejek.leads.handoff import (
    handoff_rates,
    handoff_settings_update,
    handoff_totals,
    lead_accept,
    lead_reject,
    median_answer_time,
    overdue_handoffs,
    rejected_lead_ids_q,
    rejection_reasons,
)
from lejek.leads.models import Handoff, HandoffSettings, Lead, LeadStatusChange
from lejek.leads.services import lead_disqualify, lead_update, source_create
from lejek.pipeline.conversion import lead_convert
from lejek.users.models import Notification
from tests.conftest import login
from tests.factories import make_lead

S = Lead.Status
O = Handoff.Outcome  # noqa: E741

urlpatterns = [path("leads/", include(handoff_urls)), path("", include("lejek.urls"))]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def reasons(manager):
    for label in ("Not a decision maker", "Too small"):
        reason_create(actor=manager, kind=Reason.Kind.LEAD_REJECTED, label=label)
    reason_create(actor=manager, kind=Reason.Kind.LEAD_DISQUALIFIED, label="No budget")


@pytest.fixture
def web(admin):
    return source_create(actor=admin, name="Web")


@pytest.fixture
def fair(admin):
    return source_create(actor=admin, name="Fair")


def qualified(marketer, rep, **values) -> Lead:
    """A rep's lead that marketing marks marketing-qualified."""
    lead = make_lead(rep, **values)
    return lead_update(actor=marketer, lead=lead, values={"status": S.MQL})


def pending(lead) -> Handoff:
    return Handoff.objects.get(lead=lead, outcome=O.PENDING)


def make_overdue(lead) -> None:
    Handoff.objects.filter(lead=lead, outcome=O.PENDING).update(
        due_at=timezone.now() - datetime.timedelta(hours=3)
    )


# Opening ------------------------------------------------------------------------------------


def test_becoming_marketing_qualified_offers_the_lead_to_its_owner_with_a_deadline(
    admin, marketer, rep, web
):
    handoff_settings_update(actor=admin, accept_within_hours=8)
    lead = qualified(marketer, rep, source=web)
    offer = pending(lead)
    assert (offer.owner, offer.source) == (rep, web)
    assert offer.due_at - offer.offered_at == datetime.timedelta(hours=8)
    note = Notification.objects.get(recipient=rep, kind="lead.offered")
    assert str(lead) in note.text and note.url == lead.get_absolute_url()
    assert Event.objects.filter(verb="lead.offered", object_id=lead.pk).exists()


def test_only_admins_set_the_deadline_and_only_to_sensible_hours(admin, manager):
    with pytest.raises(PermissionDenied):
        handoff_settings_update(actor=manager, accept_within_hours=4)
    for hours in (0, -1, 10_000):
        with pytest.raises(ValidationError):
            handoff_settings_update(actor=admin, accept_within_hours=hours)
    assert HandoffSettings.current().accept_within_hours == 24


# Answering ----------------------------------------------------------------------------------


def test_the_owner_accepts_and_the_lead_becomes_sales_qualified(marketer, rep):
    lead = qualified(marketer, rep)
    lead = lead_accept(actor=rep, lead=lead)
    assert Lead.objects.get(pk=lead.pk).status == S.SQL
    offer = Handoff.objects.get(lead=lead)
    assert (offer.outcome, offer.decided_by) == (O.ACCEPTED, rep)
    assert offer.decided_at is not None
    change = LeadStatusChange.objects.filter(lead=lead).latest("pk")
    assert (change.from_status, change.to_status, change.actor) == (S.MQL, S.SQL, rep)
    assert Event.objects.get(verb="lead.accepted", object_id=lead.pk).actor == rep


def test_a_manager_of_the_team_may_answer_for_the_rep(marketer, rep, manager):
    lead = lead_accept(actor=manager, lead=qualified(marketer, rep))
    assert Handoff.objects.get(lead=lead).decided_by == manager


def test_nobody_else_may_answer(marketer, rep, teammate, other_rep):
    lead = qualified(marketer, rep)
    for stranger in (teammate, other_rep, marketer):
        with pytest.raises(PermissionDenied):
            lead_accept(actor=stranger, lead=lead)
    assert pending(lead).outcome == O.PENDING


def test_rejecting_takes_a_reason_from_the_list_and_marketing_is_told(marketer, rep, reasons):
    lead = qualified(marketer, rep)
    for reason in ("", "Bad vibes"):
        with pytest.raises(ValidationError):
            lead_reject(actor=rep, lead=lead, reason=reason)
    assert (Lead.objects.get(pk=lead.pk).status, pending(lead).outcome) == (S.MQL, O.PENDING)

    lead_reject(actor=rep, lead=lead, reason="Too small", comment="  Two people, no budget.  ")
    assert Lead.objects.get(pk=lead.pk).status == S.CONTACTED
    offer = Handoff.objects.get(lead=lead)
    assert (offer.outcome, offer.reason, offer.comment) == (
        O.REJECTED,
        "Too small",
        "Two people, no budget.",
    )
    event = Event.objects.get(verb="lead.rejected", object_id=lead.pk)
    assert event.after["reason"] == "Too small"
    assert Notification.objects.filter(recipient=marketer, kind="lead.rejected").exists()


def test_a_lead_not_waiting_for_sales_cannot_be_answered(rep, reasons):
    lead = make_lead(rep, status=S.CONTACTED)
    with pytest.raises(ValidationError):
        lead_accept(actor=rep, lead=lead)
    with pytest.raises(ValidationError):
        lead_reject(actor=rep, lead=lead, reason="Too small")


def test_a_marketing_qualified_lead_without_a_recorded_hand_off_can_still_be_answered(rep):
    lead = make_lead(rep, status=S.MQL)
    Handoff.objects.filter(lead=lead).delete()
    lead_accept(actor=rep, lead=lead)
    assert Handoff.objects.get(lead=lead).outcome == O.ACCEPTED


def test_after_a_rejection_marketing_can_hand_the_lead_over_again(marketer, rep, reasons):
    lead = qualified(marketer, rep)
    lead = lead_reject(actor=rep, lead=lead, reason="Too small")
    assert Lead.objects.filter(rejected_lead_ids_q(), pk=lead.pk).exists()
    lead = lead_update(actor=marketer, lead=lead, values={"status": S.MQL})
    assert Handoff.objects.filter(lead=lead).count() == 2
    assert not Lead.objects.filter(rejected_lead_ids_q(), pk=lead.pk).exists()


# Withdrawn ----------------------------------------------------------------------------------


def test_disqualifying_withdraws_the_waiting_hand_off(marketer, rep, reasons):
    lead = qualified(marketer, rep)
    lead_disqualify(actor=rep, lead=lead, reason="No budget")
    offer = Handoff.objects.get(lead=lead)
    assert (offer.outcome, offer.decided_by) == (O.WITHDRAWN, rep)


def test_marketing_taking_the_lead_back_withdraws_it(marketer, rep):
    lead = qualified(marketer, rep)
    lead_update(actor=marketer, lead=lead, values={"status": S.NEW})
    assert Handoff.objects.get(lead=lead).outcome == O.WITHDRAWN


def test_converting_withdraws_the_waiting_hand_off(marketer, rep, pipeline):
    lead = qualified(marketer, rep, company_name="Acme")
    lead_convert(actor=rep, lead=lead)
    assert Handoff.objects.get(lead=lead).outcome == O.WITHDRAWN
    assert Lead.objects.get(pk=lead.pk).status == S.CONVERTED


# Deadline and figures -----------------------------------------------------------------------


def test_a_hand_off_past_its_deadline_is_overdue_for_those_who_see_the_lead(
    marketer, rep, manager, other_rep
):
    late = qualified(marketer, rep)
    in_time = qualified(marketer, rep)
    make_overdue(late)
    assert [h.lead_id for h in overdue_handoffs(manager)] == [late.pk]
    assert [h.lead_id for h in overdue_handoffs(marketer)] == [late.pk]
    assert list(overdue_handoffs(other_rep)) == []
    lead_list = login(marketer)
    overdue = lead_list.get("/leads/", {"handoff": "overdue"}).context["listing"].rows
    waiting = lead_list.get("/leads/", {"handoff": "waiting"}).context["listing"].rows
    assert [lead.pk for lead in overdue] == [late.pk]
    assert [lead.pk for lead in waiting] == [in_time.pk]


def _scenario(marketer, rep, web, fair) -> None:
    for _ in range(3):
        lead_accept(actor=rep, lead=qualified(marketer, rep, source=web))
    lead_reject(actor=rep, lead=qualified(marketer, rep, source=web), reason="Too small")
    make_overdue(qualified(marketer, rep, source=web))
    lead_reject(actor=rep, lead=qualified(marketer, rep, source=fair), reason="Too small")
    lead_reject(
        actor=rep, lead=qualified(marketer, rep, source=fair), reason="Not a decision maker"
    )
    qualified(marketer, rep, source=fair)
    qualified(marketer, rep)


def test_rates_per_source_agree_with_counting_the_rows_one_by_one(
    marketer, rep, web, fair, reasons
):
    _scenario(marketer, rep, web, fair)
    now = timezone.now()
    with CaptureQueriesContext(connection) as captured:
        rows = handoff_rates(marketer, now=now)
    assert len(captured) == 1
    by_source = {row["source_id"]: row for row in rows}
    for source_id in (web.pk, fair.pk, None):
        mine = list(Handoff.objects.filter(source_id=source_id))
        expected = {
            "offered": len(mine),
            "accepted": sum(h.outcome == O.ACCEPTED for h in mine),
            "rejected": sum(h.outcome == O.REJECTED for h in mine),
            "pending": sum(h.outcome == O.PENDING for h in mine),
            "overdue": sum(h.outcome == O.PENDING and h.due_at < now for h in mine),
        }
        row = by_source[source_id]
        assert {key: row[key] for key in expected} == expected
        answered = expected["accepted"] + expected["rejected"]
        if answered:
            assert row["accept_rate"] == pytest.approx(100 * expected["accepted"] / answered)
        else:
            assert row["accept_rate"] is None
    assert by_source[web.pk]["accept_rate"] == pytest.approx(75.0)
    totals = handoff_totals(marketer, now=now)
    assert (totals["offered"], totals["accepted"], totals["rejected"]) == (9, 3, 3)
    assert rejection_reasons(marketer) == [
        {"reason": "Too small", "count": 2},
        {"reason": "Not a decision maker", "count": 1},
    ]


def test_the_period_counts_hand_offs_offered_in_it(marketer, rep):
    old = qualified(marketer, rep)
    Handoff.objects.filter(lead=old).update(offered_at=timezone.now() - datetime.timedelta(days=40))
    qualified(marketer, rep)
    start = timezone.now() - datetime.timedelta(days=30)
    assert handoff_totals(marketer, start=start)["offered"] == 1
    assert handoff_totals(marketer)["offered"] == 2


def test_median_time_to_answer(marketer, rep):
    took = [1, 3, 10]
    for hours in took:
        lead = lead_accept(actor=rep, lead=qualified(marketer, rep))
        offer = Handoff.objects.get(lead=lead)
        Handoff.objects.filter(pk=offer.pk).update(
            decided_at=offer.offered_at + datetime.timedelta(hours=hours)
        )
    assert median_answer_time(marketer) == datetime.timedelta(hours=3)
    lead = lead_accept(actor=rep, lead=qualified(marketer, rep))
    offer = Handoff.objects.get(lead=lead)
    Handoff.objects.filter(pk=offer.pk).update(
        decided_at=offer.offered_at + datetime.timedelta(hours=5)
    )
    assert median_answer_time(marketer) == datetime.timedelta(hours=4)
    assert median_answer_time(rep, start=timezone.now() + datetime.timedelta(days=1)) is None


# Pages --------------------------------------------------------------------------------------


def test_the_owner_sees_the_box_with_its_deadline_and_accepts(client_for, marketer, rep):
    lead = qualified(marketer, rep)
    client = client_for(rep)
    page = client.get(lead.get_absolute_url()).text
    assert "Waiting for sales" in page
    assert "Answer due in" in page
    assert reverse("lead-accept", args=[lead.pk]) in page
    assert reverse("lead-reject", args=[lead.pk]) in page
    answer = client.post(reverse("lead-accept", args=[lead.pk]))
    assert answer.status_code == 302
    assert Lead.objects.get(pk=lead.pk).status == S.SQL
    page = client.get(lead.get_absolute_url()).text
    assert "Accepted by Rita Rep" in page


def test_marketing_sees_the_box_without_buttons_and_overdue_in_words(client_for, marketer, rep):
    lead = qualified(marketer, rep)
    make_overdue(lead)
    page = client_for(marketer).get(lead.get_absolute_url()).text
    assert "Overdue by" in page
    assert reverse("lead-accept", args=[lead.pk]) not in page


def test_strangers_get_404_and_marketing_403_on_the_answer_pages(
    client_for, marketer, rep, teammate, other_rep
):
    lead = qualified(marketer, rep)
    for stranger in (teammate, other_rep):
        client = client_for(stranger)
        assert client.post(reverse("lead-accept", args=[lead.pk])).status_code == 404
        assert client.get(reverse("lead-reject", args=[lead.pk])).status_code == 404
    client = client_for(marketer)
    assert client.post(reverse("lead-accept", args=[lead.pk])).status_code == 403
    assert client.post(reverse("lead-reject", args=[lead.pk]), {}).status_code == 403
    assert client.get(reverse("lead-accept", args=[lead.pk])).status_code == 405
    assert pending(lead).outcome == O.PENDING


def test_reject_page_offers_the_list_reports_errors_and_marketing_sees_why(
    client_for, marketer, rep, reasons
):
    lead = qualified(marketer, rep)
    client = client_for(rep)
    url = reverse("lead-reject", args=[lead.pk])
    form = client.get(url)
    assert form.status_code == 200
    assert '<option value="Too small">' in form.text
    for data in ({"reason": "", "version": lead.version}, {"reason": "Rude", "version": "x"}):
        refused = client.post(url, data)
        assert refused.status_code == 400
        assert 'class="errorlist' in refused.text
    assert Lead.objects.get(pk=lead.pk).status == S.MQL
    done = client.post(
        url, {"reason": "Too small", "comment": "Call in Q3.", "version": lead.version}
    )
    assert done.status_code == 302
    page = client_for(marketer).get(lead.get_absolute_url()).text
    assert "Rejected by sales" in page
    assert "Too small" in page and "Call in Q3." in page


def test_answering_a_lead_that_is_not_waiting_gives_a_message_not_an_error(client_for, rep):
    lead = make_lead(rep, status=S.CONTACTED)
    client = client_for(rep)
    answer = client.post(reverse("lead-accept", args=[lead.pk]), follow=True)
    assert answer.status_code == 200
    assert "waiting for sales" in answer.text
    assert client.get(reverse("lead-reject", args=[lead.pk])).status_code == 302


def test_the_lead_page_shows_the_status_history(client_for, marketer, rep):
    lead = qualified(marketer, rep)
    page = client_for(rep).get(lead.get_absolute_url()).text
    panel = page[page.index("Lifecycle") :]
    assert "New → <strong>Marketing-qualified</strong>" in panel
    assert "Mia Marketing" in panel


def test_the_report_is_for_marketing_and_managers(
    client_for, admin, manager, marketer, rep, web, fair, reasons
):
    _scenario(marketer, rep, web, fair)
    url = reverse("handoff-report")
    for person in (admin, manager, marketer):
        page = client_for(person).get(url)
        assert page.status_code == 200
    page = client_for(marketer).get(url).text
    assert f"{reverse('lead-list')}?handoff=accepted&amp;source={web.pk}" in page
    assert "75%" in page
    assert "Too small" in page
    assert client_for(rep).get(url).status_code == 403


def test_the_report_refuses_a_bad_period_with_a_message(client_for, marketer):
    url = reverse("handoff-report")
    for query in (
        {"date_from": "2026-02-30"},
        {"date_from": "2026-05-02", "date_to": "2026-05-01"},
    ):
        answer = client_for(marketer).get(url, query)
        assert answer.status_code == 400
        assert 'class="errorlist"' in answer.text


def test_the_report_is_empty_with_a_hint_when_nothing_was_handed_over(client_for, marketer):
    page = client_for(marketer).get(reverse("handoff-report")).text
    assert "No lead was handed to sales in this period." in page


def test_admins_set_the_deadline_on_its_page(client_for, admin, manager):
    url = reverse("handoff-settings")
    assert client_for(manager).get(url).status_code == 403
    client = client_for(admin)
    assert client.get(url).status_code == 200
    refused = client.post(url, {"accept_within_hours": "0"})
    assert refused.status_code == 400 and 'class="errorlist' in refused.text
    assert client.post(url, {"accept_within_hours": "abc"}).status_code == 400
    assert client.post(url, {"accept_within_hours": "48"}).status_code == 302
    assert HandoffSettings.current().accept_within_hours == 48


# API ----------------------------------------------------------------------------------------


def _api_mounted() -> bool:
    from lejek.api.urls import api
    from lejek.leads.handoff_api import handoff_router

    return any(router is handoff_router for _prefix, router in api._routers)


needs_api = pytest.mark.skipif(not _api_mounted(), reason="hand-off router not mounted yet")


@needs_api
def test_the_api_accepts_and_rejects_with_the_same_rules(marketer, rep, other_rep, reasons):
    from tests.test_api_support import Api, assert_problem

    lead = qualified(marketer, rep)
    assert_problem(Api(other_rep).post(f"/leads/{lead.pk}/accept"), 404)
    assert_problem(Api(marketer).post(f"/leads/{lead.pk}/accept"), 403)
    api = Api(rep)
    assert_problem(api.post(f"/leads/{lead.pk}/reject", {"reason": "Rude"}), 422)
    assert_problem(api.post(f"/leads/{lead.pk}/reject", {"why": "Too small"}), 422)
    answer = api.post(f"/leads/{lead.pk}/reject", {"reason": "Too small", "comment": "Later."})
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == S.CONTACTED
    assert_problem(api.post(f"/leads/{lead.pk}/accept"), 422)
    other = qualified(marketer, rep)
    accepted = api.post(f"/leads/{other.pk}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == S.SQL
