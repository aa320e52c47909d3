"""Sign-in, the person's own profile and API tokens, and their notifications."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from lejek.users.forms import EmailLoginForm, ProfileForm, TokenCreateForm
from lejek.users.profile import profile_update
from lejek.users.services import notifications_mark_read, token_create, token_revoke


class LoginView(auth_views.LoginView):
    template_name = "users/login.html"
    authentication_form = EmailLoginForm
    redirect_authenticated_user = True


logout_view = auth_views.LogoutView.as_view()
login_view = LoginView.as_view()


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "language": user.language,
        "email_notifications": user.email_notifications,
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            profile_update(actor=user, user=user, **form.cleaned_data)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            # The next request speaks the new language (the middleware reads user.language);
            # the confirmation shown there should already be in it.
            with translation.override(user.language):
                messages.success(request, _("Your profile is saved."))
            return redirect("profile")
    return render(request, "users/profile.html", {"form": form})


@login_required
@never_cache
def token_list(request: HttpRequest) -> HttpResponse:
    """List own tokens; a POST creates one and shows its secret on this response only."""
    form = TokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, raw = token_create(
            actor=request.user, user=request.user, name=form.cleaned_data["name"]
        )
        # never_cache keeps the secret out of browser and proxy caches.
        return render(request, "users/token_created.html", {"token": token, "raw": raw})
    tokens = request.user.api_tokens.all()
    return render(request, "users/token_list.html", {"form": form, "tokens": tokens})


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(request.user.api_tokens.all(), pk=pk)
    token_revoke(actor=request.user, token=token)
    messages.success(request, _("The token “%(name)s” no longer works.") % {"name": token.name})
    return redirect("token-list")


def _notification_page(request: HttpRequest):
    # Unread first, then newest: what needs attention sits at the top.
    rows = request.user.notifications.select_related("actor").order_by(
        F("read_at").asc(nulls_first=True), "-created_at", "-id"
    )
    return Paginator(rows, 50).get_page(request.GET.get("page"))


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    context = {"page": _notification_page(request)}
    if request.htmx:
        return render(request, "users/notification_list.html#list", context)
    return render(request, "users/notification_list.html", context)


def _after_mark_read(request: HttpRequest) -> HttpResponse:
    if request.htmx:
        context = {
            "page": _notification_page(request),
            "refresh_badge": True,
        }
        return render(request, "users/notification_list.html#list", context)
    return redirect("notification-list")


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(request.user.notifications.all(), pk=pk)
    notifications_mark_read(user=request.user, ids=[notification.pk])
    return _after_mark_read(request)


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    notifications_mark_read(user=request.user)
    return _after_mark_read(request)
