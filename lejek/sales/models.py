from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from lejek.core.fields import currency_field
from lejek.core.models import TimeStamped


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
