"""Generated funnel histories for the analytics tests, with the awkward cases in them.

Deals go through the services (deal_create / deal_move_to_stage with historical dates), so
their StageChange rows are what real use writes: some skip stages, some move backwards, some
are won then reopened, some have no amount, some are in EUR. Lead lifecycles are written as
an import brings them (status history rows with past dates), because the live lifecycle only
allows today's moves.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from lejek.leads import status_history
from lejek.leads.models import LEAD_STEPS, Lead, LeadStatusChange
from lejek.pipeline.models import Deal, Pipeline, StageChange, visited_key
from lejek.pipeline.services import deal_create, deal_move_to_stage
from tests.factories import make_lead

LEAD_PATHS = [
    ["new"],
    ["new", "contacted"],
    ["new", "contacted", "mql"],
    ["new", "contacted", "mql", "sql"],
    ["new", "contacted", "mql", "sql", "converted"],
    ["new", "mql", "sql", "converted"],  # skips "contacted"
    ["new", "contacted", "disqualified"],
    ["new", "contacted", "mql", "contacted"],  # sent back by sales
    ["new", "contacted", "mql", "disqualified", "contacted", "mql"],  # reopened
]


def days_ago(days: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def lead_history(actor, *, count: int, seed: int = 1, owner=None) -> list[Lead]:
    """`count` leads created over the last 400 days, each with one of LEAD_PATHS."""
    rng = random.Random(seed)
    leads = []
    for _n in range(count):
        path = rng.choice(LEAD_PATHS)
        created = days_ago(rng.uniform(1, 400))
        lead = make_lead(actor, owner=owner, assign=False)
        moments = [created + datetime.timedelta(days=3 * i) for i in range(len(path))]
        Lead.objects.filter(pk=lead.pk).update(created_at=created, status=path[-1])
        LeadStatusChange.objects.filter(lead=lead).delete()
        LeadStatusChange.objects.bulk_create(
            LeadStatusChange(
                lead=lead,
                from_status=path[i - 1] if i else "",
                to_status=status,
                changed_at=moments[i],
                actor=actor,
            )
            for i, status in enumerate(path)
        )
        leads.append(lead)
    # Written directly, as an import with history writes them: link each change to the lead's
    # previous entry into its status, as every writer of history must.
    status_history.relink([lead.pk for lead in leads])
    return leads


def deal_history(actor, pipeline: Pipeline, *, count: int, seed: int = 1, owner=None):
    """`count` deals over the last 400 days with mixed, sometimes awkward, paths."""
    rng = random.Random(seed)
    stages = list(pipeline.stages.order_by("position"))
    open_stages = [s for s in stages if not s.is_won and not s.is_lost]
    won = next(s for s in stages if s.is_won)
    lost = next(s for s in stages if s.is_lost)
    deals = []
    for n in range(count):
        created = days_ago(rng.uniform(5, 400))
        amount = None if n % 11 == 0 else Decimal(rng.randrange(1_000, 90_000))
        currency = "EUR" if n % 13 == 0 else "PLN"
        deal = deal_create(
            actor=actor,
            title=f"Deal {n}",
            pipeline=pipeline,
            stage=open_stages[0],
            amount=amount,
            currency=currency,
            owner=owner,
            when=created,
            expected_close_date=(created + datetime.timedelta(days=rng.randrange(20, 200))).date(),
        )
        when = created
        path = _deal_path(rng, open_stages, won, lost)
        for stage in path:
            when = min(when + datetime.timedelta(days=rng.uniform(0.5, 20)), timezone.now())
            deal = Deal.objects.get(pk=deal.pk)
            deal_move_to_stage(
                actor=actor,
                deal=deal,
                stage=stage,
                when=when,
                lost_reason=rng.choice(["Price", "Timing"]) if stage.is_lost else "",
            )
        deals.append(Deal.objects.get(pk=deal.pk))
    return deals


def _deal_path(rng: random.Random, open_stages, won, lost) -> list:
    kind = rng.random()
    if kind < 0.2:
        return []  # still in the first stage
    if kind < 0.35:
        return [open_stages[-1], won]  # skips the middle stages
    if kind < 0.45:
        return [open_stages[1], open_stages[0], open_stages[1], lost]  # backwards
    if kind < 0.55:
        return [*open_stages[1:], won, open_stages[-1]]  # won, then reopened
    if kind < 0.75:
        return [*open_stages[1:], won]
    stop = rng.randrange(1, len(open_stages))
    return [*open_stages[1:stop], lost]


def assert_status_summaries_match_histories() -> None:
    """Each lead's furthest step and each change's previous entry agree with its history,
    computed here from the raw rows (what status_history keeps for the funnel)."""
    rank = {step.value: i for i, step in enumerate(LEAD_STEPS)}
    histories = defaultdict(list)
    for change in LeadStatusChange.objects.order_by("changed_at", "pk"):
        histories[change.lead_id].append(change)
    for lead in Lead.objects.all():
        history = histories[lead.pk]
        been = [rank.get(change.to_status, -1) for change in history]
        furthest = max(been, default=-1)
        further = LEAD_STEPS[furthest] if furthest > max(rank.get(lead.status, 0), 0) else ""
        assert lead.furthest_status == further, lead.pk
        last_entry: dict[str, datetime.datetime] = {}
        for change in history:
            assert change.previous_entry_at == last_entry.get(change.to_status), change.pk
            last_entry[change.to_status] = change.changed_at


def assert_stage_entries_match_histories() -> None:
    """Each stage change keeps when its deal entered the stage it leaves (the deal's change
    before it); each deal keeps the stages it has been in. All found here from the raw rows."""
    entered: dict[int, datetime.datetime] = {}
    for change in StageChange.objects.order_by("deal_id", "changed_at", "pk"):
        assert change.from_stage_entered_at == entered.get(change.deal_id), change.pk
        entered[change.deal_id] = change.changed_at
    stages_of = defaultdict(set)
    for change in StageChange.objects.all():
        stages_of[change.deal_id].add(change.to_stage_id)
    for deal in Deal.objects.all():
        assert deal.stages_visited == visited_key(stages_of[deal.pk]), deal.pk
        assert deal.stage_id in stages_of[deal.pk], deal.pk
