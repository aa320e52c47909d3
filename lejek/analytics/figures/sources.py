"""Where revenue comes from: sources and campaigns, and what each rep brings.

Sources and campaigns follow the leads created in the period (a cohort): how many, how many
of them were won (a deal of theirs is in a won stage), the revenue of those won deals, and
for campaigns the cost: per lead, per won customer, and the return on it,
(revenue - cost) / cost. A campaign's cost is its whole cost, whatever the period.

Per rep (deals owned): open deals now; won and lost in the period, win rate, won revenue,
average won deal, mean days to win; activities they logged in the period; and sales velocity
= open deals * win rate * average won deal / mean days to win (revenue per day).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import (
    Avg,
    Count,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.utils.translation import gettext_lazy as _

from lejek.activities.models import Activity
from lejek.analytics.figures import drill_url, figure
from lejek.analytics.figures.funnel import cohort_leads
from lejek.analytics.money import CENT, label_missing, share
from lejek.analytics.scope import Scope
from lejek.analytics.sql import Days
from lejek.analytics.tables import Chart, Column, Table
from lejek.leads.models import Campaign, Lead, Source
from lejek.pipeline.models import Deal
from lejek.users.models import User


def _won_deal(scope: Scope, prefix: str = "deals__") -> Q:
    won = scope.won(prefix)
    if scope.sees_all_deals():
        return won
    return won & Q(**{f"{prefix}pk__in": scope.deals().values("pk")})


def _cohort_by(scope: Scope, group: str, *, set_only: bool = False) -> list[dict]:
    """Per value of the leads' `group` field (source or campaign): the cohort's leads, how
    many of them were won, and the revenue of their won deals. `set_only` leaves out the
    leads without one (most leads have no campaign: they are not even read).

    Two passes instead of one join: the leads counted from their own index, then only the
    won deals, each looked up with its lead (joining every lead to its deals and counting
    distinct leads cost seconds at a million leads).
    """
    leads = cohort_leads(scope).order_by()
    won = Deal.objects.filter(
        scope.won(), lead__created_at__gte=scope.since, lead__created_at__lt=scope.until
    )
    if set_only:
        leads = leads.filter(**{f"{group}__isnull": False})
        won = won.filter(**{f"lead__{group}__isnull": False})
    rows = {
        row[group]: {group: row[group], "leads": row["leads"], "won": 0, "revenue": None}
        for row in leads.values(group).annotate(leads=Count("*"))
    }
    won = scope.only_deals(scope.only_leads(won, "lead"), "pk")
    per_group = (
        won.order_by()
        .values(key=F(f"lead__{group}"))
        .annotate(
            won=Count("lead", distinct=True),
            revenue=Sum("amount", filter=Q(currency=scope.currency, amount__isnull=False)),
        )
    )
    for row in per_group:  # one row per source or campaign
        rows[row["key"]] |= {"won": row["won"], "revenue": row["revenue"]}
    return list(rows.values())


def _lead_drill(group: str):
    def drill(scope: Scope, row: str, column: str) -> QuerySet[Lead]:
        leads = cohort_leads(scope)
        leads = leads.filter(**{f"{group}__isnull": True} if row == "" else {f"{group}": row})
        if column in ("won", "revenue"):
            won = leads.filter(_won_deal(scope)).values("pk")
            return cohort_leads(scope).filter(pk__in=won)
        return leads

    return drill


@figure(
    "sources",
    title=_("Sources: leads created in the period and what they became"),
    section="sources",
    drill=_lead_drill("source"),
)
def sources(scope: Scope) -> Table:
    names = dict(Source.objects.values_list("pk", "name"))
    table = Table(
        key="sources",
        columns=[
            Column("name", _("Source"), "text"),
            Column("leads", _("Leads")),
            Column("won", _("Won")),
            Column("conversion", _("Lead to won (%)"), "percent"),
            Column("revenue", _("Revenue"), "money"),
        ],
        chart=Chart("bar", "name", ("leads", "won")),
    )
    rows = sorted(_cohort_by(scope, "source"), key=lambda row: -row["leads"])
    for i, row in enumerate(rows):
        key = "" if row["source"] is None else str(row["source"])
        table.rows.append(
            {
                "name": label_missing(names.get(row["source"], "")),
                "leads": row["leads"],
                "won": row["won"],
                "conversion": share(row["won"], row["leads"]),
                "revenue": row["revenue"] or Decimal(0),
            }
        )
        table.links[i] = {
            column: drill_url(scope, "sources", key, column) for column in ("leads", "won")
        }
    return table


@figure(
    "campaigns",
    title=_("Campaigns: cost and return"),
    section="sources",
    drill=_lead_drill("campaign"),
)
def campaigns(scope: Scope) -> Table:
    known = {c.pk: c for c in Campaign.objects.all()}
    table = Table(
        key="campaigns",
        columns=[
            Column("name", _("Campaign"), "text"),
            Column("leads", _("Leads")),
            Column("won", _("Won")),
            Column("revenue", _("Revenue"), "money"),
            Column("cost", _("Cost"), "money"),
            Column("cost_per_lead", _("Cost per lead"), "money"),
            Column("cost_per_won", _("Cost per won customer"), "money"),
            Column("roi", _("Return on cost (%)"), "percent"),
        ],
        chart=Chart("bar", "name", ("revenue", "cost")),
    )
    rows = _cohort_by(scope, "campaign", set_only=True)
    rows.sort(key=lambda row: -row["leads"])
    foreign = 0
    for i, row in enumerate(rows):
        campaign = known[row["campaign"]]
        revenue = row["revenue"] or Decimal(0)
        cost = campaign.cost if campaign.currency == scope.currency else None
        foreign += cost is None and campaign.cost > 0
        table.rows.append(
            {
                "name": campaign.name,
                "leads": row["leads"],
                "won": row["won"],
                "revenue": revenue,
                "cost": cost,
                "cost_per_lead": _ratio(cost, row["leads"]),
                "cost_per_won": _ratio(cost, row["won"]),
                "roi": share(revenue - cost, cost) if cost else None,
            }
        )
        table.links[i] = {
            column: drill_url(scope, "campaigns", campaign.pk, column)
            for column in ("leads", "won")
        }
    if foreign:
        table.notes.append(
            _("Costs in another currency than %(cur)s are left out.") % {"cur": scope.currency}
        )
    table.notes.append(_("A campaign's cost is its whole cost, whatever the period."))
    return table


def _ratio(cost: Decimal | None, count: int) -> Decimal | None:
    return (cost / count).quantize(CENT) if cost is not None and count else None


# Reps -----------------------------------------------------------------------------------------


def _rep_drill(scope: Scope, row: str, column: str) -> QuerySet[Deal]:
    if not row.isdigit():
        return Deal.objects.none()
    deals = scope.deals().filter(owner_id=int(row))
    closed = Q(closed_at__gte=scope.since, closed_at__lt=scope.until)
    if column == "open":
        return deals.filter(scope.open())
    if column in ("won", "revenue"):
        return deals.filter(closed, scope.won())
    if column == "lost":
        return deals.filter(closed, scope.lost())
    return Deal.objects.none()


@figure("reps", title=_("Reps"), section="reps", drill=_rep_drill)
def reps(scope: Scope) -> Table:
    closed = Q(closed_at__gte=scope.since, closed_at__lt=scope.until)
    won = closed & scope.won()
    money = won & Q(currency=scope.currency, amount__isnull=False)
    per_owner = (
        scope.deals()
        .filter(owner__isnull=False)
        .order_by()
        .values("owner")
        .annotate(
            open=Count("pk", filter=scope.open()),
            won=Count("pk", filter=won),
            lost=Count("pk", filter=closed & scope.lost()),
            revenue=Sum("amount", filter=money),
            average=Avg("amount", filter=money),
            cycle=Avg(Days("closed_at", "created_at"), filter=won),
        )
    )
    rows = {row["owner"]: row for row in per_owner}
    activities = dict(
        Activity.objects.filter(
            author__in=list(rows), occurred_at__gte=scope.since, occurred_at__lt=scope.until
        )
        .order_by()
        .values_list("author")
        .annotate(n=Count("*"))
    )
    people = User.objects.in_bulk(list(rows))
    table = Table(
        key="reps",
        columns=[
            Column("rep", _("Rep"), "text"),
            Column("open", _("Open deals")),
            Column("won", _("Won")),
            Column("lost", _("Lost")),
            Column("win_rate", _("Win rate (%)"), "percent"),
            Column("revenue", _("Won revenue"), "money"),
            Column("average", _("Average won deal"), "money"),
            Column("cycle", _("Days to win"), "days"),
            Column("activities", _("Activities logged")),
            Column("velocity", _("Sales velocity (per day)"), "money"),
        ],
        chart=Chart("bar", "rep", ("revenue",)),
    )
    ordered = sorted(rows.values(), key=lambda row: -(row["revenue"] or 0))
    for i, row in enumerate(ordered):
        rate = row["won"] / (row["won"] + row["lost"]) if row["won"] + row["lost"] else None
        days = row["cycle"]
        average = row["average"]
        velocity = None
        if rate is not None and average is not None and days:
            velocity = Decimal(row["open"]) * Decimal(str(rate)) * average / Decimal(str(days))
            velocity = velocity.quantize(CENT)
        table.rows.append(
            {
                "rep": str(people[row["owner"]]),
                "open": row["open"],
                "won": row["won"],
                "lost": row["lost"],
                "win_rate": None if rate is None else round(100 * rate, 1),
                "revenue": row["revenue"] or Decimal(0),
                "average": None if average is None else Decimal(average).quantize(CENT),
                "cycle": None if days is None else round(days, 1),
                "activities": activities.get(row["owner"], 0),
                "velocity": velocity,
            }
        )
        table.links[i] = {
            column: drill_url(scope, "reps", row["owner"], column)
            for column in ("open", "won", "lost")
        }
    return table
