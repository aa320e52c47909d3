from __future__ import annotations

from django.urls import path

from lejek.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("settings/", views.settings_index, name="settings"),
    path("settings/custom-fields/", views.custom_field_list, name="custom-field-list"),
    path("settings/custom-fields/new/", views.custom_field_new, name="custom-field-create"),
    path("settings/custom-fields/<int:pk>/", views.custom_field_edit, name="custom-field-edit"),
    path(
        "settings/custom-fields/<int:pk>/delete/",
        views.custom_field_remove,
        name="custom-field-delete",
    ),
    path("settings/users/", views.users_and_teams, name="settings-users"),
]
