from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lejek.core.fields import currency_field, custom_field, owner_field, team_field
from lejek.core.models import Versioned
from lejek.users.visibility import OwnedQuerySet


class Pipeline(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_default = models.BooleanField(_("default"), default=False)
    # Days a deal may sit in one open stage before its card says it is rotting; None = never.
    rotting_days = models.PositiveSmallIntegerField(
        _("rotting after (days)"), null=True, blank=True, default=30
    )
    # What a win here starts for after-sales work: a deal in another pipeline, a follow-up task.
    after_sales_pipeline = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("after a win, open a deal in"),
    )
    follow_up_days = models.PositiveSmallIntegerField(
        _("after a win, a follow-up task in (days)"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("pipeline")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_pipeline",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.pk is not None and self.after_sales_pipeline_id == self.pk:
            raise ValidationError(
                {"after_sales_pipeline": _("Choose another pipeline for after-sales deals.")}
            )


class Stage(models.Model):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"))
    probability = models.PositiveSmallIntegerField(_("win probability (%)"), default=0)
    is_won = models.BooleanField(_("won"), default=False)
    is_lost = models.BooleanField(_("lost"), default=False)
    # Fields a deal must have filled in to enter this stage ("amount", "custom:<key>", ...).
    required_fields = models.JSONField(_("required fields"), default=list, blank=True)

    class Meta:
        verbose_name = _("stage")
        ordering = ["pipeline", "position"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "position"], name="stage_unique_position"),
            models.CheckConstraint(
                condition=models.Q(probability__lte=100), name="stage_probability_percent"
            ),
            models.CheckConstraint(
                condition=~models.Q(is_won=True, is_lost=True), name="stage_not_won_and_lost"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.is_won or self.is_lost


class DealQuerySet(OwnedQuerySet):
    def open(self):
        return self.filter(stage__is_won=False, stage__is_lost=False)

    def won(self):
        return self.filter(stage__is_won=True)

    def lost(self):
        return self.filter(stage__is_lost=True)


class Deal(Versioned):
    title = models.CharField(_("title"), max_length=200)
    # Neither key is indexed alone: (pipeline, stage) and the (stage, ...) indexes in Meta
    # serve look-ups by either.
    pipeline = models.ForeignKey(
        Pipeline,
        on_delete=models.PROTECT,
        related_name="deals",
        verbose_name=_("pipeline"),
        db_index=False,
    )
    stage = models.ForeignKey(
        Stage,
        on_delete=models.PROTECT,
        related_name="deals",
        verbose_name=_("stage"),
        db_index=False,
    )
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    currency = currency_field()
    expected_close_date = models.DateField(_("expected close"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=200, blank=True)
    stage_entered_at = models.DateTimeField(default=timezone.now)
    company = models.ForeignKey(
        "contacts.Company",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
        verbose_name=_("company"),
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
        verbose_name=_("contact"),
    )
    lead = models.ForeignKey(
        "leads.Lead",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
        verbose_name=_("lead"),
    )
    source = models.ForeignKey(
        "leads.Source",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
        verbose_name=_("source"),
    )
    owner = owner_field()
    team = team_field()
    custom = custom_field()
    # Every stage the deal has been in, as visited_key writes it ("3,4,7"): the funnel counts
    # how far deals got per group of deals that went the same way, instead of reading each
    # deal's history. Unlike a stored furthest stage it stays true when stages are reordered.
    # Every writer of stage changes keeps it.
    stages_visited = models.TextField(blank=True, default="", editable=False)

    objects = DealQuerySet.as_manager()

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "team"]),
            models.Index(fields=["pipeline", "stage"]),
            models.Index(fields=["expected_close_date"]),
            # The board's columns: one stage's newest arrivals first.
            models.Index(fields=["stage", "-stage_entered_at"], name="deal_stage_entered"),
            # The forecast: the open stages' deals by expected close date (alone, that date's
            # index led SQLite through every stage's deals once per open stage).
            models.Index(fields=["stage", "expected_close_date"], name="deal_stage_expected"),
            # Reports: deals won (or lost) in a period, a range within each closing stage; with
            # the stages they went through, the forecast's win rates read the index alone.
            models.Index(fields=["stage", "closed_at", "stages_visited"], name="deal_stage_closed"),
            # The deal funnel: a pipeline's deals created in a period, by where they stand and
            # the stages they have been in, from the index alone.
            models.Index(
                fields=["pipeline", "created_at", "stage", "stages_visited"],
                name="deal_funnel_paths",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gte=0),
                name="deal_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("deal-detail", args=[self.pk])


def visited_key(stage_ids: Iterable[int]) -> str:
    """Deal.stages_visited for a deal that has been in these stages: their ids, ascending."""
    return ",".join(str(pk) for pk in sorted(set(stage_ids)))


def visited_ids(key: str) -> list[int]:
    """The stage ids of a Deal.stages_visited."""
    return [int(pk) for pk in key.split(",") if pk]


@dataclass(frozen=True)
class Move:
    """One change of a deal's history as a StageChange records it."""

    from_stage: Any
    to_stage: Any
    changed_at: Any
    from_stage_entered_at: Any


def moves_along(path: Iterable[tuple[Any, Any]]) -> Iterator[Move]:
    """The changes of a deal that went along `path`, [(stage, when)] from its creation (a
    stage or a stage id; a datetime or whatever the caller writes): what deal_create and
    deal_move_to_stage would have recorded move by move, for writers of whole histories."""
    previous = entered = None
    for stage, when in path:
        yield Move(previous, stage, when, entered)
        previous, entered = stage, when


class StageChange(models.Model):
    """One row per move of a deal: the source of every conversion and cycle-time figure."""

    # The three keys are indexed with the time (Meta), which serves look-ups by each as well.
    deal = models.ForeignKey(
        Deal, on_delete=models.CASCADE, related_name="stage_changes", db_index=False
    )
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+", db_index=False)
    changed_at = models.DateTimeField(default=timezone.now)
    # When the deal entered `from_stage` (the deal's change before this one; None for its
    # first): this change ends that stay, so time in stage is a subtraction, not a search
    # through the deal's history. Every writer of changes sets it.
    from_stage_entered_at = models.DateTimeField(null=True, blank=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["deal", "changed_at"]),
            models.Index(fields=["to_stage", "changed_at"]),
            # Moves out of each stage in a period and the stays they ended (transitions, time
            # in stage), read from the index alone; the deal last, for the figures of a rep or
            # a manager, who see only some deals.
            models.Index(
                fields=["from_stage", "changed_at", "to_stage", "from_stage_entered_at", "deal"],
                name="stage_stays",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"
