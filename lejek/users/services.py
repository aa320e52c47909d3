"""Writes for users, teams, API tokens and notifications."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from lejek.core.events import record_event
from lejek.users.models import ApiToken, Notification, Team, User, hash_token

TOKEN_PREFIX = "lejek_"


@transaction.atomic
def team_create(*, actor: User | None, name: str) -> Team:
    team = Team(name=name)
    team.full_clean()
    team.save()
    record_event(actor=actor, verb="team.created", obj=team, after={"name": name})
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
def user_set_language(*, actor: User, user: User, language: str) -> None:
    before = user.language
    user.language = language
    user.full_clean(exclude=["password"])
    user.save(update_fields=["language"])
    record_event(
        actor=actor,
        verb="user.updated",
        obj=user,
        before={"language": before},
        after={"language": language},
    )


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


def notify(
    *, recipient: User, actor: User | None, kind: str, text: str, url: str = ""
) -> Notification | None:
    """Tell `recipient` about something, in the app and (after commit) by e-mail.

    The one way every feature (mentions, assignment, hand-off, reminders) reaches a person.
    Nobody is notified of their own actions.
    """
    if actor is not None and recipient.pk == actor.pk:
        return None
    if not recipient.is_active:
        return None
    notification = Notification.objects.create(
        recipient=recipient, actor=actor, kind=kind, text=text[:300], url=url[:300]
    )
    if recipient.email_notifications:
        from lejek.users.tasks import send_notification_email

        transaction.on_commit(lambda: send_notification_email.enqueue(notification.pk))
    return notification


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=timezone.now())
