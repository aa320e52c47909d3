from __future__ import annotations

from django.urls import path

from lejek.imports import views

urlpatterns = [
    path("", views.import_list, name="import-list"),
    path("new/", views.import_new, name="import-new"),
    path("<int:pk>/", views.import_job, name="import-job"),
    path("<int:pk>/mapping/", views.import_mapping, name="import-mapping"),
    path("<int:pk>/run/", views.import_run, name="import-run"),
    path("<int:pk>/report/", views.import_report, name="import-report"),
]
