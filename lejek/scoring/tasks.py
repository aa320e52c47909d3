"""Background work for scoring: one lead, all leads, training. Each is safe to run twice."""

from __future__ import annotations

from django.tasks import task
from django.utils import timezone


@task
def rescore_changed(ids: list[int]) -> int:
    """Score the leads one transaction created or changed (gone ones are skipped)."""
    from lejek.scoring.services import rescore_leads

    return rescore_leads(ids)


@task
def rescore_lead(lead_id: int) -> int | None:
    """One lead. Lejek now queues `rescore_changed`; this stays for rows queued before."""
    from lejek.scoring.services import lead_rescore

    scored = lead_rescore(lead_id)
    return scored.score if scored is not None else None


@task
def rescore_all_leads() -> int:
    from lejek.scoring.models import ScoringSettings
    from lejek.scoring.services import rescore_all, rescore_progress

    try:
        done = rescore_all(progress=rescore_progress)
    finally:
        # Even after a failure the page stops showing progress and offers the button again.
        ScoringSettings.objects.filter(pk=1).update(
            rescore_state=ScoringSettings.Work.IDLE, rescore_finished_at=timezone.now()
        )
    ScoringSettings.objects.filter(pk=1).update(rescore_done=done)
    return done


@task
def rescore_imported(after_id: int | None, ids: list[int]) -> int:
    """Score the leads an import created (every id after `after_id`) and those it changed."""
    from lejek.scoring.services import rescore_all, rescore_leads

    done = rescore_all(after_id=after_id) if after_id is not None else 0
    return done + rescore_leads(ids)


@task
def train_model(actor_id: int | None = None) -> int | None:
    """Train a new model, then rescore everyone so the new probabilities show at once."""
    from lejek.scoring.services import model_train
    from lejek.users.models import User

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    model = model_train(actor=actor)
    if model is None:
        return None
    rescore_all_leads.enqueue()
    return model.version
