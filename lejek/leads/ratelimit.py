"""Per-client rate limits on the public endpoints, counted in Django's default cache.

A fixed window per client: "30/m" lets 30 requests through each clock minute. The cache is
shared by all web processes in production (Redis), so the limit holds across workers; the
local in-memory cache counts per process, which is enough for development.
"""

from __future__ import annotations

import ipaddress
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rate(text: str) -> Rate | None:
    """ "30/m" → 30 per 60 s, "100/10s" → 100 per 10 s; "" or "off" → no limit."""
    if text.strip().lower() in ("", "off", "none"):
        return None
    match = _RATE.match(text)
    if match is None:
        raise ImproperlyConfigured(
            f"Rate {text!r} is not like '30/m' (a count per s, m, h or d) or 'off'."
        )
    count, multiple, unit = match.groups()
    return Rate(count=int(count), seconds=int(multiple or 1) * PERIODS[unit])


def form_rate() -> Rate | None:
    return parse_rate(getattr(settings, "LEJEK_FORM_RATE_LIMIT", "30/m"))


def _valid_ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or with N trusted proxies the address the
    outermost of them saw (N-th from the right in X-Forwarded-For).

    X-Forwarded-For is written by whoever sends the request, so it is believed only as far
    as LEJEK_TRUSTED_PROXIES says proxies of our own added to it.
    """
    remote = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    proxies = int(getattr(settings, "LEJEK_TRUSTED_PROXIES", 0) or 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    return _valid_ip(hops[-min(proxies, len(hops))]) or remote


def hit(scope: str, client: str | None, rate: Rate | None) -> int | None:
    """Count one request; None when it may pass, else the seconds until it may retry."""
    if rate is None:
        return None
    now = time.time()
    window = int(now // rate.seconds)
    key = f"ratelimit:{scope}:{client or 'unknown'}:{window}"
    if cache.add(key, 1, timeout=rate.seconds + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, timeout=rate.seconds + 1)
            count = 1
    if count <= rate.count:
        return None
    return max(1, int((window + 1) * rate.seconds - now + 0.999))
