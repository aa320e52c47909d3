from __future__ import annotations

from django.urls import path

from lejek.pipeline import closing_views

urlpatterns = [
    path("<int:pk>/lose/", closing_views.deal_lose_view, name="deal-lose"),
]
