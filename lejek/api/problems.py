"""Every error the API returns is an RFC 9457 problem: type, title, status, detail, errors.

Clients branch on `status` and `type`; people read `title` and `detail`; forms show `errors`
(one {"field", "message"} per message, `field` null when it concerns the whole request).
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from lejek.core.errors import ConflictError, DomainError

logger = logging.getLogger("lejek.api")

CONTENT_TYPE = "application/problem+json"
BLANK = "about:blank"
VALIDATION = "urn:lejek:problem:validation"
MALFORMED_BODY = "urn:lejek:problem:malformed-body"
CONFLICT = "urn:lejek:problem:conflict"
SERVER_ERROR = "urn:lejek:problem:server-error"


def problem(
    status: int,
    *,
    detail: str,
    type: str = BLANK,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": type,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    response = HttpResponse(
        json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False),
        status=status,
        content_type=CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def validation_problem(errors: list[dict[str, Any]]) -> HttpResponse:
    return problem(
        422,
        type=VALIDATION,
        title=_("Invalid input"),
        detail=_("Some values are not valid; see `errors` for each field."),
        errors=errors,
    )


# Pydantic speaks English only; the messages people hit most get the project's translations.
def _pydantic_message(error: dict[str, Any], field: str | None) -> str:
    match error.get("type"):
        case "missing" if field is None:
            return _("Send the fields as a JSON object in the request body.")
        case "missing":
            return _("This field is required.")
        case "extra_forbidden":
            return _("Unknown field.")
    return error.get("msg", "")


def _pydantic_field(loc: tuple) -> str | None:
    """("body", "payload", "status") → "status"; ("query", "limit") → "limit"."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[2:]  # the source and the single body parameter's name
    elif parts:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or None


def pydantic_errors(exc: NinjaValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors:
        field = _pydantic_field(tuple(error.get("loc", ())))
        errors.append({"field": field, "message": _pydantic_message(error, field)})
    return errors


def django_errors(exc: DjangoValidationError) -> list[dict[str, Any]]:
    if not hasattr(exc, "error_dict"):
        return [{"field": None, "message": message} for message in exc.messages]
    return [
        {"field": None if field == NON_FIELD_ERRORS else field, "message": message}
        for field, messages in exc.message_dict.items()
        for message in messages
    ]


def on_ninja_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return validation_problem(pydantic_errors(exc))


def on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    return validation_problem(django_errors(exc))


def on_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    detail = exc.message if exc.message != "Unauthorized" else ""
    return problem(
        401,
        detail=detail
        or _("Sign in, or send a personal API token as `Authorization: Bearer <token>`."),
        headers={"WWW-Authenticate": 'Bearer realm="lejek"'},
    )


def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # The body parser wraps whatever json.loads raised; anything else is a plain HTTP error.
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        return problem(
            400,
            type=MALFORMED_BODY,
            title=_("Malformed request body"),
            detail=_("The request body is not valid JSON."),
        )
    return problem(exc.status_code, detail=str(exc))


def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return problem(403, detail=str(exc) or _("You are not allowed to do this."))


def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Missing and not visible look the same, so nobody learns what exists.
    return problem(404, detail=_("There is no such record, or you are not allowed to see it."))


def on_conflict(request: HttpRequest, exc: ConflictError) -> HttpResponse:
    return problem(409, type=CONFLICT, title=_("Edit conflict"), detail=str(exc))


def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problem(422, type=VALIDATION, title=_("Invalid input"), detail=str(exc), errors=[])


def on_integrity_error(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    # A constraint the validation could not see in time (e.g. a concurrent duplicate).
    logger.warning("Integrity error on %s %s: %s", request.method, request.path, exc)
    return problem(
        409,
        type=CONFLICT,
        title=_("Edit conflict"),
        detail=_("The change clashes with data saved at the same time. Reload and try again."),
    )


def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return problem(
        500,
        type=SERVER_ERROR,
        detail=_("Something went wrong on our side. The error has been logged."),
    )


def install(api: NinjaAPI) -> None:
    """Route every exception an endpoint can raise to its problem response."""
    handlers = {
        NinjaValidationError: on_ninja_validation,
        DjangoValidationError: on_django_validation,
        AuthenticationError: on_authentication,
        HttpError: on_http_error,
        PermissionDenied: on_permission_denied,
        Http404: on_not_found,
        ObjectDoesNotExist: on_not_found,
        ConflictError: on_conflict,
        DomainError: on_domain_error,
        IntegrityError: on_integrity_error,
        Exception: on_unexpected,
    }
    for exc_class, handler in handlers.items():
        api.add_exception_handler(exc_class, handler)
