"""Teaching the predictive model from leads whose outcome is known.

A lead counts as won (1) when one of its deals is won; as lost (0) when it has deals and all
are lost. A lead without a decided deal counts by its status: converted is won, disqualified
is lost. Every other lead is still open and is not learnt from.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from lejek.leads.models import Lead
from lejek.pipeline.models import Deal
from lejek.scoring import features, predictive
from lejek.scoring.compute import engagement_of, lead_rows, summary
from lejek.scoring.rules import Lookups

BATCH = 2000


def outcomes() -> dict[int, int]:
    """lead id → 1 (won) or 0 (lost), for every lead whose outcome is known."""
    deals: dict[int, list[tuple[bool, bool]]] = defaultdict(list)
    rows = Deal.objects.filter(lead__isnull=False).order_by()
    for lead_id, won, lost in rows.values_list("lead_id", "stage__is_won", "stage__is_lost"):
        deals[lead_id].append((won, lost))
    known: dict[int, int] = {}
    decided = Lead.objects.filter(
        status__in=[Lead.Status.CONVERTED, Lead.Status.DISQUALIFIED]
    ).order_by()
    for lead_id, status in decided.values_list("id", "status"):
        known[lead_id] = 1 if status == Lead.Status.CONVERTED else 0
    for lead_id, states in deals.items():
        if any(won for won, _lost in states):
            known[lead_id] = 1
        elif all(lost for _won, lost in states):
            known[lead_id] = 0
    return known


def training_records(known: dict[int, int], now) -> tuple[list[dict], np.ndarray]:
    lookups = Lookups.load()
    ids = sorted(known)
    records, labels = [], []
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        events = engagement_of(chunk)
        for row in lead_rows(chunk):
            _aged, counts, last = summary(events.get(row["id"], []), now)
            records.append(features.record_from_row(row, lookups, counts, last))
            labels.append(known[row["id"]])
    return records, np.array(labels, dtype=int)


def train_from_database(now, seed: int = 0) -> predictive.Trained:
    """Raises predictive.TooFewOutcomes when there is not enough to learn from."""
    known = outcomes()
    predictive.check_enough(np.array(list(known.values()), dtype=int))
    records, labels = training_records(known, now)
    return predictive.train(records, labels, features.spec_from_database(), seed=seed)
