"""Who may call the API: personal tokens and the browser session (with CSRF for writes)."""

from __future__ import annotations

import json

from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from lejek.leads.models import Lead
from lejek.users.models import ApiToken
from lejek.users.services import token_create, token_revoke
from tests.test_api_support import (
    assert_problem,
)


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post_lead(client: Client, **headers):
    return client.post(
        "/api/v1/leads",
        json.dumps({"last_name": "Nowak"}),
        content_type="application/json",
        **headers,
    )


def test_token_authenticates_as_its_user(rep):
    _token, raw = token_create(actor=rep, user=rep, name="script")
    response = Client().get("/api/v1/me", **bearer(raw))
    assert response.status_code == 200
    assert response.json()["email"] == rep.email


def test_token_use_is_recorded(rep):
    token, raw = token_create(actor=rep, user=rep, name="script")
    Client().get("/api/v1/me", **bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_revoked_token_is_refused(rep):
    token, raw = token_create(actor=rep, user=rep, name="script")
    token_revoke(actor=rep, token=token)
    response = Client().get("/api/v1/me", **bearer(raw))
    body = assert_problem(response, 401)
    assert "revoked" in body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_token_of_deactivated_user_is_refused(rep):
    _token, raw = token_create(actor=rep, user=rep, name="script")
    rep.is_active = False
    rep.save(update_fields=["is_active"])
    assert_problem(Client().get("/api/v1/me", **bearer(raw)), 401)


def test_made_up_token_is_refused(rep):
    assert_problem(Client().get("/api/v1/leads", **bearer("lejek_not-a-real-token")), 401)
    assert_problem(Client().get("/api/v1/leads", HTTP_AUTHORIZATION="Basic cml0YTpwdw=="), 401)


def test_no_credentials_is_401_problem_for_reads_and_writes(db):
    client = Client(enforce_csrf_checks=True)
    body = assert_problem(client.get("/api/v1/leads"), 401)
    assert "Bearer" in body["detail"]
    assert_problem(post_lead(client), 401)
    assert not Lead.objects.exists()


def test_bad_token_is_refused_even_with_a_session(rep):
    client = Client()
    client.force_login(rep)
    assert_problem(client.get("/api/v1/me", **bearer("lejek_wrong")), 401)


def test_session_reads_without_csrf_token(rep):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["id"] == rep.pk


def test_session_write_without_csrf_token_is_refused(rep):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    body = assert_problem(post_lead(client), 403)
    assert "CSRF" in body["detail"]
    assert not Lead.objects.exists()


def test_session_write_with_csrf_token_succeeds(rep):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    response = post_lead(client, HTTP_X_CSRFTOKEN=secret)
    assert response.status_code == 201, response.content
    assert Lead.objects.get().owner == rep


def test_token_write_needs_no_csrf_token(rep):
    _token, raw = token_create(actor=rep, user=rep, name="script")
    response = post_lead(Client(enforce_csrf_checks=True), **bearer(raw))
    assert response.status_code == 201, response.content


def test_token_caller_is_answered_in_their_language(rep):
    rep.language = "pl"
    rep.save(update_fields=["language"])
    _token, raw = token_create(actor=rep, user=rep, name="script")
    response = Client().get("/api/v1/leads/999999", **bearer(raw))
    assert response["Content-Language"] == "pl"


def test_openapi_document_lists_the_endpoints(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Lejek API"
    for path in (
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/leads",
        "/api/v1/leads/{lead_id}",
        "/api/v1/contacts/{contact_id}",
        "/api/v1/companies/{company_id}",
        "/api/v1/deals/{deal_id}",
        "/api/v1/deals/{deal_id}/move",
        "/api/v1/deals/{deal_id}/stage-changes",
        "/api/v1/activities/{activity_id}",
        "/api/v1/tasks/{task_id}",
        "/api/v1/sources",
        "/api/v1/campaigns",
        "/api/v1/pipelines",
    ):
        assert path in schema["paths"], path
    lead_ops = schema["paths"]["/api/v1/leads/{lead_id}"]
    assert set(lead_ops) == {"get", "patch", "delete"}
    assert {"TokenAuth", "SessionAuth"} <= set(schema["components"]["securitySchemes"])
    status_enum = schema["components"]["schemas"]["LeadOut"]["properties"]["status"]["enum"]
    assert "mql" in status_enum
    not_found = lead_ops["get"]["responses"]["404"]["content"]
    assert list(not_found) == ["application/problem+json"]


def test_tokens_are_stored_only_as_hashes(rep):
    _token, raw = token_create(actor=rep, user=rep, name="script")
    assert not ApiToken.objects.filter(key_hash=raw).exists()
    assert not ApiToken.objects.filter(prefix=raw).exists()
