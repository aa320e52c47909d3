"""A deal's lines and offers, mounted under "deals/" next to the deal pages."""

from __future__ import annotations

from django.urls import path

from lejek.sales import closing_views, line_views, offer_views

urlpatterns = [
    path("<int:pk>/win/", closing_views.deal_win_view, name="deal-win"),
    path(
        "<int:deal_pk>/confirmations/<int:pk>/pdf/",
        closing_views.confirmation_pdf_view,
        name="confirmation-pdf",
    ),
    path(
        "<int:deal_pk>/confirmations/<int:pk>/send/",
        closing_views.confirmation_send_view,
        name="confirmation-send",
    ),
    path("<int:deal_pk>/products/", line_views.deal_products, name="deal-products"),
    path("<int:deal_pk>/lines/add/", line_views.line_add, name="deal-line-add"),
    path("<int:deal_pk>/lines/<int:pk>/edit/", line_views.line_edit, name="deal-line-edit"),
    path("<int:deal_pk>/lines/<int:pk>/remove/", line_views.line_remove, name="deal-line-remove"),
    path("<int:deal_pk>/lines/<int:pk>/move/", line_views.line_move, name="deal-line-move"),
    path("<int:deal_pk>/pricing/", line_views.pricing_set, name="deal-pricing"),
    path("<int:deal_pk>/offers/new/", offer_views.offer_create_view, name="offer-create"),
    path("<int:deal_pk>/offers/<int:pk>/", offer_views.offer_detail, name="offer-detail"),
    path(
        "<int:deal_pk>/offers/<int:pk>/version/",
        offer_views.offer_version_view,
        name="offer-version",
    ),
    path(
        "<int:deal_pk>/offers/<int:pk>/status/", offer_views.offer_status_view, name="offer-status"
    ),
    path("<int:deal_pk>/offers/<int:pk>/pdf/", offer_views.offer_pdf_view, name="offer-pdf"),
    path("<int:deal_pk>/offers/<int:pk>/send/", offer_views.offer_send_view, name="offer-send"),
]
