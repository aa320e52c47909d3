from __future__ import annotations

from django.urls import path

from lejek.pipeline import views

urlpatterns = [
    path("", views.deal_list, name="deal-list"),
    path("new/", views.deal_create_view, name="deal-create"),
    path("<int:pk>/", views.deal_detail, name="deal-detail"),
    path("<int:pk>/edit/", views.deal_edit, name="deal-edit"),
    path("<int:pk>/move/", views.deal_move, name="deal-move"),
    path("<int:pk>/delete/", views.deal_delete_view, name="deal-delete"),
]
