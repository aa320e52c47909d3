"""Settings → E-mail templates, and the page that writes an e-mail about a record.

Admins, managers and marketing edit templates; everyone signed in reads them and uses them
in the composer (/email/new/?deal=12).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from lejek.activities.attachment_views import can_edit, subject_from_query
from lejek.activities.attachments import CheckedFile, read_upload
from lejek.activities.email_forms import ComposeForm, EmailTemplateForm, record_model
from lejek.activities.email_templates import (
    Rendered,
    can_manage,
    email_template_create,
    email_template_delete,
    email_template_update,
    field_names,
    render_email,
)
from lejek.activities.mailing import clean_addresses, send_and_log
from lejek.activities.models import EmailTemplate
from lejek.core.navigation import safe_next

# Service error keys that the composer shows under a differently named field.
COMPOSER_FIELDS = {"attachments": "files"}


def put_errors(form: forms.Form, exc: ValidationError, renamed: dict[str, str] | None = None):
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        name = (renamed or {}).get(name, name)
        form.add_error(name if name in form.fields else None, errors)


def _ensure_can_manage(user) -> None:
    if not can_manage(user):
        raise PermissionDenied(_("Only admins, managers and marketing manage e-mail templates."))


# Settings → E-mail templates ---------------------------------------------------------------


@login_required
@require_GET
def email_template_list(request: HttpRequest) -> HttpResponse:
    context = {
        "templates": EmailTemplate.objects.select_related("created_by"),
        "can_manage": can_manage(request.user),
        "fields": field_names(),
    }
    return render(request, "activities/email_template_list.html", context)


def preview_record(user, choice: str):
    """The record behind a "deal:12" choice, if the user can see it."""
    kind, _sep, pk = (choice or "").partition(":")
    if not pk.isdigit():
        return None
    try:
        model = record_model(kind)
    except KeyError:
        return None
    return model.objects.visible_to(user).filter(pk=int(pk)).first()


def template_preview(request: HttpRequest, form: EmailTemplateForm) -> Rendered | None:
    record = preview_record(request.user, form.cleaned_data.get("preview_record", ""))
    if record is None:
        form.add_error("preview_record", _("Choose a record to preview the template with."))
        return None
    data = form.cleaned_data
    return render_email(
        subject=data["subject"],
        body=data["body"],
        record=record,
        sender=request.user,
        language=data["language"],
    )


def template_form_page(request: HttpRequest, template: EmailTemplate | None) -> HttpResponse:
    _ensure_can_manage(request.user)
    form = EmailTemplateForm(request.POST or None, instance=template, user=request.user)
    preview = None
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") == "preview":
            preview = template_preview(request, form)
        else:
            saved = save_template(request, form, template)
            if saved is not None:
                messages.success(request, _("Template “%(name)s” saved.") % {"name": saved.name})
                return redirect("email-template-list")
    context = {"form": form, "template": template, "preview": preview, "fields": field_names()}
    status = 400 if form.errors else 200
    return render(request, "activities/email_template_form.html", context, status=status)


def save_template(request, form: EmailTemplateForm, template: EmailTemplate | None):
    try:
        if template is None:
            return email_template_create(actor=request.user, **form.values())
        return email_template_update(actor=request.user, template=template, values=form.values())
    except ValidationError as exc:
        if template is not None:
            template.refresh_from_db()
        put_errors(form, exc)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def email_template_create_view(request: HttpRequest) -> HttpResponse:
    return template_form_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def email_template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return template_form_page(request, get_object_or_404(EmailTemplate, pk=pk))


@login_required
@require_http_methods(["GET", "POST"])
def email_template_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_can_manage(request.user)
    template = get_object_or_404(EmailTemplate, pk=pk)
    if request.method == "POST":
        email_template_delete(actor=request.user, template=template)
        messages.success(request, _("Template “%(name)s” deleted.") % {"name": template.name})
        return redirect("email-template-list")
    return render(request, "activities/email_template_delete.html", {"template": template})


# The composer ------------------------------------------------------------------------------


def default_recipient(subject) -> str:
    kind = subject._meta.model_name
    if kind == "deal":
        for person in (subject.contact, subject.lead, subject.company):
            if person is not None and person.email:
                return person.email
        return ""
    if kind == "lead" and not subject.email and subject.contact_id:
        return subject.contact.email
    return subject.email or ""


def compose_initial(request: HttpRequest, subject) -> dict:
    kind = subject._meta.model_name
    initial = {"to": default_recipient(subject)}
    chosen = ComposeForm(kind=kind).templates.get(request.GET.get("template", ""))
    if chosen is not None:
        initial.update({"template": str(chosen.pk), "title": chosen.subject, "body": chosen.body})
    return initial


def applied_template_form(request: HttpRequest, kind: str) -> ComposeForm:
    """The form as posted, with subject and body replaced by the chosen template's text."""
    posted = ComposeForm(request.POST, kind=kind)
    names = ("template", "to", "cc", "title", "body")
    initial = {name: request.POST.get(name, "") for name in names}
    chosen = posted.chosen_template()
    if chosen is not None:
        initial.update({"title": chosen.subject, "body": chosen.body})
    return ComposeForm(initial=initial, kind=kind)


def language_for(form: ComposeForm, user) -> str:
    chosen = form.chosen_template()
    if chosen is not None:
        return chosen.language
    return user.language or settings.LANGUAGE_CODE


def checked_files(form: ComposeForm) -> list[CheckedFile]:
    files, errors = [], []
    for upload in form.cleaned_data["files"]:
        try:
            files.append(read_upload(upload))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        form.add_error("files", errors)
    return files


def check_addresses(form: ComposeForm) -> None:
    """Name bad addresses in a preview too, before anyone presses Send."""
    for name in ("to", "cc"):
        try:
            clean_addresses(form.cleaned_data[name], name)
        except ValidationError as exc:
            put_errors(form, exc)


def rendered_message(request: HttpRequest, form: ComposeForm, subject) -> Rendered | None:
    try:
        return render_email(
            subject=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            record=subject,
            sender=request.user,
            language=language_for(form, request.user),
        )
    except ValidationError as exc:
        put_errors(form, exc, {"subject": "title"})
    return None


def send(request: HttpRequest, form: ComposeForm, subject, message: Rendered, files) -> bool:
    try:
        send_and_log(
            actor=request.user,
            subject=subject,
            to=form.cleaned_data["to"],
            cc=form.cleaned_data["cc"],
            title=message.subject,
            body=message.body,
            attachments=[file.as_email_attachment() for file in files],
            keep_files=True,
        )
    except ValidationError as exc:
        put_errors(form, exc, COMPOSER_FIELDS)
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def email_compose(request: HttpRequest) -> HttpResponse:
    subject = subject_from_query(request)
    if not can_edit(request.user, subject):
        raise PermissionDenied(_("You are not allowed to change this record."))
    kind = subject._meta.model_name
    action = request.POST.get("action", "send")
    preview, files = None, []
    if request.method != "POST":
        form = ComposeForm(initial=compose_initial(request, subject), kind=kind)
    elif action == "apply":
        form = applied_template_form(request, kind)
    else:
        form = ComposeForm(request.POST, request.FILES, kind=kind)
        if form.is_valid():
            files = checked_files(form)
            preview = rendered_message(request, form, subject)
            if action == "preview":
                check_addresses(form)
        ready = preview is not None and not form.errors and action == "send"
        if ready and send(request, form, subject, preview, files):
            messages.success(request, sent_message(form, files))
            return redirect(safe_next(request) or f"{subject.get_absolute_url()}#timeline")
    context = {
        "back": safe_next(request) or subject.get_absolute_url(),
        "form": form,
        "subject": subject,
        "subject_kind": kind,
        "preview": preview if action == "preview" else None,
        "files": files,
        "fields": field_names(),
        "files_dropped": action != "preview" and bool(request.FILES) and bool(form.errors),
    }
    template = "activities/email_compose.html"
    status = 400 if form.is_bound and form.errors else 200
    if action == "preview" and request.headers.get("HX-Request"):
        # htmx swaps only successful responses; the fragment lists the errors itself.
        template, status = f"{template}#preview", 200
    return render(request, template, context, status=status)


def sent_message(form: ComposeForm, files: list[CheckedFile]) -> str:
    to = ", ".join(form.cleaned_data["to"])
    text = _("E-mail sent to %(to)s.") % {"to": to}
    if files:
        text += " " + ngettext(
            "%(n)s file kept with the record.", "%(n)s files kept with the record.", len(files)
        ) % {"n": len(files)}
    return text
