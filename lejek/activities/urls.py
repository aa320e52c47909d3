from __future__ import annotations

from django.urls import path

from lejek.activities import views

record = "records/<slug:kind>/<int:pk>/"

urlpatterns = [
    path("tasks/", views.task_list, name="task-list"),
    path("tasks/<int:pk>/done/", views.task_done, name="task-done"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task-edit"),
    path(record + "timeline/", views.timeline, name="timeline"),
    path(record + "activities/", views.activity_create, name="timeline-activity"),
    path(record + "tasks/", views.task_add, name="timeline-task"),
    path(record + "comments/", views.comment_create, name="timeline-comment"),
]
