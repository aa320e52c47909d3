"""The customer base: companies, and people buying without a company, with a won deal.

Being a customer is derived from won deals rather than stored as a flag, so it can never
disagree with the pipeline: a deal won makes a customer, a win reopened takes it back.
Revenue adds up the won deals in the house currency; deals in other currencies are counted
and flagged, never summed into a figure in the wrong money.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from lejek.contacts.forms import owner_choices, team_choices
from lejek.contacts.models import Company, Contact
from lejek.core.listing import Column, IdFilter, Listing, OwnerFilter

WON = Q(deals__stage__is_won=True)
OPEN = Q(deals__stage__is_won=False, deals__stage__is_lost=False)


def _with_purchases(rows: QuerySet, won: Q) -> QuerySet:
    house = settings.LEJEK_CURRENCY
    return rows.annotate(
        won_deals=Count("deals", filter=won, distinct=True),
        revenue=Sum("deals__amount", filter=won & Q(deals__currency=house)),
        foreign_deals=Count("deals", filter=won & ~Q(deals__currency=house), distinct=True),
        first_purchase=Min("deals__closed_at", filter=won),
        last_purchase=Max("deals__closed_at", filter=won),
        open_deals=Count("deals", filter=OPEN, distinct=True),
    ).filter(won_deals__gt=0)


def customer_companies(user) -> QuerySet[Company]:
    return _with_purchases(Company.objects.visible_to(user), WON)


def customer_people(user) -> QuerySet[Contact]:
    """People who bought with no company on the deal (consumers, sole traders)."""
    return _with_purchases(Contact.objects.visible_to(user), WON & Q(deals__company__isnull=True))


def _listing(entity: str, search: tuple[str, ...], label) -> Listing:
    return Listing(
        entity=entity,
        search=search,
        columns=(
            Column(_("Name"), sort="name"),
            Column(_("Revenue"), sort="revenue", num=True, desc_first=True),
            Column(_("Won deals"), sort="won", num=True, desc_first=True, css="hide-sm"),
            Column(_("First purchase"), sort="first", num=True, css="hide-sm"),
            Column(_("Last purchase"), sort="last", num=True, desc_first=True),
            Column(_("Open deals"), sort="open", num=True, desc_first=True, css="hide-sm"),
            Column(_("Owner"), sort="owner", css="hide-sm"),
        ),
        sorts={
            "name": ("name",) if entity == "company" else ("last_name", "first_name"),
            "revenue": ("revenue",),
            "won": ("won_deals",),
            "first": ("first_purchase",),
            "last": ("last_purchase",),
            "open": ("open_deals",),
            "owner": ("owner__first_name", "owner__last_name"),
        },
        default_sort="-revenue",
        filters=(
            OwnerFilter(owner_choices),
            IdFilter("team", _("Team"), choices=team_choices, more=True),
        ),
        select_related=("owner",),
        search_label=label,
    )


COMPANY_CUSTOMERS = _listing("company", ("name", "nip", "domain", "city"), _("Search customers"))
PEOPLE_CUSTOMERS = _listing(
    "contact", ("first_name", "last_name", "email", "phone"), _("Search customers")
)


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    people = request.GET.get("kind") == "people"
    listing = PEOPLE_CUSTOMERS if people else COMPANY_CUSTOMERS
    rows = customer_people(request.user) if people else customer_companies(request.user)
    context = {"people": people, "house_currency": settings.LEJEK_CURRENCY}
    return listing.render(request, rows, "pipeline/customer_list.html", context)
