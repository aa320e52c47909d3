"""Lead pages: the list, the record page, and the create / edit / delete forms."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from lejek.contacts.forms import owner_choices, team_choices
from lejek.contacts.merge_views import redirect_if_merged
from lejek.contacts.models import Company, Contact
from lejek.contacts.normalize import format_phone
from lejek.contacts.views import (
    can_edit,
    company_name,
    contact_name,
    create_record,
    custom_field_rows,
    delete_record,
    edit_record,
    related,
    visible_one,
)
from lejek.core.listing import (
    ChoiceFilter,
    Column,
    DateFilter,
    Filter,
    IdFilter,
    Listing,
    NumberFilter,
    OwnerFilter,
    parse_id,
)
from lejek.leads.bulk import BULK_STATUSES
from lejek.leads.forms import LeadForm
from lejek.leads.models import Campaign, Handoff, Lead, LeadQuerySet, Source
from lejek.leads.services import lead_create, lead_delete, lead_update
from lejek.leads.webforms import consents_of
from lejek.users.models import Role
from lejek.users.visibility import assignable_owners


def source_choices(user) -> list[tuple[int, str]]:
    return list(Source.objects.values_list("pk", "name"))


def campaign_choices(user) -> list[tuple[int, str]]:
    return list(Campaign.objects.values_list("pk", "name"))


class HandoffFilter(ChoiceFilter):
    """Where the lead's hand-off to sales stands.

    Waiting and overdue look at the open hand-off (a lead has at most one), split by its answer
    deadline; accepted and rejected at the lead's latest hand-off, so a lead rejected once and
    accepted later counts as accepted.
    """

    WAITING, OVERDUE = "waiting", "overdue"

    def __init__(self) -> None:
        super().__init__(
            "handoff",
            _("Hand-off"),
            choices=[
                (self.WAITING, _("Waiting for sales")),
                (self.OVERDUE, _("Overdue")),
                (Handoff.Outcome.ACCEPTED.value, Handoff.Outcome.ACCEPTED.label),
                (Handoff.Outcome.REJECTED.value, Handoff.Outcome.REJECTED.label),
            ],
            more=True,
        )

    def apply(self, qs: QuerySet, value: str, user) -> QuerySet:
        if value in (self.WAITING, self.OVERDUE):
            pending = Handoff.objects.filter(lead=OuterRef("pk")).pending()
            now = timezone.now()
            if value == self.OVERDUE:
                return qs.filter(Exists(pending.overdue(now)))
            return qs.filter(Exists(pending.filter(due_at__gte=now)))
        latest = Handoff.objects.filter(lead=OuterRef("pk")).order_by("-offered_at", "-id")
        return qs.alias(latest_handoff=Subquery(latest.values("outcome")[:1])).filter(
            latest_handoff=value
        )


LEADS = Listing(
    entity="lead",
    search=("first_name", "last_name", "email", "company_name", "phone"),
    columns=(
        Column(_("Name"), sort="name"),
        Column(_("Company"), sort="company"),
        Column(_("E-mail"), sort="email", css="hide-sm"),
        Column(_("Status"), sort="status"),
        Column(_("Source"), sort="source", css="hide-sm"),
        Column(_("Score"), sort="score", num=True, desc_first=True),
        Column(_("Win probability"), sort="probability", num=True, desc_first=True),
        Column(_("Owner"), sort="owner", css="hide-sm"),
        Column(_("Created"), sort="created", num=True, desc_first=True, css="hide-sm"),
    ),
    sorts={
        "name": ("last_name", "first_name"),
        "company": ("company_name",),
        "email": ("email",),
        "status": ("status",),
        "source": ("source__name",),
        "score": ("score",),
        "probability": ("lead_score__probability",),
        "owner": ("owner__first_name", "owner__last_name"),
        "created": ("created_at",),
    },
    default_sort="-created",
    filters=(
        OwnerFilter(owner_choices),
        ChoiceFilter("status", _("Status"), choices=Lead.Status.choices),
        IdFilter("source", _("Source"), choices=source_choices),
        IdFilter("campaign", _("Campaign"), choices=campaign_choices, more=True),
        IdFilter("team", _("Team"), choices=team_choices, more=True),
        Filter("medium", _("Medium"), field="medium__iexact", more=True),
        Filter("utm_campaign", _("UTM campaign"), field="utm_campaign__iexact", more=True),
        DateFilter("created_from", _("Created from"), field="created_at", bound="from"),
        DateFilter("created_to", _("Created to"), field="created_at", bound="to"),
        IdFilter("company", _("Company"), describe=company_name),
        IdFilter("contact", _("Contact"), describe=contact_name),
        NumberFilter(
            "score_min", _("Score from"), field="score", lookup="gte", whole=True, more=True
        ),
        NumberFilter(
            "score_max", _("Score to"), field="score", lookup="lte", whole=True, more=True
        ),
        NumberFilter(
            "probability_min",
            _("Win probability from (%)"),
            field="lead_score__probability",
            lookup="gte",
            scale=100,
            more=True,
        ),
        HandoffFilter(),
    ),
    select_related=("owner", "source", "company", "lead_score"),
    search_label=_("Search leads"),
    prepare=LeadQuerySet.with_score,
)


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    context = {"bulk_owners": assignable_owners(request.user), "bulk_statuses": BULK_STATUSES}
    return LEADS.render(
        request, Lead.objects.visible_to(request.user), "leads/lead_list.html", context
    )


@login_required
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    lead = (
        Lead.objects.visible_to(user)
        .with_score()
        .select_related("owner", "team", "source", "campaign")
        .filter(pk=pk)
        .first()
    )
    if lead is None:
        return redirect_if_merged(request, Lead, pk)
    context = {
        "object": lead,
        "lead": lead,
        "can_edit": can_edit(user, lead),
        "can_convert": can_edit(user, lead)
        and lead.status not in (Lead.Status.CONVERTED, Lead.Status.DISQUALIFIED)
        and user.role != Role.MARKETING,
        "phone_display": format_phone(lead.phone, get_language()),
        "custom_rows": custom_field_rows("lead", lead),
        "consents": consents_of(lead),
        "contact": visible_one(Contact.objects.visible_to(user), lead.contact_id),
        "company": visible_one(Company.objects.visible_to(user), lead.company_id),
        "deals": related(
            lead.deals.visible_to(user).select_related("stage"),
            url=f"{reverse('deal-list')}?lead={lead.pk}",
        ),
        "new_deal_url": f"{reverse('deal-create')}?lead={lead.pk}",
    }
    return render(request, "leads/lead_detail.html", context)


def _initial_links(request: HttpRequest) -> dict:
    """`?company=` / `?contact=` from a record page prefill the lead, if the user sees them."""
    initial = {}
    for name, model in (("company", Company), ("contact", Contact)):
        pk = parse_id(request.GET.get(name, ""))
        if pk and model.objects.visible_to(request.user).filter(pk=pk).exists():
            initial[name] = pk
    return initial


class _CreatedMessage:
    """The message create_record shows once the service has run: a repeated person is told
    that their details went to the lead they already had, not that a lead was created."""

    def __init__(self) -> None:
        self.was_repeat = False

    def __str__(self) -> str:
        if self.was_repeat:
            return gettext(
                "This person already had an open lead; the new details were added to it."
            )
        return str(_("Lead “%(name)s” created."))


@login_required
@require_http_methods(["GET", "POST"])
def lead_create_view(request: HttpRequest) -> HttpResponse:
    message = _CreatedMessage()

    def create(**values) -> Lead:
        lead = lead_create(**values)
        message.was_repeat = lead.was_repeat
        return lead

    return create_record(
        request,
        form_class=LeadForm,
        create=create,
        title=gettext("New lead"),
        created=message,
        cancel_url=reverse("lead-list"),
        initial=_initial_links(request),
    )


@login_required
@require_http_methods(["GET", "POST"])
def lead_edit(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)
    return edit_record(
        request,
        lead,
        form_class=LeadForm,
        update=lambda **kw: lead_update(actor=request.user, lead=lead, **kw),
        saved=_("Lead “%(name)s” saved."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def lead_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)
    return delete_record(
        request,
        lead,
        delete=lambda: lead_delete(actor=request.user, lead=lead),
        title=gettext("Delete lead"),
        deleted=_("Lead “%(name)s” deleted."),
        list_url=reverse("lead-list"),
    )
