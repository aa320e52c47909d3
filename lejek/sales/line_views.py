"""Pages for a deal's lines: add from the catalogue, edit, remove, reorder, amount setting."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lejek.contacts.forms import save_through
from lejek.contacts.views import ensure_can_edit
from lejek.core.navigation import safe_next
from lejek.pipeline.models import Deal
from lejek.sales.forms import DealLineAddForm, DealLineForm
from lejek.sales.models import DealLine
from lejek.sales.panel import panel_context
from lejek.sales.services import (
    deal_line_add,
    deal_line_remove,
    deal_line_update,
    deal_lines_reorder,
    deal_pricing_set,
)


def visible_deal(request: HttpRequest, deal_pk: int) -> Deal:
    return get_object_or_404(Deal.objects.visible_to(request.user), pk=deal_pk)


def back_to_deal(request: HttpRequest, deal: Deal, text: str = "") -> HttpResponse:
    """After a change: htmx gets the fresh panel to swap in; a plain form goes back where it
    was (the deal page or the products page) with `text` as a message."""
    if request.htmx:
        deal.refresh_from_db()
        return _panel(request, deal)
    if text:
        messages.success(request, text)
    return redirect(safe_next(request) or deal.get_absolute_url())


def _panel(
    request: HttpRequest, deal: Deal, add_form: DealLineAddForm | None = None
) -> HttpResponse:
    context = panel_context(request, deal, add_form=add_form)
    context["next"] = safe_next(request) or deal.get_absolute_url()
    return render(request, "sales/deal_panel.html", context)


def _products_page(
    request: HttpRequest, deal: Deal, add_form: DealLineAddForm | None = None
) -> HttpResponse:
    context = panel_context(request, deal, add_form=add_form)
    status = 400 if add_form is not None and add_form.errors else 200
    return render(request, "sales/deal_products.html", context, status=status)


@login_required
@require_GET
def deal_products(request: HttpRequest, deal_pk: int) -> HttpResponse:
    """The deal's lines and offers on a page of their own (the deal page embeds the same)."""
    return _products_page(request, visible_deal(request, deal_pk))


@login_required
@require_POST
def line_add(request: HttpRequest, deal_pk: int) -> HttpResponse:
    deal = visible_deal(request, deal_pk)
    form = DealLineAddForm(request.POST, deal=deal)
    if form.is_valid():
        line = save_through(
            form,
            lambda: deal_line_add(
                actor=request.user,
                deal=deal,
                product=form.cleaned_data["product"],
                quantity=form.cleaned_data["quantity"],
                discount=form.cleaned_data["discount"] or 0,
            ),
        )
        if line is not None:
            return back_to_deal(request, deal, _("“%(name)s” added to the deal.") % {"name": line})
    if request.htmx:
        # htmx swaps only 2xx answers; the panel comes back with the errors by the fields.
        return _panel(request, visible_deal(request, deal_pk), add_form=form)
    return _products_page(request, visible_deal(request, deal_pk), add_form=form)


def _line(deal: Deal, pk: int) -> DealLine:
    return get_object_or_404(DealLine.objects.filter(deal=deal), pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def line_edit(request: HttpRequest, deal_pk: int, pk: int) -> HttpResponse:
    deal = visible_deal(request, deal_pk)
    ensure_can_edit(request.user, deal)
    line = _line(deal, pk)
    form = DealLineForm(request.POST or None, line=line)
    if request.method == "POST" and form.is_valid():
        saved = save_through(
            form, lambda: deal_line_update(actor=request.user, line=line, values=form.values())
        )
        if saved is not None:
            return back_to_deal(request, deal, _("“%(name)s” saved.") % {"name": saved})
        line.refresh_from_db()
    context = {"deal": deal, "line": line, "form": form, "next": request.GET.get("next", "")}
    status = 400 if form.errors else 200
    return render(request, "sales/line_form.html", context, status=status)


@login_required
@require_POST
def line_remove(request: HttpRequest, deal_pk: int, pk: int) -> HttpResponse:
    deal = visible_deal(request, deal_pk)
    line = _line(deal, pk)
    deal_line_remove(actor=request.user, line=line)
    return back_to_deal(request, deal, _("“%(name)s” removed from the deal.") % {"name": line})


@login_required
@require_POST
def line_move(request: HttpRequest, deal_pk: int, pk: int) -> HttpResponse:
    """Move a line one place up or down (POST `direction`): the keyboard way to reorder."""
    deal = visible_deal(request, deal_pk)
    ids = list(deal.lines.order_by("position", "id").values_list("pk", flat=True))
    if pk not in ids:
        return back_to_deal(request, deal)
    index = ids.index(pk)
    target = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= target < len(ids):
        ids[index], ids[target] = ids[target], ids[index]
        try:
            deal_lines_reorder(actor=request.user, deal=deal, line_ids=ids)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return back_to_deal(request, deal)


@login_required
@require_POST
def pricing_set(request: HttpRequest, deal_pk: int) -> HttpResponse:
    deal = visible_deal(request, deal_pk)
    follow = request.POST.get("amount_from_lines") == "1"
    deal_pricing_set(actor=request.user, deal=deal, amount_from_lines=follow)
    if follow:
        return back_to_deal(request, deal, _("The deal amount now follows its lines."))
    return back_to_deal(request, deal, _("The deal amount is now set by hand."))
