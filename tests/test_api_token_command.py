"""`manage.py token create` prints a token that works against the API, and nothing else."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from lejek.users.models import ApiToken


def create_token(*args: str) -> str:
    out = io.StringIO()
    call_command("token", "create", *args, stdout=out)
    return out.getvalue()


def test_token_create_prints_only_a_working_token(rep):
    printed = create_token("--user", rep.email)
    raw = printed.strip()
    assert printed == raw + "\n"
    assert raw.startswith("lejek_")
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response.json()["email"] == rep.email


def test_token_create_takes_a_name_and_any_case_email(rep):
    create_token("--user", "RITA@example.com", "--name", "Zapier")
    token = ApiToken.objects.get(user=rep)
    assert token.name == "Zapier"


def test_token_create_for_unknown_email_fails_clearly(db):
    with pytest.raises(CommandError, match=r"nobody@example\.com"):
        create_token("--user", "nobody@example.com")
    assert not ApiToken.objects.exists()


def test_token_create_for_deactivated_user_fails(rep):
    rep.is_active = False
    rep.save(update_fields=["is_active"])
    with pytest.raises(CommandError, match="deactivated"):
        create_token("--user", rep.email)


def test_token_command_needs_a_subcommand_and_a_user(db):
    with pytest.raises(CommandError):
        call_command("token")
    with pytest.raises(CommandError):
        call_command("token", "create")
