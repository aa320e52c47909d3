"""Settings → Web forms: build the forms that turn website visitors into leads.

Marketing, managers and admins build, edit, switch off and delete forms; reps do not.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lejek.leads import capture
from lejek.leads.models import Consent, FormSubmission, WebForm
from lejek.leads.public_views import snippet
from lejek.leads.webform_forms import WebFormForm
from lejek.leads.webforms import can_manage_forms, webform_create, webform_delete, webform_update

Status = FormSubmission.Status
# Failed submissions listed on a form's page, newest first (Retry all takes every one).
FAILED_SHOWN = 50


def _ensure_can_manage(user) -> None:
    if not can_manage_forms(user):
        raise PermissionDenied(_("Only marketing, managers and admins manage web forms."))


def _put_errors(form: WebFormForm, exc: ValidationError) -> None:
    """A service's refusal next to the field it concerns, or above the form."""
    errors = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
    for name, messages_ in errors:
        form.add_error(name if name in form.fields else None, messages_)


def _get_form(pk: int) -> WebForm:
    rows = WebForm.objects.select_related("source", "campaign", "team")
    return get_object_or_404(rows, pk=pk)


def _form_page(request: HttpRequest, context: dict) -> HttpResponse:
    status = 400 if context["form"].errors else 200
    return render(request, "leads/webform_form.html", context, status=status)


@login_required
@require_GET
def webform_list(request: HttpRequest) -> HttpResponse:
    _ensure_can_manage(request.user)
    webforms = WebForm.objects.select_related("source", "campaign__source", "team").annotate(
        submission_count=Count("submissions"),
        waiting_count=Count("submissions", filter=Q(submissions__status=Status.QUEUED)),
        failed_count=Count("submissions", filter=Q(submissions__status=Status.FAILED)),
    )
    return render(request, "leads/webform_list.html", {"webforms": webforms})


@login_required
@require_http_methods(["GET", "POST"])
def webform_create_view(request: HttpRequest) -> HttpResponse:
    _ensure_can_manage(request.user)
    form = WebFormForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            webform = webform_create(
                actor=request.user, consent_text=form.consent_wording(), **form.values()
            )
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Form “%(name)s” created.") % {"name": webform})
            return redirect("webform-edit", webform.pk)
    return _form_page(request, {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def webform_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_can_manage(request.user)
    webform = _get_form(pk)
    form = WebFormForm(request.POST or None, instance=webform)
    if request.method == "POST" and form.is_valid():
        try:
            webform_update(
                actor=request.user,
                form=webform,
                values=form.values(),
                consent_text=form.consent_wording(),
            )
        except ValidationError as exc:
            webform.refresh_from_db()
            _put_errors(form, exc)
        else:
            messages.success(request, _("Form “%(name)s” saved.") % {"name": webform})
            return redirect("webform-edit", webform.pk)
    context = {
        "form": form,
        "webform": webform,
        "snippet": snippet(webform),
        "hosted_url": request.build_absolute_uri(reverse("public-form", args=[webform.key])),
        "consent_versions": webform.consent_texts.annotate(given=Count("consents")),
        **webform.submissions.aggregate(
            waiting=Count("pk", filter=Q(status=Status.QUEUED)),
            failed_total=Count("pk", filter=Q(status=Status.FAILED)),
        ),
        "failed": list(webform.submissions.failed().order_by("-created_at")[:FAILED_SHOWN]),
    }
    return _form_page(request, context)


@login_required
@require_POST
def webform_submission_retry(
    request: HttpRequest, pk: int, submission_pk: int | None = None
) -> HttpResponse:
    """Queue a failed submission again; without one named, every failed one of the form."""
    _ensure_can_manage(request.user)
    webform = _get_form(pk)
    rows = webform.submissions.failed()
    if submission_pk is not None:
        rows = rows.filter(pk=submission_pk)
    retried = sum(
        capture.submission_retry(actor=request.user, submission=row) for row in rows.order_by("pk")
    )
    if retried:
        messages.success(
            request,
            ngettext(
                "%(n)s submission queued again: its lead is made in a moment.",
                "%(n)s submissions queued again: their leads are made in a moment.",
                retried,
            )
            % {"n": retried},
        )
    else:
        messages.info(request, _("Nothing to retry: the submission is no longer failed."))
    return redirect(reverse("webform-edit", args=[webform.pk]) + "#failed")


@login_required
@require_http_methods(["GET", "POST"])
def webform_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_can_manage(request.user)
    webform = _get_form(pk)
    consents = Consent.objects.filter(text__form=webform).count()
    error = ""
    if request.method == "POST":
        if request.POST.get("action") == "deactivate":
            webform_update(actor=request.user, form=webform, values={"is_active": False})
            messages.success(request, _("Form “%(name)s” switched off.") % {"name": webform})
            return redirect("webform-list")
        try:
            webform_delete(actor=request.user, form=webform)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Form “%(name)s” deleted.") % {"name": webform})
            return redirect("webform-list")
    context = {"webform": webform, "consents": consents, "error": error}
    return render(request, "leads/webform_delete.html", context, status=400 if error else 200)
