"""Generated leads with a KNOWN chance of converting, to measure the predictive score against.

Each lead belongs to a hidden segment (small, mid-size, enterprise) that shapes its fields, so
fields are correlated as in real data: the campaign follows the source, the medium the
campaign, the budget the company size. The true log-odds are a known additive formula of the
observed fields (`true_logit`); some fields (campaign, medium, region, newsletter) carry no
effect of their own and only echo others. Missing values are common. The outcome is a coin
flip with the true probability, so even the true model cannot reach AUC 1.

A naive-Bayes model counts the echoing fields as independent evidence; a model that learns
the fields jointly should not.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lejek.scoring.features import build_spec

SEGMENTS = ("small", "mid", "enterprise")
SOURCES = {"web_form": 0.3, "campaign": 0.0, "referral": 0.9, "event": 0.4, "import": -0.8}
CAMPAIGNS = {
    "web_form": ["Spring webinar", "Pricing page"],
    "campaign": ["Google Ads Q1", "LinkedIn Q1", "Newsletter May"],
    "referral": [""],
    "event": ["Trade fair Poznań", "Meetup Warsaw"],
    "import": [""],
}
MEDIUM_OF = {
    "Spring webinar": "email",
    "Pricing page": "organic",
    "Google Ads Q1": "cpc",
    "LinkedIn Q1": "social",
    "Newsletter May": "email",
}
COUNTRIES = {"PL": 0.3, "DE": 0.2, "CZ": -0.2, "GB": 0.0, "US": -0.5, "UA": -0.3}
TITLES = {
    "CEO": 0.6,
    "Owner": 0.5,
    "CTO": 0.4,
    "Sales Manager": 0.2,
    "Marketing Specialist": -0.1,
    "Student": -1.2,
    "Intern": -0.9,
    "": -0.2,
}
INDUSTRIES = {"software": 0.5, "manufacturing": 0.3, "retail": -0.1, "education": -0.6}
EMAIL_KIND = {"corporate": 0.4, "free": -0.4, "none": -0.6}
SIZE_EFFECT = 0.35  # per log1p(employees)
SIZE_MISSING = 1.1  # the log-odds a lead without a size gets instead
BUDGET_EFFECT = 0.25  # per log1p(budget in thousands)
MEETING_EFFECT = 0.9  # per log1p(meetings)
CALL_EFFECT = 0.35
VISIT_EFFECT = 0.2
RECENCY_EFFECT = -0.3  # per log1p(days since the last engagement)
INTERCEPT = -3.6

CUSTOM_FIELDS = (
    ("industry", "choice", "Industry"),
    ("budget", "number", "Budget (k PLN)"),
    ("newsletter", "boolean", "Newsletter"),
)


def spec() -> dict:
    return build_spec(CUSTOM_FIELDS)


def _pick(rng: np.random.Generator, options, weights) -> Any:
    weights = np.asarray(weights, dtype=float)
    return options[rng.choice(len(options), p=weights / weights.sum())]


def _lead(rng: np.random.Generator) -> dict[str, Any]:
    segment = _pick(rng, SEGMENTS, [0.6, 0.3, 0.1])
    tier = SEGMENTS.index(segment)
    source = _pick(rng, list(SOURCES), [3, 3, 1 + tier, 1 + tier, 2])
    campaign = _pick(rng, CAMPAIGNS[source], [1] * len(CAMPAIGNS[source]))
    size = float(np.exp(rng.normal(2.0 + 1.6 * tier, 0.8)))
    budget = float(np.exp(rng.normal(2.5 + 1.2 * tier, 0.9)))
    title_weights = [1 + tier, 3 - tier, 1 + tier, 2, 2, 2 - tier, 2 - tier, 2]
    meetings = int(rng.poisson(0.3 + 0.5 * tier))
    calls = int(rng.poisson(1.0 + 0.5 * tier))
    visits = int(rng.poisson(2.0))
    engaged = meetings + calls + visits > 0
    return {
        "source": source,
        "campaign": campaign,
        "medium": MEDIUM_OF.get(campaign, ""),
        "utm_source": "google" if campaign == "Google Ads Q1" else "",
        "country": _pick(rng, list(COUNTRIES), [5, 2 + tier, 1, 1, 1 + tier, 1]),
        "region": _pick(rng, ["mazowieckie", "śląskie", "", "wielkopolskie"], [3, 2, 3, 2]),
        "title": _pick(rng, list(TITLES), title_weights),
        "email_kind": _pick(rng, list(EMAIL_KIND), [4 + 3 * tier, 4 - tier, 1]),
        "company_size": round(size) if rng.random() > 0.25 else None,
        "custom": {
            "industry": _pick(rng, list(INDUSTRIES), [2 + tier, 1 + tier, 2, 2 - 0.5 * tier]),
            "budget": round(budget) if rng.random() > 0.35 else None,
            "newsletter": bool(rng.random() < 0.5 - 0.1 * tier),
        },
        "counts": {"meeting": meetings, "call": calls, "page_visit": visits},
        "last_days": float(rng.exponential(20.0)) if engaged else None,
    }


def true_logit(lead: dict[str, Any]) -> float:
    """The known model: log-odds as an additive formula of the observed fields."""
    custom = lead["custom"]
    counts = lead["counts"]
    logit = INTERCEPT + SOURCES[lead["source"]] + COUNTRIES[lead["country"]]
    logit += TITLES[lead["title"]] + INDUSTRIES[custom["industry"]] + EMAIL_KIND[lead["email_kind"]]
    size = lead["company_size"]
    logit += SIZE_MISSING if size is None else SIZE_EFFECT * math.log1p(size)
    if custom["budget"] is not None:
        logit += BUDGET_EFFECT * math.log1p(custom["budget"])
    logit += MEETING_EFFECT * math.log1p(counts["meeting"])
    logit += CALL_EFFECT * math.log1p(counts["call"])
    logit += VISIT_EFFECT * math.log1p(counts["page_visit"])
    if lead["last_days"] is not None:
        logit += RECENCY_EFFECT * math.log1p(lead["last_days"])
    return logit


def true_probability(lead: dict[str, Any]) -> float:
    return 1.0 / (1.0 + math.exp(-true_logit(lead)))


def generate(n: int, seed: int = 0) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray]:
    """n leads, their outcomes (1 converted, 0 lost) and their true probabilities."""
    rng = np.random.default_rng(seed)
    leads = [_lead(rng) for _ in range(n)]
    truth = np.array([true_probability(lead) for lead in leads])
    outcomes = (rng.random(n) < truth).astype(int)
    return leads, outcomes, truth
