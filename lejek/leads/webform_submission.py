"""A public submission to a web form: checked field by field, then stored for the worker.

The request does only what must happen while the visitor waits: the checks, and one INSERT
of the checked values into FormSubmission. Turning the row into a lead (dedup, matching,
assignment, consent) is capture.py's work, in the background.

Idempotency rests on FormSubmission's unique (form, key): of ten identical submissions
arriving together one row commits and the other nine hit the constraint, find the committed
row and answer as replays.
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
from lejek.core.locks import atomic_when_free
from lejek.core.models import CustomField
from lejek.leads.capture import enqueue_processing
from lejek.leads.models import FormSubmission, WebForm
from lejek.leads.webforms import (
    CUSTOM_PREFIX,
    IDENTITY_FIELDS,
    STANDARD_FIELDS,
    lead_custom_fields,
)

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

    def stored(self) -> dict[str, Any]:
        """What FormSubmission.data keeps: the lead's values and its custom values."""
        return {"values": {**self.from_headers, **self.values}, "custom": self.custom}


@dataclass(frozen=True)
class Captured:
    """A stored submission; `replay` when it was stored by an earlier request."""

    submission: FormSubmission
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
    if not submission.errors and not any(submission.values.get(n) for n in IDENTITY_FIELDS):
        # Checked here, not left to the lead's own constraint: the lead is made later, by a
        # worker, and the person must hear now what is missing.
        submission.add_error(
            NON_FIELD_ERRORS, _("Give the lead at least a name, an e-mail or a company.")
        )
    return submission


def unkeyed_key(body_hash: str, ip: str | None, now: float | None = None) -> str:
    """A key for a submission that brought none: same body, same address, same window."""
    window = int((time.time() if now is None else now) // UNKEYED_WINDOW)
    digest = hashlib.sha256(f"{body_hash}|{ip}|{window}".encode()).hexdigest()
    return f"auto:{digest[:40]}"


def valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY and key.isprintable() and key.isascii()


def submission_capture(
    *,
    form: WebForm,
    submission: Submission,
    key: str,
    ip: str | None,
    user_agent: str = "",
    consent_text_id: int | None = None,
) -> Captured:
    """Store a checked submission for the worker, once per key: one INSERT, one transaction.

    `consent_text_id` is the wording shown with the form (its latest version); it is kept
    only when the consent box was ticked. Raises IdempotencyConflict when the key came
    before with a different body. The worker is asked to run once the row is committed.
    """
    body_hash = submission.body_hash()
    row = FormSubmission(
        form=form,
        key=key,
        body_hash=body_hash,
        data=submission.stored(),
        consent_text_id=consent_text_id if submission.consent else None,
        ip=ip,
        user_agent=user_agent[:300],
    )

    def store() -> None:
        row.save(force_insert=True)
        # robust: the row is safe either way; a failed enqueue leaves it to the next run.
        transaction.on_commit(enqueue_processing, robust=True)

    try:
        atomic_when_free(store)
    except IntegrityError:
        earlier = FormSubmission.objects.filter(form=form, key=key).first()
        if earlier is None:
            raise
        if earlier.body_hash != body_hash:
            raise IdempotencyConflict(key) from None
        return Captured(submission=earlier, replay=True)
    return Captured(submission=row, replay=False)
