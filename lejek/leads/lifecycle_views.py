"""Disqualifying a lead (a reason from the list, a comment) and bringing it back."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from lejek.contacts.forms import save_through
from lejek.contacts.views import can_edit
from lejek.core.models import Reason
from lejek.core.reasons import offered
from lejek.leads.models import Lead
from lejek.leads.services import lead_disqualify, lead_reopen


class DisqualifyForm(forms.Form):
    disqualified_reason = forms.CharField(label=_("Reason"), max_length=100)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        reasons = list(offered(Reason.Kind.LEAD_DISQUALIFIED).values_list("label", flat=True))
        if reasons:
            self.fields["disqualified_reason"] = forms.ChoiceField(
                label=_("Reason"), choices=[("", "—"), *((r, r) for r in reasons)]
            )


def _editable_lead(request: HttpRequest, pk: int) -> Lead:
    lead = get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)
    if not can_edit(request.user, lead):
        raise PermissionDenied(gettext("You are not allowed to change this record."))
    return lead


@login_required
@require_http_methods(["GET", "POST"])
def lead_disqualify_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _editable_lead(request, pk)
    form = DisqualifyForm(request.POST or None, initial={"version": lead.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = save_through(
            form,
            lambda: lead_disqualify(
                actor=request.user,
                lead=lead,
                reason=data["disqualified_reason"],
                comment=data["comment"],
                expected_version=data["version"],
            ),
        )
        if done is not None:
            messages.info(request, gettext("The lead is disqualified."))
            return redirect(done)
    context = {"lead": lead, "form": form}
    return render(
        request, "leads/lead_disqualify.html", context, status=400 if form.errors else 200
    )


@login_required
@require_POST
def lead_reopen_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _editable_lead(request, pk)
    try:
        lead_reopen(actor=request.user, lead=lead)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(request, gettext("The lead is back in the funnel."))
    return redirect(lead)
