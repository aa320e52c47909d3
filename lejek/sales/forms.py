"""The product form. It checks input the way the database would, but as messages by the fields."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lejek.core.fields import CURRENCIES
from lejek.pipeline.forms import AmountField
from lejek.sales.models import Product

CENTS = Decimal("0.01")
FIELDS = ("name", "sku", "unit", "net_price", "vat_rate", "currency", "active")


class ProductForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    sku = forms.CharField(
        label=_("SKU"),
        max_length=64,
        help_text=_("Your own product code; unique in the catalogue."),
    )
    unit = forms.CharField(
        label=_("Unit"),
        max_length=16,
        initial="szt.",
        help_text=_("As printed on offers and invoices, e.g. szt., h, month."),
    )
    net_price = AmountField(
        label=_("Net price"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(0),
        localize=True,
        error_messages={"min_value": _("The price cannot be negative.")},
    )
    vat_rate = forms.DecimalField(
        label=_("VAT rate"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        localize=True,
        initial=Decimal(23),
        help_text=_("A percentage from 0 to 100; 23 is the standard Polish rate."),
        error_messages={
            "min_value": _("A VAT rate is a percentage from 0 to 100."),
            "max_value": _("A VAT rate is a percentage from 0 to 100."),
        },
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCIES)
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("Switch off what you no longer sell; it stays in the catalogue."),
    )

    def __init__(self, *args, instance: Product | None = None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        initial = {"currency": getattr(settings, "LEJEK_CURRENCY", "PLN")}
        if instance is not None:
            initial = {name: getattr(instance, name) for name in FIELDS}
        kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        self.instance = instance
        for name in ("net_price", "vat_rate"):
            self.fields[name].widget.attrs.setdefault("inputmode", "decimal")

    def clean_sku(self) -> str:
        sku = self.cleaned_data["sku"].strip()
        # "abc-1" and "ABC-1" on two products would be the same code on an invoice.
        others = Product.objects.filter(sku__iexact=sku)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(gettext("Another product already has this SKU."))
        return sku

    def clean_net_price(self) -> Decimal:
        # Stored with two places anyway; the event log then reads "10.00" as the column does.
        return self.cleaned_data["net_price"].quantize(CENTS)

    def clean_vat_rate(self) -> Decimal:
        return self.cleaned_data["vat_rate"].quantize(CENTS)

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in FIELDS}
