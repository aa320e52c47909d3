"""Edit versions over HTTP: the client names the version it edited, in the body or If-Match."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _


def _from_if_match(request: HttpRequest) -> int | None:
    header = request.headers.get("If-Match", "").strip()
    if header in ("", "*"):
        return None
    tag = header.removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise ValidationError(
            {"If-Match": _('Send the version you edited, as If-Match: "3" (from the ETag).')}
        )
    return int(tag)


def expected_version(request: HttpRequest, body_version: int | None) -> int | None:
    """The version the caller edited, if they said; None means "overwrite whatever is there"."""
    header_version = _from_if_match(request)
    if body_version is not None and header_version is not None and body_version != header_version:
        raise ValidationError({"version": _("The body and If-Match name different versions.")})
    return body_version if body_version is not None else header_version
