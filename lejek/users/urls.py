from django.urls import path

from lejek.core.views import placeholder

urlpatterns = [
    path("login/", placeholder, name="login"),
    path("logout/", placeholder, name="logout"),
    path("profile/", placeholder, name="profile"),
    path("profile/tokens/", placeholder, name="token-list"),
    path("notifications/", placeholder, name="notification-list"),
]
