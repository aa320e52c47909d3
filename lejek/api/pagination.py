"""Pages of a list: `limit` with either `offset` or an opaque `cursor`; `count`, `next`, `items`.

Without `offset` the `next` link carries a cursor: the position after the last row (keyset),
so rows added or removed meanwhile neither repeat nor vanish between pages. With `offset`
the `next` link simply moves the offset on.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import json
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Schema

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageParams(Schema):
    limit: int = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Rows per page, at most {MAX_LIMIT}."
    )
    offset: int | None = Field(
        None, ge=0, description="Skip this many rows (offset paging; `next` keeps using it)."
    )
    cursor: str | None = Field(
        None, description="Continue after a previous page: copy it from that page's `next`."
    )


def orderings(*fields: str) -> Any:
    """A Literal of the allowed `ordering` values: each field, ascending or with `-`."""
    return Literal[tuple(value for field in fields for value in (field, f"-{field}"))]


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """A `{count, next, items: [item]}` schema named for the OpenAPI document."""
    return type(
        name,
        (Schema,),
        {
            "__annotations__": {"count": int, "next": str | None, "items": list[item]},
            "__module__": item.__module__,
        },
    )


def _to_json(value: Any) -> Any:
    # Exact round trip (DjangoJSONEncoder would cut microseconds and break the keyset).
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _encode(ordering: str, value: Any, pk: int) -> str:
    raw = json.dumps({"o": ordering, "v": _to_json(value), "k": pk}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid_cursor() -> ValidationError:
    return ValidationError({"cursor": _("This cursor is not valid; start from the first page.")})


def _decode(cursor: str, ordering: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        value, pk = data["v"], int(data["k"])
        made_for = data["o"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise _invalid_cursor() from None
    if not isinstance(value, str | int | float | None):
        raise _invalid_cursor()
    if made_for != ordering:
        raise ValidationError(
            {"cursor": _("This cursor belongs to another ordering; start from the first page.")}
        )
    return value, pk


def _order(queryset: QuerySet, field: str, descending: bool) -> QuerySet:
    # Nulls count as the smallest value on every database, so the keyset below holds.
    if descending:
        return queryset.order_by(F(field).desc(nulls_last=True), "-pk")
    return queryset.order_by(F(field).asc(nulls_first=True), "pk")


def _after(field: str, descending: bool, value: Any, pk: int) -> Q:
    """Rows strictly after (value, pk) in the order `_order` gives."""
    is_null = Q(**{f"{field}__isnull": True})
    if value is None and descending:
        return is_null & Q(pk__lt=pk)  # nulls come last: only the remaining nulls
    if value is None:
        return (is_null & Q(pk__gt=pk)) | ~is_null  # nulls come first: then every value
    if descending:
        return Q(**{f"{field}__lt": value}) | Q(**{field: value}, pk__lt=pk) | is_null
    return Q(**{f"{field}__gt": value}) | Q(**{field: value}, pk__gt=pk)


def _link(request: HttpRequest, **changes: Any) -> str:
    query = request.GET.copy()
    for name, value in changes.items():
        query.pop(name, None)
        if value is not None:
            query[name] = str(value)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def paginate(
    request: HttpRequest, queryset: QuerySet, params: PageParams, ordering: str
) -> dict[str, Any]:
    """One page of `queryset` in `ordering` (a field name, `-` for descending)."""
    if params.offset is not None and params.cursor:
        raise ValidationError({"cursor": _("Use either offset or cursor, not both.")})
    field, descending = ordering.lstrip("-"), ordering.startswith("-")
    queryset = _order(queryset, field, descending)
    count = queryset.count()
    if params.cursor:
        value, pk = _decode(params.cursor, ordering)
        try:
            queryset = queryset.filter(_after(field, descending, value, pk))
        except (ValueError, TypeError, ValidationError):
            raise _invalid_cursor() from None  # a tampered value the field cannot hold
    start = params.offset or 0
    rows = list(queryset[start : start + params.limit + 1])
    more, rows = len(rows) > params.limit, rows[: params.limit]
    next_link = None
    if more and params.offset is not None:
        next_link = _link(request, offset=start + params.limit, cursor=None)
    elif more:
        last = rows[-1]
        cursor = _encode(ordering, getattr(last, field), last.pk)
        next_link = _link(request, cursor=cursor, offset=None)
    return {"count": count, "next": next_link, "items": rows}
