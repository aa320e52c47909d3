"""Turning spreadsheet text into dates, amounts, numbers and yes/no.

People export from Excel in Polish and English settings alike, so "12 345,50", "12,345.50"
and "12345.5" are all amounts, and 31.12.2025, 2025-12-31 and Excel's serial 46022 are all
the same day.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from lejek.core.custom_fields import FALSE_WORDS, TRUE_WORDS

DATE_FORMATS = (
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%Y/%m/%d",
    "%d-%m-%Y",
    "%Y.%m.%d",
    "%d.%m.%y",
)
TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%H:%M:%S.%f")
# Excel counts days from 1899-12-30 (its 1900 leap-year bug folded in).
EXCEL_EPOCH = datetime.datetime(1899, 12, 30)
EXCEL_SERIAL = re.compile(r"^\d{1,6}(\.\d+)?$")
FRIENDLY_TOKENS = (("YYYY", "%Y"), ("YY", "%y"), ("MM", "%m"), ("DD", "%d"))
FRIENDLY_TIME = (("HH", "%H"), ("mm", "%M"), ("ss", "%S"))


def strftime_format(text: str) -> str:
    """A date format as strftime wants it, from "DD.MM.YYYY" or "%d.%m.%Y"."""
    if "%" in text:
        return text
    result = text
    for token, code in FRIENDLY_TIME:
        result = result.replace(token, code)
    for token, code in FRIENDLY_TOKENS:
        result = result.replace(token, code)
    return result


@functools.lru_cache(maxsize=8192)
def parse_datetime(text: str, date_format: str = "") -> datetime.datetime:
    """A naive datetime from the usual ways dates are written; midnight when no time is given."""
    text = text.strip()
    if date_format:
        fmt = strftime_format(date_format)
        for candidate in (fmt, *(f"{fmt} {t}" for t in TIME_FORMATS)):
            try:
                return datetime.datetime.strptime(text, candidate)
            except ValueError:
                continue
    if EXCEL_SERIAL.match(text):
        days = float(text)
        if 1 <= days < 2958466:
            return EXCEL_EPOCH + datetime.timedelta(days=days)
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        pass
    day, _sep, time = text.partition(" ")
    time = time.strip()
    for fmt in DATE_FORMATS:
        try:
            parsed = datetime.datetime.strptime(day, fmt)
        except ValueError:
            continue
        if not time:
            return parsed
        for time_fmt in TIME_FORMATS:
            try:
                clock = datetime.datetime.strptime(time, time_fmt).time()
            except ValueError:
                continue
            return datetime.datetime.combine(parsed.date(), clock)
    raise ValidationError(
        _("“%(value)s” is not a date. Use e.g. 2025-12-31 or 31.12.2025.") % {"value": text}
    )


def parse_date(text: str, date_format: str = "") -> datetime.date:
    return parse_datetime(text, date_format).date()


def parse_decimal(text: str) -> decimal.Decimal:
    """An amount from "12 345,50", "12,345.50", "12.345,50", "1234.5" or "-5"."""
    cleaned = re.sub(r"[\s\u00a0\u202f']", "", text.strip())
    cleaned = re.sub(r"[^\d,.\-+]", "", cleaned) if re.search(r"\d", cleaned) else cleaned
    if "," in cleaned and "." in cleaned:
        # Whichever comes last is the decimal separator; the other groups thousands.
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif cleaned.count(",") == 1:
        cleaned = cleaned.replace(",", ".")
    elif cleaned.count(",") > 1:
        cleaned = cleaned.replace(",", "")
    elif cleaned.count(".") > 1:
        cleaned = cleaned.replace(".", "")
    try:
        number = decimal.Decimal(cleaned)
    except decimal.InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ValidationError(_("“%(value)s” is not an amount.") % {"value": text})
    return number


def parse_int(text: str) -> int:
    try:
        number = parse_decimal(text)
    except ValidationError:
        number = None
    if number is None or number != number.to_integral_value():
        raise ValidationError(_("“%(value)s” is not a whole number.") % {"value": text})
    return int(number)


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValidationError(_("“%(value)s” is not yes or no.") % {"value": value})
