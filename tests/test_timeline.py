"""The record timeline and its composer, and the tasks page."""

from __future__ import annotations

import datetime
import re

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from lejek.activities.models import Activity, Comment, Task
from lejek.leads.services import lead_update
from lejek.pipeline.services import deal_move_to_stage
from lejek.users.models import Notification
from tests.factories import make_activity, make_deal, make_lead, make_task

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, subject):
    return reverse(name, args=[subject._meta.model_name, subject.pk])


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def render_panel(user, subject, query: str = "") -> str:
    request = RequestFactory().get(f"/somewhere/{query}")
    request.user = user
    template = Template("{% load timeline %}{% timeline_panel object %}")
    return template.render(Context({"request": request, "object": subject}))


def entry_texts(html: str) -> list[str]:
    """The visible text of each timeline entry, in order."""
    items = re.findall(
        r'<li id="tl-[^"]+" class="tl-entry[^"]*">(.*?)</li>\s*(?=<li id="tl-|</ul>)', html, re.S
    )
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item)).strip() for item in items]


# Composer ----------------------------------------------------------------------------------


def test_logging_a_call_shows_it_on_the_timeline_without_reload(rep):
    lead = make_lead(rep)
    response = signed_in(rep).post(
        url("timeline-activity", lead),
        {
            "kind": "call",
            "call-subject_line": "Discovery call",
            "call-body": "Wants a demo next week",
            "call-duration_minutes": "15",
        },
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="panel timeline-panel" id="timeline"')
    assert "<html" not in html
    assert "Discovery call" in html and "Wants a demo next week" in html
    assert "15 minutes" in html
    assert "Call logged." in html
    activity = Activity.objects.get()
    assert (activity.kind, activity.author, activity.lead) == ("call", rep, lead)


def test_composer_without_javascript_redirects_back_to_the_record(rep):
    lead = make_lead(rep)
    response = signed_in(rep).post(
        url("timeline-activity", lead), {"kind": "note", "note-body": "Prefers e-mail"}
    )
    assert response.status_code == 302
    assert response.url == f"{lead.get_absolute_url()}#timeline"
    assert Activity.objects.get().body == "Prefers e-mail"


def test_empty_note_shows_error_next_to_its_field(rep):
    lead = make_lead(rep)
    client = signed_in(rep)
    response = client.post(
        url("timeline-activity", lead), {"kind": "note", "note-body": " "}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    note_form = re.search(r'<form class="composer-form f-note".*?</form>', html, re.S).group(0)
    assert 'class="field has-error"' in note_form
    assert 'id="id_note-body_error"' in note_form
    # The tab with the error stays open.
    assert re.search(r'value="note" checked', html)
    assert not Activity.objects.exists()
    plain = client.post(url("timeline-activity", lead), {"kind": "note", "note-body": ""})
    assert plain.status_code == 400
    assert "errorlist" in plain.content.decode()


def test_other_team_rep_gets_404_on_every_timeline_route(rep, other_rep):
    lead = make_lead(rep)
    client = signed_in(other_rep)
    posts = {
        "timeline-activity": {"kind": "call"},
        "timeline-task": {"task-title": "Steal lead"},
        "timeline-comment": {"comment-body": "hello"},
    }
    for name, data in posts.items():
        assert client.post(url(name, lead), data, **HTMX).status_code == 404, name
    assert client.get(url("timeline", lead), **HTMX).status_code == 404
    assert not Activity.objects.exists()
    assert not Task.objects.exists()
    assert not Comment.objects.exists()


def test_unknown_record_kind_is_404(rep):
    response = signed_in(rep).get(reverse("timeline", args=["invoice", 1]), **HTMX)
    assert response.status_code == 404


def test_marketing_may_comment_on_a_deal_but_not_log_a_call(marketer, rep, pipeline):
    deal = make_deal(rep, pipeline)
    client = signed_in(marketer)
    forbidden = client.post(url("timeline-activity", deal), {"kind": "call"}, **HTMX)
    assert forbidden.status_code == 403
    response = client.post(
        url("timeline-comment", deal), {"comment-body": "Campaign lead, handle with care"}, **HTMX
    )
    assert response.status_code == 200
    assert "Campaign lead, handle with care" in response.content.decode()
    assert not Activity.objects.exists()
    # The composer offers marketing only what it may do on a deal.
    html = render_panel(marketer, deal)
    assert 'class="composer-form f-comment"' in html
    assert 'class="composer-form f-call"' not in html


def test_task_composer_assigns_teammate_and_notifies_them(rep, teammate):
    lead = make_lead(rep)
    due = timezone.localdate() + datetime.timedelta(days=3)
    response = signed_in(rep).post(
        url("timeline-task", lead),
        {
            "task-title": "Send price list",
            "task-due_date": due.isoformat(),
            "task-assignee": teammate.pk,
        },
        **HTMX,
    )
    assert response.status_code == 200
    task = Task.objects.get()
    assert (task.assignee, task.due_date, task.created_by) == (teammate, due, rep)
    assert "Send price list" in response.content.decode()
    assert Notification.objects.get(recipient=teammate).kind == "task.assigned"


def test_task_composer_refuses_assignee_outside_own_teams(rep, other_rep):
    lead = make_lead(rep)
    response = signed_in(rep).post(
        url("timeline-task", lead), {"task-title": "X", "task-assignee": other_rep.pk}, **HTMX
    )
    assert 'id="id_task-assignee_error"' in response.content.decode()
    assert not Task.objects.exists()


# Entries -----------------------------------------------------------------------------------


def test_timeline_lists_everything_newest_first(rep, pipeline):
    deal = make_deal(rep, pipeline)
    make_activity(rep, deal, kind="note", subject_line="", body="First note")
    proposal = deal.pipeline.stages.get(name="Proposal")
    deal_move_to_stage(actor=rep, deal=deal, stage=proposal)
    make_task(rep, deal, title="Prepare offer")
    texts = entry_texts(render_panel(rep, deal))
    assert "Prepare offer" in texts[0]
    assert "Moved from Qualified to Proposal" in texts[1]
    assert "First note" in texts[2]
    assert any("Started in Qualified" in t for t in texts)
    assert any("Record created" in t for t in texts)


def test_field_changes_read_as_label_old_to_new(rep, teammate, manager):
    lead = make_lead(rep, title="CEO")
    lead_update(actor=rep, lead=lead, values={"title": "CTO", "status": "contacted"})
    html = render_panel(rep, lead)
    text = " ".join(entry_texts(html))
    assert "Job title: CEO → changed to CTO" in text
    assert "Status: New → changed to Contacted" in text
    lead.refresh_from_db()
    lead_update(actor=manager, lead=lead, values={"owner": teammate})
    text = " ".join(entry_texts(render_panel(rep, lead)))
    assert "Owner: Rita Rep → changed to Tom Teammate" in text


def test_filter_shows_one_type_over_htmx_and_plain_links(rep):
    lead = make_lead(rep)
    make_activity(rep, lead, kind="call", subject_line="The call")
    make_activity(rep, lead, kind="meeting", subject_line="The meeting")
    client = signed_in(rep)
    response = client.get(url("timeline", lead), {"timeline": "call"}, **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="timeline-entries">')
    assert "The call" in html and "The meeting" not in html
    assert 'aria-current="true">Calls<' in html
    # Without htmx the same address leads to the record page with the filter applied.
    plain = client.get(url("timeline", lead), {"timeline": "call"})
    assert plain.status_code == 302
    assert plain.url == f"{lead.get_absolute_url()}?timeline=call#timeline"
    panel = render_panel(rep, lead, "?timeline=meeting")
    assert "The meeting" in panel and "The call" not in panel
    assert f'href="{lead.get_absolute_url()}?timeline=call#timeline"' in panel


def test_overdue_task_says_so_in_words_and_toggles_done(rep):
    lead = make_lead(rep)
    task = make_task(
        rep, lead, title="Chase invoice", due_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    html = render_panel(rep, lead)
    assert '<span class="pill bad">overdue</span>' in html
    client = signed_in(rep)
    response = client.post(
        reverse("task-done", args=[task.pk]), {"done": "1", "render": "timeline"}, **HTMX
    )
    entry = response.content.decode()
    assert entry.lstrip().startswith(f'<li id="tl-task-{task.pk}"')
    assert '<span class="pill ok">done</span>' in entry and "overdue" not in entry
    assert "Reopen" in entry
    task.refresh_from_db()
    assert task.is_done
    client.post(reverse("task-done", args=[task.pk]), {"done": "0", "render": "timeline"}, **HTMX)
    task.refresh_from_db()
    assert not task.is_done


def test_timeline_queries_do_not_grow_with_entries(rep, teammate, django_assert_max_num_queries):
    lead = make_lead(rep)
    for i in range(8):
        make_activity(rep, lead, subject_line=f"Call {i}")
        make_task(rep, lead, title=f"Task {i}", assignee=teammate)
        lead_update(actor=rep, lead=lead, values={"title": f"Title {i}", "owner": rep})
    client = signed_in(rep)
    with django_assert_max_num_queries(12):
        client.get(url("timeline", lead), **HTMX)


def test_comment_mentions_are_highlighted(rep, manager):
    lead = make_lead(rep)
    signed_in(rep).post(
        url("timeline-comment", lead), {"comment-body": "@max please check, cc @nobody"}, **HTMX
    )
    html = render_panel(rep, lead)
    assert '<mark class="mention">@max</mark>' in html
    assert '<mark class="mention">@nobody</mark>' not in html
    assert "@nobody" in html
    assert "Mention a colleague with @" in html


def test_comment_text_is_escaped(rep):
    lead = make_lead(rep)
    signed_in(rep).post(url("timeline-comment", lead), {"comment-body": "<script>x</script>"})
    html = render_panel(rep, lead)
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


# Tasks page --------------------------------------------------------------------------------


def test_tasks_page_groups_open_tasks_and_shows_recently_done(rep, teammate):
    lead = make_lead(rep)
    today = timezone.localdate()
    make_task(rep, lead, title="Old one", due_date=today - datetime.timedelta(days=3))
    make_task(rep, lead, title="Today one", due_date=today)
    make_task(rep, lead, title="Later one", due_date=today + datetime.timedelta(days=3))
    make_task(rep, lead, title="Someday one")
    make_task(rep, lead, title="Not mine", assignee=teammate)
    done = make_task(rep, lead, title="Finished one")
    signed_in(rep).post(reverse("task-done", args=[done.pk]), {"done": "1"})
    response = signed_in(rep).get(reverse("task-list"))
    groups = {g["key"]: [t.title for t in g["tasks"]] for g in response.context["groups"]}
    assert groups == {
        "overdue": ["Old one"],
        "today": ["Today one"],
        "upcoming": ["Later one"],
        "none": ["Someday one"],
    }
    assert [t.title for t in response.context["done"]] == ["Finished one"]
    assert "Not mine" not in response.content.decode()


def test_manager_filters_tasks_by_team_member_but_rep_cannot(manager, rep, teammate, other_rep):
    lead = make_lead(rep)
    make_task(rep, lead, title="Rita's task")
    south = make_lead(other_rep)
    make_task(other_rep, south, title="Oskar's task")
    client = signed_in(manager)
    html = client.get(reverse("task-list"), {"assignee": rep.pk}).content.decode()
    assert "Rita&#x27;s task" in html
    assert f'<option value="{other_rep.pk}"' not in html
    outsider = client.get(reverse("task-list"), {"assignee": other_rep.pk})
    assert outsider.context["assignee"] == manager
    assert "Oskar" not in outsider.content.decode()
    as_teammate = signed_in(teammate).get(reverse("task-list"), {"assignee": rep.pk})
    assert as_teammate.context["assignee"] == teammate
    assert "Rita&#x27;s task" not in as_teammate.content.decode()


def test_task_row_toggle_over_htmx_returns_the_row(rep):
    lead = make_lead(rep)
    task = make_task(rep, lead, title="Ring back")
    response = signed_in(rep).post(
        reverse("task-done", args=[task.pk]), {"done": "1", "next": "/tasks/"}, **HTMX
    )
    row = response.content.decode()
    assert row.lstrip().startswith(f'<li class="task-row is-done" id="task-{task.pk}"')
    assert 'name="done" value="0"' in row


def test_other_team_cannot_toggle_or_edit_a_task(rep, other_rep):
    task = make_task(rep, make_lead(rep))
    client = signed_in(other_rep)
    assert client.post(reverse("task-done", args=[task.pk]), {"done": "1"}).status_code == 404
    assert client.get(reverse("task-edit", args=[task.pk])).status_code == 404
    task.refresh_from_db()
    assert not task.is_done


def test_task_edit_saves_and_refuses_a_stale_version(rep, teammate):
    lead = make_lead(rep)
    task = make_task(rep, lead, title="Draft")
    client = signed_in(rep)
    due = timezone.localdate() + datetime.timedelta(days=1)
    data = {"title": "Final", "due_date": due.isoformat(), "notes": "", "version": task.version}
    response = client.post(reverse("task-edit", args=[task.pk]), data)
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.due_date, task.version) == ("Final", due, 2)
    stale = dict(data, title="Overwrite", version=1)
    response = client.post(reverse("task-edit", args=[task.pk]), stale)
    assert response.status_code == 200
    assert "Someone else changed this record" in response.content.decode()
    task.refresh_from_db()
    assert task.title == "Final"


def test_task_edit_needs_a_title(rep):
    task = make_task(rep, make_lead(rep))
    response = signed_in(rep).post(
        reverse("task-edit", args=[task.pk]), {"title": "", "version": task.version}
    )
    assert 'id="id_title_error"' in response.content.decode()


def test_record_page_embeds_the_composer_and_keeps_the_filter(rep):
    lead = make_lead(rep)
    make_activity(rep, lead, kind="call", subject_line="The call")
    make_activity(rep, lead, kind="note", subject_line="", body="The note")
    client = signed_in(rep)
    html = client.get(lead.get_absolute_url(), {"timeline": "call"}).content.decode()
    panel = re.search(
        r'<section class="panel timeline-panel" id="timeline".*?</section>', html, re.S
    )
    assert panel is not None
    assert 'name="csrfmiddlewaretoken"' in panel.group(0)
    assert "The call" in panel.group(0) and "The note" not in panel.group(0)
