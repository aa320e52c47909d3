"""E-mail templates, the e-mail composer and record files."""

from __future__ import annotations

from django.urls import path

from lejek.activities import attachment_views, email_views

urlpatterns = [
    path(
        "settings/email-templates/",
        email_views.email_template_list,
        name="email-template-list",
    ),
    path(
        "settings/email-templates/new/",
        email_views.email_template_create_view,
        name="email-template-create",
    ),
    path(
        "settings/email-templates/<int:pk>/",
        email_views.email_template_edit,
        name="email-template-edit",
    ),
    path(
        "settings/email-templates/<int:pk>/delete/",
        email_views.email_template_delete_view,
        name="email-template-delete",
    ),
    # ?lead=<id>, ?contact=<id>, ?company=<id> or ?deal=<id>
    path("email/new/", email_views.email_compose, name="email-compose"),
    path("attachments/", attachment_views.attachment_list, name="attachment-list"),
    path("attachments/new/", attachment_views.attachment_create, name="attachment-create"),
    path(
        "attachments/<int:pk>/download/",
        attachment_views.attachment_download,
        name="attachment-download",
    ),
    path(
        "attachments/<int:pk>/delete/",
        attachment_views.attachment_delete_view,
        name="attachment-delete",
    ),
]
