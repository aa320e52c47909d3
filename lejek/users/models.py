from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Sales manager")
    REP = "rep", _("Sales rep")
    MARKETING = "marketing", _("Marketing")


class Team(models.Model):
    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("Round-robin")
        FEWEST_OPEN = "fewest_open", _("Fewest open leads")
        WEIGHTED = "weighted", _("Weighted by capacity")

    name = models.CharField(_("name"), max_length=100, unique=True)
    assignment_strategy = models.CharField(
        _("how new leads are shared"),
        max_length=16,
        choices=Strategy.choices,
        default=Strategy.ROUND_ROBIN,
    )
    # How many leads round-robin has handed out so far; the next goes to member (n % size).
    round_robin_counter = models.PositiveBigIntegerField(default=0)
    is_default_pool = models.BooleanField(
        _("default pool"),
        default=False,
        help_text=_("Leads that match no assignment rule wait in this team's pool."),
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default_pool"],
                condition=models.Q(is_default_pool=True),
                name="one_default_pool_team",
            )
        ]

    def __str__(self) -> str:
        return self.name


class LejekUserManager(UserManager):
    def create_user(self, email, password=None, **extra):
        extra.setdefault("username", email)
        return super().create_user(email=email, password=password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("username", email)
        extra.setdefault("role", Role.ADMIN)
        return super().create_superuser(email=email, password=password, **extra)


class User(AbstractUser):
    """A person who logs in. Signs in with e-mail; `role` decides what they see and do."""

    email = models.EmailField(_("e-mail"), unique=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.REP)
    teams = models.ManyToManyField(
        Team, blank=True, related_name="members", verbose_name=_("teams")
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    email_notifications = models.BooleanField(_("e-mail me notifications"), default=True)
    is_available = models.BooleanField(
        _("takes new leads"),
        default=True,
        help_text=_("Unavailable reps (holiday, sick leave) are skipped by lead assignment."),
    )
    lead_capacity = models.PositiveSmallIntegerField(
        _("lead capacity"),
        default=10,
        help_text=_("Relative share of new leads under weighted assignment."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # the username is the e-mail, filled in by the manager
    objects = LejekUserManager()

    class Meta:
        ordering = ["first_name", "last_name", "email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @cached_property
    def team_ids(self) -> list[int]:
        return list(self.teams.values_list("id", flat=True))

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def initials(self) -> str:
        parts = [self.first_name[:1], self.last_name[:1]]
        return ("".join(parts) or self.email[:2]).upper()

    @property
    def mention_handle(self) -> str:
        return self.email.split("@")[0]


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something a person should know about: a mention, an assignment, a reminder."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=32)
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.text
