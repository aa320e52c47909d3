"""Settings → Reasons: the lists of lost, disqualification and rejection reasons."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from lejek.core.models import Reason
from lejek.core.reasons import reason_create, reason_update
from lejek.users.models import Role


def _ensure_manager(user) -> None:
    if user.role not in (Role.ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only managers and admins edit the lists of reasons."))


@login_required
@require_http_methods(["GET", "POST"])
def reason_list(request: HttpRequest) -> HttpResponse:
    _ensure_manager(request.user)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        try:
            if kind not in Reason.Kind.values:
                raise ValidationError({"label": _("Choose a list.")})
            reason_create(actor=request.user, kind=kind, label=request.POST.get("label", ""))
        except ValidationError as exc:
            errors[kind] = exc.messages
        else:
            messages.success(request, _("Reason added."))
            return redirect("reason-list")
    lists = [
        {
            "kind": kind,
            "label": label,
            "reasons": Reason.objects.filter(kind=kind),
            "errors": errors.get(kind, []),
        }
        for kind, label in Reason.Kind.choices
    ]
    status = 400 if errors else 200
    return render(request, "core/reason_list.html", {"lists": lists}, status=status)


@login_required
@require_POST
def reason_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_manager(request.user)
    reason = get_object_or_404(Reason, pk=pk)
    try:
        reason_update(
            actor=request.user,
            reason=reason,
            label=request.POST.get("label", reason.label),
            active=request.POST.get("active") == "on",
        )
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(request, _("Reason saved."))
    return redirect("reason-list")
