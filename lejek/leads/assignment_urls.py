from __future__ import annotations

from django.urls import path

from lejek.leads import assignment_views as views

urlpatterns = [
    path("", views.assignment_index, name="assignment"),
    path("rules/new/", views.rule_create_view, name="assignment-rule-create"),
    path("rules/<int:pk>/edit/", views.rule_edit_view, name="assignment-rule-edit"),
    path("rules/<int:pk>/delete/", views.rule_delete_view, name="assignment-rule-delete"),
    path("rules/<int:pk>/move/", views.rule_move_view, name="assignment-rule-move"),
    path("teams/<int:pk>/", views.team_settings_view, name="assignment-team"),
    path("people/<int:pk>/", views.availability_view, name="assignment-availability"),
    path("try/", views.try_lead_view, name="assignment-try"),
    path("leads/<int:pk>/reassign/", views.reassign_view, name="lead-reassign"),
]
