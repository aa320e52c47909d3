"""The hand-off pages, included under /leads/."""

from __future__ import annotations

from django.urls import path

from lejek.leads import handoff_views

urlpatterns = [
    path("<int:pk>/accept/", handoff_views.lead_accept_view, name="lead-accept"),
    path("<int:pk>/reject/", handoff_views.lead_reject_view, name="lead-reject"),
    path("handoff/", handoff_views.handoff_report, name="handoff-report"),
    path("handoff/settings/", handoff_views.handoff_settings_view, name="handoff-settings"),
]
