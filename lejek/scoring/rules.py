"""Rule-based scoring: fit rules (who the lead is) and engagement rules (what they did).

Fit conditions are the assignment rules' conditions (lejek.leads.assignment), plus a few
fields only scoring needs: job title, company name, e-mail domain and whether that domain is
a free mailbox. Those are tested by handing the assignment engine a stand-in lead that holds
the value under a custom key, so the comparison rules stay the engine's own.

Evaluating a condition depends only on the value of its one field, so a batch of leads is
evaluated column by column: each distinct value of a field is tested once by the engine
(and remembered across batches), and the answers are spread over the batch as a boolean
mask. One lead is a batch of one, so both paths share the same code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
from django.utils.translation import gettext_lazy

from lejek.leads import assignment
from lejek.leads.assignment import (
    CUSTOM_PREFIX,
    clean_condition,
    condition_holds,
    describe_condition,
)
from lejek.leads.models import Campaign, Source

# Scoring's own fields on top of assignment.FIELDS. Title and company name are lead
# attributes the engine reads directly; the e-mail ones are derived.
EXTRA_FIELDS = {
    "title": gettext_lazy("Job title"),
    "company_name": gettext_lazy("Company name"),
    "email_domain": gettext_lazy("E-mail domain"),
    "email_kind": gettext_lazy("E-mail kind (free or corporate)"),
}
DERIVED = ("email_domain", "email_kind")
FIELDS = {**assignment.FIELDS, **EXTRA_FIELDS}
# Where a derived value sits on the stand-in lead; no real custom field can have this key.
PROBE_KEY = "__scoring__"
FREE_MAIL_DOMAINS = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "wp.pl",
        "o2.pl",
        "onet.pl",
        "op.pl",
        "interia.pl",
        "interia.eu",
        "poczta.fm",
        "tlen.pl",
        "vp.pl",
        "buziaczek.pl",
        "gazeta.pl",
    ]
)


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().casefold() if "@" in (email or "") else ""


def email_kind(email: str) -> str:
    domain = email_domain(email)
    if not domain:
        return "none"
    return "free" if domain in FREE_MAIL_DOMAINS else "corporate"


def field_choices() -> list[tuple[str, str]]:
    choices = [("", "—")] + [(key, str(label)) for key, label in FIELDS.items()]
    for key, label in assignment.custom_field_keys().items():
        choices.append((CUSTOM_PREFIX + key, label))
    return choices


def clean_fit_condition(condition: Any, custom_keys: set[str] | None = None) -> dict:
    """The assignment check, extended to scoring's own fields."""
    name = str(condition.get("field") or "").strip() if isinstance(condition, dict) else ""
    if name not in EXTRA_FIELDS:
        return clean_condition(condition, custom_keys)
    keys = {PROBE_KEY} if custom_keys is None else {*custom_keys, PROBE_KEY}
    cleaned = clean_condition({**condition, "field": CUSTOM_PREFIX + PROBE_KEY}, keys)
    return {**cleaned, "field": name}


def describe(condition: dict, custom_labels: dict[str, str] | None = None) -> str:
    name = condition.get("field", "")
    if name in EXTRA_FIELDS:
        label = str(EXTRA_FIELDS[name])
        words = describe_condition({**condition, "field": CUSTOM_PREFIX + PROBE_KEY}, {})
        return label + words.removeprefix(PROBE_KEY)
    return describe_condition(condition, custom_labels)


# Reading a field -----------------------------------------------------------------------------

# The lead columns a scoring pass reads, for `.values(*LEAD_COLUMNS)`.
LEAD_COLUMNS = (
    "id",
    "status",
    "source_id",
    "campaign_id",
    "medium",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "country",
    "region",
    "company_size",
    "title",
    "company_name",
    "email",
    "custom",
)


def row_of(lead) -> dict[str, Any]:
    """A lead instance as the same dict a bulk `.values()` pass reads."""
    row = {name: getattr(lead, name) for name in LEAD_COLUMNS}
    row["custom"] = row["custom"] or {}
    return row


def _scalar(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def raw_column(columns: dict[str, list], name: str, n: int) -> list:
    """The values a condition on `name` depends on, one per lead of a batch (the memo keys)."""
    if name == "source":
        return columns["source_id"]
    if name == "campaign":
        return columns["campaign_id"]
    if name == "email_domain":
        return [email_domain(email) for email in columns["email"]]
    if name == "email_kind":
        return columns["email_kind"]
    if name.startswith(CUSTOM_PREFIX):
        key = name.removeprefix(CUSTOM_PREFIX)
        return [_scalar(custom.get(key)) if custom else None for custom in columns["custom"]]
    return columns[name] if name in columns else [None] * n


def raw_value(row: dict[str, Any], name: str) -> Any:
    """The value a condition on `name` depends on for one lead row."""
    return raw_column(columns_of([row]), name, 1)[0]


def columns_of(rows: Sequence[dict[str, Any]]) -> dict[str, list]:
    """Lead rows (dicts of LEAD_COLUMNS) as one list per column."""
    columns = {name: [row.get(name) for row in rows] for name in LEAD_COLUMNS}
    return with_derived(columns)


def with_derived(columns: dict[str, list]) -> dict[str, list]:
    """Empty custom values as {} and the e-mail kind, computed once for rules and model."""
    columns["custom"] = [custom or {} for custom in columns["custom"]]
    columns["email_kind"] = [email_kind(email) for email in columns["email"]]
    return columns


def memo_key(value: Any) -> Any:
    # True and 1 are equal dictionary keys but not equal to the engine.
    return ("bool", value) if type(value) is bool else value


def factorize(keys: Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    """(code of each key, the distinct keys in order of first appearance)."""
    index: dict[Any, int] = {}
    codes = [index.setdefault(key, len(index)) for key in keys]
    return np.fromiter(codes, dtype=np.intp, count=len(codes)), list(index)


@dataclass
class Lookups:
    """Sources and campaigns by id, loaded once per pass (the engine matches their names)."""

    sources: dict[int, Source] = field(default_factory=dict)
    campaigns: dict[int, Campaign] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Lookups:
        return cls(
            sources={s.pk: s for s in Source.objects.all()},
            campaigns={c.pk: c for c in Campaign.objects.all()},
        )


def probe(name: str, value: Any, lookups: Lookups) -> SimpleNamespace:
    """A stand-in lead holding only `value` for `name`, for assignment.condition_holds."""
    stand_in = SimpleNamespace(source=None, campaign=None, custom={})
    if name == "source":
        stand_in.source = lookups.sources.get(value)
    elif name == "campaign":
        stand_in.campaign = lookups.campaigns.get(value)
    elif name in DERIVED:
        stand_in.custom = {PROBE_KEY: value}
    elif name.startswith(CUSTOM_PREFIX):
        stand_in.custom = {name.removeprefix(CUSTOM_PREFIX): value}
    else:
        setattr(stand_in, name, value)
    return stand_in


def engine_condition(condition: dict) -> dict:
    if condition["field"] in DERIVED:
        return {**condition, "field": CUSTOM_PREFIX + PROBE_KEY}
    return condition


# Fit -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    name: str
    points: float
    conditions: tuple[dict, ...]


class FitEvaluator:
    """Which fit rules hold for a batch of leads, memoised per condition and field value."""

    def __init__(self, rules: Iterable[Rule], lookups: Lookups) -> None:
        self.rules = list(rules)
        self.lookups = lookups
        # Per rule: (field, condition as the engine reads it, memo key → result).
        self.checks = [
            [(c["field"], engine_condition(c), {}) for c in rule.conditions] for rule in self.rules
        ]

    def _holds(self, name: str, condition: dict, memo: dict, key: Any) -> bool:
        result = memo.get(key)
        if result is None:
            value = key[1] if type(key) is tuple else key
            result = memo[key] = condition_holds(probe(name, value, self.lookups), condition)
        return result

    def mask(self, columns: dict[str, list], n: int) -> np.ndarray:
        """n x rules booleans: rule r holds for lead i. A rule without conditions always holds."""
        out = np.ones((n, len(self.rules)), dtype=bool)
        coded: dict[str, tuple[np.ndarray, list]] = {}
        for r, checks in enumerate(self.checks):
            for name, condition, memo in checks:
                if name not in coded:
                    coded[name] = factorize([memo_key(v) for v in raw_column(columns, name, n)])
                codes, keys = coded[name]
                holds = np.array([self._holds(name, condition, memo, k) for k in keys], dtype=bool)
                out[:, r] &= holds[codes] if len(keys) else False
        return out

    def matches(self, row: dict[str, Any]) -> list[Rule]:
        hits = self.mask(columns_of([row]), 1)[0]
        return [rule for rule, hit in zip(self.rules, hits, strict=True) if hit]


# Engagement ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decay:
    points: float
    half_life_days: float


def decayed(points, age_days, half_life_days):
    """points x 0.5^(age / half-life); engagement dated in the future counts in full.

    Works on numbers and on numpy arrays alike: a batch decays every engagement at once.
    """
    return points * np.power(0.5, np.maximum(age_days, 0.0) / half_life_days)


def engagement_points(
    events: Iterable[tuple[str, float]], rules: dict[str, Decay]
) -> dict[str, float]:
    """Decayed points per kind from (kind, age in days) pairs; kinds without a rule count 0."""
    totals: dict[str, float] = {}
    for kind, age in events:
        rule = rules.get(kind)
        if rule is not None:
            totals[kind] = totals.get(kind, 0.0) + float(
                decayed(rule.points, age, rule.half_life_days)
            )
    return totals
