from __future__ import annotations

from django.urls import path

from lejek.pipeline import board_views, settings_views, views

urlpatterns = [
    path("", views.deal_list, name="deal-list"),
    path("new/", views.deal_create_view, name="deal-create"),
    path("<int:pk>/", views.deal_detail, name="deal-detail"),
    path("<int:pk>/edit/", views.deal_edit, name="deal-edit"),
    path("<int:pk>/move/", views.deal_move, name="deal-move"),
    path("<int:pk>/delete/", views.deal_delete_view, name="deal-delete"),
    # The board
    path("board/", board_views.deal_board, name="deal-board"),
    path("board/move/<int:pk>/", board_views.board_move, name="deal-board-move"),
    path("board/column/<int:stage_pk>/", board_views.board_column_more, name="deal-board-column"),
    # Pipelines and stages (admins)
    path("pipelines/", settings_views.pipeline_list, name="pipeline-list"),
    path("pipelines/new/", settings_views.pipeline_create_view, name="pipeline-create"),
    path("pipelines/<int:pk>/", settings_views.pipeline_edit, name="pipeline-edit"),
    path(
        "pipelines/<int:pk>/stages/new/",
        settings_views.stage_create_view,
        name="stage-create",
    ),
    path("pipelines/stages/<int:pk>/", settings_views.stage_edit, name="stage-edit"),
    path("pipelines/stages/<int:pk>/move/", settings_views.stage_move_view, name="stage-move"),
    path(
        "pipelines/stages/<int:pk>/delete/",
        settings_views.stage_delete_view,
        name="stage-delete",
    ),
]
