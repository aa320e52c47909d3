"""The two closing dialogs of a deal: won (final amount and date) and lost (reason, comment)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from lejek.contacts.forms import save_through
from lejek.contacts.views import can_edit
from lejek.core.models import Reason
from lejek.core.reasons import offered
from lejek.core.widgets import DateInput
from lejek.pipeline.closing import deal_lose, deal_win
from lejek.pipeline.forms import AmountField
from lejek.pipeline.models import Deal


class WinForm(forms.Form):
    amount = AmountField(label=_("Final amount"), min_value=0, max_digits=14, decimal_places=2)
    closed_on = forms.DateField(label=_("Won on"), widget=DateInput())
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].localize = True
        self.fields["amount"].widget.is_localized = True


class LoseForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=100)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        reasons = list(offered(Reason.Kind.DEAL_LOST).values_list("label", flat=True))
        if reasons:
            self.fields["reason"] = forms.ChoiceField(
                label=_("Reason"), choices=[("", "—"), *((r, r) for r in reasons)]
            )


def _editable_deal(request: HttpRequest, pk: int) -> Deal:
    deal = get_object_or_404(
        Deal.objects.visible_to(request.user).select_related("stage", "pipeline"), pk=pk
    )
    if not can_edit(request.user, deal):
        raise PermissionDenied(gettext("You are not allowed to change this deal."))
    return deal


@login_required
@require_http_methods(["GET", "POST"])
def deal_win_view(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _editable_deal(request, pk)
    initial = {"amount": deal.amount, "closed_on": timezone.localdate(), "version": deal.version}
    form = WinForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = save_through(
            form,
            lambda: deal_win(
                actor=request.user,
                deal=deal,
                amount=data["amount"],
                closed_on=data["closed_on"],
                expected_version=data["version"],
            ),
        )
        if done is not None:
            messages.success(request, gettext("Won. Congratulations!"))
            return redirect(done)
    context = {"deal": deal, "form": form, "won": True}
    return render(request, "pipeline/deal_close.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def deal_lose_view(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _editable_deal(request, pk)
    form = LoseForm(request.POST or None, initial={"version": deal.version})
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
