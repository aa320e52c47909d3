"""The hot-leads page: a rep's open leads, overdue first, with one-click next steps."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from lejek.activities.forms import ActivityForm
from lejek.activities.models import Activity
from lejek.leads.models import Lead
from lejek.leads.queue import (
    QUEUE_SIZE,
    days_overdue,
    hot_leads,
    queue_owner,
    queue_people,
)
from lejek.users.models import Role

TEMPLATE = "leads/lead_queue.html"


@dataclass(frozen=True)
class QueueRow:
    lead: Lead
    task_overdue_days: int
    handoff_overdue_days: int
    percent: int | None
    call_url: str
    accept_url: str | None


def queue_row(lead: Lead, now) -> QueueRow:
    probability = lead.win_probability
    return QueueRow(
        lead=lead,
        task_overdue_days=days_overdue(lead.next_task_due, now) if lead.task_overdue else 0,
        handoff_overdue_days=days_overdue(lead.handoff_due, now) if lead.handoff_overdue else 0,
        percent=None if probability is None else round(probability * 100),
        call_url=reverse("timeline-activity", args=["lead", lead.pk]),
        accept_url=reverse("lead-accept", args=[lead.pk]) if lead.handoff_due else None,
    )


def queue_url(person, is_other: bool) -> str:
    url = reverse("lead-queue")
    return f"{url}?{urlencode({'rep': person.pk})}" if is_other else url


@login_required
@require_GET
def lead_queue(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    chosen = queue_owner(viewer, request.GET.get("rep"))
    now = timezone.now()
    here = queue_url(chosen.person, chosen.is_other)
    if "row" in request.GET:
        return _one_row(request, chosen.person, here, now)
    leads = hot_leads(viewer, owner=chosen.person, limit=QUEUE_SIZE, now=now)
    rows = [queue_row(lead, now) for lead in leads]
    context = {
        "rows": rows,
        "total": rows[0].lead.queue_total if rows else 0,
        "person": chosen.person,
        "is_other": chosen.is_other,
        "people": list(queue_people(viewer)) if viewer.role in (Role.ADMIN, Role.MANAGER) else [],
        "here": here,
        "call_form": ActivityForm(kind=Activity.Kind.CALL, auto_id="queue-call-%s"),
    }
    return render(request, TEMPLATE, context)


def _one_row(request: HttpRequest, person, here: str, now) -> HttpResponse:
    """One row again, after a call was logged from the queue; 204 when it left the queue."""
    wanted = request.GET["row"]
    if not wanted.isdigit():
        return HttpResponseBadRequest(_("Say which lead to show: ?row= with its id."))
    lead = hot_leads(request.user, owner=person, limit=None, now=now).filter(pk=int(wanted))
    found = lead.first()
    if found is None:
        return HttpResponse(status=204)
    return render(request, f"{TEMPLATE}#row", {"row": queue_row(found, now), "here": here})
