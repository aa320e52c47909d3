"""Domain errors raised by services; views and the API turn them into messages."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the change. The message is shown to the user."""


class ConflictError(DomainError):
    """The record changed since the user loaded it; saving would overwrite someone's work."""
