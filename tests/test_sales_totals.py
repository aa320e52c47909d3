"""The arithmetic of line items: rounding per line, VAT per rate on the total, Decimal only."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lejek.sales.totals import Line, compute_totals, line_net, vat_amount

CENT = Decimal("0.01")
RATES = [Decimal("23"), Decimal("8"), Decimal("5"), Decimal("0")]

quantities = st.decimals(min_value="0.001", max_value="10000", places=3)
prices = st.decimals(min_value="0", max_value="1000000", places=2)
discounts = st.decimals(min_value="0", max_value="100", places=2)
lines = st.builds(Line, quantities, prices, discounts, st.sampled_from(RATES))


@given(st.lists(lines, max_size=30))
def test_sum_of_line_nets_is_the_total_net(items):
    totals = compute_totals(items)
    expected = sum((line_net(i.quantity, i.unit_price, i.discount) for i in items), Decimal("0.00"))
    assert totals.net == expected
    assert sum((r.net for r in totals.rates), Decimal(0)) == totals.net


@given(st.lists(lines, max_size=30))
def test_vat_per_rate_is_rounded_half_up_on_the_rate_total(items):
    for rate in compute_totals(items).rates:
        exact = rate.net * rate.rate / 100
        assert rate.vat == exact.quantize(CENT, rounding=ROUND_HALF_UP)
        assert abs(rate.vat - exact) <= Decimal("0.005")


@given(st.lists(lines, max_size=30))
def test_gross_is_net_plus_vat_per_rate_and_in_total(items):
    totals = compute_totals(items)
    assert totals.gross == totals.net + totals.vat
    for rate in totals.rates:
        assert rate.gross == rate.net + rate.vat


@given(quantities, prices, st.sampled_from(RATES))
def test_full_discount_gives_zero(quantity, price, rate):
    totals = compute_totals([Line(quantity, price, Decimal(100), rate)])
    assert totals.net == totals.vat == totals.gross == Decimal(0)


@given(st.lists(lines, max_size=30))
def test_every_figure_is_a_decimal_with_two_places(items):
    totals = compute_totals(items)
    figures = [totals.net, totals.vat, totals.gross]
    for rate in totals.rates:
        figures += [rate.net, rate.vat, rate.gross]
    for figure in figures:
        assert isinstance(figure, Decimal)
        assert figure == figure.quantize(CENT)


@given(quantities, prices, discounts)
def test_line_net_is_rounded_half_up_to_the_grosz(quantity, price, discount):
    exact = quantity * price * (100 - discount) / 100
    assert line_net(quantity, price, discount) == exact.quantize(CENT, rounding=ROUND_HALF_UP)


def test_half_a_grosz_rounds_up():
    assert line_net(Decimal("1"), Decimal("0.05"), Decimal("50")) == Decimal("0.03")
    assert vat_amount(Decimal("0.50"), Decimal("1")) == Decimal("0.01")


def test_vat_is_computed_on_the_rate_total_not_line_by_line():
    # Three lines of 0.10 at 5%: 0.005 each would round to 0.01 each (0.03 line by line);
    # on the total, 0.30 x 5% = 0.015 → 0.02.
    items = [Line(Decimal(1), Decimal("0.10"), Decimal(0), Decimal(5)) for _ in range(3)]
    totals = compute_totals(items)
    assert totals.vat == Decimal("0.02")


def test_rates_are_listed_highest_first_with_their_own_totals():
    items = [
        Line(Decimal(2), Decimal("100.00"), Decimal(0), Decimal(8)),
        Line(Decimal(1), Decimal("1200.00"), Decimal("10"), Decimal(23)),
    ]
    totals = compute_totals(items)
    assert [r.rate for r in totals.rates] == [Decimal("23.00"), Decimal("8.00")]
    assert totals.rates[0].net == Decimal("1080.00")
    assert totals.rates[0].vat == Decimal("248.40")
    assert totals.rates[1].vat == Decimal("16.00")
    assert totals.gross == Decimal("1544.40")


@pytest.mark.parametrize("field", ["quantity", "unit_price", "discount", "vat_rate"])
def test_a_float_anywhere_is_refused(field):
    values = {
        "quantity": Decimal(1),
        "unit_price": Decimal(10),
        "discount": Decimal(0),
        "vat_rate": Decimal(23),
    }
    values[field] = 1.5
    with pytest.raises(TypeError):
        compute_totals([Line(**values)])


def test_no_lines_give_zero_totals():
    totals = compute_totals([])
    assert totals.rates == ()
    assert totals.gross == Decimal("0.00")
