from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lejek.core.fields import custom_field, owner_field, team_field
from lejek.core.models import Versioned
from lejek.users.visibility import OwnedQuerySet


class CompanyQuerySet(OwnedQuerySet):
    pass


class Company(Versioned):
    name = models.CharField(_("name"), max_length=200)
    nip = models.CharField(_("NIP (tax id)"), max_length=10, blank=True, db_index=True)
    domain = models.CharField(_("domain"), max_length=200, blank=True, db_index=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    size = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    country = models.CharField(_("country"), max_length=2, default="PL")
    notes = models.TextField(_("notes"), blank=True)
    owner = owner_field()
    team = team_field()
    custom = custom_field()

    objects = CompanyQuerySet.as_manager()

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["owner", "team"]), models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("company-detail", args=[self.pk])


class ContactQuerySet(OwnedQuerySet):
    pass


class Contact(Versioned):
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        verbose_name=_("company"),
    )
    preferred_channel = models.CharField(
        _("preferred channel"),
        max_length=16,
        blank=True,
        choices=[("email", _("E-mail")), ("phone", _("Phone")), ("meeting", _("Meeting"))],
    )
    language = models.CharField(
        _("language"), max_length=8, blank=True, choices=[("pl", "Polski"), ("en", "English")]
    )
    notes = models.TextField(_("notes"), blank=True)
    owner = owner_field()
    team = team_field()
    custom = custom_field()

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["owner", "team"]),
            models.Index(fields=["last_name", "first_name"]),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_absolute_url(self) -> str:
        return reverse("contact-detail", args=[self.pk])


class Merge(models.Model):
    """Two records of one kind made one: the survivor kept, the other removed, undoable.

    `merged_data` holds the removed record's fields as they were; `filled` the survivor's fields
    that were empty and took the other's values; `moved` the related rows that were pointed at
    the survivor ({"app_label.model.field": [ids]}). Together they let `merge_undo` put
    everything back, and `merged_id` keeps the old address resolving to the survivor.
    """

    content_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.PROTECT, related_name="+"
    )
    survivor_id = models.BigIntegerField()
    merged_id = models.BigIntegerField()
    merged_repr = models.CharField(max_length=200, blank=True)
    merged_data = models.JSONField(default=dict)
    filled = models.JSONField(default=dict, blank=True)
    moved = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("merge")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "merged_id"])]

    def __str__(self) -> str:
        return f"{self.content_type_id}: {self.merged_id} → {self.survivor_id}"
