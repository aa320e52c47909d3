from __future__ import annotations

from django.urls import path

from lejek.pipeline import conversion_views

urlpatterns = [
    path("<int:pk>/convert/", conversion_views.lead_convert_view, name="lead-convert"),
]
