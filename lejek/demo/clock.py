"""Dates for the demo data: working hours in Lejek's time zone, counted back from one moment."""

from __future__ import annotations

import datetime
import random
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


class Clock:
    """Moments drawn from the builder's random generator, so they repeat with the seed."""

    def __init__(self, rng: random.Random, now: datetime.datetime):
        self.rng = rng
        self.now = now
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.today = self.date(now)

    def date(self, moment: datetime.datetime) -> datetime.date:
        return timezone.localtime(moment, self.tz).date()

    def _at_work(self, day: datetime.date) -> datetime.datetime:
        hour, minute = self.rng.randint(8, 17), self.rng.randrange(60)
        return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=self.tz)

    def moment(self, days_ago: float) -> datetime.datetime:
        """A working-hours moment on a day before today, about `days_ago` days back."""
        day = self.today - datetime.timedelta(days=int(days_ago) + 1)
        if day.weekday() >= 5:
            # Nobody logs calls at the weekend: the Friday before.
            day -= datetime.timedelta(days=day.weekday() - 4)
        moment = self._at_work(day)
        return min(moment, self.now - datetime.timedelta(minutes=self.rng.randint(5, 180)))

    def after(self, start: datetime.datetime, low: float, high: float) -> datetime.datetime | None:
        """A working-hours moment `low` to `high` days after `start`; None if it is yet to come."""
        day = self.date(start) + datetime.timedelta(days=int(self.rng.uniform(low, high)))
        if day.weekday() >= 5:
            day += datetime.timedelta(days=7 - day.weekday())
        moment = self._at_work(day)
        moment = max(moment, start + datetime.timedelta(minutes=self.rng.randint(15, 120)))
        return moment if moment <= self.now else None

    def between(self, start: datetime.datetime, end: datetime.datetime) -> datetime.datetime:
        """A moment from `start` to `end`, in working hours where the span allows."""
        moment = timezone.localtime(start + (end - start) * self.rng.random(), self.tz)
        moment = moment.replace(hour=self.rng.randint(8, 17))
        return min(max(moment, start), end)
