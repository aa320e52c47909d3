"""The arithmetic of line items: pure functions over Decimal, no database.

The rule, as on a Polish VAT invoice: each line's net value is rounded half-up to the grosz;
VAT is then computed once per rate on the sum of the nets at that rate and rounded half-up
to the grosz (not line by line, which can drift a grosz or two from what the invoice shows).
Gross is net plus VAT, per rate and in total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


class PricedLine(Protocol):
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    vat_rate: Decimal


@dataclass(frozen=True)
class Line:
    """A line as plain values: what tests and callers without a model row pass in."""

    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    vat_rate: Decimal


@dataclass(frozen=True)
class RateTotal:
    rate: Decimal
    net: Decimal
    vat: Decimal
    gross: Decimal


@dataclass(frozen=True)
class Totals:
    rates: tuple[RateTotal, ...]
    net: Decimal
    vat: Decimal
    gross: Decimal


def _decimal(value: object, name: str) -> Decimal:
    # A float has already lost the grosz it was meant to carry; refuse it rather than guess.
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    return value


def round_cents(value: Decimal) -> Decimal:
    return _decimal(value, "value").quantize(CENT, rounding=ROUND_HALF_UP)


def line_net(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
    """quantity x price x (1 - discount/100), rounded half-up to 0.01."""
    quantity = _decimal(quantity, "quantity")
    unit_price = _decimal(unit_price, "unit_price")
    discount = _decimal(discount, "discount")
    return round_cents(quantity * unit_price * (HUNDRED - discount) / HUNDRED)


def vat_amount(net: Decimal, rate: Decimal) -> Decimal:
    return round_cents(_decimal(net, "net") * _decimal(rate, "rate") / HUNDRED)


def compute_totals(lines: Iterable[PricedLine]) -> Totals:
    """Totals per VAT rate (highest rate first) and overall."""
    nets: dict[Decimal, Decimal] = {}
    for line in lines:
        rate = round_cents(_decimal(line.vat_rate, "vat_rate"))
        net = line_net(line.quantity, line.unit_price, line.discount)
        nets[rate] = nets.get(rate, Decimal("0.00")) + net
    rates = tuple(
        RateTotal(rate=rate, net=net, vat=vat_amount(net, rate), gross=net + vat_amount(net, rate))
        for rate, net in sorted(nets.items(), reverse=True)
    )
    net = sum((r.net for r in rates), Decimal("0.00"))
    vat = sum((r.vat for r in rates), Decimal("0.00"))
    return Totals(rates=rates, net=net, vat=vat, gross=net + vat)
