from __future__ import annotations

from django.urls import path

from lejek.analytics import export_views

urlpatterns = [
    path("<slug:kind>/", export_views.list_export, name="list-export"),
]
