"""Mentions, the notifications page, and notification e-mails over real SMTP."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lejek.activities.models import Comment
from lejek.users.models import Notification
from lejek.users.services import Notice, notify, notify_many
from tests.factories import make_deal, make_lead

HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def comment(client, subject, body, **extra):
    name = subject._meta.model_name
    return client.post(
        reverse("timeline-comment", args=[name, subject.pk]), {"comment-body": body}, **extra
    )


# Mentions ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_mention_notifies_a_colleague_who_can_see_the_record_and_nobody_else(
    rep, manager, other_rep
):
    lead = make_lead(rep)
    response = comment(signed_in(rep), lead, "@max and @oskar, thoughts?", **HTMX)
    assert response.status_code == 200
    notification = Notification.objects.get()
    assert notification.recipient == manager
    assert notification.kind == "mention"
    assert notification.url == lead.get_absolute_url()
    assert "@max and @oskar" in notification.text
    assert list(Comment.objects.get().mentions.all()) == [manager]
    assert not Notification.objects.filter(recipient=other_rep).exists()


@pytest.mark.django_db
def test_mentioning_yourself_does_not_notify(rep):
    comment(signed_in(rep), make_lead(rep), "note to self @rita")
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_marketing_mention_on_a_deal_reaches_its_owner(marketer, rep, pipeline):
    deal = make_deal(rep, pipeline)
    comment(signed_in(marketer), deal, "@rita this one came from the webinar")
    assert Notification.objects.get().recipient == rep


# The notifications page --------------------------------------------------------------------


@pytest.fixture
def three_notifications(rep, manager):
    first = notify(recipient=rep, actor=manager, kind="mention", text="First", url="/leads/1/")
    second = notify(recipient=rep, actor=manager, kind="mention", text="Second", url="/leads/2/")
    old = notify(recipient=rep, actor=manager, kind="mention", text="Old read one")
    Notification.objects.filter(pk=old.pk).update(read_at=timezone.now())
    return first, second, old


@pytest.mark.django_db
def test_notifications_list_unread_first_then_newest(rep, three_notifications):
    *_unread, old = three_notifications
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now())
    page = signed_in(rep).get(reverse("notification-list"))
    assert [n.text for n in page.context["page"].object_list] == ["Second", "First", "Old read one"]
    html = page.content.decode()
    assert '<a href="/leads/2/">Second</a>' in html
    assert '<span class="badge">2</span>' in html


@pytest.mark.django_db
def test_mark_one_read_over_htmx_updates_list_and_badge(rep, three_notifications):
    first, _second, _old = three_notifications
    response = signed_in(rep).post(reverse("notification-read", args=[first.pk]), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="notifications"')
    assert 'id="notif-link" class="notif-link" href="/notifications/" hx-swap-oob="true"' in html
    assert '<span class="badge">1</span>' in html
    first.refresh_from_db()
    assert first.read_at is not None
    assert Notification.objects.filter(recipient=rep, read_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_mark_all_read_without_javascript(rep, three_notifications):
    client = signed_in(rep)
    response = client.post(reverse("notification-read-all"))
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=rep, read_at__isnull=True).exists()
    html = client.get(reverse("notification-list")).content.decode()
    assert 'class="badge"' not in html
    assert "Mark all as read" not in html


@pytest.mark.django_db
def test_nobody_marks_someone_elses_notification(rep, teammate, three_notifications):
    first, _second, _old = three_notifications
    response = signed_in(teammate).post(reverse("notification-read", args=[first.pk]))
    assert response.status_code == 404
    first.refresh_from_db()
    assert first.read_at is None


@pytest.mark.django_db
def test_mark_read_needs_post(rep, three_notifications):
    first, _second, _old = three_notifications
    assert signed_in(rep).get(reverse("notification-read", args=[first.pk])).status_code == 405


@pytest.mark.django_db
def test_only_local_links_are_clickable(rep, manager):
    notify(recipient=rep, actor=manager, kind="x", text="Evil", url="javascript:alert(1)")
    notify(recipient=rep, actor=manager, kind="x", text="Offsite", url="//evil.example/")
    html = signed_in(rep).get(reverse("notification-list")).content.decode()
    assert "javascript:alert" not in html
    assert "evil.example" not in html
    assert "Evil" in html and "Offsite" in html


@pytest.mark.django_db
def test_empty_notifications_page_explains_what_lands_there(rep):
    html = signed_in(rep).get(reverse("notification-list")).content.decode()
    assert "No notifications yet" in html


# E-mail over SMTP --------------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_inbox(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 5},
        }
    }
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.LEJEK_BASE_URL = "https://crm.example.pl"
    yield inbox
    controller.stop()


@pytest.mark.django_db(transaction=True)
def test_mention_email_goes_out_over_smtp_in_the_recipients_language(smtp_inbox, rep, manager):
    manager.language = "pl"
    manager.save(update_fields=["language"])
    lead = make_lead(rep)
    response = comment(signed_in(rep), lead, "@max can you approve the discount?")
    assert response.status_code == 302

    assert len(smtp_inbox.messages) == 1
    recipients, message = smtp_inbox.messages[0]
    assert recipients == ["max@example.com"]
    assert message["To"] == "max@example.com"
    assert message["Subject"].startswith("[Lejek] ")
    body = message.get_content()
    assert "can you approve the discount?" in body
    assert f"https://crm.example.pl{lead.get_absolute_url()}" in body
    # Dates are written the Polish way, with the Polish month name.
    notification = Notification.objects.get()
    months = ["stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca",
              "sierpnia", "września", "października", "listopada", "grudnia"]  # fmt: skip
    local = timezone.localtime(notification.created_at)
    assert f"{local.day} {months[local.month - 1]} {local.year}" in body
    assert notification.emailed_at is not None


@pytest.mark.django_db(transaction=True)
def test_english_recipient_gets_english_dates(smtp_inbox, rep, manager):
    comment(signed_in(rep), make_lead(rep), "@max ping")
    _recipients, message = smtp_inbox.messages[0]
    local = timezone.localtime(Notification.objects.get().created_at)
    assert local.strftime("%b") in message.get_content()
    assert "Hello Max," in message.get_content()


@pytest.mark.django_db(transaction=True)
def test_no_email_when_the_recipient_turned_them_off(smtp_inbox, rep, manager):
    signed_in(manager).post(
        reverse("profile"),
        {"first_name": "Max", "last_name": "Manager", "language": "en", "email_notifications": ""},
    )
    comment(signed_in(rep), make_lead(rep), "@max quiet please")
    assert Notification.objects.filter(recipient=manager).count() == 1
    assert smtp_inbox.messages == []


@pytest.mark.django_db(transaction=True)
def test_notify_many_tells_everyone_but_the_actor_and_the_inactive_in_one_insert(
    smtp_inbox, rep, manager, teammate, other_rep, django_assert_max_num_queries
):
    teammate.email_notifications = False
    teammate.save(update_fields=["email_notifications"])
    other_rep.is_active = False
    other_rep.save(update_fields=["is_active"])
    notices = [
        Notice(recipient=manager, actor=rep, kind="mention", text="x" * 400, url="/leads/1/"),
        Notice(recipient=teammate, actor=rep, kind="mention", text="for the teammate"),
        Notice(recipient=rep, actor=rep, kind="mention", text="to myself"),
        Notice(recipient=other_rep, actor=None, kind="mention", text="to the inactive"),
    ]
    with transaction.atomic(), django_assert_max_num_queries(1):
        sent = notify_many(notices)  # the e-mails go after the commit

    assert [n.recipient for n in sent] == [manager, teammate]
    assert len(sent[0].text) == 300
    assert set(Notification.objects.values_list("recipient", flat=True)) == {
        manager.pk,
        teammate.pk,
    }
    assert [recipients for recipients, _message in smtp_inbox.messages] == [["max@example.com"]]
    assert Notification.objects.get(recipient=manager).emailed_at is not None
    assert Notification.objects.get(recipient=teammate).emailed_at is None
