"""Sales' answer to a hand-off (accept, reject with a reason), the hand-off report and the
deadline setting."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from lejek.contacts.forms import save_through
from lejek.core.errors import ConflictError
from lejek.core.models import Reason
from lejek.core.navigation import safe_next
from lejek.leads import handoff
from lejek.leads.handoff_forms import HandoffSettingsForm, PeriodForm
from lejek.leads.lifecycle_views import reason_page
from lejek.leads.models import HandoffSettings, Lead
from lejek.users.models import Role

REPORT_ROLES = (Role.ADMIN, Role.MANAGER, Role.MARKETING)


def _answerable_lead(request: HttpRequest, pk: int) -> Lead:
    """A lead the user sees (404 otherwise) and may answer for (403 otherwise)."""
    lead = get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)
    if not handoff.can_answer(request.user, lead):
        raise PermissionDenied(
            gettext("Only the lead's owner, or a manager of its team, answers the hand-off.")
        )
    return lead


@login_required
@require_POST
def lead_accept_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _answerable_lead(request, pk)
    try:
        handoff.lead_accept(actor=request.user, lead=lead)
    except (ValidationError, ConflictError) as exc:
        for text in getattr(exc, "messages", [str(exc)]):
            messages.error(request, text)
    else:
        messages.success(request, gettext("Accepted: the lead is sales-qualified."))
    return redirect(safe_next(request) or lead.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def lead_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _answerable_lead(request, pk)
    if lead.status != Lead.Status.MQL:
        messages.info(request, gettext("This lead is not waiting for sales."))
        return redirect(safe_next(request) or lead.get_absolute_url())
    return reason_page(
        request,
        lead,
        kind=Reason.Kind.LEAD_REJECTED,
        act=lambda **answer: handoff.lead_reject(actor=request.user, lead=lead, **answer),
        done_message=gettext("Rejected: marketing sees your reason."),
        title=gettext("Reject lead"),
        intro=gettext(
            "The lead goes back to marketing as contacted. Marketing sees your reason and "
            "comment on the lead and in the hand-off report."
        ),
        button=gettext("Reject"),
    )


def _hours(duration: datetime.timedelta | None) -> float | None:
    return None if duration is None else round(duration.total_seconds() / 3600, 1)


@login_required
def handoff_report(request: HttpRequest) -> HttpResponse:
    if request.user.role not in REPORT_ROLES:
        raise PermissionDenied(gettext("The hand-off report is for marketing and managers."))
    form = PeriodForm.for_query(request.GET)
    context: dict = {"form": form, "rows": [], "totals": None}
    if form.is_valid():
        start, end = form.bounds()
        user = request.user
        context.update(
            rows=handoff.handoff_rates(user, start=start, end=end),
            totals=handoff.handoff_totals(user, start=start, end=end),
            reasons=handoff.rejection_reasons(user, start=start, end=end),
            median_hours=_hours(handoff.median_answer_time(user, start=start, end=end)),
            overdue=handoff.overdue_handoffs(user)[:20],
            settings=HandoffSettings.current(),
        )
    status = 400 if form.errors else 200
    return render(request, "leads/handoff_report.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def handoff_settings_view(request: HttpRequest) -> HttpResponse:
    if request.user.role != Role.ADMIN:
        raise PermissionDenied(gettext("Only admins change the hand-off deadline."))
    current = HandoffSettings.current()
    form = HandoffSettingsForm(
        request.POST or None, initial={"accept_within_hours": current.accept_within_hours}
    )
    if request.method == "POST" and form.is_valid():
        hours = form.cleaned_data["accept_within_hours"]
        done = save_through(
            form,
            lambda: handoff.handoff_settings_update(actor=request.user, accept_within_hours=hours),
        )
        if done is not None:
            messages.success(request, gettext("Hand-off deadline saved."))
            return redirect("handoff-settings")
    status = 400 if form.errors else 200
    return render(request, "leads/handoff_settings.html", {"form": form}, status=status)
