from django.urls import path

from lejek.core.views import placeholder

urlpatterns = [
    path("", placeholder, name="lead-list"),
    path("new/", placeholder, name="lead-create"),
    path("<int:pk>/", placeholder, name="lead-detail"),
]
