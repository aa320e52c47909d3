"""The scores assignment rules test, computed for a lead while it is being routed.

Registered with lejek.leads.scores when Django starts. The same rules and model as a
rescore, at this moment: a new lead has no engagement yet, so its score is its fit.
"""

from __future__ import annotations

from lejek.leads.scores import Scorer, Scores
from lejek.scoring.compute import Batch, Context, Engaged, read_engagement, score_batch
from lejek.scoring.rules import row_of


def make_scorer() -> Scorer:
    context = Context.load()

    def score(lead) -> Scores:
        # The rescore's own batch path, with a batch of one (the lead may not be saved yet).
        engaged = read_engagement([lead.pk], context.now) if lead.pk else Engaged.none()
        scored = score_batch(Batch.from_rows([row_of(lead)]), engaged, context, explain=False)
        if scored.probability is None:
            return Scores(score=scored.score[0], win_probability=None)
        return Scores(score=scored.score[0], win_probability=round(scored.probability[0] * 100, 2))

    return score
