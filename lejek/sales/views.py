"""The product catalogue: a list everyone reads; admins and managers add, edit, switch off."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lejek.core.listing import ChoiceFilter, Column, Listing
from lejek.core.navigation import safe_next
from lejek.sales.forms import ProductForm
from lejek.sales.models import Product
from lejek.sales.services import product_create, product_update
from lejek.users.models import Role

# The same people the services let through (see sales.services._ensure_catalogue_editor).
EDITORS = (Role.ADMIN, Role.MANAGER)


def can_edit_catalogue(user) -> bool:
    return user.role in EDITORS


def _ensure_can_edit(user) -> None:
    if not can_edit_catalogue(user):
        raise PermissionDenied(_("Only admins and managers edit the product catalogue."))


PRODUCTS = Listing(
    entity="product",
    search=("name", "sku"),
    columns=(
        Column(gettext_lazy("Name"), sort="name"),
        Column(gettext_lazy("SKU"), sort="sku"),
        Column(gettext_lazy("Unit"), css="hide-sm"),
        Column(gettext_lazy("Net price"), sort="price", num=True, desc_first=True),
        Column(gettext_lazy("VAT"), sort="vat", num=True, css="hide-sm"),
        Column(gettext_lazy("Status")),
    ),
    sorts={
        "name": ("name",),
        "sku": ("sku",),
        "price": ("net_price",),
        "vat": ("vat_rate",),
    },
    default_sort="name",
    filters=(
        ChoiceFilter(
            "active",
            gettext_lazy("Status"),
            choices=(("yes", gettext_lazy("Active")), ("no", gettext_lazy("Inactive"))),
            lookups={"yes": Q(active=True), "no": Q(active=False)},
        ),
    ),
    search_label=gettext_lazy("Search by name or SKU"),
)


@login_required
@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    context = {"can_edit": can_edit_catalogue(request.user)}
    return PRODUCTS.render(request, Product.objects.all(), "sales/product_list.html", context)


def _save(form: ProductForm, call) -> Product | None:
    try:
        return call()
    except ValidationError as exc:
        if form.instance is not None:
            form.instance.refresh_from_db()
        if not hasattr(exc, "error_dict"):
            form.add_error(None, exc.messages)
            return None
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    return None


def _form_page(request: HttpRequest, form: ProductForm) -> HttpResponse:
    status = 400 if form.errors else 200
    context = {"form": form, "product": form.instance}
    return render(request, "sales/product_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def product_create_view(request: HttpRequest) -> HttpResponse:
    _ensure_can_edit(request.user)
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        product = _save(form, lambda: product_create(actor=request.user, **form.values()))
        if product is not None:
            messages.success(request, _("Product “%(name)s” added.") % {"name": product})
            return redirect("product-list")
    return _form_page(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_can_edit(request.user)
    product = get_object_or_404(Product, pk=pk)
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        saved = _save(
            form,
            lambda: product_update(actor=request.user, product=product, values=form.values()),
        )
        if saved is not None:
            messages.success(request, _("Product “%(name)s” saved.") % {"name": saved})
            return redirect("product-list")
    return _form_page(request, form)


def _back_to_list(request: HttpRequest):
    """Back to the list as it was (search, filter, page), when that is a local address."""
    return redirect(safe_next(request) or "product-list")


@login_required
@require_POST
def product_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Switch a product on or off from the list (POST `active` = "1" or "0")."""
    _ensure_can_edit(request.user)
    product = get_object_or_404(Product, pk=pk)
    active = request.POST.get("active") == "1"
    product_update(actor=request.user, product=product, values={"active": active})
    if active:
        text = _("Product “%(name)s” is active again.")
    else:
        text = _("Product “%(name)s” is switched off; it stays in the catalogue.")
    messages.success(request, text % {"name": product})
    return _back_to_list(request)
