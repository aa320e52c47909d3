"""Where a page goes after an action: back to the page the action started from.

A link or form passes `next` (a query parameter, or a hidden field of a POST form); it is
followed only when it stays on this site, so a crafted link cannot send someone elsewhere.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest) -> str:
    """The local address in `next` (POST first, then the query), or ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else ""
