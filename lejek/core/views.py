"""The shell's own pages: home per role, global search, and the settings area."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from lejek.activities.models import SUBJECTS, Task
from lejek.contacts.models import Company, Contact
from lejek.core.models import CustomField
from lejek.core.search import matching
from lejek.core.services_custom_fields import (
    custom_field_create,
    custom_field_delete,
    custom_field_update,
)
from lejek.leads.models import Campaign, Lead
from lejek.pipeline.models import Deal
from lejek.users.models import Role, User

HOME_LIST = 8
SEARCH_LIMIT = 10
HOME_TASKS = 8
NEW_LEADS_WINDOW = datetime.timedelta(days=30)


# Home --------------------------------------------------------------------------------------


def _open_tasks(user):
    return Task.objects.visible_to(user).open().select_related(*SUBJECTS, "assignee")


def _rep_home(user) -> dict:
    today = timezone.localdate()
    tasks = _open_tasks(user).filter(assignee=user, due_date__lte=today).order_by("due_date", "id")
    return {
        "tasks": tasks[:HOME_TASKS],
        "tasks_total": tasks.count(),
        "leads": Lead.objects.visible_to(user)
        .filter(owner=user)
        .select_related("source")
        .order_by("-created_at", "-id")[:HOME_LIST],
        "deals": Deal.objects.visible_to(user)
        .open()
        .filter(owner=user)
        .select_related("stage", "company")
        .order_by("expected_close_date", "-created_at")[:HOME_LIST],
    }


def _team_tasks(user):
    """Open tasks of the people the user manages (everyone's, for admins)."""
    tasks = _open_tasks(user)
    if user.role != Role.ADMIN:
        members = User.objects.filter(teams__in=user.team_ids).values("pk")
        tasks = tasks.filter(Q(assignee=user) | Q(assignee__in=members))
    return tasks


def _manager_home(user) -> dict:
    today = timezone.localdate()
    open_deals = Deal.objects.visible_to(user).open()
    totals = list(
        open_deals.order_by()
        .values("currency")
        .annotate(count=Count("id"), value=Sum("amount"))
        .order_by("currency")
    )
    overdue = _team_tasks(user).filter(due_date__lt=today).order_by("due_date", "id")
    return {
        "deal_count": sum(row["count"] for row in totals),
        "deal_values": [row for row in totals if row["value"] is not None],
        "overdue_count": overdue.count(),
        "overdue": overdue[:20],
        "leads": Lead.objects.visible_to(user)
        .select_related("owner", "source")
        .order_by("-created_at", "-id")[:HOME_LIST],
        "new_lead_count": Lead.objects.visible_to(user)
        .filter(created_at__gte=timezone.now() - datetime.timedelta(days=7))
        .count(),
    }


def _marketing_home(user) -> dict:
    since = timezone.now() - NEW_LEADS_WINDOW
    leads = Lead.objects.visible_to(user)
    by_source = (
        leads.filter(created_at__gte=since)
        .order_by()
        .values("source__name")
        .annotate(count=Count("id"))
        .order_by("-count", "source__name")
    )
    return {
        "by_source": list(by_source[:20]),
        "leads": leads.select_related("source", "owner").order_by("-created_at", "-id")[:HOME_LIST],
        "campaigns": Campaign.objects.select_related("source")
        .annotate(lead_count=Count("leads"))
        .order_by("-starts_on", "-created_at")[:HOME_LIST],
    }


HOME_BUILDERS = {
    Role.REP: ("core/home_rep.html", _rep_home),
    Role.MANAGER: ("core/home_manager.html", _manager_home),
    Role.ADMIN: ("core/home_manager.html", _manager_home),
    Role.MARKETING: ("core/home_marketing.html", _marketing_home),
}


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    template, build = HOME_BUILDERS.get(request.user.role, HOME_BUILDERS[Role.REP])
    context = build(request.user)
    context["next_url"] = request.get_full_path()
    return render(request, template, context)


# Search ------------------------------------------------------------------------------------


SEARCHES = (
    (
        "leads",
        gettext_lazy("Leads"),
        Lead,
        ["first_name", "last_name", "email", "phone", "company_name", "title"],
        ["source"],
    ),
    (
        "contacts",
        gettext_lazy("Contacts"),
        Contact,
        ["first_name", "last_name", "email", "phone", "title", "company__name"],
        ["company"],
    ),
    (
        "companies",
        gettext_lazy("Companies"),
        Company,
        ["name", "email", "phone", "domain", "nip", "city"],
        [],
    ),
    (
        "deals",
        gettext_lazy("Deals"),
        Deal,
        ["title", "company__name", "contact__first_name", "contact__last_name", "contact__email"],
        ["stage", "company"],
    ),
)


def search_results(user, query: str) -> list[dict]:
    results = []
    for key, label, model, fields, related in SEARCHES:
        rows = model.objects.visible_to(user).filter(matching(fields, query))
        if related:
            rows = rows.select_related(*related)
        found = list(rows[: SEARCH_LIMIT + 1])
        results.append(
            {
                "key": key,
                "label": label,
                "rows": found[:SEARCH_LIMIT],
                "more": len(found) > SEARCH_LIMIT,
            }
        )
    return results


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    results = search_results(request.user, query) if len(query) >= 2 else []
    context = {
        "q": query,
        "results": results,
        "found": sum(len(group["rows"]) for group in results),
        "too_short": 0 < len(query) < 2,
    }
    return render(request, "core/search.html", context)


LOOKUP_LIMIT = 50
LOOKUPS = {model._meta.model_name: (model, fields) for _, _, model, fields, _ in SEARCHES}


@login_required
@require_GET
def lookup(request: HttpRequest, entity: str) -> HttpResponse:
    """Options for a record picker whose list is too long to send whole: the first matches."""
    if entity not in LOOKUPS:
        raise Http404
    model, fields = LOOKUPS[entity]
    rows = model.objects.visible_to(request.user).filter(matching(fields, request.GET.get("q")))
    found = list(rows.order_by(*model._meta.ordering or ["pk"])[: LOOKUP_LIMIT + 1])
    context = {"rows": found[:LOOKUP_LIMIT], "more": len(found) > LOOKUP_LIMIT}
    return render(request, "core/lookup_options.html", context)


# Settings ----------------------------------------------------------------------------------


def _require_admin(user) -> None:
    if user.role != Role.ADMIN:
        raise PermissionDenied(_("Only admins can open this page."))


@login_required
@require_GET
def settings_index(request: HttpRequest) -> HttpResponse:
    return render(request, "core/settings_index.html", {"is_admin": request.user.is_admin})


class CustomFieldForm(forms.Form):
    entity = forms.ChoiceField(label=gettext_lazy("Record type"), choices=CustomField.Entity)
    label = forms.CharField(
        label=gettext_lazy("Label"),
        max_length=100,
        help_text=gettext_lazy("What people see next to the field."),
    )
    key = forms.CharField(
        label=gettext_lazy("Key"),
        max_length=50,
        help_text=gettext_lazy(
            "Used in imports, exports, filters and the API, e.g. “industry_code”. "
            "Lowercase letters, digits and underscores. It cannot change later."
        ),
    )
    type = forms.ChoiceField(
        label=gettext_lazy("Type"),
        choices=CustomField.Type,
        help_text=gettext_lazy("It cannot change later."),
    )
    choices = forms.CharField(
        label=gettext_lazy("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("For the “Choice” type: one option per line."),
    )
    required = forms.BooleanField(label=gettext_lazy("Required"), required=False)
    position = forms.IntegerField(
        label=gettext_lazy("Position"),
        required=False,
        min_value=0,
        help_text=gettext_lazy("Smaller numbers come first. Leave empty to add it at the end."),
    )

    def __init__(self, *args, instance: CustomField | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if instance is not None:
            for name in ("entity", "key", "type"):
                self.fields[name].disabled = True
            self.fields["position"].required = True


def _custom_field_initial(field: CustomField) -> dict:
    return {
        "entity": field.entity,
        "label": field.label,
        "key": field.key,
        "type": field.type,
        "choices": "\n".join(field.choices),
        "required": field.required,
        "position": field.position,
    }


def _put_errors(form: forms.Form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


@login_required
@require_GET
def custom_field_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request.user)
    fields = list(CustomField.objects.all())
    groups = [
        {
            "entity": value,
            "label": label,
            "fields": [f for f in fields if f.entity == value],
        }
        for value, label in CustomField.Entity.choices
    ]
    return render(request, "core/custom_field_list.html", {"groups": groups})


@login_required
def custom_field_new(request: HttpRequest) -> HttpResponse:
    _require_admin(request.user)
    entity = request.GET.get("entity", CustomField.Entity.LEAD)
    form = CustomFieldForm(request.POST or None, initial={"entity": entity})
    if request.method == "POST" and form.is_valid():
        try:
            field = custom_field_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Field “%(label)s” added.") % {"label": field.label})
            return redirect("custom-field-list")
    status = 400 if form.errors else 200
    return render(request, "core/custom_field_form.html", {"form": form}, status=status)


@login_required
def custom_field_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request.user)
    field = get_object_or_404(CustomField, pk=pk)
    form = CustomFieldForm(
        request.POST or None, initial=_custom_field_initial(field), instance=field
    )
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k not in ("entity", "key", "type")}
        try:
            custom_field_update(actor=request.user, field=field, values=values)
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Field “%(label)s” saved.") % {"label": field.label})
            return redirect("custom-field-list")
    status = 400 if form.errors else 200
    context = {"form": form, "field": field}
    return render(request, "core/custom_field_form.html", context, status=status)


@login_required
def custom_field_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes."""
    _require_admin(request.user)
    field = get_object_or_404(CustomField, pk=pk)
    if request.method == "POST":
        custom_field_delete(actor=request.user, field=field)
        messages.success(request, _("Field “%(label)s” deleted.") % {"label": field.label})
        return redirect("custom-field-list")
    return render(request, "core/custom_field_delete.html", {"field": field})
