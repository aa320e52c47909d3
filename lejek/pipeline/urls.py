from django.urls import path

from lejek.core.views import placeholder

urlpatterns = [
    path("", placeholder, name="deal-list"),
    path("new/", placeholder, name="deal-create"),
    path("<int:pk>/", placeholder, name="deal-detail"),
]
