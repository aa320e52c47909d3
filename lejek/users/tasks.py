from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone, translation

from lejek.users.models import Notification

log = logging.getLogger(__name__)


@task
def send_notification_email(notification_id: int) -> bool:
    """E-mail one notification in the recipient's language. Idempotent: sends at most once."""
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    if not claimed:
        return False
    notification = Notification.objects.select_related("recipient", "actor").get(pk=notification_id)
    recipient = notification.recipient
    with translation.override(recipient.language):
        context = {"notification": notification, "base_url": settings.LEJEK_BASE_URL}
        subject = render_to_string("users/email/notification_subject.txt", context).strip()
        body = render_to_string("users/email/notification.txt", context)
    send_mail(subject, body, None, [recipient.email])
    return True


@task
def send_notification_emails(notification_ids: list[int]) -> int:
    """E-mail each notification as send_notification_email does, in one task for a batch
    (a web-form batch tells many reps at once). One failing address does not stop the others."""
    sent = 0
    for pk in notification_ids:
        try:
            sent += bool(send_notification_email.call(pk))
        except Exception:
            log.exception("notification %s could not be e-mailed", pk)
    return sent
