from __future__ import annotations

from django.urls import include, path

from lejek.leads import bulk, lifecycle_views, views

urlpatterns = [
    path("", views.lead_list, name="lead-list"),
    path("", include("lejek.leads.handoff_urls")),
    path("new/", views.lead_create_view, name="lead-create"),
    path("bulk/", bulk.lead_bulk, name="lead-bulk"),
    path("<int:pk>/", views.lead_detail, name="lead-detail"),
    path("<int:pk>/edit/", views.lead_edit, name="lead-edit"),
    path("<int:pk>/delete/", views.lead_delete_view, name="lead-delete"),
    path("<int:pk>/disqualify/", lifecycle_views.lead_disqualify_view, name="lead-disqualify"),
    path("<int:pk>/reopen/", lifecycle_views.lead_reopen_view, name="lead-reopen"),
]
