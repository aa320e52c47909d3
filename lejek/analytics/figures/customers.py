"""What a customer is worth: historical and predicted customer lifetime value (CLV).

A customer is the company of a won deal, or its contact when the deal has no company. All of
history counts (not only the period), in the house currency:

- Historical CLV of a customer = the revenue of their won deals to date.
- Predicted CLV = average purchase value * purchases per customer per year * expected
  lifespan in years, where
  - average purchase value = won revenue ÷ won deals,
  - purchases per customer per year = won deals ÷ customers ÷ average years since a
    customer's first purchase (at least one year),
  - expected lifespan = the average years between first and last purchase of the customers
    who bought more than once (at least one year; one year when nobody bought twice).
- Per source or campaign: the same over the deals won through that source or campaign.
- Per segment: the same per value of a custom field chosen in the filters, read from the
  deal, else its lead, else the buying company.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.db.models import (
    Case,
    Count,
    Expression,
    F,
    IntegerField,
    Max,
    Min,
    QuerySet,
    Sum,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lejek.analytics.figures import drill_url, figure
from lejek.analytics.money import CENT, in_house, label_missing
from lejek.analytics.scope import Scope, split_choices
from lejek.analytics.sql import days_sql
from lejek.analytics.tables import Chart, Column, Table
from lejek.contacts.models import Company, Contact
from lejek.leads.models import Campaign, Source
from lejek.pipeline.models import Deal

TOP = 20


def customer_deals(scope: Scope) -> QuerySet[Deal]:
    """Won deals in the house currency, each with its customer as (company, contact)."""
    return (
        scope.deals()
        .filter(scope.won())
        .filter(in_house(scope))
        .exclude(company__isnull=True, contact__isnull=True)
        .annotate(
            customer_company=F("company"),
            customer_contact=Case(
                When(company__isnull=True, then=F("contact")), output_field=IntegerField()
            ),
        )
    )


def _per_customer(deals: QuerySet[Deal], group: str | Expression | None = None) -> QuerySet:
    keys = ["customer_company", "customer_contact"]
    if group is not None:
        deals = deals.annotate(group_key=F(group) if isinstance(group, str) else group)
        keys.insert(0, "group_key")
    return (
        deals.order_by()
        .values(*keys)
        .annotate(
            purchases=Count("pk"),
            revenue=Sum("amount"),
            first_purchase=Min("closed_at"),
            last_purchase=Max("closed_at"),
        )
    )


def _clv_rows(deals: QuerySet[Deal], group: str | Expression | None) -> list[tuple]:
    """Per group (or once, for group None): customers, purchases, revenue, mean years since
    the first purchase, mean years from first to last purchase of repeat customers.

    With a group, one more row, marked by None in place of the customers, holds the
    company's own lifespan (the last number, over each customer's deals in every group),
    computed from the same per-customer rows instead of a second pass over the deals.
    """
    inner = _per_customer(deals, group)
    sql, params = inner.query.sql_with_params()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    tenure = days_sql("%s", "t.first_purchase")
    span = days_sql("t.last_purchase", "t.first_purchase")
    columns = f"""COUNT(*), SUM(t.purchases), SUM(t.revenue),
               AVG({tenure}) / 365.25,
               AVG(CASE WHEN t.purchases > 1 THEN {span} END) / 365.25"""
    if group is None:
        query, args = f"SELECT {columns} FROM ({sql}) t", [now, *params]
    else:
        query = f"""
            WITH per AS ({sql})
            SELECT t.group_key, {columns} FROM per t GROUP BY t.group_key
            UNION ALL
            SELECT NULL, NULL, NULL, NULL, NULL,
                   AVG(CASE WHEN t.purchases > 1 THEN {span} END) / 365.25
            FROM (
                SELECT customer_company, customer_contact, SUM(purchases) AS purchases,
                       MIN(first_purchase) AS first_purchase, MAX(last_purchase) AS last_purchase
                FROM per GROUP BY customer_company, customer_contact
            ) t
        """
        args = [*params, now]
    with connection.cursor() as cursor:
        cursor.execute(query, args)
        return cursor.fetchall()


def predicted_clv(revenue, purchases, customers, tenure_years, lifespan_years) -> Decimal | None:
    if not customers or not purchases:
        return None
    average = Decimal(revenue) / purchases
    per_year = Decimal(purchases) / customers / Decimal(max(float(tenure_years or 0), 1.0))
    lifespan = Decimal(max(float(lifespan_years or 0), 1.0))
    return (average * per_year * lifespan).quantize(CENT)


def overall(scope: Scope) -> dict:
    (customers, purchases, revenue, tenure, lifespan), *_rest = _clv_rows(
        customer_deals(scope), None
    )
    revenue = Decimal(revenue or 0)
    return {
        "customers": customers,
        "purchases": purchases or 0,
        "revenue": revenue,
        "historical": (revenue / customers).quantize(CENT) if customers else None,
        "predicted": predicted_clv(revenue, purchases, customers, tenure, lifespan),
        "lifespan": lifespan,
    }


@figure("clv_summary", title=_("Customer lifetime value"), section="customers")
def clv_summary(scope: Scope) -> Table:
    figures = overall(scope)
    table = Table(
        key="clv_summary",
        columns=[Column("metric", _("Figure"), "text"), Column("value", _("Value"), "number")],
    )
    table.rows = [
        {"metric": _("Customers"), "value": figures["customers"]},
        {"metric": _("Purchases (won deals)"), "value": figures["purchases"]},
        {"metric": _("Revenue to date"), "value": figures["revenue"]},
        {"metric": _("Historical CLV (revenue per customer)"), "value": figures["historical"]},
        {"metric": _("Predicted CLV"), "value": figures["predicted"]},
    ]
    return table


def _clv_frame(key: str, title: str = "") -> Table:
    return Table(
        key=key,
        title=title,
        columns=[
            Column("name", _("Name"), "text"),
            Column("customers", _("Customers")),
            Column("revenue", _("Revenue"), "money"),
            Column("historical", _("Historical CLV"), "money"),
            Column("predicted", _("Predicted CLV"), "money"),
        ],
        chart=Chart("bar", "name", ("historical", "predicted")),
    )


def _clv_table(
    scope: Scope, key: str, group: str | Expression, names: dict | None = None, title: str = ""
) -> Table:
    """CLV per group; `names` turns group ids into names, else the value is its own name."""
    table = _clv_frame(key, title)
    rows = _clv_rows(customer_deals(scope), group)
    lifespan = next(row[-1] for row in rows if row[1] is None)
    rows = sorted((row for row in rows if row[1] is not None), key=lambda row: -(row[3] or 0))
    for group_id, customers, purchases, revenue, tenure, _span in rows:
        revenue = Decimal(revenue or 0)
        table.rows.append(
            {
                "name": label_missing(
                    names.get(group_id, "") if names is not None else str(group_id or "")
                ),
                "customers": customers,
                "revenue": revenue.quantize(CENT),
                "historical": (revenue / customers).quantize(CENT),
                # The lifespan is the company's: one source has too few repeat buyers to say.
                "predicted": predicted_clv(revenue, purchases, customers, tenure, lifespan),
            }
        )
    return table


@figure("clv_by_source", title=_("Customer value by source"), section="customers")
def clv_by_source(scope: Scope) -> Table:
    names = dict(Source.objects.values_list("pk", "name"))
    return _clv_table(scope, "clv_by_source", "source", names)


@figure("clv_by_campaign", title=_("Customer value by campaign"), section="customers")
def clv_by_campaign(scope: Scope) -> Table:
    names = dict(Campaign.objects.values_list("pk", "name"))
    return _clv_table(scope, "clv_by_campaign", "lead__campaign", names)


# Where a deal's segment is read, in order (a relation's custom values are joined).
SEGMENT_PATHS = ("custom", "lead__custom", "company__custom")


def segment_of(key: str) -> Expression:
    """A deal's value of custom field `key`: the deal's own, else its lead's, else its
    company's."""
    return Coalesce(*(KeyTextTransform(key, path) for path in SEGMENT_PATHS))


@figure("clv_by_segment", title=_("Customer value by segment"), section="customers")
def clv_by_segment(scope: Scope) -> Table:
    """Customer value per value of the custom field chosen under "Customer value by"."""
    if scope.split is None:
        table = _clv_frame("clv_by_segment")
        table.notes.append(
            _("Pick a custom field under “Customer value by” to compare its segments.")
        )
        return table
    label = dict(split_choices()).get(scope.split, scope.split)
    title = _("Customer value by %(field)s") % {"field": label}
    return _clv_table(scope, "clv_by_segment", segment_of(scope.split), title=title)


def _customer_drill(scope: Scope, row: str, column: str) -> QuerySet[Deal]:
    kind, _sep, pk = row.partition(":")
    if not pk.isdigit():
        return Deal.objects.none()
    deals = scope.deals().filter(scope.won())
    if kind == "company":
        return deals.filter(company_id=int(pk))
    if kind == "contact":
        return deals.filter(company__isnull=True, contact_id=int(pk))
    return Deal.objects.none()


@figure(
    "top_customers",
    title=_("Top customers by revenue to date"),
    section="customers",
    drill=_customer_drill,
)
def top_customers(scope: Scope) -> Table:
    """The customers with the most revenue to date."""
    rows = list(_per_customer(customer_deals(scope)).order_by("-revenue")[:TOP])
    companies = Company.objects.in_bulk(
        [r["customer_company"] for r in rows if r["customer_company"]]
    )
    contacts = Contact.objects.in_bulk(
        [r["customer_contact"] for r in rows if r["customer_contact"]]
    )
    table = Table(
        key="top_customers",
        columns=[
            Column("customer", _("Customer"), "text"),
            Column("purchases", _("Purchases")),
            Column("revenue", _("Revenue (historical CLV)"), "money"),
            Column("first", _("First purchase"), "date"),
            Column("last", _("Last purchase"), "date"),
        ],
    )
    for i, row in enumerate(rows):
        if row["customer_company"]:
            key, name = f"company:{row['customer_company']}", companies.get(row["customer_company"])
        else:
            key, name = f"contact:{row['customer_contact']}", contacts.get(row["customer_contact"])
        table.rows.append(
            {
                "customer": str(name or "—"),
                "purchases": row["purchases"],
                "revenue": row["revenue"],
                "first": timezone.localtime(row["first_purchase"]).date(),
                "last": timezone.localtime(row["last_purchase"]).date(),
            }
        )
        table.links[i] = {"purchases": drill_url(scope, "top_customers", key, "purchases")}
    return table
