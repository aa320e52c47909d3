"""Money as people read it: `12 345,00 zł` in Polish, `PLN 12,345.00` in English."""

from __future__ import annotations

from decimal import Decimal

SYMBOLS_PL = {"PLN": "zł", "EUR": "€", "USD": "$", "GBP": "£"}


def format_money(amount: Decimal | int | str | None, currency: str, language: str) -> str:
    if amount is None or amount == "":
        return "—"
    value = Decimal(str(amount)).quantize(Decimal("0.01"))
    sign = "-" if value < 0 else ""
    whole, cents = f"{abs(value):.2f}".split(".")
    grouped = f"{int(whole):,}"
    if language.startswith("pl"):
        grouped = grouped.replace(",", "\u00a0")
        return f"{sign}{grouped},{cents}\u00a0{SYMBOLS_PL.get(currency, currency)}"
    return f"{currency}\u00a0{sign}{grouped}.{cents}"
