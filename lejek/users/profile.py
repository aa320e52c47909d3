"""A person's own settings: name, language, whether notifications come by e-mail."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from lejek.core.events import changed, record_event
from lejek.users.models import User

PROFILE_FIELDS = ["first_name", "last_name", "language", "email_notifications"]


@transaction.atomic
def profile_update(
    *,
    actor: User,
    user: User,
    first_name: str,
    last_name: str,
    language: str,
    email_notifications: bool,
) -> User:
    """Save a profile. People change their own; admins may change anyone's."""
    if actor.pk != user.pk and not actor.is_admin:
        raise PermissionDenied(_("You can only change your own profile."))
    before = {name: getattr(user, name) for name in PROFILE_FIELDS}
    user.first_name = first_name.strip()
    user.last_name = last_name.strip()
    user.language = language
    user.email_notifications = email_notifications
    user.full_clean(exclude=["password"])
    old, new = changed(before, {name: getattr(user, name) for name in PROFILE_FIELDS})
    if new:
        user.save(update_fields=list(new))
        record_event(actor=actor, verb="user.updated", obj=user, before=old, after=new)
    return user
