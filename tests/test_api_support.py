"""What the API tests share: a token-authenticated client, problem assertions, and one
record of every kind."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from lejek.users.services import token_create
from tests.factories import (
    make_activity,
    make_company,
    make_contact,
    make_deal,
    make_lead,
    make_task,
)

BASE = "/api/v1"


class Api:
    """Calls /api/v1 as one user, with a personal token, the way an integration does."""

    def __init__(self, user, *, client: Client | None = None):
        self.user = user
        _token, self.token = token_create(actor=user, user=user, name="tests")
        self.client = client or Client()

    def _headers(self, headers: dict[str, str]) -> dict[str, str]:
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}", **extra}

    def get(self, path: str, params: dict[str, Any] | None = None, **headers):
        return self.client.get(BASE + path, params or {}, **self._headers(headers))

    def post(self, path: str, body: Any = None, **headers):
        return self.client.post(
            BASE + path, json.dumps(body), content_type="application/json", **self._headers(headers)
        )

    def patch(self, path: str, body: Any, **headers):
        return self.client.patch(
            BASE + path, json.dumps(body), content_type="application/json", **self._headers(headers)
        )

    def delete(self, path: str, **headers):
        return self.client.delete(BASE + path, **self._headers(headers))


def assert_problem(response, status: int) -> dict:
    """The response is an RFC 9457 problem with `status`; returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"] and body["title"] and body["detail"]
    return body


def error_fields(response) -> dict[str | None, str]:
    """field → message of a 422 problem."""
    body = assert_problem(response, 422)
    return {error["field"]: error["message"] for error in body["errors"]}


def records_of(owner, pipeline):
    """One record of every kind, owned by (or hanging off records of) `owner`."""
    lead = make_lead(owner)
    deal = make_deal(owner, pipeline)
    return {
        "leads": lead,
        "contacts": make_contact(owner),
        "companies": make_company(owner),
        "deals": deal,
        "activities": make_activity(owner, lead),
        "tasks": make_task(owner, deal),
    }


# resource → a harmless change to PATCH it with
EDITS = {
    "leads": {"title": "x"},
    "contacts": {"title": "x"},
    "companies": {"city": "x"},
    "deals": {"title": "x"},
    "activities": {"body": "x"},
    "tasks": {"title": "x"},
}
