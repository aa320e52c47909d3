"""What scoring keeps: the rules managers write, engagement the API records, each lead's
score with its explanation, and the trained predictive models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EngagementKind(models.TextChoices):
    """Everything that counts as the lead engaging; activity kinds keep their own names."""

    NOTE = "note", _("Note")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")
    FORM_SUBMITTED = "form_submitted", _("Form submitted")
    PAGE_VISIT = "page_visit", _("Page visit")


class ScoringSettings(models.Model):
    """One row (pk=1): the threshold for automatic qualification and background work status."""

    class Work(models.TextChoices):
        IDLE = "idle", _("Idle")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")

    mql_threshold = models.PositiveSmallIntegerField(
        _("MQL threshold"),
        null=True,
        blank=True,
        default=60,
        help_text=_(
            "A new or contacted lead whose score reaches this becomes marketing-qualified. "
            "Leave empty to qualify leads only by hand."
        ),
    )
    rescore_state = models.CharField(max_length=16, choices=Work.choices, default=Work.IDLE)
    rescore_done = models.PositiveIntegerField(default=0)
    rescore_total = models.PositiveIntegerField(default=0)
    rescore_finished_at = models.DateTimeField(null=True, blank=True)
    training_state = models.CharField(max_length=16, choices=Work.choices, default=Work.IDLE)
    training_note = models.CharField(max_length=300, blank=True)
    training_finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("scoring settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(mql_threshold__isnull=True) | models.Q(mql_threshold__lte=100),
                name="scoring_mql_threshold_at_most_100",
            )
        ]

    def __str__(self) -> str:
        return str(_("Scoring settings"))

    @classmethod
    def current(cls) -> ScoringSettings:
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class FitRule(models.Model):
    """Part of the ideal customer profile: when all conditions hold, the lead gets `points`.

    Conditions use the assignment rules' format, see lejek.scoring.rules.
    """

    name = models.CharField(_("name"), max_length=100)
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    points = models.SmallIntegerField(_("points"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("fit rule")
        ordering = ["-points", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points__gte=-100, points__lte=100),
                name="fit_rule_points_in_range",
            )
        ]

    def __str__(self) -> str:
        return self.name


class EngagementRule(models.Model):
    """Points for each engagement of one kind, halving every `half_life_days`."""

    kind = models.CharField(_("engagement"), max_length=16, choices=EngagementKind.choices)
    points = models.SmallIntegerField(_("points"))
    half_life_days = models.FloatField(_("half-life (days)"))

    class Meta:
        verbose_name = _("engagement rule")
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind"], name="engagement_rule_one_per_kind"),
            models.CheckConstraint(
                condition=models.Q(points__gte=-100, points__lte=100),
                name="engagement_rule_points_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(half_life_days__gt=0), name="engagement_rule_half_life_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class Engagement(models.Model):
    """Engagement recorded from outside (the API), e.g. a visit to a pricing page."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="engagements")
    kind = models.CharField(_("engagement"), max_length=16, choices=EngagementKind.choices)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    url = models.CharField(_("address"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("engagement")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["lead", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_at:%Y-%m-%d}"


class LeadScore(models.Model):
    """A lead's scores and why: stored so lists and the lead page read one row.

    `explanation` is a list of {"kind": "fit"|"engagement", "label", "points"}; `factors` a
    list of {"feature", "label", "value", "effect"} (effect on the log-odds, + pushes up).
    `computed_at` is when these values were computed: a rescore that gets the same values
    leaves the row alone.
    """

    lead = models.OneToOneField(
        "leads.Lead", on_delete=models.CASCADE, primary_key=True, related_name="lead_score"
    )
    score = models.PositiveSmallIntegerField(default=0)
    fit_points = models.FloatField(default=0)
    engagement_points = models.FloatField(default=0)
    explanation = models.JSONField(default=list, blank=True)
    probability = models.FloatField(null=True, blank=True)
    factors = models.JSONField(default=list, blank=True)
    model_version = models.PositiveIntegerField(null=True, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("lead score")
        constraints = [
            models.CheckConstraint(condition=models.Q(score__lte=100), name="lead_score_row_max"),
            models.CheckConstraint(
                condition=models.Q(probability__isnull=True)
                | models.Q(probability__gte=0, probability__lte=1),
                name="lead_score_probability_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.score}"


class ScoringModel(models.Model):
    """One trained predictive model. The newest row is the one in use.

    `payload` is a joblib pickle of the fitted scikit-learn estimator. Only Lejek's own
    training writes it (never an upload or the API): unpickling runs code, so the column must
    be trusted exactly as far as the database itself.
    """

    version = models.PositiveIntegerField(unique=True)
    trained_at = models.DateTimeField(default=timezone.now)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    n_samples = models.PositiveIntegerField()
    n_positive = models.PositiveIntegerField()
    auc = models.FloatField(_("AUC on held-out leads"))
    brier = models.FloatField(_("Brier score"))
    ece = models.FloatField(_("calibration error"))
    training_seconds = models.FloatField(default=0)
    spec = models.JSONField(default=dict)
    payload = models.BinaryField()

    class Meta:
        verbose_name = _("scoring model")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version}"
