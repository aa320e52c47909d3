"""Duplicates pages: the finder, "Merge with…", the side-by-side merge page, and the history.

Who may merge: anyone who may edit both records (reps only their own, marketing only leads);
the services check it again. A record page's "Merge with…" links to
/duplicates/merge/<kind>/<id>/ (`merge-pick`), which leads to the merge page
/duplicates/merge/<kind>/<id>/<other id>/ (`merge-compare`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Model, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lejek.contacts.duplicates import (
    KINDS,
    duplicates_of,
    find_duplicates,
    finder_kinds,
    reasons,
)
from lejek.contacts.merge import (
    MergeError,
    fillable_fields,
    is_undoable,
    kind_of,
    merge_preview,
    merge_undo,
    model_for,
    record_merge,
    related_counts,
    resolve_merged,
    undo_deadline,
)
from lejek.contacts.models import Merge
from lejek.contacts.normalize import format_phone
from lejek.core.custom_fields import definitions
from lejek.core.listing import parse_id
from lejek.core.search import any_field_contains
from lejek.users.models import Role

MERGES_PER_PAGE = 50


def _model(kind: str) -> type[Model]:
    try:
        return model_for(kind)
    except MergeError:
        raise Http404 from None


def redirect_if_merged(request: HttpRequest, model: type[Model], pk: int) -> HttpResponse:
    """For a record page whose id is gone: go to the record it was merged into, with a note.

    Only when the user may see that record; otherwise the old id is simply not found.
    """
    survivor_id = resolve_merged(model, pk)
    survivor = (
        model._default_manager.visible_to(request.user).filter(pk=survivor_id).first()
        if survivor_id
        else None
    )
    if survivor is None:
        raise Http404
    messages.info(request, _("This record was merged into “%(name)s”.") % {"name": survivor})
    return redirect(survivor)


# The finder ---------------------------------------------------------------------------------


@login_required
@require_GET
def duplicate_list(request: HttpRequest) -> HttpResponse:
    kinds = finder_kinds(request.user)
    if not kinds:
        raise PermissionDenied(_("You cannot edit any records, so there is nothing to merge."))
    kind = request.GET.get("kind") or kinds[0]
    if kind not in kinds:
        raise Http404
    choices = dict(reasons(kind))
    reason = request.GET.get("reason") or None
    if reason not in choices:
        reason = None
    page = find_duplicates(
        request.user, kind, page=parse_id(request.GET.get("page", "")) or 1, reason=reason
    )
    context = {
        "kind": kind,
        "tabs": [(k, _kind_plural(k)) for k in kinds],
        "reasons": [(code, label, page.counts.get(code)) for code, label in choices.items()],
        "reason": reason,
        "found": page,
        "groups": [_group_rows(kind, group) for group in page.groups],
    }
    return render(request, "contacts/duplicate_list.html", context)


def _kind_plural(kind: str) -> str:
    return str(_model(kind)._meta.verbose_name_plural).capitalize()


@dataclass(frozen=True)
class Card:
    record: Model
    lines: list[tuple[str, Any, bool]]
    merge_url: str | None


def _group_rows(kind: str, group) -> dict[str, Any]:
    """The group's records as cards; each but the first offers a merge with the first."""
    first = group.records[0]
    cards = []
    for obj in group.records:
        url = None if obj is first else reverse("merge-compare", args=[kind, first.pk, obj.pk])
        cards.append(Card(obj, _key_lines(kind, obj), url))
    return {"reason": group.reason, "label": group.label, "cards": cards}


KEY_FIELDS = {
    "lead": ("email", "phone", "company_name", "status", "owner", "created_at"),
    "contact": ("email", "phone", "company", "title", "owner", "created_at"),
    "company": ("nip", "domain", "city", "email", "owner", "created_at"),
}


def _key_lines(kind: str, obj: Model) -> list[tuple[str, Any, bool]]:
    """(label, value, is a date) for the fields people tell duplicates apart by."""
    lines = []
    for name in KEY_FIELDS[kind]:
        f = obj._meta.get_field(name)
        lines.append((str(f.verbose_name).capitalize(), _display(obj, f), name == "created_at"))
    return lines


def _display(obj: Model, f) -> Any:
    if f.choices:
        return getattr(obj, f"get_{f.name}_display")() or "—"
    value = getattr(obj, f.name)
    if f.name == "phone":
        value = format_phone(value)
    return "—" if value is None or value == "" else value


# "Merge with…": choosing the other record -------------------------------------------------

SEARCH_FIELDS = {
    "lead": ("first_name", "last_name", "email", "phone", "company_name"),
    "contact": ("first_name", "last_name", "email", "phone"),
    "company": ("name", "nip", "domain", "email"),
}
SEARCH_LIMIT = 20


@login_required
@require_GET
def merge_pick(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The page behind a record's "Merge with…": its likely duplicates, and a search."""
    model = _model(kind)
    obj = model._default_manager.visible_to(request.user).filter(pk=pk).first()
    if obj is None:
        return redirect_if_merged(request, model, pk)
    if not model._default_manager.editable_by(request.user).filter(pk=pk).exists():
        raise PermissionDenied(_("You may merge only records you are allowed to change."))
    query = request.GET.get("q", "").strip()[:100]
    context = {
        "kind": kind,
        "object": obj,
        "query": query,
        "suggestions": duplicates_of(request.user, obj),
        "results": _search(request.user, model, obj, query) if query else [],
    }
    return render(request, "contacts/merge_pick.html", context)


def _search(user, model: type[Model], obj: Model, query: str) -> list[Model]:
    matches = any_field_contains(SEARCH_FIELDS[kind_of(model)], query)
    rows = model._default_manager.editable_by(user).exclude(pk=obj.pk).filter(matches)
    return list(rows.select_related("owner").order_by("-created_at", "-pk")[:SEARCH_LIMIT])


# Merging two records ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def merge_compare(request: HttpRequest, kind: str, a: int, b: int) -> HttpResponse:
    model = _model(kind)
    if a == b:
        raise Http404
    found = model._default_manager.visible_to(request.user).in_bulk([a, b])
    missing = [pk for pk in (a, b) if pk not in found]
    if missing:
        return _gone(request, kind, missing[0])
    first, second = found[a], found[b]
    editable = model._default_manager.editable_by(request.user).filter(pk__in=[a, b]).count()
    if editable != 2:
        raise PermissionDenied(_("You may merge only records you are allowed to change."))
    data = request.POST if request.method == "POST" else request.GET
    keep_second = parse_id(data.get("survivor", "")) == b
    survivor, other = (second, first) if keep_second else (first, second)
    if request.method == "POST":
        return _merge(request, survivor, other)
    context = {
        "kind": kind,
        "first": first,
        "second": second,
        "survivor": survivor,
        "other": other,
        "rows": _comparison(kind, first, second, merge_preview(survivor, other)),
        "moves": related_counts(other),
    }
    return render(request, "contacts/merge_compare.html", context)


def _merge(request: HttpRequest, survivor: Model, other: Model) -> HttpResponse:
    try:
        record_merge(actor=request.user, survivor=survivor, other=other)
    except MergeError as exc:
        # Back to the page as it now is: gone records are explained there, other refusals shown.
        messages.error(request, str(exc))
        return redirect(request.get_full_path())
    messages.success(
        request,
        _("“%(other)s” was merged into “%(survivor)s”. You can undo it for 30 days.")
        % {"other": other, "survivor": survivor},
    )
    return redirect(survivor)


def _gone(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """One of the pair is not there (any more): say so on the finder rather than a bare 404."""
    if resolve_merged(_model(kind), pk) is None:
        raise Http404
    messages.error(
        request,
        _("Record #%(id)s has already been merged into another record; nothing was changed.")
        % {"id": pk},
    )
    return redirect(f"{reverse('duplicate-list')}?kind={kind}")


@dataclass(frozen=True)
class CompareRow:
    label: str
    first: Any
    second: Any
    fills: bool  # the survivor's empty value takes the other's


def _comparison(kind: str, first: Model, second: Model, filled: dict) -> list[CompareRow]:
    rows = []
    for f in fillable_fields(type(first)):
        rows.append(
            CompareRow(
                str(f.verbose_name).capitalize(),
                _display(first, f),
                _display(second, f),
                f.name in filled,
            )
        )
    labels = {d.key: d.label for d in definitions(kind)}
    keys = sorted(set(first.custom or {}) | set(second.custom or {}))
    for key in keys:
        rows.append(
            CompareRow(
                labels.get(key, key),
                (first.custom or {}).get(key, "—"),
                (second.custom or {}).get(key, "—"),
                f"custom.{key}" in filled,
            )
        )
    return rows


# History and undo ---------------------------------------------------------------------------


def _survivors(user, merges: list[Merge]) -> tuple[dict, set]:
    """The surviving records the user can see, and the (kind, id) of those they may edit.

    Two queries per kind on the page: the Undo button shows only where undo is allowed.
    """
    wanted: dict[int, set[int]] = {}
    for merge in merges:
        wanted.setdefault(merge.content_type_id, set()).add(merge.survivor_id)
    found: dict[tuple[int, int], Model] = {}
    editable: set[tuple[int, int]] = set()
    for content_type_id, ids in wanted.items():
        manager = ContentType.objects.get_for_id(content_type_id).model_class()._default_manager
        for pk, obj in manager.visible_to(user).in_bulk(ids).items():
            found[(content_type_id, pk)] = obj
        for pk in manager.editable_by(user).filter(pk__in=ids).values_list("pk", flat=True):
            editable.add((content_type_id, pk))
    return found, editable


def visible_merges(user):
    """Merges the user made, or whose surviving record they can see; admins see all."""
    rows = Merge.objects.select_related("actor", "undone_by", "content_type")
    if user.role == Role.ADMIN:
        return rows
    seen = Q(actor=user)
    for kind in KINDS:
        model = model_for(kind)
        seen |= Q(
            content_type=ContentType.objects.get_for_model(model),
            survivor_id__in=model.objects.visible_to(user).values("pk"),
        )
    return rows.filter(seen)


@login_required
@require_GET
def merge_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(visible_merges(request.user), MERGES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    survivors, editable = _survivors(request.user, list(page))
    entries = []
    for merge in page:
        model = merge.content_type.model_class()
        key = (merge.content_type_id, merge.survivor_id)
        entries.append(
            {
                "merge": merge,
                "kind": str(model._meta.verbose_name).capitalize(),
                "survivor": survivors.get(key),
                "undoable": is_undoable(merge),
                "can_undo": is_undoable(merge) and key in editable,
                "deadline": undo_deadline(merge),
            }
        )
    return render(request, "contacts/merge_list.html", {"page": page, "entries": entries})


@login_required
@require_POST
def merge_undo_view(request: HttpRequest, pk: int) -> HttpResponse:
    merge = get_object_or_404(visible_merges(request.user), pk=pk)
    try:
        result = merge_undo(actor=request.user, merge=merge)
    except MergeError as exc:
        messages.error(request, str(exc))
        return redirect("merge-list")
    messages.success(request, _("“%(name)s” is back.") % {"name": result.restored})
    if result.kept:
        messages.warning(
            request,
            _("Changed after the merge, so kept as they are now: %(fields)s.")
            % {"fields": ", ".join(result.kept)},
        )
    return redirect(result.restored)
