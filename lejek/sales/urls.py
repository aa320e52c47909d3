from __future__ import annotations

from django.urls import path

from lejek.sales import views

urlpatterns = [
    path("", views.product_list, name="product-list"),
    path("new/", views.product_create_view, name="product-create"),
    path("<int:pk>/edit/", views.product_edit, name="product-edit"),
    path("<int:pk>/active/", views.product_set_active, name="product-set-active"),
]
