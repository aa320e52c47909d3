"""How replies are written: UTF-8 JSON, every time in UTC."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder


class UtcJSONEncoder(NinjaJSONEncoder):
    """A record just saved holds the offset the client sent (+01:00); one read back from the
    database is in UTC. Both are written in UTC so the same moment always looks the same."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime) and timezone.is_aware(o):
            o = o.astimezone(datetime.UTC)
        return super().default(o)


class LejekJSONRenderer(JSONRenderer):
    encoder_class = UtcJSONEncoder
    # "Wdrożenie", not "Wdro\u017cenie": Polish text stays readable in logs and curl.
    json_dumps_params = {"ensure_ascii": False}
