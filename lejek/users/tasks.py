from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone, translation

from lejek.users.models import Notification


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
