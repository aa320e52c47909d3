"""Who is calling: a personal API token (scripts, integrations) or the browser session (the UI)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from lejek.users.models import User
from lejek.users.services import token_authenticate
from lejek.users.visibility import is_signed_in


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`. A token that is sent but wrong is refused outright,
    rather than silently falling back to a session the caller may not expect."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = token_authenticate(token.strip())
        if user is None:
            raise AuthenticationError(
                message=_("The API token is not valid, or it has been revoked.")
            )
        # The session middleware speaks the user's language; token callers get the same.
        if user.language:
            translation.activate(user.language)
        return user


class SessionAuth(APIKeyCookie):
    """The signed-in browser. Unsafe methods must carry the CSRF token, as in any Django form.

    The CSRF check runs only for a signed-in session, so a caller with no credentials at
    all gets 401 rather than a CSRF complaint.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> User | None:
        user = getattr(request, "user", None)
        if not is_signed_in(user):
            return None
        if check_csrf(request) is not None:
            raise HttpError(
                403, _("CSRF check failed. Send the X-CSRFToken header with the session.")
            )
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        return None  # never called: __call__ decides from the session itself


def auth_methods() -> list:
    return [TokenAuth(), SessionAuth()]
