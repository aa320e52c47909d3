from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lejek.core.fields import currency_field
from lejek.core.models import TimeStamped
from lejek.sales.totals import line_net


class Product(TimeStamped):
    name = models.CharField(_("name"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    unit = models.CharField(_("unit"), max_length=16, default="szt.")
    net_price = models.DecimalField(_("net price"), max_digits=14, decimal_places=2)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2, default=23)
    currency = currency_field()
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(net_price__gte=0), name="product_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(vat_rate__gte=0, vat_rate__lte=100),
                name="product_vat_rate_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.name


PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class PricedLineFields(models.Model):
    """What a line says, on a deal and, frozen, on an offer."""

    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("product"),
    )
    name = models.CharField(_("name"), max_length=200)
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=12,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    unit_price = models.DecimalField(
        _("unit net price"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0))],
    )
    discount = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=0, validators=PERCENT
    )
    vat_rate = models.DecimalField(
        _("VAT rate (%)"), max_digits=5, decimal_places=2, default=23, validators=PERCENT
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def net(self) -> Decimal:
        return line_net(self.quantity, self.unit_price, self.discount)


def _line_constraints(prefix: str) -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(condition=models.Q(quantity__gt=0), name=f"{prefix}_quantity_pos"),
        models.CheckConstraint(condition=models.Q(unit_price__gte=0), name=f"{prefix}_price_pos"),
        models.CheckConstraint(
            condition=models.Q(discount__gte=0, discount__lte=100), name=f"{prefix}_discount_pct"
        ),
        models.CheckConstraint(
            condition=models.Q(vat_rate__gte=0, vat_rate__lte=100), name=f"{prefix}_vat_pct"
        ),
    ]


class DealLine(PricedLineFields):
    """A product on a deal. Name, unit, price and VAT are copied from the product when added,
    so a later change to the catalogue leaves the deal as it was negotiated."""

    deal = models.ForeignKey(
        "pipeline.Deal", on_delete=models.CASCADE, related_name="lines", verbose_name=_("deal")
    )

    class Meta:
        verbose_name = _("deal line")
        verbose_name_plural = _("deal lines")
        ordering = ["deal", "position", "id"]
        constraints = _line_constraints("dealline")


class DealPricing(models.Model):
    """Per-deal pricing settings, kept here so the sales app need not change the Deal table.

    `amount_from_lines`: the deal's amount is the net total of its lines. `synced_amount` is
    the amount the lines last wrote; a deal amount that differs from it was typed by hand, and
    the lines then stop overwriting it (see services.deal_amount_sync).
    """

    deal = models.OneToOneField(
        "pipeline.Deal", on_delete=models.CASCADE, related_name="pricing", verbose_name=_("deal")
    )
    amount_from_lines = models.BooleanField(_("amount follows the lines"), default=True)
    synced_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("deal pricing")

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.amount_from_lines}"


class OfferCounter(models.Model):
    """The last number of a document series given out in a month; locked while the next one
    is taken."""

    period = models.CharField(max_length=16, unique=True)  # "2026-11", "PZ:2026-11"
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.period}: {self.last}"


class OfferQuerySet(models.QuerySet):
    def visible_to(self, user):
        from lejek.pipeline.models import Deal

        return self.filter(deal__in=Deal.objects.visible_to(user))


class Offer(models.Model):
    """One version of an offer: a frozen copy of the deal's lines and the terms of the day."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")

    class Language(models.TextChoices):
        PL = "pl", _("Polish")
        EN = "en", _("English")

    deal = models.ForeignKey(
        "pipeline.Deal", on_delete=models.CASCADE, related_name="offers", verbose_name=_("deal")
    )
    number = models.CharField(_("number"), max_length=32)
    version = models.PositiveIntegerField(_("version"), default=1)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    valid_until = models.DateField(_("valid until"))
    terms = models.TextField(_("terms"), blank=True)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.PL
    )
    currency = currency_field()
    net_total = models.DecimalField(_("net"), max_digits=14, decimal_places=2, default=0)
    vat_total = models.DecimalField(_("VAT"), max_digits=14, decimal_places=2, default=0)
    gross_total = models.DecimalField(_("gross"), max_digits=14, decimal_places=2, default=0)
    changes = models.JSONField(_("changes"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    objects = OfferQuerySet.as_manager()

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["number", "version"], name="offer_number_version"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="offer_version_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.number} v{self.version}"

    def get_absolute_url(self) -> str:
        return reverse("offer-detail", args=[self.deal_id, self.pk])

    def shown_status(self, today: datetime.date | None = None) -> str:
        """The status people see: an open offer past its date reads as expired."""
        today = today or timezone.localdate()
        if self.status in OPEN_STATUSES and self.valid_until < today:
            return self.Status.EXPIRED
        return self.status

    @property
    def is_expired(self) -> bool:
        return self.shown_status() == self.Status.EXPIRED

    def get_shown_status_display(self) -> str:
        return str(self.Status(self.shown_status()).label)


OPEN_STATUSES = (Offer.Status.DRAFT, Offer.Status.SENT)


class OfferLine(PricedLineFields):
    offer = models.ForeignKey(
        Offer, on_delete=models.CASCADE, related_name="lines", verbose_name=_("offer")
    )

    class Meta:
        verbose_name = _("offer line")
        verbose_name_plural = _("offer lines")
        ordering = ["offer", "position", "id"]
        constraints = _line_constraints("offerline")


class PurchaseConfirmation(models.Model):
    """The numbered document confirming a won deal: what was bought, for how much.

    Lines are a snapshot of the deal's lines at the win, so the document never changes when
    the deal or the catalogue does.
    """

    deal = models.ForeignKey(
        "pipeline.Deal", on_delete=models.CASCADE, related_name="purchase_confirmations"
    )
    number = models.CharField(_("number"), max_length=32, unique=True)
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    currency = currency_field()
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    won_on = models.DateField(_("won on"))
    lines = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("purchase confirmation")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number
