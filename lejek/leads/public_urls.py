from __future__ import annotations

from django.urls import path

from lejek.leads import public_views

urlpatterns = [
    path("<str:key>/", public_views.public_form, name="public-form"),
]
