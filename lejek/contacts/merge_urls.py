"""/duplicates/: the duplicate finder, the merge page and the merge history."""

from __future__ import annotations

from django.urls import path

from lejek.contacts import merge_views

urlpatterns = [
    path("", merge_views.duplicate_list, name="duplicate-list"),
    path("merge/<str:kind>/<int:pk>/", merge_views.merge_pick, name="merge-pick"),
    path("merge/<str:kind>/<int:a>/<int:b>/", merge_views.merge_compare, name="merge-compare"),
    path("merges/", merge_views.merge_list, name="merge-list"),
    path("merges/<int:pk>/undo/", merge_views.merge_undo_view, name="merge-undo"),
]
