"""The files of a record on its page: `{% load attachments %}{% attachments_panel object %}`."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from lejek.activities.models import Attachment

register = template.Library()

PANEL_LIMIT = 50


def panel_context(request, subject) -> dict[str, Any]:
    user = request.user
    kind = subject._meta.model_name
    editable = type(subject)._default_manager.editable_by(user).filter(pk=subject.pk).exists()
    files = list(Attachment.objects.about(subject).select_related("uploaded_by")[: PANEL_LIMIT + 1])
    return {
        "request": request,
        "user": user,
        "subject": subject,
        "subject_kind": kind,
        "attachments": files[:PANEL_LIMIT],
        "more": len(files) > PANEL_LIMIT,
        "editable": editable,
        "upload_url": f"{reverse('attachment-create')}?{kind}={subject.pk}",
        "list_url": f"{reverse('attachment-list')}?{kind}={subject.pk}",
    }


@register.inclusion_tag("activities/attachment_panel.html", takes_context=True)
def attachments_panel(context, subject):
    """The files kept with a record, with upload and delete for those who may edit it."""
    return panel_context(context["request"], subject)
