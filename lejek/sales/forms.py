"""Forms of the product catalogue, deal lines and offers.

They check input the way the database would, but as messages by the fields.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lejek.core.fields import CURRENCIES
from lejek.core.widgets import DateInput
from lejek.pipeline.forms import AmountField
from lejek.sales.models import Offer, Product

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


# Deal lines and offers --------------------------------------------------------------------

PERCENT_MESSAGES = {
    "min_value": _("A percentage from 0 to 100."),
    "max_value": _("A percentage from 0 to 100."),
}


def _percent_field(label, initial: Decimal, *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        initial=initial,
        localize=True,
        error_messages=PERCENT_MESSAGES,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}),
    )


def _quantity_field() -> forms.DecimalField:
    return forms.DecimalField(
        label=_("Quantity"),
        max_digits=12,
        decimal_places=3,
        min_value=Decimal("0.001"),
        initial=Decimal(1),
        localize=True,
        error_messages={"min_value": _("The quantity must be more than zero.")},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}),
    )


class DealLineAddForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.all(),
        empty_label=_("Choose a product…"),
        error_messages={"invalid_choice": _("Choose a product from the catalogue.")},
    )
    quantity = _quantity_field()
    discount = _percent_field(_("Discount (%)"), Decimal(0), required=False)

    def __init__(self, *args, deal, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("prefix", "line")
        super().__init__(*args, **kwargs)
        # Offer only what can be added: active products in the deal's currency. The service
        # refuses anything else with a message, should an old page post it.
        offered = Product.objects.filter(active=True, currency=deal.currency).order_by("name")
        self.fields["product"].widget.choices = [("", self.fields["product"].empty_label)] + [
            (p.pk, f"{p.name} ({p.sku})") for p in offered
        ]
        self.has_products = bool(offered)


class DealLineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    quantity = _quantity_field()
    unit = forms.CharField(label=_("Unit"), max_length=16, required=False)
    unit_price = AmountField(
        label=_("Unit net price"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(0),
        localize=True,
        error_messages={"min_value": _("The price cannot be negative.")},
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    discount = _percent_field(_("Discount (%)"), Decimal(0))
    vat_rate = _percent_field(_("VAT rate (%)"), Decimal(23))

    def __init__(self, *args, line=None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        if line is not None:
            kwargs["initial"] = {name: getattr(line, name) for name in self.base_fields}
        super().__init__(*args, **kwargs)

    def clean_unit_price(self) -> Decimal:
        return self.cleaned_data["unit_price"].quantize(CENTS)

    def values(self) -> dict:
        return dict(self.cleaned_data)


class OfferForm(forms.Form):
    valid_until = forms.DateField(label=_("Valid until"), widget=DateInput())
    language = forms.ChoiceField(
        label=_("Language"),
        choices=Offer.Language.choices,
        help_text=_("The PDF and the e-mail of the offer are written in this language."),
    )
    terms = forms.CharField(
        label=_("Terms"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Payment, delivery and anything else the customer agrees to."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class OfferStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Offer.Status.choices)


class OfferEmailForm(forms.Form):
    to = forms.CharField(
        label=_("To"),
        max_length=1000,
        help_text=_("One or more addresses, separated by commas."),
    )
    title = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 10}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_to(self) -> list[str]:
        addresses = [a.strip() for a in self.cleaned_data["to"].replace(";", ",").split(",")]
        addresses = [a for a in addresses if a]
        if not addresses:
            raise ValidationError(gettext("Enter at least one address."))
        bad = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValidationError(
                gettext("Not an e-mail address: %(list)s") % {"list": ", ".join(bad)}
            )
        return addresses
