from __future__ import annotations

from django.conf import settings


def shell(request):
    """What the navigation shell needs on every page: unread notifications, languages."""
    user = getattr(request, "user", None)
    unread = 0
    if user is not None and user.is_authenticated:
        unread = user.notifications.unread().count()
    return {"unread_notifications": unread, "LEJEK_CURRENCY": settings.LEJEK_CURRENCY}
