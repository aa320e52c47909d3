"""Web-to-lead forms: what a form may ask, and every write to a form's settings.

A form's `fields` is a list of {"name", "required", "label"}; a name is a standard lead field
(see STANDARD_FIELDS) or a lead custom field written "custom:<key>". Submissions are handled
in webform_submission.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lejek.core.events import changed, record_event, snapshot
from lejek.core.models import CustomField
from lejek.leads.models import Consent, ConsentText, WebForm
from lejek.users.models import Role

CUSTOM_PREFIX = "custom:"

# The lead fields a form may ask for, in the order a form builder lists them.
STANDARD_FIELDS: dict[str, Any] = {
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "email": gettext_lazy("E-mail"),
    "phone": gettext_lazy("Phone"),
    "company_name": gettext_lazy("Company"),
    "title": gettext_lazy("Job title"),
    "description": gettext_lazy("Message"),
    "country": gettext_lazy("Country"),
    "region": gettext_lazy("Region"),
    "company_size": gettext_lazy("Company size (employees)"),
}
# A lead needs one of these, or the database refuses it (lead_has_some_identity).
IDENTITY_FIELDS = ("first_name", "last_name", "email", "company_name")

WEBFORM_FIELDS = [
    "name",
    "is_active",
    "fields",
    "source",
    "campaign",
    "team",
    "consent_required",
    "success_message",
    "redirect_url",
    "allowed_origins",
]
EDITORS = (Role.ADMIN, Role.MANAGER, Role.MARKETING)
MAX_LABEL = 100


@dataclass(frozen=True)
class FieldChoice:
    """One field a form builder can put on a form."""

    name: str
    label: str
    custom: CustomField | None = None


def can_manage_forms(user) -> bool:
    return user.role in EDITORS


def ensure_can_manage_forms(actor) -> None:
    if actor is not None and not can_manage_forms(actor):
        raise PermissionDenied(_("Only marketing, managers and admins manage web forms."))


def lead_custom_fields() -> dict[str, CustomField]:
    rows = CustomField.objects.filter(entity=CustomField.Entity.LEAD)
    return {field.key: field for field in rows}


def field_choices(custom: dict[str, CustomField] | None = None) -> list[FieldChoice]:
    """Every field a form may ask: the standard lead fields, then the lead custom fields."""
    custom = lead_custom_fields() if custom is None else custom
    choices = [FieldChoice(name, str(label)) for name, label in STANDARD_FIELDS.items()]
    choices += [
        FieldChoice(f"{CUSTOM_PREFIX}{key}", field.label, field) for key, field in custom.items()
    ]
    return choices


def clean_field_specs(specs: Any, custom: dict[str, CustomField] | None = None) -> list[dict]:
    """The stored form of a form's field list, or ValidationError on "fields"."""
    if not isinstance(specs, list) or not specs:
        raise ValidationError({"fields": _("Put at least one field on the form.")})
    known = {choice.name for choice in field_choices(custom)}
    cleaned: list[dict] = []
    for spec in specs:
        name = str(spec.get("name", "")) if isinstance(spec, dict) else ""
        if name not in known:
            raise ValidationError(
                {"fields": _("“%(name)s” is not a lead field a form can ask.") % {"name": name}}
            )
        if any(item["name"] == name for item in cleaned):
            raise ValidationError(
                {"fields": _("“%(name)s” is on the form twice.") % {"name": name}}
            )
        label = str(spec.get("label") or "").strip()
        if len(label) > MAX_LABEL:
            raise ValidationError(
                {"fields": _("Labels have at most %(n)d characters.") % {"n": MAX_LABEL}}
            )
        cleaned.append({"name": name, "required": bool(spec.get("required")), "label": label})
    if not any(item["name"] in IDENTITY_FIELDS for item in cleaned):
        raise ValidationError(
            {"fields": _("Ask for a name, an e-mail or a company, or no lead can be created.")}
        )
    return cleaned


def parse_origins(text: str) -> list[str]:
    """The allowed origins, one per line, as browsers send them: "https://example.com"."""
    return [origin_of(line) for line in text.splitlines() if line.strip()]


def origin_of(value: str) -> str:
    """ "https://Example.com/" → "https://example.com"; ValueError when it is no origin."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(value)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(value)
    origin = f"{parts.scheme}://{parts.hostname}"
    return f"{origin}:{parts.port}" if parts.port else origin


def clean_origins(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            lines.append(origin_of(line))
        except ValueError:
            raise ValidationError(
                {
                    "allowed_origins": _(
                        "“%(line)s” is not an origin; write it as https://example.com."
                    )
                    % {"line": line.strip()}
                }
            ) from None
    return "\n".join(lines)


def _check(form: WebForm, consent_text: str, *, fields_changed: bool = True) -> None:
    # Stored fields are left alone unless changed: a custom field deleted since the form was
    # built must not stop anyone from switching the form off (submissions skip that field).
    if fields_changed:
        form.fields = clean_field_specs(form.fields)
    form.allowed_origins = clean_origins(form.allowed_origins)
    if form.consent_required and not consent_text.strip():
        raise ValidationError({"consent_text": _("Write the consent text people must agree to.")})
    form.full_clean()


def _add_consent_version(form: WebForm, text: str) -> ConsentText | None:
    """A new version when the wording changed; earlier versions stay as people saw them."""
    text = text.strip()
    current = form.current_consent()
    if current is not None and current.text == text:
        return None
    if current is None and not text:
        return None
    latest = form.consent_texts.aggregate(n=Max("version"))["n"] or 0
    return ConsentText.objects.create(form=form, version=latest + 1, text=text)


def _snapshot(form: WebForm) -> dict[str, Any]:
    data = snapshot(form, WEBFORM_FIELDS)
    current = form.current_consent()
    data["consent_text"] = current.text if current else ""
    return data


@transaction.atomic
def webform_create(*, actor, consent_text: str = "", **values: Any) -> WebForm:
    """Create a form; `consent_text`, when given, becomes its consent version 1."""
    ensure_can_manage_forms(actor)
    form = WebForm(created_by=actor, **values)
    _check(form, consent_text)
    form.save()
    _add_consent_version(form, consent_text)
    record_event(actor=actor, verb="webform.created", obj=form, after=_snapshot(form))
    return form


@transaction.atomic
def webform_update(
    *, actor, form: WebForm, values: dict[str, Any], consent_text: str | None = None
) -> WebForm:
    """Change a form's settings. A changed consent text is added as a new version."""
    ensure_can_manage_forms(actor)
    before = _snapshot(form)
    for name, value in values.items():
        if name not in WEBFORM_FIELDS:
            raise ValidationError({name: _("Unknown field.")})
        setattr(form, name, value)
    current = form.current_consent()
    text = (current.text if current else "") if consent_text is None else consent_text
    _check(form, text, fields_changed="fields" in values)
    form.save()
    _add_consent_version(form, text)
    old, new = changed(before, _snapshot(form))
    if new:
        record_event(actor=actor, verb="webform.updated", obj=form, before=old, after=new)
    return form


@transaction.atomic
def webform_delete(*, actor, form: WebForm) -> None:
    """Delete a form that recorded no consent; consents are proof and outlive their form."""
    ensure_can_manage_forms(actor)
    if form.consent_texts.filter(consents__isnull=False).exists():
        raise ValidationError(
            _("People gave consent on this form; deactivate it instead of deleting it.")
        )
    if form.submissions.queued().exists():
        raise ValidationError(
            _("Submissions to this form are still being processed; try again in a minute.")
        )
    record_event(actor=actor, verb="webform.deleted", obj=form, before=_snapshot(form))
    form.consent_texts.all().delete()
    form.delete()


def consents_of(lead) -> list[Consent]:
    """The consents a lead gave, newest first, with their wording and form, for its page.

    Shown by the partial leads/webform_consents_panel.html (context variable `consents`).
    """
    return list(Consent.objects.filter(lead=lead).select_related("text__form"))
