"""The "lost" dialog of a deal: a reason from the list and a comment. (Winning starts the
after-sales work, so its dialog lives in lejek.sales.closing_views.)"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from lejek.contacts.forms import save_through
from lejek.contacts.views import ensure_can_edit
from lejek.core.models import Reason
from lejek.core.reason_forms import ReasonForm
from lejek.pipeline.closing import deal_lose
from lejek.pipeline.models import Deal


def editable_deal(request: HttpRequest, pk: int) -> Deal:
    deal = get_object_or_404(
        Deal.objects.visible_to(request.user).select_related("stage", "pipeline"), pk=pk
    )
    ensure_can_edit(request.user, deal)
    return deal


@login_required
@require_http_methods(["GET", "POST"])
def deal_lose_view(request: HttpRequest, pk: int) -> HttpResponse:
    deal = editable_deal(request, pk)
    form = ReasonForm(
        request.POST or None, kind=Reason.Kind.DEAL_LOST, initial={"version": deal.version}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = save_through(
            form,
            lambda: deal_lose(
                actor=request.user,
                deal=deal,
                reason=data["reason"],
                comment=data["comment"],
                expected_version=data["version"],
            ),
        )
        if done is not None:
            messages.info(request, gettext("Marked as lost. The reason is kept for the reports."))
            return redirect(done)
    context = {"deal": deal, "form": form, "won": False}
    return render(request, "pipeline/deal_close.html", context, status=400 if form.errors else 200)
