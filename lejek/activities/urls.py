from django.urls import path

from lejek.core.views import placeholder

urlpatterns = [
    path("tasks/", placeholder, name="task-list"),
]
