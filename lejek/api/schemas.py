"""Schema building blocks shared by every app's api.py."""

from __future__ import annotations

import copy
from typing import Any, Literal

from django.db.models import Choices
from ninja import Field, Schema
from pydantic import ConfigDict, create_model

VERSION_FIELD = (int | None, Field(None, description="The version you edited; 409 if stale."))


class InputSchema(Schema):
    """A request body: unknown keys are refused (a typo must not be silently dropped)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FieldError(Schema):
    field: str | None
    message: str


class Problem(Schema):
    """RFC 9457 problem details, served as application/problem+json."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


ERRORS = {code: Problem for code in (400, 401, 403, 404, 409, 422)}


def responses(ok: dict[int, Any]) -> dict[int, Any]:
    """The success responses of an operation plus the problems any endpoint may answer."""
    return {**ok, **ERRORS}


def choice(choices: type[Choices]) -> Any:
    """A Literal of a model's choice values, so the OpenAPI document lists them."""
    return Literal[tuple(choices.values)]


def partial(schema: type[InputSchema], name: str, **extra: tuple[Any, Any]) -> type[InputSchema]:
    """`schema` with every field optional and unset by default, for PATCH bodies.

    Constraints stay (a PATCH must not accept what a POST refuses); `extra` adds fields such as
    `version`. Callers read `model_dump(exclude_unset=True)` to see what was sent.
    """
    fields: dict[str, Any] = {}
    for field_name, info in schema.model_fields.items():
        optional = copy.copy(info)
        optional.default = None
        optional.default_factory = None
        fields[field_name] = (info.annotation | None, optional)
    return create_model(name, __base__=InputSchema, __module__=schema.__module__, **fields, **extra)
