"""Fetching records on the caller's behalf: by URL (404 when unseen) or by id in a body (422)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from lejek.users.models import Team, User

# field name → the rows the caller may point that field at
References = dict[str, Callable[[User], QuerySet]]


def visible_or_404(queryset: QuerySet, user: User, pk: int):
    """The record, if `user` may see it. Missing and hidden both give 404: nothing leaks."""
    obj = queryset.visible_to(user).filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def any_user(user: User) -> QuerySet:
    return User.objects.all()


def any_team(user: User) -> QuerySet:
    return Team.objects.all()


def visible(model) -> Callable[[User], QuerySet]:
    return lambda user: model.objects.visible_to(user)


def everything(model) -> Callable[[User], QuerySet]:
    return lambda user: model.objects.all()


def resolve_references(user: User, values: dict[str, Any], references: References) -> dict:
    """Swap the ids in `values` for the records they name; unknown or unseen ids → 422.

    A record the caller cannot see is reported exactly like one that does not exist.
    """
    resolved = dict(values)
    errors: dict[str, list[str]] = {}
    for name, rows_for in references.items():
        pk = values.get(name)
        if pk is None:
            continue
        rows = rows_for(user)
        obj = rows.filter(pk=pk).first()
        if obj is None:
            errors[name] = [
                _("There is no %(thing)s with id %(id)s.")
                % {"thing": rows.model._meta.verbose_name, "id": pk}
            ]
        else:
            resolved[name] = obj
    if errors:
        raise ValidationError(errors)
    return resolved
