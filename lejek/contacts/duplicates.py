"""The duplicate finder: groups of existing records that are probably one person or company.

Each kind has its criteria (same e-mail, same phone, same NIP, ...). A criterion groups in SQL
(`GROUP BY key HAVING COUNT(*) > 1`, sorted and sliced to the page), then fetches the page's
records in one query, so the work stays a few indexed queries however many records there are.
The keys are compared as stored: the services store e-mails, phones, NIPs and domains
normalised (see normalize.py), so equality on the column is equality of the normalised value.

Company names are the exception: their key (`company_key`, up to legal form, case, diacritics
and punctuation) is computed in Python. That criterion reads (id, name) in chunks, keys them
and groups in a dict: linear time, memory for one int per company, fine up to about a million
companies (beyond that it would need a stored key column). The grouping is cached until a
company in scope is added, removed or saved, so paging through it keys the names once.

Only records the user may edit are considered, since finding a pair is only useful for
merging it.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core.cache import cache
from django.db.models import Case, Count, F, Max, Model, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from lejek.contacts.merge import kind_of, model_for
from lejek.contacts.models import Contact
from lejek.contacts.normalize import company_key, format_phone

PER_PAGE = 20
# Company names are keyed in Python a chunk at a time, so memory stays flat while reading.
NAME_CHUNK = 5000
NAME_CACHE_SECONDS = 600
CLOSED_LEAD = Q(status__in=["converted", "disqualified"])
KINDS = ("lead", "contact", "company")


@dataclass(frozen=True)
class Group:
    reason: str
    label: str
    records: list[Model]


@dataclass
class DuplicatePage:
    kind: str
    groups: list[Group]
    total: int
    page: int
    per_page: int = PER_PAGE
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


class Found(Protocol):
    """One criterion applied to the user's records: how many groups, and a slice of them."""

    count: int

    def groups(self, offset: int, limit: int) -> list[Group]: ...


@dataclass(frozen=True)
class SameColumns:
    """Records sharing the values of `keys` (SQL expressions), none of them empty."""

    code: str
    reason: Promise
    keys: dict[str, Any]
    present: Q
    label: Callable[[Model], str]
    # Lead groups with an open lead come first, and open leads first within a group.
    open_first: bool = False

    def apply(self, rows: QuerySet) -> Found:
        return _SqlGroups(self, rows)


class _SqlGroups:
    def __init__(self, criterion: SameColumns, rows: QuerySet) -> None:
        self.criterion = criterion
        self.rows = rows.filter(criterion.present).annotate(**criterion.keys)
        self.count = self._grouped().count()

    def _grouped(self) -> QuerySet:
        names = list(self.criterion.keys)
        grouped = self.rows.order_by().values(*names).annotate(n=Count("pk"))
        if self.criterion.open_first:
            grouped = grouped.annotate(
                has_open=Max(Case(When(CLOSED_LEAD, then=Value(0)), default=Value(1)))
            )
        return grouped.filter(n__gt=1)

    def groups(self, offset: int, limit: int) -> list[Group]:
        names = list(self.criterion.keys)
        first = [F("has_open").desc()] if self.criterion.open_first else []
        keys = list(self._grouped().order_by(*first, "-n", *names)[offset : offset + limit])
        if not keys:
            return []
        wanted = Q()
        for key in keys:
            wanted |= Q(**{name: key[name] for name in names})
        buckets: dict[tuple, list[Model]] = defaultdict(list)
        for obj in _ordered(self.rows.filter(wanted), open_first=self.criterion.open_first):
            buckets[tuple(getattr(obj, name) for name in names)].append(obj)
        result = []
        for key in keys:
            records = buckets[tuple(key[name] for name in names)]
            if len(records) > 1:
                result.append(_group(self.criterion, records))
        return result


@dataclass(frozen=True)
class SameCompanyKey:
    """Companies whose names reduce to the same `company_key`, keyed in Python."""

    code: str
    reason: Promise
    label: Callable[[Model], str]
    open_first: bool = False

    def apply(self, rows: QuerySet) -> Found:
        return _KeyedGroups(self, rows)


class _KeyedGroups:
    def __init__(self, criterion: SameCompanyKey, rows: QuerySet) -> None:
        self.criterion = criterion
        self.rows = rows
        self.id_groups = _name_groups(rows)
        self.count = len(self.id_groups)

    def groups(self, offset: int, limit: int) -> list[Group]:
        page = self.id_groups[offset : offset + limit]
        wanted = [pk for ids in page for pk in ids]
        by_id = {obj.pk: obj for obj in _ordered(self.rows.filter(pk__in=wanted))}
        result = []
        for ids in page:
            records = sorted(
                (by_id[pk] for pk in ids if pk in by_id), key=lambda o: (o.created_at, o.pk)
            )
            if len(records) > 1:
                result.append(_group(self.criterion, records))
        return result


def _name_groups(rows: QuerySet) -> list[list[int]]:
    """Ids of the companies in `rows` that share a name key, biggest groups first.

    Keying is the slow part (about a second per 100,000 names), so the result is cached
    until a company in scope is added, removed or saved: the cache key holds the scope's
    query and its count, newest save and highest id.
    """
    state = rows.order_by().aggregate(n=Count("pk"), saved=Max("updated_at"), top=Max("pk"))
    fingerprint = f"{rows.order_by().query}|{state['n']}|{state['saved']}|{state['top']}"
    cache_key = "duplicates:company-name:" + hashlib.sha256(fingerprint.encode()).hexdigest()
    cached = cache.get(cache_key)
    if cached is not None:
        return cached
    buckets: dict[str, list[int]] = defaultdict(list)
    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last).order_by("pk").values_list("pk", "name")[:NAME_CHUNK])
        if not chunk:
            break
        for pk, name in chunk:
            key = company_key(name)
            if key:
                buckets[key].append(pk)
        last = chunk[-1][0]
    # Then the group holding the oldest id first, so that pages are stable.
    groups = sorted(
        (ids for ids in buckets.values() if len(ids) > 1), key=lambda ids: (-len(ids), ids[0])
    )
    cache.set(cache_key, groups, NAME_CACHE_SECONDS)
    return groups


def _ordered(rows: QuerySet, *, open_first: bool = False) -> QuerySet:
    rows = rows.select_related("owner")
    if rows.model is Contact:
        rows = rows.select_related("company")
    if open_first:
        closed = Case(When(CLOSED_LEAD, then=Value(1)), default=Value(0))
        return rows.order_by(closed, "created_at", "pk")
    return rows.order_by("created_at", "pk")


def _group(criterion, records: list[Model]) -> Group:
    return Group(reason=str(criterion.reason), label=criterion.label(records[0]), records=records)


def _phone_label(obj: Model) -> str:
    return format_phone(obj.phone)


def _person_at_company(obj: Contact) -> str:
    return f"{obj} · {obj.company}"


NOT_EMPTY_EMAIL = ~Q(email="")
NOT_EMPTY_PHONE = ~Q(phone="")

CRITERIA: dict[str, tuple] = {
    "lead": (
        SameColumns(
            "email",
            _("same e-mail"),
            {"dup_email": F("email")},
            NOT_EMPTY_EMAIL,
            label=lambda o: o.email,
            open_first=True,
        ),
        SameColumns(
            "phone",
            _("same phone"),
            {"dup_phone": F("phone")},
            NOT_EMPTY_PHONE,
            label=_phone_label,
            open_first=True,
        ),
    ),
    "contact": (
        SameColumns(
            "email", _("same e-mail"), {"dup_email": F("email")}, NOT_EMPTY_EMAIL, lambda o: o.email
        ),
        SameColumns(
            "phone", _("same phone"), {"dup_phone": F("phone")}, NOT_EMPTY_PHONE, _phone_label
        ),
        SameColumns(
            "name",
            _("same name and company"),
            {
                "dup_first": Lower("first_name"),
                "dup_last": Lower("last_name"),
                "dup_company": F("company_id"),
            },
            Q(company__isnull=False) & ~Q(last_name=""),
            _person_at_company,
        ),
    ),
    "company": (
        SameColumns("nip", _("same NIP"), {"dup_nip": F("nip")}, ~Q(nip=""), lambda o: o.nip),
        SameColumns(
            "domain",
            _("same domain"),
            {"dup_domain": F("domain")},
            ~Q(domain=""),
            lambda o: o.domain,
        ),
        SameCompanyKey("name", _("same name"), str),
    ),
}


def finder_kinds(user) -> list[str]:
    """The kinds whose duplicates `user` may look for: those they may edit at all."""
    return [
        kind for kind in KINDS if not model_for(kind).objects.editable_by(user).query.is_empty()
    ]


def reasons(kind: str) -> list[tuple[str, str]]:
    return [(c.code, str(c.reason)) for c in CRITERIA[kind]]


def find_duplicates(
    user, kind: str, *, page: int = 1, per_page: int = PER_PAGE, reason: str | None = None
) -> DuplicatePage:
    """One page of duplicate groups of `kind` among the records `user` may edit.

    The groups of every criterion (or only `reason`'s) follow one another, in the order the
    criteria are declared; a record may appear under several reasons.
    """
    rows = model_for(kind).objects.editable_by(user)
    criteria = [c for c in CRITERIA[kind] if reason in (None, c.code)]
    found = [(c, c.apply(rows)) for c in criteria]
    total = sum(f.count for _c, f in found)
    page = min(max(page, 1), max(1, math.ceil(total / per_page)))
    offset, room, groups = (page - 1) * per_page, per_page, []
    for _criterion, part in found:
        if offset >= part.count:
            offset -= part.count
            continue
        take = min(room, part.count - offset)
        groups += part.groups(offset, take)
        room -= take
        offset = 0
        if room == 0:
            break
    counts = {c.code: f.count for c, f in found}
    return DuplicatePage(kind, groups, total, page, per_page, counts)


# One record's likely duplicates, for "Merge with…" on a record page --------------------------


def duplicates_of(user, obj: Model, *, limit: int = 20) -> list[tuple[str, Model]]:
    """(reason, record) for the records `user` may edit that the finder groups with `obj`.

    `obj` is one the user may edit too (the finder's scope), or its name matches nothing.
    """
    kind = kind_of(type(obj))
    rows = type(obj)._default_manager.editable_by(user)
    found: dict[int, tuple[str, Model]] = {}
    for criterion in CRITERIA[kind]:
        for match in _matches(criterion, rows, obj, limit):
            found.setdefault(match.pk, (str(criterion.reason), match))
    return list(found.values())[:limit]


def _matches(criterion, rows: QuerySet, obj: Model, limit: int) -> list[Model]:
    if isinstance(criterion, SameCompanyKey):
        # The finder's (cached) grouping, so a record page and the finder always agree.
        group = next((ids for ids in _name_groups(rows) if obj.pk in ids), [])
        same = rows.filter(pk__in=group)
    else:
        own = type(obj)._default_manager.filter(criterion.present, pk=obj.pk)
        key = own.annotate(**criterion.keys).values(*criterion.keys).first()
        if key is None:
            return []
        same = rows.filter(criterion.present).annotate(**criterion.keys).filter(**key)
    same = same.exclude(pk=obj.pk)
    return list(_ordered(same, open_first=criterion.open_first)[:limit])
