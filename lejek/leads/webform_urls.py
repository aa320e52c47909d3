from __future__ import annotations

from django.urls import path

from lejek.leads import webform_views

urlpatterns = [
    path("", webform_views.webform_list, name="webform-list"),
    path("new/", webform_views.webform_create_view, name="webform-create"),
    path("<int:pk>/", webform_views.webform_edit, name="webform-edit"),
    path("<int:pk>/delete/", webform_views.webform_delete_view, name="webform-delete"),
    path(
        "<int:pk>/submissions/retry/",
        webform_views.webform_submission_retry,
        name="webform-submissions-retry",
    ),
    path(
        "<int:pk>/submissions/<int:submission_pk>/retry/",
        webform_views.webform_submission_retry,
        name="webform-submission-retry",
    ),
]
