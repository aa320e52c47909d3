"""Company and contact pages, and the page flow every record type shares.

The shared part (`create_record`, `edit_record`, `delete_record`, `custom_field_rows`,
`related`) is used by the lead and deal pages too, so a record page behaves the same everywhere:
validate with a form, write through the service, show its refusals next to the fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, ProtectedError, QuerySet, RestrictedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from lejek.contacts.forms import (
    CompanyForm,
    ContactForm,
    RecordForm,
    owner_choices,
    save_through,
    team_choices,
)
from lejek.contacts.merge_views import redirect_if_merged
from lejek.contacts.models import Company, Contact
from lejek.contacts.services import (
    company_create,
    company_delete,
    company_update,
    contact_create,
    contact_delete,
    contact_update,
)
from lejek.core.custom_fields import definitions
from lejek.core.listing import (
    Column,
    DateFilter,
    IdFilter,
    Listing,
    OwnerFilter,
    parse_date,
    parse_id,
)
from lejek.core.models import CustomField
from lejek.users.visibility import can_create

RELATED_LIMIT = 10


# Shared by every record page ----------------------------------------------------------------


def can_edit(user, obj: Model) -> bool:
    return type(obj)._default_manager.editable_by(user).filter(pk=obj.pk).exists()


def ensure_can_edit(user, obj: Model) -> None:
    if not can_edit(user, obj):
        raise PermissionDenied(gettext("You are not allowed to change this record."))


@dataclass(frozen=True)
class FieldRow:
    label: str
    value: Any
    is_date: bool = False


def custom_value(definition: CustomField, raw: Any) -> tuple[Any, bool]:
    """A stored custom value as people read it, and whether it is a date (for `{% when %}`)."""
    if raw is None or raw == "":
        return "—", False
    if definition.type == CustomField.Type.BOOLEAN:
        return (gettext("Yes") if raw else gettext("No")), False
    if definition.type == CustomField.Type.DATE:
        day = parse_date(str(raw))
        return (day, True) if day else (raw, False)
    return raw, False


def custom_field_rows(entity: str, obj: Model) -> list[FieldRow]:
    """One row per custom field definition, set or not, so people see what can be filled in."""
    values = obj.custom or {}
    rows = []
    for definition in definitions(entity):
        value, is_date = custom_value(definition, values.get(definition.key))
        rows.append(FieldRow(definition.label, value, is_date))
    return rows


@dataclass(frozen=True)
class Related:
    items: list
    more: int
    url: str | None


def related(qs: QuerySet, *, url: str | None = None, limit: int = RELATED_LIMIT) -> Related:
    """The first few related records, and how many more there are (counted only if any)."""
    items = list(qs[: limit + 1])
    if len(items) <= limit:
        return Related(items, 0, url)
    return Related(items[:limit], qs.count() - limit, url)


def visible_one(qs: QuerySet, pk: int | None):
    """The related record if the user may see it, else None (a link they cannot open)."""
    return qs.filter(pk=pk).first() if pk else None


def form_page(
    request: HttpRequest,
    form: RecordForm,
    *,
    title: str,
    submit_label: str,
    cancel_url: str,
    obj: Model | None = None,
) -> HttpResponse:
    context = {
        "form": form,
        "title": title,
        "submit_label": submit_label,
        "cancel_url": cancel_url,
        "object": obj,
    }
    return render(request, "contacts/record_form.html", context)


def create_record(
    request: HttpRequest,
    *,
    form_class: type[RecordForm],
    create: Callable[..., Model],
    title: str,
    created: str,
    cancel_url: str,
    initial: dict | None = None,
) -> HttpResponse:
    """The "new record" page: GET shows the form, POST creates through the service."""
    if not can_create(request.user, form_class.model):
        raise PermissionDenied(gettext("You are not allowed to create this kind of record."))
    data = request.POST if request.method == "POST" else None
    form = form_class(data, user=request.user, initial=initial or {})
    if data is not None and form.is_valid():
        obj = save_through(
            form,
            lambda: create(actor=request.user, custom=form.cleaned_data["custom"], **form.values()),
        )
        if obj is not None:
            messages.success(request, str(created) % {"name": obj})
            return redirect(obj)
    return form_page(
        request, form, title=title, submit_label=gettext("Create"), cancel_url=cancel_url
    )


def edit_record(
    request: HttpRequest,
    obj: Model,
    *,
    form_class: type[RecordForm],
    update: Callable[..., Model],
    saved: str,
) -> HttpResponse:
    """The edit page. `update(values=..., expected_version=...)` calls the service.

    A save from a stale version is refused by the service; the form comes back with the
    person's input kept and a message saying that someone else changed the record.
    """
    ensure_can_edit(request.user, obj)
    title = gettext("Edit “%(name)s”") % {"name": obj}
    data = request.POST if request.method == "POST" else None
    form = form_class(data, user=request.user, instance=obj)
    if data is not None and form.is_valid():
        version = form.cleaned_data["version"]
        result = save_through(
            form, lambda: update(values=form.update_values(), expected_version=version)
        )
        if result is not None:
            messages.success(request, str(saved) % {"name": result})
            return redirect(result)
    return form_page(
        request,
        form,
        title=title,
        submit_label=gettext("Save"),
        cancel_url=obj.get_absolute_url(),
        obj=obj,
    )


def delete_record(
    request: HttpRequest,
    obj: Model,
    *,
    delete: Callable[[], None],
    title: str,
    deleted: str,
    list_url: str,
) -> HttpResponse:
    """Asks first (GET), deletes through the service on POST."""
    ensure_can_edit(request.user, obj)
    error = ""
    if request.method == "POST":
        name = str(obj)
        try:
            delete()
        except (ProtectedError, RestrictedError):
            error = gettext("Other records still depend on this one, so it cannot be deleted.")
        else:
            messages.success(request, str(deleted) % {"name": name})
            return redirect(list_url)
    context = {"object": obj, "title": title, "error": error}
    return render(request, "contacts/record_confirm_delete.html", context)


def company_name(user, pk: int) -> str | None:
    """The name for a "Company: …" filter chip, if the user may see that company."""
    return Company.objects.visible_to(user).filter(pk=pk).values_list("name", flat=True).first()


def contact_name(user, pk: int) -> str | None:
    contact = Contact.objects.visible_to(user).filter(pk=pk).first()
    return str(contact) if contact else None


# Companies ----------------------------------------------------------------------------------

COMPANIES = Listing(
    entity="company",
    search=("name", "nip", "domain", "city", "email", "phone"),
    columns=(
        Column(_("Name"), sort="name"),
        Column(_("NIP"), sort="nip", css="hide-sm"),
        Column(_("City"), sort="city"),
        Column(_("Industry"), sort="industry", css="hide-sm"),
        Column(_("Owner"), sort="owner"),
    ),
    sorts={
        "name": ("name",),
        "nip": ("nip",),
        "city": ("city",),
        "industry": ("industry",),
        "owner": ("owner__first_name", "owner__last_name"),
        "created": ("created_at",),
    },
    default_sort="name",
    filters=(
        OwnerFilter(owner_choices),
        IdFilter("team", _("Team"), choices=team_choices, more=True),
        DateFilter("created_from", _("Created from"), field="created_at", bound="from"),
        DateFilter("created_to", _("Created to"), field="created_at", bound="to"),
    ),
    select_related=("owner",),
    search_label=_("Search companies"),
)


@login_required
def company_list(request: HttpRequest) -> HttpResponse:
    return COMPANIES.render(
        request, Company.objects.visible_to(request.user), "contacts/company_list.html"
    )


@login_required
def company_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    company = Company.objects.visible_to(user).select_related("owner", "team").filter(pk=pk).first()
    if company is None:
        return redirect_if_merged(request, Company, pk)
    query = f"?company={company.pk}"
    context = {
        "object": company,
        "company": company,
        "can_edit": can_edit(user, company),
        "custom_rows": custom_field_rows("company", company),
        "contacts": related(company.contacts.visible_to(user), url=reverse("contact-list") + query),
        "deals": related(
            company.deals.visible_to(user).select_related("stage"),
            url=reverse("deal-list") + query,
        ),
        "leads": related(company.leads.visible_to(user), url=reverse("lead-list") + query),
        "new_contact_url": reverse("contact-create") + query,
        "new_deal_url": reverse("deal-create") + query,
    }
    return render(request, "contacts/company_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def company_create_view(request: HttpRequest) -> HttpResponse:
    return create_record(
        request,
        form_class=CompanyForm,
        create=company_create,
        title=gettext("New company"),
        created=_("Company “%(name)s” created."),
        cancel_url=reverse("company-list"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def company_edit(request: HttpRequest, pk: int) -> HttpResponse:
    company = get_object_or_404(Company.objects.visible_to(request.user), pk=pk)
    return edit_record(
        request,
        company,
        form_class=CompanyForm,
        update=lambda **kw: company_update(actor=request.user, company=company, **kw),
        saved=_("Company “%(name)s” saved."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def company_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    company = get_object_or_404(Company.objects.visible_to(request.user), pk=pk)
    return delete_record(
        request,
        company,
        delete=lambda: company_delete(actor=request.user, company=company),
        title=gettext("Delete company"),
        deleted=_("Company “%(name)s” deleted."),
        list_url=reverse("company-list"),
    )


# Contacts -----------------------------------------------------------------------------------

CONTACTS = Listing(
    entity="contact",
    search=("first_name", "last_name", "email", "phone", "title", "company__name"),
    columns=(
        Column(_("Name"), sort="name"),
        Column(_("Company"), sort="company"),
        Column(_("E-mail"), sort="email", css="hide-sm"),
        Column(_("Phone"), css="hide-sm"),
        Column(_("Owner"), sort="owner"),
    ),
    sorts={
        "name": ("last_name", "first_name"),
        "company": ("company__name",),
        "email": ("email",),
        "owner": ("owner__first_name", "owner__last_name"),
        "created": ("created_at",),
    },
    default_sort="name",
    filters=(
        OwnerFilter(owner_choices),
        IdFilter("team", _("Team"), choices=team_choices, more=True),
        IdFilter("company", _("Company"), describe=company_name),
        DateFilter("created_from", _("Created from"), field="created_at", bound="from"),
        DateFilter("created_to", _("Created to"), field="created_at", bound="to"),
    ),
    select_related=("owner", "company"),
    search_label=_("Search contacts"),
)


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    return CONTACTS.render(
        request, Contact.objects.visible_to(request.user), "contacts/contact_list.html"
    )


@login_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    contact = Contact.objects.visible_to(user).select_related("owner", "team").filter(pk=pk).first()
    if contact is None:
        return redirect_if_merged(request, Contact, pk)
    query = f"?contact={contact.pk}"
    context = {
        "object": contact,
        "contact": contact,
        "can_edit": can_edit(user, contact),
        "custom_rows": custom_field_rows("contact", contact),
        "company": visible_one(Company.objects.visible_to(user), contact.company_id),
        "deals": related(
            contact.deals.visible_to(user).select_related("stage"),
            url=reverse("deal-list") + query,
        ),
        "leads": related(contact.leads.visible_to(user), url=reverse("lead-list") + query),
        "new_deal_url": reverse("deal-create") + query,
    }
    return render(request, "contacts/contact_detail.html", context)


def _initial_company(request: HttpRequest) -> dict:
    """`?company=<id>` (from a company page) preselects that company if the user sees it."""
    pk = parse_id(request.GET.get("company", ""))
    if pk and Company.objects.visible_to(request.user).filter(pk=pk).exists():
        return {"company": pk}
    return {}


@login_required
@require_http_methods(["GET", "POST"])
def contact_create_view(request: HttpRequest) -> HttpResponse:
    return create_record(
        request,
        form_class=ContactForm,
        create=contact_create,
        title=gettext("New contact"),
        created=_("Contact “%(name)s” created."),
        cancel_url=reverse("contact-list"),
        initial=_initial_company(request),
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.visible_to(request.user), pk=pk)
    return edit_record(
        request,
        contact,
        form_class=ContactForm,
        update=lambda **kw: contact_update(actor=request.user, contact=contact, **kw),
        saved=_("Contact “%(name)s” saved."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.visible_to(request.user), pk=pk)
    return delete_record(
        request,
        contact,
        delete=lambda: contact_delete(actor=request.user, contact=contact),
        title=gettext("Delete contact"),
        deleted=_("Contact “%(name)s” deleted."),
        list_url=reverse("contact-list"),
    )
