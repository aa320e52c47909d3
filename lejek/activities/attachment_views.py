"""Files on a record: upload page, the list fragment, download and delete.

Files are never served from a public media URL: every download goes through `download`,
which checks that the person may see the record the file belongs to.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lejek.activities.attachments import attachment_delete, attachment_store, read_upload
from lejek.activities.email_forms import MODELS, AttachmentForm, record_model
from lejek.activities.models import Attachment
from lejek.activities.templatetags.attachments import panel_context


def subject_from_query(request: HttpRequest):
    """The record named by ?lead=, ?contact=, ?company= or ?deal= that the user can see."""
    chosen = [(kind, request.GET[kind]) for kind in MODELS if request.GET.get(kind)]
    if len(chosen) != 1 or not chosen[0][1].isdigit():
        raise Http404(_("Say which record: ?lead=, ?contact=, ?company= or ?deal= with its id."))
    kind, pk = chosen[0]
    model = record_model(kind)
    return get_object_or_404(model.objects.visible_to(request.user), pk=int(pk))


def can_edit(user, subject) -> bool:
    return type(subject)._default_manager.editable_by(user).filter(pk=subject.pk).exists()


def back_to(request: HttpRequest, subject) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return subject.get_absolute_url()


@login_required
@require_http_methods(["GET", "POST"])
def attachment_create(request: HttpRequest) -> HttpResponse:
    subject = subject_from_query(request)
    if not can_edit(request.user, subject):
        raise PermissionDenied(_("You are not allowed to change this record."))
    form = AttachmentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        stored = store_uploads(request, form, subject)
        if stored:
            messages.success(
                request,
                ngettext("%(n)s file attached.", "%(n)s files attached.", stored) % {"n": stored},
            )
            return redirect(back_to(request, subject))
    status = 400 if form.errors else 200
    context = {"form": form, "subject": subject, "next": back_to(request, subject)}
    return render(request, "activities/attachment_form.html", context, status=status)


def store_uploads(request: HttpRequest, form: AttachmentForm, subject) -> int:
    """Check every file first; keep all of them, or none when one is refused."""
    checked, errors = [], []
    for upload in form.cleaned_data["files"]:
        try:
            checked.append(read_upload(upload))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        form.add_error("files", errors)
        return 0
    try:
        with transaction.atomic():
            for file in checked:
                attachment_store(
                    actor=request.user,
                    subject=subject,
                    name=file.name,
                    content=file.content,
                    content_type=file.content_type,
                )
    except ValidationError as exc:
        form.add_error("files", exc.messages)
        return 0
    return len(checked)


@login_required
@require_GET
def attachment_list(request: HttpRequest) -> HttpResponse:
    """The files panel of one record; the whole page when not asked for by htmx."""
    subject = subject_from_query(request)
    context = panel_context(request, subject)
    template = "activities/attachment_panel.html"
    if not request.headers.get("HX-Request"):
        template = "activities/attachment_list.html"
    return render(request, template, context)


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    attachment = get_object_or_404(Attachment.objects.visible_to(request.user), pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("This file is missing from the storage.")) from exc
    # FileResponse writes Content-Disposition with an RFC 5987 filename* for non-ASCII names.
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def attachment_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = get_object_or_404(Attachment.objects.visible_to(request.user), pk=pk)
    subject = attachment.subject
    attachment_delete(actor=request.user, attachment=attachment)
    if request.headers.get("HX-Request"):
        return render(request, "activities/attachment_panel.html", panel_context(request, subject))
    messages.success(request, _("“%(name)s” deleted.") % {"name": attachment.original_name})
    return redirect(back_to(request, subject))
