from __future__ import annotations

from django.urls import path

from lejek.pipeline import customers

urlpatterns = [
    path("", customers.customer_list, name="customer-list"),
]
