"""Filters shared by the lists of owned records: owner, team, creation time, text, custom fields."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field

from lejek.api.pagination import PageParams
from lejek.core.custom_fields import filter_queryset
from lejek.core.search import matching


class RecordFilters(PageParams):
    owner: str | None = Field(
        None,
        pattern=r"^(me|none|\d+)$",
        description='A user id, "me", or "none" for unassigned records.',
    )
    team: int | None = Field(None, description="A team id.")
    created_after: datetime.datetime | None = Field(
        None, description="Created at or after this moment (a date means its midnight, Warsaw)."
    )
    created_before: datetime.datetime | None = Field(
        None, description="Created before this moment (a date means its midnight, Warsaw)."
    )
    q: str | None = Field(None, max_length=200, description="Text to look for.")


def aware(moment: datetime.datetime) -> datetime.datetime:
    if timezone.is_naive(moment):
        return timezone.make_aware(moment)
    return moment


def text_search(queryset: QuerySet, q: str | None, fields: list[str]) -> QuerySet:
    return queryset.filter(matching(fields, q))


def by_owner(queryset: QuerySet, user, owner: str | None, field: str = "owner") -> QuerySet:
    match owner:
        case None:
            return queryset
        case "me":
            return queryset.filter(**{field: user})
        case "none":
            return queryset.filter(**{f"{field}__isnull": True})
    return queryset.filter(**{f"{field}_id": int(owner)})


def by_created(queryset: QuerySet, filters: RecordFilters) -> QuerySet:
    if filters.created_after is not None:
        queryset = queryset.filter(created_at__gte=aware(filters.created_after))
    if filters.created_before is not None:
        queryset = queryset.filter(created_at__lt=aware(filters.created_before))
    return queryset


def filter_records(
    request: HttpRequest,
    queryset: QuerySet,
    filters: RecordFilters,
    *,
    search: list[str],
    entity: str,
) -> QuerySet:
    """Apply the shared filters plus `cf_<key>` custom-field filters from the query string."""
    queryset = by_owner(queryset, request.auth, filters.owner)
    if filters.team is not None:
        queryset = queryset.filter(team_id=filters.team)
    queryset = by_created(queryset, filters)
    queryset = text_search(queryset, filters.q, search)
    return filter_queryset(queryset, entity, request.GET)
