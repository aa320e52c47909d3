"""Writes for users, teams, API tokens and notifications."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lejek.core.events import changed, record_event
from lejek.users.models import ApiToken, Notification, Role, Team, User, hash_token

TOKEN_PREFIX = "lejek_"
USER_FIELDS = ["first_name", "last_name", "role", "language"]


def _ensure_admin(actor: User | None) -> None:
    """Only admins manage people and teams. No actor means the system itself (CLI, demo)."""
    if actor is not None and (not actor.is_active or actor.role != Role.ADMIN):
        raise PermissionDenied(_("Only admins manage users and teams."))


def _team_ids(teams: Iterable[Team]) -> list[int]:
    return sorted(team.pk for team in teams)


@transaction.atomic
def team_create(*, actor: User | None, name: str) -> Team:
    _ensure_admin(actor)
    team = Team(name=name.strip())
    team.full_clean()
    team.save()
    record_event(actor=actor, verb="team.created", obj=team, after={"name": team.name})
    return team


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    email: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    role: str,
    teams: list[Team] = (),
    language: str | None = None,
) -> User:
    _ensure_admin(actor)
    user = User(
        email=email.strip().lower(),
        username=email.strip().lower(),
        first_name=first_name,
        last_name=last_name,
        role=role,
        is_staff=False,
    )
    if language:
        user.language = language
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    user.teams.set(teams)
    record_event(
        actor=actor,
        verb="user.created",
        obj=user,
        after={"email": user.email, "role": role, "teams": [t.pk for t in teams]},
    )
    return user


@transaction.atomic
def user_update(
    *,
    actor: User | None,
    user: User,
    first_name: str,
    last_name: str,
    role: str,
    teams: Iterable[Team],
    language: str,
) -> User:
    """Change a person's name, role, teams and language. The e-mail stays: it is their login."""
    _ensure_admin(actor)
    if actor is not None and actor.pk == user.pk and role != Role.ADMIN:
        # Otherwise the last admin could lock everyone out of these pages.
        raise ValidationError({"role": _("You cannot take away your own admin role.")})
    teams = list(teams)
    before = {name: getattr(user, name) for name in USER_FIELDS}
    before["teams"] = _team_ids(user.teams.all())
    user.first_name = first_name.strip()
    user.last_name = last_name.strip()
    user.role = role
    user.language = language
    user.full_clean(exclude=["password"])
    after = {name: getattr(user, name) for name in USER_FIELDS}
    after["teams"] = _team_ids(teams)
    old, new = changed(before, after)
    if not new:
        return user
    fields = [name for name in new if name != "teams"]
    if fields:
        user.save(update_fields=fields)
    if "teams" in new:
        user.teams.set(teams)
        user.__dict__.pop("team_ids", None)
    record_event(actor=actor, verb="user.updated", obj=user, before=old, after=new)
    return user


@transaction.atomic
def user_set_active(*, actor: User | None, user: User, active: bool) -> User:
    """Deactivate or reactivate a person.

    A deactivated person cannot sign in, their sessions and API tokens stop working, and they
    are no longer offered as an owner; the records they own keep them until handed over.
    """
    _ensure_admin(actor)
    if not active and actor is not None and actor.pk == user.pk:
        raise ValidationError(_("You cannot deactivate yourself."))
    updated = User.objects.filter(pk=user.pk, is_active=not active).update(is_active=active)
    user.is_active = active
    if updated:
        record_event(
            actor=actor,
            verb="user.reactivated" if active else "user.deactivated",
            obj=user,
            before={"is_active": not active},
            after={"is_active": active},
        )
    return user


@transaction.atomic
def user_set_password(*, actor: User | None, user: User, password: str) -> User:
    """Give a person a new password, checked by the configured password validators.

    The event says only that it changed: a password, even hashed, never goes into the log.
    """
    _ensure_admin(actor)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    record_event(actor=actor, verb="user.password_set", obj=user)
    return user


@transaction.atomic
def team_rename(*, actor: User | None, team: Team, name: str) -> Team:
    _ensure_admin(actor)
    before = team.name
    team.name = name.strip()
    team.full_clean()
    if team.name != before:
        team.save(update_fields=["name"])
        record_event(
            actor=actor,
            verb="team.renamed",
            obj=team,
            before={"name": before},
            after={"name": team.name},
        )
    return team


@transaction.atomic
def team_set_members(*, actor: User | None, team: Team, members: Iterable[User]) -> Team:
    """Make exactly `members` the team's members (people keep their other teams)."""
    _ensure_admin(actor)
    members = list(members)
    before = sorted(team.members.values_list("pk", flat=True))
    after = sorted(member.pk for member in members)
    if before != after:
        team.members.set(members)
        record_event(
            actor=actor,
            verb="team.members_changed",
            obj=team,
            before={"members": before},
            after={"members": after},
        )
    return team


@transaction.atomic
def token_create(*, actor: User, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal API token. Returns the token and its secret, which is never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name or "API", prefix=raw[:12], key_hash=hash_token(raw))
    token.full_clean()
    token.save()
    record_event(
        actor=actor, verb="token.created", obj=token, after={"name": token.name, "user": user.pk}
    )
    return token, raw


@transaction.atomic
def token_revoke(*, actor: User, token: ApiToken) -> None:
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if updated:
        record_event(actor=actor, verb="token.revoked", obj=token)


def token_authenticate(raw: str) -> User | None:
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.active().select_related("user").filter(key_hash=hash_token(raw)).first()
    )
    if token is None:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


@dataclass(frozen=True)
class Notice:
    """One thing to tell one person (see notify_many)."""

    recipient: User
    kind: str
    text: str
    url: str = ""
    actor: User | None = None


def notify_many(notices: Iterable[Notice]) -> list[Notification]:
    """Tell each recipient about something, in the app and (after commit) by e-mail.

    The one way every feature (mentions, assignment, hand-off, reminders, batches of web-form
    leads) reaches a person: one INSERT for all of them and one e-mail task. Nobody is
    notified of their own actions, nor while deactivated.
    """
    notifications = [
        Notification(
            recipient=notice.recipient,
            actor=notice.actor,
            kind=notice.kind,
            text=notice.text[:300],
            url=notice.url[:300],
        )
        for notice in notices
        if notice.recipient.is_active
        and (notice.actor is None or notice.actor.pk != notice.recipient.pk)
    ]
    if not notifications:
        return []
    Notification.objects.bulk_create(notifications)
    to_mail = [n.pk for n in notifications if n.recipient.email_notifications]
    if to_mail:
        from lejek.users.tasks import send_notification_emails

        transaction.on_commit(lambda: send_notification_emails.enqueue(to_mail))
    return notifications


def notify(
    *, recipient: User, actor: User | None, kind: str, text: str, url: str = ""
) -> Notification | None:
    """notify_many for one notice: the Notification, or None when nobody is told."""
    sent = notify_many([Notice(recipient=recipient, actor=actor, kind=kind, text=text, url=url)])
    return sent[0] if sent else None


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=timezone.now())
