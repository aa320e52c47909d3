from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        abstract = True


class Versioned(TimeStamped):
    """A record edited by people: `version` grows on every save so stale edits are refused."""

    version = models.PositiveIntegerField(default=1)

    class Meta:
        abstract = True


class Event(models.Model):
    """Append-only log of every change: the timeline, the audit trail, analytics, automation."""

    created_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=64)
    # Indexed with object_id and created_at (Meta), which serves look-ups by type as well.
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["content_type", "object_id", "-created_at"])]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.verb} {self.object_repr}"

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        """(field, old, new) for every field that differs between before and after."""
        keys = sorted(set(self.before) | set(self.after))
        return [(k, self.before.get(k), self.after.get(k)) for k in keys if k != "version"]


class CustomField(models.Model):
    """An admin-defined typed field; values live in the record's `custom` JSON column."""

    class Entity(models.TextChoices):
        LEAD = "lead", _("Lead")
        CONTACT = "contact", _("Contact")
        COMPANY = "company", _("Company")
        DEAL = "deal", _("Deal")

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Whole number")
        DECIMAL = "decimal", _("Decimal number")
        CHOICE = "choice", _("Choice")
        BOOLEAN = "boolean", _("Yes / no")
        DATE = "date", _("Date")

    entity = models.CharField(_("record type"), max_length=16, choices=Entity.choices)
    key = models.SlugField(_("key"), max_length=50)
    label = models.CharField(_("label"), max_length=100)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["entity", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "key"], name="customfield_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.get_entity_display()}: {self.label}"


class SavedView(models.Model):
    """A named list state (filters, search, sort) kept for one person, or shared with all.

    A view is the list's address and query string, so it opens exactly as it was saved and
    follows any filter the list learns later.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    path = models.CharField(max_length=200)
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(max_length=2000, blank=True)
    shared = models.BooleanField(_("shared with everyone"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["path", "owner"])]
        constraints = [
            models.UniqueConstraint(fields=["owner", "path", "name"], name="saved_view_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def url(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


class Reason(models.Model):
    """An entry of an admin-kept list of reasons: why deals are lost, leads disqualified, …

    Reports group by the label, so a label is renamed rather than deleted once used; an
    inactive reason is no longer offered but stays in the history.
    """

    class Kind(models.TextChoices):
        DEAL_LOST = "deal_lost", _("Deal lost")
        LEAD_DISQUALIFIED = "lead_disqualified", _("Lead disqualified")
        LEAD_REJECTED = "lead_rejected", _("Lead rejected by sales")

    kind = models.CharField(_("list"), max_length=32, choices=Kind.choices)
    label = models.CharField(_("reason"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("reason")
        ordering = ["kind", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "label"], name="reason_unique_label")
        ]

    def __str__(self) -> str:
        return self.label
