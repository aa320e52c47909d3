"""The reps' hot-leads queue: what it holds, in which order, for whom, and in how many queries."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse
from django.utils import timezone

from lejek.core.models import Reason
from lejek.core.reasons import reason_create
from lejek.leads.models import Handoff, Lead
from lejek.leads.queue import days_overdue, hot_leads
from lejek.scoring.models import LeadScore
from tests.factories import make_activity, make_lead, make_task, set_language

# The queue's URLs in front of the project's, as lejek/urls.py mounts them under /leads/.
urlpatterns = [path("leads/", include("lejek.leads.queue_urls")), path("", include("lejek.urls"))]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

DAY = datetime.timedelta(days=1)


def scored(lead: Lead, score: int, *, age_days: int = 30, probability=None) -> Lead:
    """Give a lead a score and an age: both are computed elsewhere, so set them directly."""
    created = timezone.now() - age_days * DAY
    Lead.objects.filter(pk=lead.pk).update(created_at=created)
    LeadScore.objects.update_or_create(
        lead=lead, defaults={"score": score, "probability": probability}
    )
    lead.refresh_from_db()
    return lead


def offer(lead: Lead, *, due_in: datetime.timedelta = DAY) -> Handoff:
    """A pending hand-off as marketing's qualification opens it; only the row matters here."""
    now = timezone.now()
    return Handoff.objects.create(lead=lead, owner=lead.owner, offered_at=now, due_at=now + due_in)


def names(leads) -> list[str]:
    return [lead.last_name for lead in leads]


def queue_url(**params) -> str:
    url = reverse("lead-queue")
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{url}?{query}" if query else url


def test_overdue_tasks_and_late_handoffs_come_first_then_score_and_recency(rep):
    today = timezone.localdate()
    scored(make_lead(rep, last_name="Best"), 90)
    # A lead worked yesterday gets the recency bonus and passes a slightly better cold lead.
    warm = scored(make_lead(rep, last_name="Warm"), 60)
    make_activity(rep, warm, occurred_at=timezone.now() - DAY)
    scored(make_lead(rep, last_name="Cold"), 70)
    late_task = scored(make_lead(rep, last_name="LateTask"), 5)
    make_task(rep, late_task, title="Send the price list", due_date=today - 3 * DAY)
    later_task = scored(make_lead(rep, last_name="FutureTask"), 10)
    make_task(rep, later_task, title="Call back", due_date=today + 2 * DAY)
    late_handoff = scored(make_lead(rep, last_name="LateHandoff"), 1)
    offer(late_handoff, due_in=-2 * DAY)
    waiting_handoff = scored(make_lead(rep, last_name="WaitingHandoff"), 2)
    offer(waiting_handoff)

    leads = list(hot_leads(rep))

    assert names(leads[:2]) == ["LateTask", "LateHandoff"]  # both overdue; then by priority
    assert names(leads[2:]) == ["Best", "Warm", "Cold", "FutureTask", "WaitingHandoff"]
    by_name = {lead.last_name: lead for lead in leads}
    assert by_name["Warm"].priority == 60 + 20 and by_name["Cold"].priority == 70
    assert by_name["LateTask"].next_task_title == "Send the price list"
    assert by_name["LateTask"].task_overdue and by_name["LateTask"].is_overdue
    assert not by_name["FutureTask"].is_overdue
    assert by_name["FutureTask"].next_task_due == today + 2 * DAY
    assert by_name["LateHandoff"].handoff_overdue
    assert by_name["WaitingHandoff"].handoff_due is not None
    assert not by_name["WaitingHandoff"].is_overdue
    assert by_name["Warm"].last_touch_at is not None and by_name["Cold"].last_touch_at is None


def test_the_next_action_is_the_earliest_open_task_and_done_tasks_do_not_count(rep):
    lead = scored(make_lead(rep), 50)
    today = timezone.localdate()
    make_task(rep, lead, title="Undated idea")
    make_task(rep, lead, title="Next week", due_date=today + 7 * DAY)
    done = make_task(rep, lead, title="Old and done", due_date=today - 9 * DAY)
    type(done).objects.filter(pk=done.pk).update(done_at=timezone.now())

    (row,) = hot_leads(rep)

    assert row.next_task_title == "Next week"
    assert not row.is_overdue


def test_a_new_lead_gets_the_recency_bonus_and_fades_to_the_warm_one(rep):
    fresh = scored(make_lead(rep, last_name="Fresh"), 50, age_days=1)
    week = scored(make_lead(rep, last_name="Week"), 50, age_days=7)
    old = scored(make_lead(rep, last_name="Old"), 50, age_days=40)

    rows = {lead.last_name: lead.priority for lead in hot_leads(rep)}

    assert rows == {"Fresh": 70, "Week": 60, "Old": 50}
    assert [fresh.pk, week.pk, old.pk] == [lead.pk for lead in hot_leads(rep)]


def test_a_short_queue_is_the_head_of_the_full_ranking(rep):
    today = timezone.localdate()
    for score in (90, 80, 40, 10):
        scored(make_lead(rep, last_name=f"Score{score}"), score)
    scored(make_lead(rep, last_name="FreshSeventy"), 70, age_days=0)  # 70 + 20 passes 80
    scored(make_lead(rep, last_name="FreshTen"), 10, age_days=0)  # 10 + 20 stays behind
    overdue = scored(make_lead(rep, last_name="OverdueFive"), 5)
    make_task(rep, overdue, due_date=today - DAY)

    everything = names(hot_leads(rep, limit=None))
    first_three = list(hot_leads(rep, limit=3))

    assert everything[:4] == ["OverdueFive", "Score90", "FreshSeventy", "Score80"]
    assert names(first_three) == everything[:3]
    assert first_three[0].queue_total == 7


def test_closed_leads_and_other_peoples_leads_never_show(rep, teammate, other_rep, client_for):
    mine = make_lead(rep, last_name="Mine")
    make_lead(rep, last_name="Converted", status=Lead.Status.CONVERTED)
    make_lead(teammate, last_name="Teammates")
    make_lead(other_rep, last_name="Strangers")

    assert names(hot_leads(rep)) == ["Mine"]
    page = client_for(rep).get(queue_url())
    text = page.content.decode()
    assert page.status_code == 200
    assert str(mine) in text
    for hidden in ("Converted", "Teammates", "Strangers"):
        assert hidden not in text


def test_a_manager_opens_the_queue_of_a_rep_in_their_team(manager, rep, client_for):
    make_lead(rep, last_name="RitasLead")

    page = client_for(manager).get(queue_url(rep=rep.pk))

    assert page.status_code == 200
    text = page.content.decode()
    assert "RitasLead" in text
    assert "Hot leads of Rita Rep" in text


def test_a_manager_cannot_open_the_queue_of_another_team(manager, other_rep, client_for):
    make_lead(other_rep, last_name="SouthLead")

    page = client_for(manager).get(queue_url(rep=other_rep.pk))

    assert page.status_code == 403
    assert "SouthLead" not in page.content.decode()


@pytest.mark.parametrize("wanted", ["teammate", "manager", "nonsense", "99999"])
def test_a_rep_cannot_open_anybody_elses_queue(wanted, rep, teammate, manager, client_for):
    make_lead(teammate, last_name="TomsLead")
    rep_param = {"teammate": teammate.pk, "manager": manager.pk}.get(wanted, wanted)

    page = client_for(rep).get(queue_url(rep=rep_param))

    assert page.status_code == 403
    assert "TomsLead" not in page.content.decode()


def test_signed_out_visitors_are_sent_to_log_in(client):
    page = client.get(queue_url())
    assert page.status_code == 302
    assert "/login/" in page["Location"]


def test_each_row_shows_probability_next_action_last_touch_and_one_click_actions(rep, client_for):
    lead = scored(make_lead(rep, company_name="Młyny Łódzkie"), 77, probability=0.42)
    make_task(rep, lead, title="Send offer", due_date=timezone.localdate() - 3 * DAY)
    make_activity(rep, lead, occurred_at=timezone.now() - 3 * DAY)

    text = client_for(rep).get(queue_url()).content.decode()

    assert "Młyny Łódzkie" in text
    assert 'value="77"' in text and "42%" in text
    assert "Send offer" in text and "overdue 3 d" in text
    assert "3\xa0days ago" in text or "3 days ago" in text
    assert reverse("timeline-activity", args=["lead", lead.pk]) in text
    assert f"{reverse('email-compose')}?lead={lead.pk}" in text
    assert reverse("lead-disqualify", args=[lead.pk]) in text
    assert "No lead has a hand-off" not in text


def test_accept_and_reject_are_offered_only_while_a_handoff_is_pending(rep, client_for):
    offered = make_lead(rep, last_name="Offered")
    offer(offered)
    plain = make_lead(rep, last_name="Plain")

    text = client_for(rep).get(queue_url()).content.decode()

    assert f'action="{reverse("lead-accept", args=[offered.pk])}"' in text
    assert reverse("lead-reject", args=[offered.pk]) in text
    assert reverse("lead-accept", args=[plain.pk]) not in text
    assert reverse("lead-reject", args=[plain.pk]) not in text


def test_a_pending_handoff_is_shown_and_a_late_one_says_how_late(rep, client_for):
    waiting = make_lead(rep, last_name="Waiting")
    offer(waiting)
    late = make_lead(rep, last_name="Late")
    offer(late, due_in=-2 * DAY - datetime.timedelta(minutes=1))

    text = client_for(rep).get(queue_url()).content.decode()

    assert "hand-off waiting" in text
    assert "hand-off overdue 2 d" in text
    assert days_overdue(timezone.now() - datetime.timedelta(minutes=5)) == 1
    assert days_overdue(timezone.now() + datetime.timedelta(minutes=5)) == 0
    assert text.index("Jan Late") < text.index("Jan Waiting")


def test_the_query_count_does_not_grow_with_the_number_of_leads(rep, client_for):
    def queries_for_page() -> int:
        client = client_for(rep)
        client.get(queue_url())  # warm the session and the settings rows
        with CaptureQueriesContext(connection) as captured:
            assert client.get(queue_url()).status_code == 200
        return len(captured)

    def add_leads(count: int) -> None:
        for n in range(count):
            lead = scored(make_lead(rep), n % 100, probability=0.3)
            make_task(rep, lead, due_date=timezone.localdate() - n % 3 * DAY)
            make_activity(rep, lead)
            if n % 5 == 0:
                offer(lead)

    add_leads(5)
    with_five = queries_for_page()
    add_leads(45)
    with_fifty = queries_for_page()

    assert with_five == with_fifty
    assert with_fifty <= 10


def test_the_selector_is_one_query(rep, django_assert_num_queries):
    for _ in range(3):
        make_task(rep, make_lead(rep), due_date=timezone.localdate())
    rep.team_ids  # noqa: B018 - cached per user, read once per request by visibility

    with django_assert_num_queries(1):
        first_two = list(hot_leads(rep, limit=2))

    assert len(first_two) == 2
    assert first_two[0].queue_total == 3  # counted before the limit, in the same query


@pytest.mark.parametrize(
    ("language", "spoken", "not_spoken"),
    [
        ("en", ["Hot leads", "Log call", "Win probability", "Disqualify"], "Zapisz rozmowę"),
        ("pl", ["Zapisz rozmowę", "Prawdopodobieństwo wygranej", "Zdyskwalifikuj"], "Log call"),
    ],
)
def test_the_page_speaks_polish_and_english(language, spoken, not_spoken, rep, client_for):
    set_language(rep, language)
    client = client_for(rep)
    blank = client.get(queue_url())
    make_lead(rep, last_name="Zieliński")

    full = client.get(queue_url()).content.decode()

    assert blank.status_code == 200
    assert f'lang="{language}"' in full
    assert "Zieliński" in full
    for text in spoken:
        assert text in full
    assert not_spoken not in full


def test_an_empty_queue_says_what_belongs_here_and_offers_a_first_step(rep, manager, client_for):
    own = client_for(rep).get(queue_url()).content.decode()
    someone_elses = client_for(manager).get(queue_url(rep=rep.pk)).content.decode()

    assert "Your hot leads show up here" in own
    assert f'<a class="button primary" href="{reverse("lead-create")}">' in own
    assert "Rita Rep has no open leads right now." in someone_elses


def test_one_row_comes_back_for_a_refresh_and_leaves_when_the_lead_closes(rep, client_for):
    lead = make_lead(rep, last_name="Refreshed")
    client = client_for(rep)

    row = client.get(queue_url(row=lead.pk))
    assert row.status_code == 200
    assert f'id="queue-lead-{lead.pk}"' in row.content.decode()
    assert "<html" not in row.content.decode()

    Lead.objects.filter(pk=lead.pk).update(status=Lead.Status.CONVERTED)
    assert client.get(queue_url(row=lead.pk)).status_code == 204
    assert client.get(queue_url(row="abc")).status_code == 400


# Coming back: every action started from the queue returns to it ------------------------------


def test_accepting_from_the_queue_comes_back_to_the_queue(manager, rep, client_for):
    offered = make_lead(rep, last_name="Offered", status=Lead.Status.MQL)
    back = queue_url(rep=rep.pk)
    page = client_for(manager).get(back).content.decode()
    assert f'name="next" value="{back}"' in page

    answer = client_for(manager).post(reverse("lead-accept", args=[offered.pk]), {"next": back})

    assert answer.status_code == 302 and answer["Location"] == back
    offered.refresh_from_db()
    assert offered.status == Lead.Status.SQL


@pytest.mark.parametrize(
    ("action", "kind", "after"),
    [
        ("lead-disqualify", Reason.Kind.LEAD_DISQUALIFIED, Lead.Status.DISQUALIFIED),
        ("lead-reject", Reason.Kind.LEAD_REJECTED, Lead.Status.CONTACTED),
    ],
)
def test_disqualifying_or_rejecting_from_the_queue_comes_back_to_it(
    action, kind, after, manager, rep, client_for
):
    reason_create(actor=manager, kind=kind, label="No budget")
    lead = make_lead(rep, last_name="Gone", status=Lead.Status.MQL)
    client = client_for(rep)
    queue = client.get(queue_url()).content.decode()
    link = f"{reverse(action, args=[lead.pk])}?next={reverse('lead-queue')}"
    assert link in queue

    form = client.get(link).content.decode()
    assert f'href="{reverse("lead-queue")}">Cancel</a>' in form
    answer = client.post(link, {"reason": "No budget", "comment": "", "version": lead.version})

    assert answer.status_code == 302 and answer["Location"] == reverse("lead-queue")
    lead.refresh_from_db()
    assert lead.status == after


def test_a_next_address_on_another_site_is_ignored(rep, client_for):
    lead = make_lead(rep, status=Lead.Status.MQL)
    answer = client_for(rep).post(
        reverse("lead-accept", args=[lead.pk]), {"next": "https://evil.example/phish"}
    )
    assert answer["Location"] == lead.get_absolute_url()


def test_the_e_mail_composer_opened_from_the_queue_cancels_back_to_it(rep, client_for):
    lead = make_lead(rep, email="ewa@firma.pl")
    queue = client_for(rep).get(queue_url()).content.decode()
    link = f"{reverse('email-compose')}?lead={lead.pk}&amp;next=/leads/queue/"
    assert link in queue

    page = client_for(rep).get(link.replace("&amp;", "&")).content.decode()
    assert f'href="{reverse("lead-queue")}">Cancel</a>' in page
