"""Changing many leads at once from the list: hand them to someone, set a status, delete.

All or nothing: when any selected lead may not be changed by the person acting, nothing is
changed and they are told how many. Each lead still goes through `lead_update` /
`lead_delete`, so every rule and every Event is the same as for one lead.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from lejek.core.errors import ConflictError
from lejek.leads.models import Lead
from lejek.leads.services import lead_delete, lead_update
from lejek.users.models import User

MAX_SELECTED = 500
# Converting makes a deal and disqualifying asks for a reason: both lead by lead.
BULK_STATUSES = [
    (v, label)
    for v, label in Lead.Status.choices
    if v not in (Lead.Status.CONVERTED, Lead.Status.DISQUALIFIED)
]


def _editable_selection(actor, ids: list[int]) -> list[Lead]:
    if not ids:
        raise ValidationError(_("Select at least one lead."))
    if len(ids) > MAX_SELECTED:
        raise ValidationError(_("Select at most %(max)d leads at a time.") % {"max": MAX_SELECTED})
    leads = list(Lead.objects.editable_by(actor).filter(pk__in=ids).select_for_update(of=("self",)))
    refused = len(set(ids)) - len(leads)
    if refused:
        raise PermissionDenied(
            ngettext(
                "%(n)d of the selected leads cannot be changed by you; nothing was changed.",
                "%(n)d of the selected leads cannot be changed by you; nothing was changed.",
                refused,
            )
            % {"n": refused}
        )
    return leads


@transaction.atomic
def leads_bulk_update(*, actor, ids: list[int], values: dict) -> int:
    leads = _editable_selection(actor, ids)
    for lead in leads:
        lead_update(actor=actor, lead=lead, values=values)
    return len(leads)


@transaction.atomic
def leads_bulk_delete(*, actor, ids: list[int]) -> int:
    leads = _editable_selection(actor, ids)
    for lead in leads:
        lead_delete(actor=actor, lead=lead)
    return len(leads)


class BulkForm(forms.Form):
    ACTIONS = [
        ("owner", gettext_lazy("Assign")),
        ("status", gettext_lazy("Set status")),
        ("delete", gettext_lazy("Delete")),
    ]

    action = forms.ChoiceField(choices=ACTIONS)
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=False)
    # Any active person; whether the actor may hand leads to them is the services' rule
    # (check_handover), which says why not.
    owner = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True), required=False)
    status = forms.ChoiceField(choices=[("", "—"), *BULK_STATUSES], required=False)
    confirm = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id may be submitted; visibility and rights are checked by the service.
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        self.fields["ids"].choices = [(value, value) for value in raw]

    def clean(self):
        data = super().clean()
        if data.get("action") == "owner" and not data.get("owner"):
            self.add_error("owner", _("Choose who gets the leads."))
        if data.get("action") == "status" and not data.get("status"):
            self.add_error("status", _("Choose a status."))
        return data


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target if target.startswith("/leads/") else "/leads/"
    return "/leads/"


@login_required
@require_POST
def lead_bulk(request: HttpRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_back(request))
    data = form.cleaned_data
    ids = sorted(set(data["ids"]))
    if data["action"] == "delete" and not data["confirm"]:
        count = Lead.objects.visible_to(request.user).filter(pk__in=ids).count()
        context = {"ids": ids, "count": count, "next": _back(request)}
        return render(request, "leads/lead_bulk_delete.html", context)
    try:
        if data["action"] == "delete":
            done = leads_bulk_delete(actor=request.user, ids=ids)
        else:
            value = {"owner": data["owner"]} if data["action"] == "owner" else {}
            if data["action"] == "status":
                value = {"status": data["status"]}
            done = leads_bulk_update(actor=request.user, ids=ids, values=value)
    except (ValidationError, ConflictError) as exc:
        for text in getattr(exc, "messages", [str(exc)]):
            messages.error(request, text)
        return redirect(_back(request))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect(_back(request))
    messages.success(
        request, ngettext("%(n)d lead changed.", "%(n)d leads changed.", done) % {"n": done}
    )
    return redirect(_back(request))
