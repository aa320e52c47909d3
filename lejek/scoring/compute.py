"""A scoring pass: read leads and their engagement in bulk, compute both scores in Python.

Nothing here writes; lejek.scoring.services stores the results. The same functions score one
lead (a list of one) and a million (batches), so both paths agree by construction.
"""

from __future__ import annotations

import datetime
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.utils import timezone
from django.utils.translation import gettext as _

from lejek.activities.models import Activity
from lejek.leads.models import FormSubmission, Lead
from lejek.scoring import features
from lejek.scoring.models import (
    Engagement,
    EngagementKind,
    EngagementRule,
    FitRule,
    ScoringModel,
)
from lejek.scoring.predictive import CompiledModel, load_estimator
from lejek.scoring.rules import (
    LEAD_COLUMNS,
    Decay,
    FitEvaluator,
    Lookups,
    Rule,
    clamp_score,
    engagement_points,
)

# Used until a manager saves engagement rules of their own.
DEFAULT_ENGAGEMENT = {
    EngagementKind.MEETING: Decay(15, 30),
    EngagementKind.CALL: Decay(8, 14),
    EngagementKind.EMAIL: Decay(4, 14),
    EngagementKind.NOTE: Decay(0, 14),
    EngagementKind.FORM_SUBMITTED: Decay(10, 30),
    EngagementKind.PAGE_VISIT: Decay(2, 7),
}
ACTIVITY_KINDS = [kind.value for kind in Activity.Kind]


def engagement_rules() -> dict[str, Decay]:
    stored = {r.kind: Decay(r.points, r.half_life_days) for r in EngagementRule.objects.all()}
    return stored or {str(kind): rule for kind, rule in DEFAULT_ENGAGEMENT.items()}


def fit_rules() -> list[Rule]:
    rows = FitRule.objects.filter(is_active=True).order_by("-points", "id")
    return [Rule(r.name, r.points, tuple(r.conditions or [])) for r in rows]


# The current predictive model, compiled once per process and kept until a newer one exists.
_model_lock = threading.Lock()
_model_cache: dict[str, Any] = {"version": None, "model": None}


def current_model() -> tuple[int | None, CompiledModel | None]:
    version = ScoringModel.objects.values_list("version", flat=True).order_by("-version").first()
    if version is None:
        return None, None
    with _model_lock:
        if _model_cache["version"] != version:
            payload, spec = ScoringModel.objects.values_list("payload", "spec").get(version=version)
            _model_cache["model"] = CompiledModel.from_estimator(load_estimator(payload), spec)
            _model_cache["version"] = version
        return version, _model_cache["model"]


@dataclass
class Context:
    """Everything a pass needs besides the leads, loaded once."""

    now: datetime.datetime
    lookups: Lookups
    fit: FitEvaluator
    decay: dict[str, Decay]
    model_version: int | None
    model: CompiledModel | None

    @classmethod
    def load(cls, with_model: bool = True) -> Context:
        lookups = Lookups.load()
        version, model = current_model() if with_model else (None, None)
        return cls(
            now=timezone.now(),
            lookups=lookups,
            fit=FitEvaluator(fit_rules(), lookups),
            decay=engagement_rules(),
            model_version=version,
            model=model,
        )


@dataclass
class Result:
    lead_id: int
    status: str
    score: int
    fit_points: float
    engagement_points: float
    explanation: list[dict]
    previous_score: int | None = None
    probability: float | None = None
    factors: list[dict] = field(default_factory=list)


def _span(ids: Sequence[int]) -> tuple[tuple[int, int], set[int] | None]:
    """The id range covering `ids`, and the ids to keep when they do not fill it.

    Batches are consecutive ids, so a range is exact and much cheaper to build and run than
    an IN list of thousands of values.
    """
    low, high = min(ids), max(ids)
    keep = None if len(set(ids)) == high - low + 1 else set(ids)
    return (low, high), keep


def lead_rows(ids: Sequence[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    span, keep = _span(ids)
    rows = Lead.objects.filter(pk__range=span).order_by("pk").values(*LEAD_COLUMNS)
    return [row for row in rows if keep is None or row["id"] in keep]


def engagement_of(ids: Sequence[int]) -> dict[int, list[tuple[str, datetime.datetime]]]:
    """(kind, when) of every engagement of these leads: activities, web-form submissions (a new
    or repeated lead from a form) and engagement recorded through the API."""
    found: dict[int, list] = defaultdict(list)
    if not ids:
        return found
    span, keep = _span(ids)
    activities = Activity.objects.filter(lead_id__gte=span[0], lead_id__lte=span[1]).order_by()
    for lead_id, kind, at in activities.values_list("lead_id", "kind", "occurred_at"):
        found[lead_id].append((kind, at))
    forms = FormSubmission.objects.filter(lead_id__gte=span[0], lead_id__lte=span[1]).order_by()
    for lead_id, at in forms.values_list("lead_id", "created_at"):
        found[lead_id].append((EngagementKind.FORM_SUBMITTED.value, at))
    recorded = Engagement.objects.filter(lead_id__gte=span[0], lead_id__lte=span[1]).order_by()
    for lead_id, kind, at in recorded.values_list("lead_id", "kind", "occurred_at"):
        found[lead_id].append((kind, at))
    if keep is not None:
        return defaultdict(list, {k: v for k, v in found.items() if k in keep})
    return found


def summary(
    events: list[tuple[str, datetime.datetime]], now: datetime.datetime
) -> tuple[list[tuple[str, float]], dict[str, int], float | None]:
    """Ages in days, counts per kind and days since the latest engagement."""
    aged = [(kind, (now - at).total_seconds() / 86400.0) for kind, at in events]
    counts: dict[str, int] = defaultdict(int)
    for kind, _age in aged:
        counts[kind] += 1
    last = min((max(age, 0.0) for _kind, age in aged), default=None)
    return aged, dict(counts), last


def rule_result(row: dict[str, Any], aged: list[tuple[str, float]], context: Context) -> Result:
    explanation = [
        {"kind": "fit", "label": rule.name, "points": rule.points}
        for rule in context.fit.matches(row)
    ]
    fit_total = float(sum(item["points"] for item in explanation))
    per_kind = engagement_points(aged, context.decay)
    for kind, points in sorted(per_kind.items(), key=lambda item: -abs(item[1])):
        if round(points, 1):
            explanation.append({"kind": "engagement", "label": kind, "points": round(points, 1)})
    engaged = float(sum(per_kind.values()))
    return Result(
        lead_id=row["id"],
        status=row["status"],
        previous_score=row["score"],
        score=clamp_score(fit_total + engaged),
        fit_points=fit_total,
        engagement_points=round(engaged, 2),
        explanation=explanation,
    )


def score_rows(rows: list[dict[str, Any]], context: Context, explain: bool = True) -> list[Result]:
    """Both scores for lead rows; `explain=False` skips the per-lead predictive factors."""
    events = engagement_of([row["id"] for row in rows])
    results, records = [], []
    for row in rows:
        aged, counts, last = summary(events.get(row["id"], []), context.now)
        results.append(rule_result(row, aged, context))
        if context.model is not None:
            records.append(features.record_from_row(row, context.lookups, counts, last))
    if context.model is not None and rows:
        _add_probabilities(results, records, context.model, explain)
    return results


def _add_probabilities(results, records, model: CompiledModel, explain: bool) -> None:
    cat, num = features.matrices(records, model.spec)
    contributions = model.contributions(cat, num)
    logits = model.intercept + contributions.sum(axis=1)
    probabilities = np.round(1.0 / (1.0 + np.exp(-logits)), 4).tolist()
    factors = model.factors(records, contributions) if explain else None
    for i, result in enumerate(results):
        result.probability = probabilities[i]
        if factors is not None:
            result.factors = factors[i]


def engagement_label(kind: str) -> str:
    if kind in EngagementKind.values:
        return str(EngagementKind(kind).label)
    return _("Engagement")
