"""The reps' hot-leads work queue, mounted under /leads/."""

from __future__ import annotations

from django.urls import path

from lejek.leads import queue_views

urlpatterns = [
    path("queue/", queue_views.lead_queue, name="lead-queue"),
]
