from django.urls import path

from lejek.core.views import placeholder

urlpatterns = [
    path("contacts/", placeholder, name="contact-list"),
    path("contacts/new/", placeholder, name="contact-create"),
    path("contacts/<int:pk>/", placeholder, name="contact-detail"),
    path("companies/", placeholder, name="company-list"),
    path("companies/new/", placeholder, name="company-create"),
    path("companies/<int:pk>/", placeholder, name="company-detail"),
]
