"""Deal pages: the list, the record page with its stage control, and the deal forms."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from lejek.activities.models import Task
from lejek.contacts.forms import owner_choices, save_through, team_choices
from lejek.contacts.models import Company, Contact
from lejek.contacts.views import (
    can_edit,
    company_name,
    contact_name,
    create_record,
    custom_field_rows,
    delete_record,
    edit_record,
    visible_one,
)
from lejek.core.listing import (
    ChoiceFilter,
    Column,
    DateFilter,
    IdFilter,
    Listing,
    OwnerFilter,
    parse_id,
)
from lejek.leads.models import Lead, Source
from lejek.pipeline.forms import DealCreateForm, DealForm, StageMoveForm
from lejek.pipeline.gates import field_labels
from lejek.pipeline.models import Deal, Pipeline, Stage
from lejek.pipeline.services import deal_create, deal_delete, deal_move_to_stage, deal_update

STAGE_HISTORY_LIMIT = 10


def pipeline_choices(user) -> list[tuple[int, str]]:
    return list(Pipeline.objects.values_list("pk", "name"))


def stage_choices(user) -> list[tuple[int, str]]:
    """Stages for the filter bar; named with their pipeline when there is more than one."""
    stages = list(Stage.objects.select_related("pipeline").order_by("pipeline", "position"))
    several = len({s.pipeline_id for s in stages}) > 1
    return [(s.pk, f"{s.pipeline.name} · {s.name}" if several else s.name) for s in stages]


def source_choices(user) -> list[tuple[int, str]]:
    return list(Source.objects.values_list("pk", "name"))


def lead_name(user, pk: int) -> str | None:
    lead = Lead.objects.visible_to(user).filter(pk=pk).first()
    return str(lead) if lead else None


DEALS = Listing(
    entity="deal",
    search=("title", "company__name", "contact__last_name", "contact__email"),
    columns=(
        Column(_("Title"), sort="title"),
        Column(_("Company"), sort="company", css="hide-sm"),
        Column(_("Stage"), sort="stage"),
        Column(_("Amount"), sort="amount", num=True, desc_first=True),
        Column(_("Expected close"), sort="close", num=True, css="hide-sm"),
        Column(_("Owner"), sort="owner", css="hide-sm"),
    ),
    sorts={
        "title": ("title",),
        "company": ("company__name",),
        "stage": ("pipeline__position", "pipeline_id", "stage__position"),
        "amount": ("amount",),
        "close": ("expected_close_date",),
        "owner": ("owner__first_name", "owner__last_name"),
        "created": ("created_at",),
    },
    default_sort="-created",
    filters=(
        OwnerFilter(owner_choices),
        ChoiceFilter(
            "state",
            _("State"),
            choices=[("open", _("Open")), ("won", _("Won")), ("lost", _("Lost"))],
            lookups={
                "open": Q(stage__is_won=False, stage__is_lost=False),
                "won": Q(stage__is_won=True),
                "lost": Q(stage__is_lost=True),
            },
        ),
        IdFilter("pipeline", _("Pipeline"), choices=pipeline_choices, more=True),
        IdFilter("stage", _("Stage"), choices=stage_choices),
        IdFilter("source", _("Source"), choices=source_choices, more=True),
        IdFilter("team", _("Team"), choices=team_choices, more=True),
        DateFilter("close_from", _("Closes from"), field="expected_close_date", bound="from"),
        DateFilter("close_to", _("Closes by"), field="expected_close_date", bound="to"),
        DateFilter("created_from", _("Created from"), field="created_at", bound="from"),
        DateFilter("created_to", _("Created to"), field="created_at", bound="to"),
        IdFilter("company", _("Company"), describe=company_name),
        IdFilter("contact", _("Contact"), describe=contact_name),
        IdFilter("lead", _("Lead"), describe=lead_name),
    ),
    select_related=("owner", "company", "stage"),
    search_label=_("Search deals"),
)


@login_required
def deal_list(request: HttpRequest) -> HttpResponse:
    return DEALS.render(request, Deal.objects.visible_to(request.user), "pipeline/deal_list.html")


def next_step(deal: Deal) -> Task | None:
    """The deal's next open task: the one due soonest, undated ones last."""
    return (
        Task.objects.about(deal)
        .open()
        .select_related("assignee")
        .order_by(F("due_date").asc(nulls_last=True), "id")
        .first()
    )


def deal_page(
    request: HttpRequest, deal: Deal, *, move_form: StageMoveForm | None = None
) -> HttpResponse:
    user = request.user
    history = deal.stage_changes.select_related("from_stage", "to_stage", "actor").order_by(
        "-changed_at", "-id"
    )
    move_form = move_form or StageMoveForm(deal=deal)
    stages = list(deal.pipeline.stages.order_by("position"))
    selected_stage = deal.stage_id
    if move_form.is_bound:
        selected_stage = parse_id(move_form.data.get("stage", "")) or deal.stage_id
    context = {
        "object": deal,
        "deal": deal,
        "can_edit": can_edit(user, deal),
        "custom_rows": custom_field_rows("deal", deal),
        "company": visible_one(Company.objects.visible_to(user), deal.company_id),
        "contact": visible_one(Contact.objects.visible_to(user), deal.contact_id),
        "lead": visible_one(Lead.objects.visible_to(user).with_score(), deal.lead_id),
        "stages": stages,
        # Told before trying, so nobody has to learn the gates from a refusal.
        "gates": [
            (s.name, ", ".join(field_labels(s.required_fields)))
            for s in stages
            if s.required_fields
        ],
        "move_form": move_form,
        "selected_stage": selected_stage,
        "next_step": next_step(deal),
        "today": timezone.localdate(),
        "history": list(history[:STAGE_HISTORY_LIMIT]),
        "moves": history.count(),
        "days_in_stage": (timezone.now() - deal.stage_entered_at).days,
    }
    if request.htmx and request.GET.get("drawer"):
        # The board's drawer: the deal at a glance, without leaving the board.
        return render(request, "pipeline/deal_detail.html#drawer", context)
    return render(request, "pipeline/deal_detail.html", context)


def visible_deals(user):
    return Deal.objects.visible_to(user).select_related(
        "owner", "team", "pipeline", "stage", "source"
    )


@login_required
def deal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return deal_page(request, get_object_or_404(visible_deals(request.user), pk=pk))


@login_required
@require_POST
def deal_move(request: HttpRequest, pk: int) -> HttpResponse:
    """The stage control: move the deal, or show why not (stale version, missing reason)."""
    deal = get_object_or_404(visible_deals(request.user), pk=pk)
    form = StageMoveForm(request.POST, deal=deal)
    if form.is_valid():
        stage = form.cleaned_data["stage"]
        if stage.is_won and stage.pk != deal.stage_id:
            # Winning asks for the final amount and date first.
            return redirect("deal-win", pk=deal.pk)
        change = save_through(
            form,
            lambda: deal_move_to_stage(
                actor=request.user,
                deal=deal,
                stage=stage,
                expected_version=form.cleaned_data["version"],
                lost_reason=form.cleaned_data["lost_reason"],
            ),
        )
        if change is not None:
            messages.success(request, gettext("Moved to “%(stage)s”.") % {"stage": stage})
            return redirect(deal)
        if not form.errors:
            messages.info(
                request, gettext("The deal is already in “%(stage)s”.") % {"stage": stage}
            )
            return redirect(deal)
    # A refused move may have touched the deal in memory; show it as it is stored.
    return deal_page(request, get_object_or_404(visible_deals(request.user), pk=pk), move_form=form)


def _initial_links(request: HttpRequest) -> dict:
    """`?company=`, `?contact=` or `?lead=` from a record page prefill the new deal."""
    user = request.user
    initial: dict = {}
    lead = visible_one(Lead.objects.visible_to(user), parse_id(request.GET.get("lead", "")))
    if lead is not None:
        initial["lead"] = lead.pk
        initial["title"] = lead.company_name or str(lead)
        if lead.company_id:
            initial["company"] = lead.company_id
        if lead.contact_id:
            initial["contact"] = lead.contact_id
    for name, model in (("company", Company), ("contact", Contact)):
        pk = parse_id(request.GET.get(name, ""))
        if pk and model.objects.visible_to(user).filter(pk=pk).exists():
            initial[name] = pk
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def deal_create_view(request: HttpRequest) -> HttpResponse:
    return create_record(
        request,
        form_class=DealCreateForm,
        create=deal_create,
        title=gettext("New deal"),
        created=_("Deal “%(name)s” created."),
        cancel_url=reverse("deal-list"),
        initial=_initial_links(request),
    )


@login_required
@require_http_methods(["GET", "POST"])
def deal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_object_or_404(Deal.objects.visible_to(request.user), pk=pk)
    return edit_record(
        request,
        deal,
        form_class=DealForm,
        update=lambda **kw: deal_update(actor=request.user, deal=deal, **kw),
        saved=_("Deal “%(name)s” saved."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def deal_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_object_or_404(Deal.objects.visible_to(request.user), pk=pk)
    return delete_record(
        request,
        deal,
        delete=lambda: deal_delete(actor=request.user, deal=deal),
        title=gettext("Delete deal"),
        deleted=_("Deal “%(name)s” deleted."),
        list_url=reverse("deal-list"),
    )
