"""The reports pages, included at /reports/."""

from __future__ import annotations

from django.urls import path, re_path

from lejek.analytics import dashboard_views

urlpatterns = [
    path("", dashboard_views.dashboard, name="analytics-dashboard"),
    path("card/<slug:key>/", dashboard_views.card, name="analytics-card"),
    path("drill/<slug:key>/", dashboard_views.drill, name="analytics-drill"),
    re_path(
        r"^(?P<key>[-\w]+)\.(?P<fmt>csv|xlsx)$",
        dashboard_views.export,
        name="analytics-export",
    ),
]
