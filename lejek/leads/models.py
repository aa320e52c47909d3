from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lejek.core.fields import currency_field, custom_field, owner_field, team_field
from lejek.core.models import TimeStamped, Versioned
from lejek.users.visibility import OwnedQuerySet


class Source(models.Model):
    """Where leads come from. `kind` is the channel; the name is the company's own label."""

    class Kind(models.TextChoices):
        WEB_FORM = "web_form", _("Web form")
        CAMPAIGN = "campaign", _("Campaign")
        EVENT = "event", _("Event")
        IMPORT = "import", _("Import")
        API = "api", _("API")
        MANUAL = "manual", _("Manual")
        EMAIL = "email", _("E-mail")
        REFERRAL = "referral", _("Referral")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("channel"), max_length=16, choices=Kind.choices, default=Kind.MANUAL)

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Campaign(TimeStamped):
    name = models.CharField(_("name"), max_length=200, unique=True)
    source = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaigns",
        verbose_name=_("source"),
    )
    channel = models.CharField(_("channel"), max_length=50, blank=True)
    starts_on = models.DateField(_("starts"), null=True, blank=True)
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    cost = models.DecimalField(_("cost"), max_digits=14, decimal_places=2, default=0)
    currency = currency_field()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(starts_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="campaign_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(cost__gte=0), name="campaign_cost_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LeadQuerySet(OwnedQuerySet):
    marketing_edits = True

    def open(self):
        return self.exclude(status__in=[Lead.Status.CONVERTED, Lead.Status.DISQUALIFIED])

    def with_score(self):
        """Each lead with its rule-based `score` (0 until it is first scored).

        The score lives in scoring's LeadScore row, not on the lead: a rescore of every lead
        rewrites that narrow table instead of every row and index of this wide one.
        """
        return self.annotate(score=Coalesce("lead_score__score", Value(0)))


class Lead(Versioned):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        CONTACTED = "contacted", _("Contacted")
        MQL = "mql", _("Marketing-qualified")
        SQL = "sql", _("Sales-qualified")
        CONVERTED = "converted", _("Converted")
        DISQUALIFIED = "disqualified", _("Disqualified")

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    company_name = models.CharField(_("company"), max_length=200, blank=True)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    source = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        verbose_name=_("source"),
        db_index=False,  # (source, -created_at) below serves lookups by source too
    )
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        verbose_name=_("campaign"),
        db_index=False,  # (campaign, created_at) below serves lookups by campaign too
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        verbose_name=_("contact"),
    )
    company = models.ForeignKey(
        "contacts.Company",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        verbose_name=_("company record"),
    )
    medium = models.CharField(_("medium"), max_length=100, blank=True)
    utm_source = models.CharField("utm_source", max_length=200, blank=True)
    utm_medium = models.CharField("utm_medium", max_length=200, blank=True)
    utm_campaign = models.CharField("utm_campaign", max_length=200, blank=True)
    utm_term = models.CharField("utm_term", max_length=200, blank=True)
    utm_content = models.CharField("utm_content", max_length=200, blank=True)
    referrer = models.CharField(_("referrer"), max_length=500, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    company_size = models.PositiveIntegerField(_("company size (employees)"), null=True, blank=True)
    disqualified_reason = models.CharField(_("disqualified because"), max_length=200, blank=True)
    # The furthest lifecycle step (LEAD_STEPS) the lead has been in when it is further than
    # its status now: a lead sent back or disqualified remembers how far it got. Blank when
    # its status (or New, where every lead has been) is as far as it got. The funnel counts
    # a lead as having reached the further of the two, without reading its history. Kept by
    # lifecycle.status_changed and status_history.relink.
    furthest_status = models.CharField(
        max_length=16, choices=Status.choices, blank=True, editable=False
    )
    description = models.TextField(_("description"), blank=True)
    owner = owner_field()
    team = team_field()
    custom = custom_field()

    objects = LeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "team"]),
            models.Index(fields=["status", "-created_at"]),
            # The lead funnel: leads created in a period, by status and furthest step (the
            # dates last, so each pair is one range of the index).
            models.Index(
                fields=["status", "furthest_status", "created_at"], name="lead_funnel_steps"
            ),
            models.Index(fields=["source", "-created_at"]),
            # Campaign performance: a campaign's leads created in a period.
            models.Index(fields=["campaign", "created_at"], name="lead_campaign_created"),
            models.Index(fields=["phone"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(first_name="", last_name="", email="", company_name=""),
                name="lead_has_some_identity",
                violation_error_message=_("Give the lead at least a name, an e-mail or a company."),
            ),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.company_name

    def get_absolute_url(self) -> str:
        return reverse("lead-detail", args=[self.pk])


# The lifecycle's steps in order. "Disqualified" is where leads leave it, not a step.
LEAD_STEPS = (
    Lead.Status.NEW,
    Lead.Status.CONTACTED,
    Lead.Status.MQL,
    Lead.Status.SQL,
    Lead.Status.CONVERTED,
)


class AssignmentRule(models.Model):
    """Ordered rules that route a new lead to a team; the team's strategy then picks the rep.

    `conditions` is a list of {"field": ..., "op": ..., "value": ...}; all must hold.
    """

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    team = models.ForeignKey(
        "users.Team",
        on_delete=models.CASCADE,
        related_name="assignment_rules",
        verbose_name=_("team"),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("assignment rule")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


def new_form_key() -> str:
    import secrets

    return secrets.token_urlsafe(12)


class WebForm(TimeStamped):
    """A public web-to-lead form: what it asks, what it stamps on the lead, where it sends people.

    `fields` is a list of {"name": <lead field or "custom:<key>">, "required": bool,
    "label": str}; `key` is the unguessable part of the public URL.
    """

    name = models.CharField(_("name"), max_length=100)
    key = models.CharField(_("public key"), max_length=32, unique=True, default=new_form_key)
    is_active = models.BooleanField(_("accepting submissions"), default=True)
    fields = models.JSONField(_("fields"), default=list, blank=True)
    source = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="web_forms",
        verbose_name=_("source"),
    )
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="web_forms",
        verbose_name=_("campaign"),
    )
    team = models.ForeignKey(
        "users.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="web_forms",
        verbose_name=_("default team"),
    )
    consent_required = models.BooleanField(_("consent required"), default=False)
    success_message = models.TextField(_("thank-you message"), blank=True)
    redirect_url = models.URLField(_("redirect after submission"), blank=True)
    allowed_origins = models.TextField(
        _("allowed origins"), blank=True, help_text=_("One per line, e.g. https://example.com")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def current_consent(self) -> ConsentText | None:
        return self.consent_texts.order_by("-version").first()


class ConsentText(models.Model):
    """One version of a form's consent wording. Versions are never edited, only added."""

    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="consent_texts")
    version = models.PositiveIntegerField(_("version"))
    text = models.TextField(_("consent text"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("consent text")
        ordering = ["form", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["form", "version"], name="consent_text_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.form} v{self.version}"


class Consent(models.Model):
    """Consent a person gave: which wording, when, from where, on which form."""

    text = models.ForeignKey(
        ConsentText, on_delete=models.PROTECT, related_name="consents", verbose_name=_("text")
    )
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="consents"
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="consents",
    )
    given_at = models.DateTimeField(_("given"), default=timezone.now)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("consent")
        ordering = ["-given_at", "-id"]

    def __str__(self) -> str:
        return f"{self.text} @ {self.given_at:%Y-%m-%d}"


class FormSubmissionQuerySet(models.QuerySet):
    def queued(self):
        return self.filter(status=FormSubmission.Status.QUEUED)

    def failed(self):
        return self.filter(status=FormSubmission.Status.FAILED)


class FormSubmission(models.Model):
    """One accepted submission, keyed for idempotency: a replay finds this row, not a new lead.

    The request only checks the values and stores them here (`queued`); a worker turns the
    row into a lead (`processed`, with `lead`) or records why it could not (`failed`, with
    `error`; a failed row can be queued again). The unique (form, key) constraint is what
    makes ten simultaneous copies store one row.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        PROCESSED = "processed", _("Processed")
        FAILED = "failed", _("Failed")

    class Outcome(models.TextChoices):
        CREATED = "created", _("New lead")
        REPEAT = "repeat", _("Repeat of an open lead")

    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="submissions")
    key = models.CharField(max_length=128)
    body_hash = models.CharField(max_length=64)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    # The checked values: {"values": {lead field: value}, "custom": {key: value}}.
    data = models.JSONField(default=dict, blank=True)
    # The consent wording the person agreed to (null: consent not given or none asked).
    consent_text = models.ForeignKey(
        ConsentText, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="submissions"
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    objects = FormSubmissionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["form", "key"], name="form_submission_unique_key")
        ]
        indexes = [
            # The worker's queue: the oldest queued rows first.
            models.Index(
                fields=["id"],
                condition=models.Q(status="queued"),
                name="form_submission_queued",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form_id}:{self.key}"


# Hours sales has to answer a hand-off unless an admin sets otherwise.
DEFAULT_ACCEPT_HOURS = 24


class HandoffSettings(models.Model):
    """Company-wide hand-off rules; one row (pk=1), created on first read."""

    accept_within_hours = models.PositiveIntegerField(
        _("accept within (hours)"),
        default=DEFAULT_ACCEPT_HOURS,
        help_text=_("A marketing-qualified lead nobody accepted or rejected by then is overdue."),
    )

    class Meta:
        verbose_name = _("hand-off settings")

    def __str__(self) -> str:
        return f"{self.accept_within_hours} h"

    @classmethod
    def current(cls) -> HandoffSettings:
        return cls.objects.get_or_create(pk=1)[0]


class HandoffQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(outcome=Handoff.Outcome.PENDING)

    def overdue(self, now=None):
        """Waiting past the deadline: nobody accepted or rejected the lead in time."""
        return self.pending().filter(due_at__lt=now or timezone.now())


class Handoff(models.Model):
    """One hand-off of a marketing-qualified lead to sales, and sales' answer.

    A row is opened when a lead becomes marketing-qualified and closed when the assigned rep
    accepts it (the lead becomes sales-qualified) or rejects it with a reason that marketing
    sees. `source` is copied from the lead when the row opens, so the per-source accept rates
    stay true when a lead's source is edited later.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Waiting for sales")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="handoffs")
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("offered to"),
    )
    offered_at = models.DateTimeField(_("offered"), default=timezone.now)
    due_at = models.DateTimeField(_("answer due"))
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.PENDING
    )
    decided_at = models.DateTimeField(_("answered"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("answered by"),
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    objects = HandoffQuerySet.as_manager()

    class Meta:
        verbose_name = _("hand-off")
        verbose_name_plural = _("hand-offs")
        ordering = ["-offered_at", "-id"]
        indexes = [
            models.Index(fields=["outcome", "due_at"]),
            models.Index(fields=["source", "outcome"]),
        ]
        constraints = [
            # At most one open hand-off per lead: the answer closes it before another opens.
            models.UniqueConstraint(
                fields=["lead"],
                condition=models.Q(outcome="pending"),
                name="handoff_one_pending_per_lead",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.outcome}"


class LeadStatusChange(models.Model):
    """One row per change of a lead's status: who, when, from what to what.

    The lead's lifecycle history, like `StageChange` is a deal's: the timeline, the hand-off
    figures and the funnel analytics read it.
    """

    # Indexed with changed_at (Meta), which serves look-ups by lead as well.
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="status_changes", db_index=False
    )
    from_status = models.CharField(max_length=16, blank=True, choices=Lead.Status.choices)
    to_status = models.CharField(max_length=16, choices=Lead.Status.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    # When this lead last moved into the same status before this change (None: the first
    # time). A change counts a lead as entering its status in a period [a, b) exactly once
    # when it is the first of its kind there: changed_at in [a, b) and previous_entry_at
    # before a. That makes "leads entering each status per week or month" a count over an
    # index instead of a distinct count over the whole history. `status_history` keeps it.
    previous_entry_at = models.DateTimeField(null=True, blank=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["lead", "changed_at"]),
            # Entries into each status per week or month, read from the index alone; the lead
            # last, so a rep's or manager's figures check which leads they see without reading
            # each change (1.9 s to 0.5 s for a rep at a million leads on SQLite).
            models.Index(
                fields=["to_status", "changed_at", "previous_entry_at", "lead"],
                name="status_entries",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_status or '-'} → {self.to_status}"
