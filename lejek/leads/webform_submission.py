"""A public submission to a web form: checked field by field, then turned into one lead.

Idempotency rests on FormSubmission's unique (form, key): the row is inserted in the same
transaction as the lead, so of ten identical submissions arriving together one commits and
the other nine hit the constraint, find the committed row and answer as replays.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from lejek.contacts.normalize import normalize_country, normalize_email, normalize_phone
from lejek.core.custom_fields import clean_value
from lejek.core.events import record_event
from lejek.core.models import CustomField
from lejek.leads.models import Consent, FormSubmission, Lead, Source, WebForm
from lejek.leads.services import lead_create
from lejek.leads.webforms import CUSTOM_PREFIX, STANDARD_FIELDS, lead_custom_fields

# Names a bot fills in and a person never sees (hidden by CSS on the form).
HONEYPOT = "website_url"
TOKEN = "lejek_token"
CONSENT = "consent"
TRACKING_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
REFERRER = "referrer"
# Names every form understands besides its own fields.
META_FIELDS = {HONEYPOT, TOKEN, CONSENT, REFERRER, *TRACKING_FIELDS}
MAX_LENGTHS = {
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "phone": 32,
    "company_name": 200,
    "title": 100,
    "description": 5000,
    "country": 2,
    "region": 100,
    "referrer": 500,
    **{name: 200 for name in TRACKING_FIELDS},
}
MAX_KEY = 128
TRUE_WORDS = {"1", "true", "on", "yes", "tak"}
# Without a token, the same body from the same address within this many seconds is a replay
# (a double click, a refresh); after that it is a new submission.
UNKEYED_WINDOW = 600
DEFAULT_SOURCE = "Web form"


class IdempotencyConflict(Exception):
    """The key was used before for a different submission."""


@dataclass
class Submission:
    """What a submission asks for, once checked."""

    values: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    consent: bool = False
    # From the request rather than the body (the Referer header): stored, not hashed, so
    # that a replay is recognised by its body alone.
    from_headers: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def body_hash(self) -> str:
        body = {"values": self.values, "custom": self.custom, "consent": self.consent}
        text = json.dumps(body, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Outcome:
    lead: Lead | None
    created: bool
    replay: bool


def is_ticked(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in TRUE_WORDS


def _as_text(value: Any) -> str | None:
    """Scalars as stripped text; None for lists and objects, which no field takes."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value).strip()
    return None


def _clean_standard(name: str, text: str) -> Any:
    match name:
        case "email":
            email = normalize_email(text)
            if email:
                validate_email(email)
            return email
        case "phone":
            return normalize_phone(text)
        case "country":
            return normalize_country(text)
        case "company_size":
            if not text:
                return None
            if not text.isdigit() or int(text) > 10_000_000:
                raise ValidationError(_("Enter the number of employees as a whole number."))
            return int(text)
    return text


def _clean_one(
    submission: Submission, name: str, raw: Any, custom: CustomField | None, required: bool
) -> None:
    text = _as_text(raw)
    if text is None:
        submission.add_error(name, _("Send a single value."))
        return
    if "\x00" in text:
        submission.add_error(name, _("This value contains characters that are not allowed."))
        return
    limit = MAX_LENGTHS.get(name)
    if limit is not None and len(text) > limit:
        submission.add_error(name, _("Use at most %(n)d characters.") % {"n": limit})
        return
    if required and not text and not (custom and custom.type == CustomField.Type.BOOLEAN):
        submission.add_error(name, _("This field is required."))
        return
    try:
        if custom is not None:
            value = clean_value(custom, text)
            if value is not None:
                submission.custom[custom.key] = value
        else:
            value = _clean_standard(name, text)
            if value not in ("", None):
                submission.values[name] = value
    except ValidationError as exc:
        for message in exc.messages:
            submission.add_error(name, message)


def clean_submission(
    form: WebForm, data: dict[str, Any], *, strict: bool, referrer: str = ""
) -> Submission:
    """Check every submitted value against the form; all problems are reported at once.

    With `strict` (JSON), names the form does not know are errors; an HTML page may carry
    other inputs (a submit button's name, a site's own fields), so there they are ignored.
    """
    submission = Submission()
    custom_fields = (
        lead_custom_fields()
        if any(spec["name"].startswith(CUSTOM_PREFIX) for spec in form.fields)
        else {}
    )
    asked = set()
    for spec in form.fields:
        name = spec["name"]
        asked.add(name)
        custom = None
        if name.startswith(CUSTOM_PREFIX):
            custom = custom_fields.get(name.removeprefix(CUSTOM_PREFIX))
            if custom is None:  # the custom field was deleted after the form was built
                continue
        elif name not in STANDARD_FIELDS:
            continue
        _clean_one(submission, name, data.get(name, ""), custom, spec.get("required", False))
    for name in TRACKING_FIELDS:
        _clean_one(submission, name, data.get(name, ""), None, False)
    given_referrer = data.get(REFERRER) or ""
    if given_referrer:
        _clean_one(submission, REFERRER, given_referrer, None, False)
    elif referrer:
        submission.from_headers[REFERRER] = referrer[: MAX_LENGTHS[REFERRER]]
    submission.consent = is_ticked(data.get(CONSENT))
    if form.consent_required and not submission.consent:
        submission.add_error(CONSENT, _("Please agree to the consent to send this form."))
    if strict:
        for name in data:
            if name not in asked and name not in META_FIELDS:
                submission.add_error(name, _("Unknown field."))
    return submission


def unkeyed_key(body_hash: str, ip: str | None, now: float | None = None) -> str:
    """A key for a submission that brought none: same body, same address, same window."""
    window = int((time.time() if now is None else now) // UNKEYED_WINDOW)
    digest = hashlib.sha256(f"{body_hash}|{ip}|{window}".encode()).hexdigest()
    return f"auto:{digest[:40]}"


def valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY and key.isprintable() and key.isascii()


def _source_id(form: WebForm) -> int:
    """The form's source, its campaign's, or the shared "Web form" source."""
    if form.source_id:
        return form.source_id
    if form.campaign_id and form.campaign.source_id:
        return form.campaign.source_id
    source, _created = Source.objects.get_or_create(
        name=DEFAULT_SOURCE, defaults={"kind": Source.Kind.WEB_FORM}
    )
    return source.pk


def _record_consent(form: WebForm, lead: Lead, ip: str | None, user_agent: str) -> None:
    text = form.current_consent()
    if text is None or not text.text:  # an empty latest version: the form asks no consent
        return
    consent = Consent.objects.create(
        text=text, lead=lead, contact_id=lead.contact_id, ip=ip, user_agent=user_agent[:300]
    )
    record_event(
        actor=None,
        verb="consent.given",
        obj=lead,
        after={"consent": consent.pk, "text": text.pk, "version": text.version},
    )


def webform_submit(
    *,
    form: WebForm,
    submission: Submission,
    key: str,
    ip: str | None,
    user_agent: str = "",
) -> Outcome:
    """Turn a checked submission into a lead, once per key.

    Raises IdempotencyConflict when the key came before with a different body, and
    ValidationError when the lead itself is refused (e.g. no name, e-mail or company).
    """
    body_hash = submission.body_hash()
    try:
        with transaction.atomic():
            row = FormSubmission.objects.create(form=form, key=key, body_hash=body_hash, ip=ip)
            lead = lead_create(
                actor=None,
                dedupe=True,
                team=form.team,
                source_id=_source_id(form),
                campaign_id=form.campaign_id,
                custom=submission.custom or None,
                **submission.from_headers,
                **submission.values,
            )
            row.lead = lead
            row.save(update_fields=["lead"])
            if submission.consent:
                _record_consent(form, lead, ip, user_agent)
            return Outcome(lead=lead, created=not lead.was_repeat, replay=False)
    except IntegrityError:
        earlier = FormSubmission.objects.filter(form=form, key=key).select_related("lead").first()
        if earlier is None:
            raise
        if earlier.body_hash != body_hash:
            raise IdempotencyConflict(key) from None
        return Outcome(lead=earlier.lead, created=False, replay=True)


def errors_of(exc: ValidationError) -> dict[str, list[str]]:
    """A service's refusal as field → messages; unknown names become form-wide errors."""
    if not hasattr(exc, "error_dict"):
        return {NON_FIELD_ERRORS: exc.messages}
    errors: dict[str, list[str]] = {}
    for name, messages in exc.message_dict.items():
        target = name.replace("custom.", CUSTOM_PREFIX, 1)
        errors.setdefault(target, []).extend(messages)
    return errors
