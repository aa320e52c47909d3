"""Who sees and edits which records. Every list, page and API endpoint goes through here.

- admin: everything;
- manager: records of their teams, and their own;
- sales rep: records they own, plus unassigned records in their team's pool;
- marketing: sees and edits leads (and sources, campaigns); reads deals, contacts, companies.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _

from lejek.users.models import Role, Team, User


def owned_scope(user) -> Q:
    """Rows of an owned model (with `owner` and `team`) that a manager or rep may see."""
    if user.role == Role.MANAGER:
        return Q(team__in=user.team_ids) | Q(owner=user)
    return Q(owner=user) | Q(owner__isnull=True, team__in=user.team_ids)


def is_signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


class OwnedQuerySet(models.QuerySet):
    """QuerySet of a record that has an owner and a team."""

    marketing_reads = True
    marketing_edits = False

    def visible_to(self, user):
        if not is_signed_in(user):
            return self.none()
        if user.role == Role.ADMIN:
            return self
        if user.role == Role.MARKETING:
            return self if self.marketing_reads else self.none()
        return self.filter(owned_scope(user))

    def editable_by(self, user):
        if is_signed_in(user) and user.role == Role.MARKETING:
            return self if self.marketing_edits else self.none()
        return self.visible_to(user)


def can_create(user, model) -> bool:
    """Whether `user` may create records of an owned model at all."""
    if not is_signed_in(user):
        return False
    if user.role == Role.MARKETING:
        return model._default_manager.all().marketing_edits
    return True


def check_assignment(actor, *, owner, team) -> None:
    """Refuse an owner or team the actor may not hand a record to."""
    errors = {}
    if owner is not None and not owner.is_active:
        errors["owner"] = _("This user is deactivated.")
    if actor.role in (Role.ADMIN, Role.MARKETING):
        if errors:
            raise ValidationError(errors)
        return
    if team is not None and team.pk not in actor.team_ids:
        errors["team"] = _("You can only put records in your own teams.")
    if owner is not None and owner.pk != actor.pk:
        if actor.role == Role.REP:
            errors["owner"] = _("You can assign records only to yourself.")
        elif not set(owner.team_ids) & set(actor.team_ids):
            errors["owner"] = _("You can assign records only to members of your teams.")
    if owner is None and team is None:
        errors["team"] = _("Choose an owner or a team, or nobody will see this record.")
    if errors:
        raise ValidationError(errors)


def prepare_owned(actor, obj, *, creating: bool) -> None:
    """Check that `actor` may create or hand over `obj`; fill a sensible owner and team.

    `actor=None` is Lejek itself (a public web form, an import): it places records as told.
    """
    from django.core.exceptions import PermissionDenied

    if actor is None:
        if obj.owner_id is not None and not obj.owner.is_active:
            raise ValidationError({"owner": _("This user is deactivated.")})
        return

    if creating:
        if not can_create(actor, type(obj)):
            raise PermissionDenied(_("You are not allowed to create this kind of record."))
        if obj.owner_id is None and obj.team_id is None and actor.role in (Role.REP, Role.MANAGER):
            obj.owner = actor
        if obj.team_id is None and actor.team_ids:
            if obj.owner_id is None or obj.owner_id == actor.pk:
                obj.team_id = actor.team_ids[0]
            elif obj.owner.team_ids:
                obj.team_id = obj.owner.team_ids[0]
    check_assignment(actor, owner=obj.owner, team=obj.team)


def check_handover(actor, obj, values: dict) -> None:
    """On update: check a change of owner or team, and only when one actually changes."""
    owner = values.get("owner", obj.owner)
    team = values.get("team", obj.team)
    if owner != obj.owner or team != obj.team:
        check_assignment(actor, owner=owner, team=team)


def assignable_owners(user) -> models.QuerySet[User]:
    """People `user` may hand a record to: reps themselves, managers their teams, admins all.

    The choices offered on forms; `check_assignment` enforces the same rule on every write.
    """
    people = User.objects.filter(is_active=True)
    if user.role in (Role.ADMIN, Role.MARKETING):
        return people
    if user.role == Role.MANAGER:
        return people.filter(Q(teams__in=user.team_ids) | Q(pk=user.pk)).distinct()
    return people.filter(pk=user.pk)


def assignable_teams(user) -> models.QuerySet[Team]:
    if user.role in (Role.ADMIN, Role.MARKETING):
        return Team.objects.all()
    return Team.objects.filter(pk__in=user.team_ids)
