"""Background work for leads: turning queued web-form submissions into leads."""

from __future__ import annotations

from django.tasks import task

# Submissions per run; a longer queue is handed to a fresh run, so that one run stays short
# (its result row tells how far it got, and a worker stopping mid-run loses nothing anyway).
RUN_LIMIT = 1000
# Ahead of the rescoring and e-mail tasks each new lead enqueues: otherwise a fresh run
# would wait behind all of those, and visitors' leads would appear minutes late.
PRIORITY = 10


@task(priority=PRIORITY)
def process_form_submissions() -> dict[str, int]:
    """Make the leads of queued web-form submissions. Safe to run twice or in parallel."""
    from lejek.leads.capture import enqueue_processing, submissions_process

    done = submissions_process(limit=RUN_LIMIT, pace=True)
    if done.total >= RUN_LIMIT:
        enqueue_processing()
    return done.as_dict()
