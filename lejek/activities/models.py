"""What happened with a record (activities, comments) and what must happen next (tasks).

Each row hangs off exactly one of lead, contact, company or deal; it is visible to whoever
sees that record.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lejek.users.models import Role
from lejek.users.visibility import is_signed_in

SUBJECTS = ("lead", "contact", "company", "deal")


def exactly_one_subject(name: str) -> models.CheckConstraint:
    terms = []
    for chosen in SUBJECTS:
        term = Q(**{f"{chosen}__isnull": False})
        for other in SUBJECTS:
            if other != chosen:
                term &= Q(**{f"{other}__isnull": True})
        terms.append(term)
    condition = terms[0]
    for term in terms[1:]:
        condition |= term
    return models.CheckConstraint(condition=condition, name=name)


def visible_subjects(user) -> Q:
    """Rows whose subject record the user can see."""
    from lejek.contacts.models import Company, Contact
    from lejek.leads.models import Lead
    from lejek.pipeline.models import Deal

    return (
        Q(lead__in=Lead.objects.visible_to(user).values("pk"))
        | Q(contact__in=Contact.objects.visible_to(user).values("pk"))
        | Q(company__in=Company.objects.visible_to(user).values("pk"))
        | Q(deal__in=Deal.objects.visible_to(user).values("pk"))
    )


class SubjectQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not is_signed_in(user):
            return self.none()
        if user.role in (Role.ADMIN, Role.MARKETING):
            return self
        return self.filter(visible_subjects(user))

    def about(self, obj):
        return self.filter(**{obj._meta.model_name: obj})


class Subjected(models.Model):
    """Hangs off exactly one record; reverse accessors are the defaults (`lead.activity_set`).

    The subject keys are not indexed alone: each model indexes them in its Meta, most with
    the time its timeline sorts by, which serves look-ups by subject as well.
    """

    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.CASCADE, db_index=False
    )
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.CASCADE, db_index=False
    )
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.CASCADE, db_index=False
    )
    deal = models.ForeignKey(
        "pipeline.Deal", null=True, blank=True, on_delete=models.CASCADE, db_index=False
    )

    class Meta:
        abstract = True

    @property
    def subject(self):
        for name in SUBJECTS:
            if getattr(self, f"{name}_id"):
                return getattr(self, name)
        return None


class Activity(Subjected):
    class Kind(models.TextChoices):
        NOTE = "note", _("Note")
        CALL = "call", _("Call")
        MEETING = "meeting", _("Meeting")
        EMAIL = "email", _("E-mail")

    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    subject_line = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("details"), blank=True)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
        db_index=False,  # indexed with occurred_at (Meta)
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = SubjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-occurred_at", "-id"]
        constraints = [exactly_one_subject("activity_one_subject")]
        indexes = [
            models.Index(fields=["lead", "-occurred_at"]),
            models.Index(fields=["deal", "-occurred_at"]),
            models.Index(fields=["contact", "-occurred_at"]),
            models.Index(fields=["company", "-occurred_at"]),
            # Activities a rep logged in a period (the reps report), read from the index alone.
            models.Index(fields=["author", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return self.subject_line or self.get_kind_display()


class TaskQuerySet(SubjectQuerySet):
    def visible_to(self, user):
        if not is_signed_in(user):
            return self.none()
        if user.role == Role.ADMIN:
            return self
        return self.filter(Q(assignee=user) | visible_subjects(user))

    def open(self):
        return self.filter(done_at__isnull=True)


class Task(Subjected):
    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    due_date = models.DateField(_("due"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
        verbose_name=_("assignee"),
        db_index=False,  # indexed with done_at and due_date (Meta)
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["done_at", "due_date", "id"]
        constraints = [exactly_one_subject("task_one_subject")]
        indexes = [
            models.Index(fields=["assignee", "done_at", "due_date"]),
            *[models.Index(fields=[subject]) for subject in SUBJECTS],
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return (
            self.done_at is None
            and self.due_date is not None
            and self.due_date < timezone.localdate()
        )


class Comment(Subjected):
    """A colleague's remark on a record; @mentions notify the people named."""

    body = models.TextField(_("comment"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = SubjectQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [exactly_one_subject("comment_one_subject")]
        indexes = [models.Index(fields=[subject, "-created_at"]) for subject in SUBJECTS]

    def __str__(self) -> str:
        return self.body[:50]


class SentEmail(models.Model):
    """Who an e-mail logged as an Activity went to, and what was attached to it."""

    activity = models.OneToOneField(
        Activity, on_delete=models.CASCADE, related_name="sent_email", verbose_name=_("activity")
    )
    to = models.JSONField(_("to"), default=list)
    cc = models.JSONField(_("cc"), default=list, blank=True)
    attachment_names = models.JSONField(_("attachments"), default=list, blank=True)
    message_id = models.CharField(_("message id"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("sent e-mail")
        verbose_name_plural = _("sent e-mails")

    def __str__(self) -> str:
        return ", ".join(self.to)


class EmailTemplate(models.Model):
    """A reusable e-mail with merge fields ({{ contact.first_name }}), in one language."""

    name = models.CharField(_("name"), max_length=100)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    # Record kinds (SUBJECTS) the template is offered for; empty means every kind.
    record_kinds = models.JSONField(_("for records"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("e-mail template")
        verbose_name_plural = _("e-mail templates")
        ordering = ["name", "language", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "language"],
                name="email_template_unique_name_language",
                violation_error_message=_("A template with this name and language exists."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    def offered_for(self, kind: str) -> bool:
        return not self.record_kinds or kind in self.record_kinds


class Attachment(Subjected):
    """A file kept with a record. Served only through a view that checks visibility."""

    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/", max_length=255)
    original_name = models.CharField(_("name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("type"), max_length=100)
    # The e-mail this file went out with, when it was attached in the composer.
    activity = models.ForeignKey(
        Activity,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
        verbose_name=_("sent with"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = SubjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-created_at", "-id"]
        constraints = [exactly_one_subject("attachment_one_subject")]
        indexes = [
            models.Index(fields=["deal", "-created_at"]),
            models.Index(fields=["lead", "-created_at"]),
            models.Index(fields=["contact", "-created_at"]),
            models.Index(fields=["company", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.original_name
