"""The public web-to-lead endpoint, /f/<key>/: open to anyone, so it trusts nothing.

Order of the checks, cheapest first: method, body size, rate limit, the form, the content
type, the honeypot, the values, then the idempotent write. HTML posts get pages back (a
thank-you page, a redirect, or the form again with messages); JSON gets JSON.

A valid submission is only stored here, in one INSERT; a worker makes the lead (capture.py).
So the answer to JSON is 202 Accepted with the submission's id, and the request stays cheap:
one query for the form, one transaction for the row, one look at the task queue.
"""

from __future__ import annotations

import functools
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from lejek.api.problems import MALFORMED_BODY, VALIDATION, problem
from lejek.core.models import CustomField
from lejek.leads import ratelimit
from lejek.leads.models import ConsentText, WebForm
from lejek.leads.webform_submission import (
    CONSENT,
    HONEYPOT,
    REFERRER,
    TOKEN,
    TRACKING_FIELDS,
    IdempotencyConflict,
    Submission,
    clean_submission,
    submission_capture,
    unkeyed_key,
    valid_key,
)
from lejek.leads.webforms import CUSTOM_PREFIX, STANDARD_FIELDS, lead_custom_fields, parse_origins

MAX_BODY = 64 * 1024
IDEMPOTENCY_CONFLICT = "urn:lejek:problem:idempotency-conflict"
PAYLOAD_TOO_LARGE = "urn:lejek:problem:payload-too-large"
RATE_LIMITED = "urn:lejek:problem:rate-limited"
INPUT_TYPES = {
    "email": "email",
    "phone": "tel",
    "description": "textarea",
    "company_size": "number",
}
CUSTOM_INPUT_TYPES = {
    CustomField.Type.NUMBER: "number",
    CustomField.Type.DECIMAL: "text",
    CustomField.Type.CHOICE: "select",
    CustomField.Type.BOOLEAN: "checkbox",
    CustomField.Type.DATE: "date",
}


@dataclass
class FieldView:
    """One input as the public form shows it."""

    name: str
    label: str
    input_type: str
    required: bool
    value: str = ""
    errors: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)

    @property
    def html_id(self) -> str:
        return "lejek-" + self.name.replace(":", "-")


def field_views(
    form: WebForm, data: dict | None = None, errors: dict | None = None
) -> list[FieldView]:
    data, errors = data or {}, errors or {}
    custom = (
        lead_custom_fields()
        if any(spec["name"].startswith(CUSTOM_PREFIX) for spec in form.fields)
        else {}
    )
    views = []
    for spec in form.fields:
        name = spec["name"]
        definition = custom.get(name.removeprefix(CUSTOM_PREFIX))
        if name in STANDARD_FIELDS:
            label, input_type, choices = str(STANDARD_FIELDS[name]), INPUT_TYPES.get(name), []
        elif definition is not None:
            label = definition.label
            input_type = CUSTOM_INPUT_TYPES.get(definition.type)
            choices = list(definition.choices)
        else:
            continue
        views.append(
            FieldView(
                name=name,
                label=spec.get("label") or label,
                input_type=input_type or "text",
                required=bool(spec.get("required")),
                value=str(data.get(name, "") or ""),
                errors=errors.get(name, []),
                choices=choices,
            )
        )
    return views


def form_context(form: WebForm, **extra: Any) -> dict[str, Any]:
    consent = form.current_consent()
    context = {
        "webform": form,
        "action": reverse("public-form", args=[form.key]),
        "fields": field_views(form, extra.pop("data", None), extra.get("errors")),
        "consent_text": consent.text if consent else "",
        "honeypot": HONEYPOT,
        "token_name": TOKEN,
        "consent_name": CONSENT,
        "tracking": {},
    }
    context.update(extra)
    return context


def snippet(form: WebForm) -> str:
    """The HTML a site pastes in: a plain form posting to Lejek, working without JavaScript."""
    base = settings.LEJEK_BASE_URL.rstrip("/")
    context = form_context(form, snippet=True, token="")
    context["action"] = base + context["action"]
    return render_to_string("leads/public_form_snippet.html", context).strip()


# Responses -----------------------------------------------------------------------------------


def _cors(response: HttpResponse, form: WebForm | None, request: HttpRequest) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    response["Vary"] = "Origin"
    if form is not None and origin and _origin_allowed(form, origin):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Expose-Headers"] = "Retry-After"
    return response


def _origin_allowed(form: WebForm, origin: str) -> bool:
    try:
        return origin.rstrip("/").lower() in parse_origins(form.allowed_origins)
    except ValueError:
        return False


def _message_page(request: HttpRequest, status: int, title: str, text: str) -> HttpResponse:
    context = {"title": title, "text": text}
    return render(request, "leads/public_form_message.html", context, status=status)


def _not_found(request: HttpRequest, as_json: bool) -> HttpResponse:
    text = _("This form does not exist or no longer accepts submissions.")
    if as_json:
        return problem(404, detail=text)
    return _message_page(request, 404, _("Form not found"), text)


def _too_large(request: HttpRequest, as_json: bool) -> HttpResponse:
    text = _("The submission is larger than %(n)d KB; send less text.") % {"n": MAX_BODY // 1024}
    if as_json:
        return problem(413, type=PAYLOAD_TOO_LARGE, detail=text)
    return _message_page(request, 413, _("Submission too large"), text)


def _rate_limited(request: HttpRequest, as_json: bool, retry_after: int) -> HttpResponse:
    text = _("Too many submissions from your address. Try again in %(n)d seconds.") % {
        "n": retry_after
    }
    if as_json:
        response = problem(429, type=RATE_LIMITED, detail=text)
    else:
        response = _message_page(request, 429, _("Too many submissions"), text)
    response["Retry-After"] = str(retry_after)
    return response


def _success(request: HttpRequest, form: WebForm, as_json: bool, submission_id: int | None):
    if as_json:
        # 202: the submission is stored and queued; a worker makes (or updates) the lead.
        return JsonResponse({"id": submission_id, "status": "queued"}, status=202)
    if form.redirect_url:
        return _see_other(form.redirect_url)
    message = form.success_message or _("Thank you. We will be in touch soon.")
    return render(request, "leads/public_form_thanks.html", {"webform": form, "message": message})


def _see_other(url: str) -> HttpResponse:
    # 303 so that the browser follows with a GET, never re-posting the form.
    response = HttpResponse(status=303)
    response["Location"] = url
    return response


def _problem_errors(errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    return [
        {"field": None if name == NON_FIELD_ERRORS else name, "message": message}
        for name, messages in errors.items()
        for message in messages
    ]


def _invalid(request, form, as_json: bool, data: dict, errors: dict, status: int = 400):
    if as_json:
        return problem(
            422,
            type=VALIDATION,
            title=_("Invalid input"),
            detail=_("Some values are not valid; see `errors` for each field."),
            errors=_problem_errors(errors),
        )
    shown = {view.name for view in field_views(form)} | {CONSENT}
    general = [m for name, msgs in errors.items() if name not in shown for m in msgs]
    context = form_context(
        form,
        data=data,
        errors=errors,
        general_errors=general,
        token=secrets.token_urlsafe(16),
        consent_checked=bool(data.get(CONSENT)),
        tracking=_tracking_from(data),
    )
    return render(request, "leads/public_form.html", context, status=status)


def _tracking_from(data: dict) -> dict[str, str]:
    names = (*TRACKING_FIELDS, REFERRER)
    return {name: str(data.get(name)) for name in names if data.get(name)}


# Views ---------------------------------------------------------------------------------------


def _is_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json"


def _active_form(key: str) -> WebForm | None:
    """The form, with the id of its consent wording's latest version in the same query.

    Written in SQL because compiling the equivalent ORM query (a filter and a subquery) took
    longer than running it, on the URL that answers every submission.
    """
    rows = WebForm.objects.raw(_active_form_sql(), [key])
    return next(iter(rows), None)


@functools.cache
def _active_form_sql() -> str:
    quote = connection.ops.quote_name
    form, text = WebForm._meta.db_table, ConsentText._meta.db_table
    return (
        f"SELECT f.*, (SELECT t.{quote('id')} FROM {quote(text)} t"
        f" WHERE t.{quote('form_id')} = f.{quote('id')}"
        f" ORDER BY t.{quote('version')} DESC LIMIT 1) AS consent_text_id"
        f" FROM {quote(form)} f WHERE f.{quote('key')} = %s AND f.{quote('is_active')}"
    )


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "HEAD", "POST", "OPTIONS"])
def public_form(request: HttpRequest, key: str) -> HttpResponse:
    if request.method == "OPTIONS":
        return _preflight(request, key)
    if request.method == "POST":
        return _submit(request, key)
    form = _active_form(key)
    if form is None:
        return _not_found(request, as_json=False)
    context = form_context(
        form, token=secrets.token_urlsafe(16), tracking=_tracking_of_visit(request)
    )
    return render(request, "leads/public_form.html", context)


def _tracking_of_visit(request: HttpRequest) -> dict[str, str]:
    """UTM parameters of the link that brought the visitor, and the page they came from."""
    tracking = {name: request.GET[name] for name in TRACKING_FIELDS if request.GET.get(name)}
    referer = request.headers.get("Referer", "")
    if referer:
        tracking[REFERRER] = referer
    return tracking


def _preflight(request: HttpRequest, key: str) -> HttpResponse:
    form = _active_form(key)
    if form is None:
        return _not_found(request, as_json=True)
    origin = request.headers.get("Origin", "")
    if not origin or not _origin_allowed(form, origin):
        response = problem(403, detail=_("This origin may not send to this form."))
        response["Vary"] = "Origin"
        return response
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type, Idempotency-Key"
    response["Access-Control-Max-Age"] = "86400"
    response["Vary"] = "Origin"
    return response


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _submit(request: HttpRequest, key: str) -> HttpResponse:
    as_json = _is_json(request)
    # Judged on the declared length, before a byte of the body is read; the WSGI server
    # never hands Django more than the declared length.
    if _declared_length(request) > MAX_BODY:
        return _too_large(request, as_json)
    ip = ratelimit.client_ip(request)
    retry_after = ratelimit.hit("form", ip, ratelimit.form_rate())
    if retry_after is not None:
        return _rate_limited(request, as_json, retry_after)
    form = _active_form(key)
    if form is None:
        return _not_found(request, as_json)
    response = _handle(request, form, as_json, ip)
    return _cors(response, form, request) if as_json else response


def _parse(request: HttpRequest, as_json: bool) -> tuple[dict | None, HttpResponse | None]:
    if as_json:
        try:
            data = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            return None, problem(
                400,
                type=MALFORMED_BODY,
                title=_("Malformed request body"),
                detail=_("Send the fields as a JSON object in the request body."),
            )
        return data, None
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {name: request.POST.get(name, "") for name in request.POST}, None
    return None, problem(
        415,
        detail=_("Send the form as application/x-www-form-urlencoded, multipart or JSON."),
    )


def _handle(request: HttpRequest, form: WebForm, as_json: bool, ip: str | None) -> HttpResponse:
    data, refusal = _parse(request, as_json)
    if refusal is not None:
        return refusal
    if str(data.get(HONEYPOT) or "").strip():
        # Answered like a success so the bot learns nothing; nothing is written.
        return _success(request, form, as_json, None)
    own_page = request.build_absolute_uri(reverse("public-form", args=[form.key]))
    referer = request.headers.get("Referer", "")
    submission = clean_submission(
        form,
        data,
        strict=as_json,
        referrer="" if referer.startswith(own_page) else referer,
    )
    if submission.errors:
        return _invalid(request, form, as_json, data, submission.errors)
    key = _idempotency_key(request, data, as_json, submission, ip)
    if key is None:
        return problem(
            400,
            type=VALIDATION,
            detail=_("The Idempotency-Key header must be 1 to 128 printable ASCII characters."),
        )
    return _write(request, form, as_json, data, submission, key, ip)


def _idempotency_key(request, data, as_json: bool, submission: Submission, ip) -> str | None:
    given = request.headers.get("Idempotency-Key") if as_json else str(data.get(TOKEN) or "")
    if given:
        if valid_key(given):
            return given
        if as_json:
            return None
    return unkeyed_key(submission.body_hash(), ip)


def _write(request, form, as_json, data, submission, key, ip) -> HttpResponse:
    try:
        captured = submission_capture(
            form=form,
            submission=submission,
            key=key,
            ip=ip,
            user_agent=request.headers.get("User-Agent", ""),
            consent_text_id=form.consent_text_id,
        )
    except IdempotencyConflict:
        text = _("This form was already sent with other values. Check them and send it again.")
        if as_json:
            return problem(
                422,
                type=IDEMPOTENCY_CONFLICT,
                title=_("Idempotency key reused"),
                detail=_("This Idempotency-Key was already used for a different submission."),
            )
        return _invalid(request, form, as_json, data, {NON_FIELD_ERRORS: [text]}, status=422)
    # A replay gets the very answer the first request got: the same submission.
    return _success(request, form, as_json, captured.submission.pk)
