"""Headers that travel with a record: its `ETag` (edit version) and, on creation, `Location`."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from ninja.responses import Status


def with_etag(response: HttpResponse, obj):
    """Return `obj`, having told the client its version for a later `If-Match`."""
    version = getattr(obj, "version", None)
    if version is not None:
        response["ETag"] = f'"{version}"'
    return obj


def created(response: HttpResponse, obj, url_name: str, **kwargs) -> Status:
    """201 with the new record, its `Location` and `ETag`."""
    response["Location"] = reverse(f"api:{url_name}", kwargs=kwargs)
    with_etag(response, obj)
    return Status(201, obj)


def no_content() -> Status:
    return Status(204, None)
