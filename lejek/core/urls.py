from __future__ import annotations

from django.urls import path

from lejek.core import reason_views, saved_views, views
from lejek.leads import campaign_views
from lejek.users import admin_views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("lookup/<str:entity>/", views.lookup, name="lookup"),
    path("views/save/", saved_views.save_view, name="saved-view-save"),
    path("views/<int:pk>/delete/", saved_views.delete_view, name="saved-view-delete"),
    path("settings/", views.settings_index, name="settings"),
    path("settings/custom-fields/", views.custom_field_list, name="custom-field-list"),
    path("settings/custom-fields/new/", views.custom_field_new, name="custom-field-create"),
    path("settings/custom-fields/<int:pk>/", views.custom_field_edit, name="custom-field-edit"),
    path(
        "settings/custom-fields/<int:pk>/delete/",
        views.custom_field_remove,
        name="custom-field-delete",
    ),
    path("settings/reasons/", reason_views.reason_list, name="reason-list"),
    path("settings/reasons/<int:pk>/", reason_views.reason_edit, name="reason-edit"),
    # Users and teams (admins)
    path("settings/users/", admin_views.users_and_teams, name="settings-users"),
    path("settings/users/new/", admin_views.user_create_view, name="settings-user-create"),
    path("settings/users/<int:pk>/", admin_views.user_edit, name="settings-user-edit"),
    path(
        "settings/users/<int:pk>/password/",
        admin_views.user_password,
        name="settings-user-password",
    ),
    path(
        "settings/users/<int:pk>/deactivate/",
        admin_views.user_deactivate,
        name="settings-user-deactivate",
    ),
    path(
        "settings/users/<int:pk>/reactivate/",
        admin_views.user_reactivate,
        name="settings-user-reactivate",
    ),
    path("settings/teams/new/", admin_views.team_create_view, name="settings-team-create"),
    path("settings/teams/<int:pk>/", admin_views.team_edit, name="settings-team-edit"),
    # Lead sources and campaigns (marketing, managers, admins; everyone reads)
    path("settings/sources/", campaign_views.source_list, name="source-list"),
    path("settings/sources/new/", campaign_views.source_create_view, name="source-create"),
    path("settings/sources/<int:pk>/", campaign_views.source_edit, name="source-edit"),
    path("settings/campaigns/", campaign_views.campaign_list, name="campaign-list"),
    path("settings/campaigns/new/", campaign_views.campaign_create_view, name="campaign-create"),
    path("settings/campaigns/<int:pk>/", campaign_views.campaign_edit, name="campaign-edit"),
]
