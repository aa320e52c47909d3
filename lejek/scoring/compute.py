"""A scoring pass: read a batch of leads and their engagement as columns, score them as arrays.

Nothing here writes; lejek.scoring.services stores the results. A batch is scored column by
column: each fit rule is a boolean mask over the batch, engagement decays as arrays indexed
by (lead, kind), the win probability is one sum of per-field contributions, and the stored
explanation and factors are written as JSON text from fragments built once per distinct
value. One lead is a batch of one, so `lead_rescore` and `rescore_all` agree by construction.
"""

from __future__ import annotations

import datetime
import itertools
import json
import threading
import warnings
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_datetime
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
    columns_of,
    decayed,
    factorize,
    with_derived,
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
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
MICROSECOND = datetime.timedelta(microseconds=1)


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
    newest = ScoringModel.objects.values_list("version", "trained_at").order_by("-version")
    key = newest.first()
    if key is None:
        return None, None
    version = key[0]
    with _model_lock:
        # By version and training time: a version number comes back after models are deleted.
        if _model_cache["version"] != key:
            payload, spec = ScoringModel.objects.values_list("payload", "spec").get(version=version)
            _model_cache["model"] = CompiledModel.from_estimator(load_estimator(payload), spec)
            _model_cache["version"] = key
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


# Reading ------------------------------------------------------------------------------------


@dataclass
class Batch:
    """Leads as one list per column of rules.LEAD_COLUMNS, in id order."""

    columns: dict[str, list]

    @property
    def n(self) -> int:
        return len(self.columns["id"])

    @property
    def ids(self) -> list[int]:
        return self.columns["id"]

    @classmethod
    def from_tuples(cls, rows: Sequence[tuple]) -> Batch:
        if not rows:
            return cls(with_derived({name: [] for name in LEAD_COLUMNS}))
        columns = dict(zip(LEAD_COLUMNS, map(list, zip(*rows, strict=True)), strict=True))
        return cls(with_derived(columns))

    @classmethod
    def from_rows(cls, rows: Sequence[dict[str, Any]]) -> Batch:
        return cls(columns_of(rows))


@dataclass
class Engaged:
    """Every engagement of a batch's leads: position of its lead in the batch, kind, age."""

    position: np.ndarray
    kind: list[str]
    age_days: np.ndarray

    @classmethod
    def none(cls) -> Engaged:
        return cls(np.empty(0, dtype=np.intp), [], np.empty(0))


def _span(ids: Sequence[int]) -> tuple[tuple[int, int], set[int] | None]:
    """The id range covering `ids`, and the ids to keep when they do not fill it.

    Batches are consecutive ids, so a range is exact and much cheaper to build and run than
    an IN list of thousands of values.
    """
    low, high = min(ids), max(ids)
    keep = None if len(set(ids)) == high - low + 1 else set(ids)
    return (low, high), keep


def _lead_columns(queryset) -> Batch:
    """The batch's LEAD_COLUMNS. `custom` is read as JSON text and decoded once per distinct
    text: leads share few distinct custom values, and decoding was a tenth of a rescore."""
    # Straight from the cursor: no field needs a converter, and one fetch beats the ORM's
    # chunks of 100 rows.
    query = queryset.values_list(*LEAD_COLUMNS[:-1], Cast("custom", TextField())).query
    with connection.cursor() as cursor:
        cursor.execute(*query.sql_with_params())
        rows = cursor.fetchall()
    if not rows:
        return Batch.from_tuples([])
    columns = dict(zip(LEAD_COLUMNS, map(list, zip(*rows, strict=True)), strict=True))
    decoded: dict[str | None, Any] = {None: {}}
    for text in set(columns["custom"]):
        if text not in decoded:
            decoded[text] = json.loads(text) or {}
    columns["custom"] = [decoded[text] for text in columns["custom"]]
    return Batch(with_derived(columns))


def read_batch(*, after_id: int = 0, limit: int) -> Batch:
    """The next `limit` leads after `after_id`, in id order: one query."""
    return _lead_columns(Lead.objects.filter(pk__gt=after_id).order_by("pk")[:limit])


def read_leads(ids: Sequence[int]) -> Batch:
    if not ids:
        return Batch.from_tuples([])
    span, keep = _span(ids)
    batch = _lead_columns(Lead.objects.filter(pk__range=span).order_by("pk"))
    if keep is None:
        return batch
    wanted = [i for i, pk in enumerate(batch.ids) if pk in keep]
    return Batch({name: [values[i] for i in wanted] for name, values in batch.columns.items()})


def _engagement_sql() -> tuple[str, int]:
    """One statement for the three kinds of engagement: activities, web-form submissions (a
    new or repeated lead from a form) and engagement recorded through the API."""
    quote = connection.ops.quote_name

    def when(column: str) -> str:
        # Exact epoch microseconds on PostgreSQL; SQLite's text is parsed in bulk (numpy),
        # not row by row by the driver's converter.
        if connection.vendor == "postgresql":
            return f"(EXTRACT(EPOCH FROM {quote(column)}) * 1000000)::bigint"
        return f"CAST({quote(column)} AS TEXT)"

    form_submitted = f"'{EngagementKind.FORM_SUBMITTED.value}'"
    parts = [
        (Activity._meta.db_table, quote("kind"), when("occurred_at")),
        (FormSubmission._meta.db_table, form_submitted, when("created_at")),
        (Engagement._meta.db_table, quote("kind"), when("occurred_at")),
    ]
    lead = quote("lead_id")
    sql = " UNION ALL ".join(
        f"SELECT {lead}, {kind}, {at} FROM {quote(table)} WHERE {lead} BETWEEN %s AND %s"
        for table, kind, at in parts
    )
    return sql, len(parts)


def _microseconds(values: list) -> np.ndarray:
    """Epoch microseconds, exact, from what the database returned."""
    if not values:
        return np.empty(0, dtype=np.int64)
    if isinstance(values[0], int):
        return np.array(values, dtype=np.int64)
    if isinstance(values[0], str):
        try:
            with warnings.catch_warnings():
                # A time zone in the text (never written by Django) takes the careful way.
                warnings.simplefilter("error")
                return np.array(values, dtype="datetime64[us]").astype(np.int64)
        except (ValueError, DeprecationWarning, UserWarning):
            values = [parse_datetime(value) for value in values]
    aware = [v if timezone.is_aware(v) else v.replace(tzinfo=datetime.UTC) for v in values]
    return np.array([(v - EPOCH) // MICROSECOND for v in aware], dtype=np.int64)


def read_engagement(ids: Sequence[int], now: datetime.datetime) -> Engaged:
    """Engagement of the leads `ids` (a batch, in its order) with its age in days."""
    if not ids:
        return Engaged.none()
    (low, high), keep = _span(ids)
    sql, parts = _engagement_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [low, high] * parts)
        rows = cursor.fetchall()
    if keep is not None:
        rows = [row for row in rows if row[0] in keep]
    if not rows:
        return Engaged.none()
    lead_ids, kinds, stamps = (list(column) for column in zip(*rows, strict=True))
    position = np.searchsorted(np.asarray(ids, dtype=np.int64), np.asarray(lead_ids))
    # Integer microseconds, then one division: the same age as timedelta.total_seconds().
    elapsed = (now - EPOCH) // MICROSECOND - _microseconds(stamps)
    return Engaged(position, kinds, elapsed.astype(np.float64) / 1e6 / 86400.0)


# Engagement as arrays -----------------------------------------------------------------------


@dataclass
class EngagementArrays:
    """Per lead and kind of a batch: decayed points, counts and first appearance."""

    kinds: list[str]
    points: np.ndarray  # n x K, decayed points (0 where the kind has no rule)
    counts: np.ndarray  # n x K, how many
    ruled: np.ndarray  # K booleans: the kind has an engagement rule
    first: np.ndarray  # n x K, index of the lead's first engagement of the kind
    last_days: np.ndarray  # n, days since the latest engagement (nan if none)


def engagement_arrays(engaged: Engaged, n: int, rules: dict[str, Decay]) -> EngagementArrays:
    codes, kinds = factorize(engaged.kind)
    k = len(kinds)
    slot = engaged.position * k + codes
    points_of = np.array([rules[kd].points if kd in rules else 0.0 for kd in kinds], dtype=float)
    half_life = np.array([rules[kd].half_life_days if kd in rules else 1.0 for kd in kinds])
    each = decayed(points_of[codes], engaged.age_days, half_life[codes])
    # bincount adds in event order, as a running sum per kind would.
    points = np.bincount(slot, weights=each, minlength=n * k).reshape(n, k)
    counts = np.bincount(slot, minlength=n * k).reshape(n, k)
    first = np.full(n * k, len(slot), dtype=np.intp)
    np.minimum.at(first, slot, np.arange(len(slot)))
    latest = np.full(n, np.inf)
    np.minimum.at(latest, engaged.position, np.maximum(engaged.age_days, 0.0))
    return EngagementArrays(
        kinds=kinds,
        points=points,
        counts=counts,
        ruled=np.array([kd in rules for kd in kinds], dtype=bool),
        first=first.reshape(n, k),
        last_days=np.where(np.isinf(latest), np.nan, latest),
    )


# Scoring a batch ----------------------------------------------------------------------------


@dataclass
class Scored:
    """A batch's scores; explanation and factors as the JSON text LeadScore stores."""

    ids: list[int]
    status: list[str]
    score: list[int]
    fit_points: list[float]
    engagement_points: list[float]
    explanation: list[str]
    probability: list[float] | None = None
    factors: list[str] | None = None


def _join(parts: list[str]) -> str:
    return "[" + ", ".join(parts) + "]"


def _fit_explanations(mask: np.ndarray, rules: list[Rule]) -> list[str]:
    """Per lead, the JSON of its matching rules, built once per distinct pattern of matches."""
    n = mask.shape[0]
    if not rules:
        return [""] * n
    fragments = [
        json.dumps({"kind": "fit", "label": rule.name, "points": rule.points}, ensure_ascii=False)
        for rule in rules
    ]
    packed = np.packbits(mask, axis=1)
    patterns, which = np.unique(packed, axis=0, return_inverse=True)
    texts = []
    for pattern in patterns:
        hits = np.unpackbits(pattern)[: len(rules)]
        texts.append(", ".join(f for f, hit in zip(fragments, hits, strict=True) if hit))
    return [texts[w] for w in which.reshape(-1).tolist()]


def _engagement_explanations(arrays: EngagementArrays, n: int) -> tuple[list[float], list[str]]:
    """Per lead: the engagement total and the JSON of its kinds, largest push first."""
    totals = [0.0] * n
    texts = [""] * n
    present = (arrays.counts > 0) & arrays.ruled
    rows, cols = np.nonzero(present)
    if not len(rows):
        return totals, texts
    # Kinds in the order the lead first engaged in them: sums and ties follow that order.
    order = np.lexsort((arrays.first[rows, cols], rows))
    rows, cols = rows[order], cols[order]
    values = arrays.points[rows, cols].tolist()
    labels = [json.dumps(kind, ensure_ascii=False) for kind in arrays.kinds]
    starts = [*np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]).tolist(), len(rows)]
    rows_l, cols_l = rows.tolist(), cols.tolist()
    for a, b in itertools.pairwise(starts):
        if b - a == 1:  # the common case: one kind of engagement
            value = values[a]
            totals[rows_l[a]] = 0 + value  # as sum() gives it
            if shown := round(value, 1):
                texts[rows_l[a]] = (
                    f'{{"kind": "engagement", "label": {labels[cols_l[a]]}, "points": {shown!r}}}'
                )
            continue
        own = values[a:b]
        totals[rows_l[a]] = sum(own)
        shown = sorted(
            ((v, cols_l[a + j]) for j, v in enumerate(own) if round(v, 1)),
            key=lambda item: -abs(item[0]),
        )
        texts[rows_l[a]] = ", ".join(
            f'{{"kind": "engagement", "label": {labels[c]}, "points": {round(v, 1)!r}}}'
            for v, c in shown
        )
    return totals, texts


def score_batch(batch: Batch, engaged: Engaged, context: Context, explain: bool = True) -> Scored:
    """Both scores for a batch; `explain=False` leaves out the predictive factors."""
    n = batch.n
    if not n:
        return Scored([], [], [], [], [], [], None, None)
    mask = context.fit.mask(batch.columns, n)
    points = np.array([rule.points for rule in context.fit.rules], dtype=float)
    fit_total = (mask @ points if len(points) else np.zeros(n)).tolist()
    arrays = engagement_arrays(engaged, n, context.decay)
    engaged_total, engagement_texts = _engagement_explanations(arrays, n)
    fit_texts = _fit_explanations(mask, context.fit.rules)
    explanation = [
        _join([part for part in (f, e) if part])
        for f, e in zip(fit_texts, engagement_texts, strict=True)
    ]
    totals = np.asarray(fit_total) + np.asarray(engaged_total)
    # np.rint rounds half to even, as round() does.
    scores = np.clip(np.rint(totals), 0, 100).astype(int).tolist()
    scored = Scored(
        ids=batch.ids,
        status=batch.columns["status"],
        score=scores,
        fit_points=[float(total) for total in fit_total],
        engagement_points=[round(float(total), 2) for total in engaged_total],
        explanation=explanation,
    )
    if context.model is not None:
        inputs = features.batch_inputs(batch.columns, context.lookups, arrays, context.model.spec)
        contributions = context.model.coded_contributions(inputs)
        logits = context.model.intercept + contributions.sum(axis=1)
        scored.probability = np.round(1.0 / (1.0 + np.exp(-logits)), 4).tolist()
        if explain:
            scored.factors = context.model.factor_texts(inputs, contributions)
    return scored


def score_leads(ids: Sequence[int], context: Context, explain: bool = True) -> Scored:
    """Read and score the leads `ids`."""
    batch = read_leads(ids)
    return score_batch(batch, read_engagement(batch.ids, context.now), context, explain)


# Records for training -------------------------------------------------------------------


def lead_rows(ids: Sequence[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    span, keep = _span(ids)
    rows = Lead.objects.filter(pk__range=span).order_by("pk").values(*LEAD_COLUMNS)
    return [row for row in rows if keep is None or row["id"] in keep]


def engagement_of(ids: Sequence[int]) -> dict[int, list[tuple[str, datetime.datetime]]]:
    """(kind, when) of every engagement of these leads, for training's records."""
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


def engagement_label(kind: str) -> str:
    if kind in EngagementKind.values:
        return str(EngagementKind(kind).label)
    return _("Engagement")
