from django.urls import path

from lejek.core.views import placeholder

urlpatterns = [
    path("", placeholder, name="home"),
    path("search/", placeholder, name="search"),
    path("settings/", placeholder, name="settings"),
]
