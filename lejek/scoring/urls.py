from __future__ import annotations

from django.urls import path

from lejek.scoring import views

urlpatterns = [
    path("", views.scoring_settings, name="scoring-settings"),
    path("recompute/", views.recompute, name="scoring-recompute"),
    path("train/", views.train, name="scoring-train"),
    path("rules/new/", views.fit_rule_create, name="scoring-rule-create"),
    path("rules/<int:pk>/", views.fit_rule_edit, name="scoring-rule-edit"),
    path("rules/<int:pk>/delete/", views.fit_rule_delete, name="scoring-rule-delete"),
]
