"""A lead's scores as assignment rules see them.

Rules may route on the rule-based score (0-100) and the win probability (in per cent), but a
new lead is routed before its stored score exists. So routing asks for the scores as they
are at that moment, computed from the lead's own fields and its engagement so far.

Scoring depends on leads, not the other way round: the scoring app registers how to compute
them when Django starts (`ScoringConfig.ready`). A scorer is made once per routing pass, so
the rules and the model are loaded once however many leads are routed, and it is asked
only when an active rule tests a score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy

FIELDS = {
    "score": gettext_lazy("Score (0-100)"),
    "win_probability": gettext_lazy("Win probability (%)"),
}


@dataclass(frozen=True)
class Scores:
    score: int
    win_probability: float | None  # per cent, None without a trained model


Scorer = Callable[[object], Scores]

_make_scorer: Callable[[], Scorer] | None = None


def register(make_scorer: Callable[[], Scorer]) -> None:
    global _make_scorer
    _make_scorer = make_scorer


def scorer() -> Scorer:
    if _make_scorer is None:
        raise ImproperlyConfigured("No scorer is registered: is lejek.scoring installed?")
    return _make_scorer()


def scores_of(lead, using: Scorer | None = None) -> Scores:
    """The lead's scores, computed once per routing and kept on the instance."""
    found = getattr(lead, "_routing_scores", None)
    if found is None:
        found = (using or scorer())(lead)
        lead._routing_scores = found
    return found


def value_of(lead, field: str, using: Scorer | None = None) -> float | None:
    scores = scores_of(lead, using)
    return scores.score if field == "score" else scores.win_probability
