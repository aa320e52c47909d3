"""The scores assignment rules test, computed for a lead while it is being routed.

Registered with lejek.leads.scores when Django starts. The same rules and model as a
rescore, at this moment: a new lead has no engagement yet, so its score is its fit.
"""

from __future__ import annotations

from lejek.leads.scores import Scorer, Scores
from lejek.scoring import features
from lejek.scoring.compute import Context, _add_probabilities, engagement_of, rule_result, summary
from lejek.scoring.rules import row_of


def make_scorer() -> Scorer:
    context = Context.load()

    def score(lead) -> Scores:
        row = row_of(lead)
        events = engagement_of([lead.pk]).get(lead.pk, []) if lead.pk else []
        aged, counts, last = summary(events, context.now)
        result = rule_result(row, aged, context)
        if context.model is None:
            return Scores(score=result.score, win_probability=None)
        record = features.record_from_row(row, context.lookups, counts, last)
        _add_probabilities([result], [record], context.model, explain=False)
        return Scores(score=result.score, win_probability=round(result.probability * 100, 2))

    return score
