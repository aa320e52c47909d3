"""Disqualifying a lead (a reason from the list, a comment) and bringing it back."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from lejek.contacts.forms import save_through
from lejek.contacts.views import ensure_can_edit
from lejek.core.models import Reason
from lejek.core.navigation import safe_next
from lejek.core.reason_forms import ReasonForm
from lejek.leads.models import Lead
from lejek.leads.services import lead_disqualify, lead_reopen


def _editable_lead(request: HttpRequest, pk: int) -> Lead:
    lead = get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)
    ensure_can_edit(request.user, lead)
    return lead


@login_required
@require_http_methods(["GET", "POST"])
def lead_disqualify_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _editable_lead(request, pk)
    return reason_page(
        request,
        lead,
        kind=Reason.Kind.LEAD_DISQUALIFIED,
        act=lambda **answer: lead_disqualify(actor=request.user, lead=lead, **answer),
        done_message=gettext("The lead is disqualified."),
        title=gettext("Disqualify lead"),
        intro=gettext(
            "The lead leaves the funnel. The reason feeds the reports; the lead can be "
            "reopened later."
        ),
        button=gettext("Disqualify"),
    )


def reason_page(
    request: HttpRequest,
    lead: Lead,
    *,
    kind: str,
    act: Callable[..., Lead],
    done_message: str,
    title: str,
    intro: str,
    button: str,
) -> HttpResponse:
    """A page asking why (a reason from the `kind` list, and a comment), then doing `act`
    with `reason`, `comment` and `expected_version`: disqualifying, rejecting a hand-off."""
    form = ReasonForm(request.POST or None, kind=kind, initial={"version": lead.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = save_through(
            form,
            lambda: act(
                reason=data["reason"], comment=data["comment"], expected_version=data["version"]
            ),
        )
        if done is not None:
            messages.info(request, done_message)
            return redirect(safe_next(request) or done.get_absolute_url())
    context = {
        "lead": lead,
        "form": form,
        "title": title,
        "intro": intro,
        "button": button,
        "back": safe_next(request) or lead.get_absolute_url(),
    }
    status = 400 if form.errors else 200
    return render(request, "leads/lead_reason.html", context, status=status)


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
