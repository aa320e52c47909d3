"""Model building blocks shared by the owned records (leads, contacts, companies, deals)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def owner_field():
    """The record's owner. Not indexed alone: every model with an owner indexes
    (owner, team), which serves look-ups by owner as well."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
        related_name="+",
        verbose_name=_("owner"),
    )


def team_field():
    return models.ForeignKey(
        "users.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("team"),
    )


def custom_field():
    return models.JSONField(_("custom fields"), default=dict, blank=True)


CURRENCIES = [
    ("PLN", "PLN"),
    ("EUR", "EUR"),
    ("USD", "USD"),
    ("GBP", "GBP"),
    ("CHF", "CHF"),
    ("CZK", "CZK"),
]


def currency_field():
    return models.CharField(_("currency"), max_length=3, choices=CURRENCIES, default="PLN")
