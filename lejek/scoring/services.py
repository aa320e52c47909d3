"""Every write of scoring: rules and settings, engagement, scores, models.

Scores are derived data: writing one does not bump the lead's edit version (a rescore must
never make a person's edit look stale) and leaves no Event per lead; qualifying a lead as
MQL does both, through lead_update.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lejek.core.events import record_event
from lejek.leads.assignment import custom_field_keys
from lejek.leads.handoff import was_rejected_by_sales
from lejek.leads.models import Lead
from lejek.leads.services import lead_update
from lejek.scoring import predictive
from lejek.scoring.compute import (
    Context,
    Scored,
    read_batch,
    read_engagement,
    score_batch,
    score_leads,
)
from lejek.scoring.models import (
    Engagement,
    EngagementKind,
    EngagementRule,
    FitRule,
    LeadScore,
    ScoringModel,
    ScoringSettings,
)
from lejek.scoring.rules import clean_fit_condition
from lejek.users.models import Role

log = logging.getLogger(__name__)

# Large enough that per-batch queries and numpy calls are a small share; one transaction each.
BATCH = 10_000
QUALIFIES = (Lead.Status.NEW, Lead.Status.CONTACTED)
SCORE_FIELDS = [
    "score",
    "fit_points",
    "engagement_points",
    "explanation",
    "probability",
    "factors",
    "model_version",
    "computed_at",
]


def can_configure(user) -> bool:
    return user is not None and user.is_authenticated and user.role in (Role.ADMIN, Role.MANAGER)


def _ensure_can_configure(actor) -> None:
    if actor is not None and not can_configure(actor):
        raise PermissionDenied(_("Only managers and admins set up lead scoring."))


# Scheduling ---------------------------------------------------------------------------------


# Events after which a lead's score may have changed.
RESCORE_AFTER = {
    "lead.created",
    "lead.updated",
    "lead.repeated",
    "activity.logged",
    "activity.updated",
    "activity.deleted",
    "email.sent",
}


def on_event(event) -> None:
    """Rescore the lead an event touched: the lead itself, or the lead an activity is about."""
    if event.verb not in RESCORE_AFTER:
        return
    content_type = ContentType.objects.get_for_id(event.content_type_id)
    if content_type.model_class() is Lead:
        schedule_rescore(event.object_id)
        return
    lead_id = event.after.get("lead") or event.before.get("lead")
    if isinstance(lead_id, int):
        schedule_rescore(lead_id)


# Leads waiting for their transaction to commit before they are rescored, per thread (so per
# database connection).
_waiting = threading.local()


def schedule_rescore(lead_id: int) -> None:
    """Rescore a lead in the background once the current transaction commits.

    Every lead a transaction touches goes into one task: a batch of web-form leads costs one
    task row, not one per lead. Each call registers the same flush, and the first flush after
    a commit takes every waiting id; ids left by a rolled-back transaction ride along with the
    next commit, which at worst rescores a lead whose scores did not change.
    """
    waiting: set[int] | None = getattr(_waiting, "ids", None)
    if waiting is None:
        waiting = _waiting.ids = set()
    waiting.add(lead_id)
    transaction.on_commit(_enqueue_waiting)


def _enqueue_waiting() -> None:
    from lejek.scoring.tasks import rescore_changed

    ids = sorted(getattr(_waiting, "ids", ()))
    if ids:
        _waiting.ids = set()
        rescore_changed.enqueue(ids)


# Scores -------------------------------------------------------------------------------------


# What a rescore compares: a row whose values came out the same is not written again.
COMPARED = [name for name in SCORE_FIELDS if name != "computed_at"]


def _upsert_statement(postgres: bool) -> str:
    """Insert or update LeadScore rows, skipping rows whose values did not change.

    PostgreSQL takes the whole batch as arrays in one statement (one round trip); SQLite one
    row of parameters at a time through executemany, its fastest bulk path.
    """
    quote = connection.ops.quote_name
    table = quote(LeadScore._meta.db_table)
    columns = ", ".join(map(quote, ["lead_id", *SCORE_FIELDS]))
    updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in SCORE_FIELDS)
    ours = ", ".join(f"{table}.{quote(c)}" for c in COMPARED)
    theirs = ", ".join(f"excluded.{quote(c)}" for c in COMPARED)
    if postgres:
        stored = ", ".join(
            f"stored.{quote(c)}::text" if c in ("explanation", "factors") else f"stored.{quote(c)}"
            for c in COMPARED
        )
        rows = (
            "SELECT v.lead_id, v.score, v.fit, v.engaged, v.explanation::jsonb, v.probability, "
            "v.factors::jsonb, %s, %s "
            # %b: arrays go in binary, with no escaping of every JSON text.
            "FROM unnest(%b::bigint[], %b::int[], %b::float8[], %b::float8[], %b::text[], "
            "%b::float8[], %b::text[]) "
            "AS v(lead_id, score, fit, engaged, explanation, probability, factors) "
            # Rows whose values came out the same are left out before the upsert, which would
            # lock and compare each one. The JSON is compared as the text jsonb writes back,
            # the form compute.py builds it in; a text in another form only costs a write.
            f"LEFT JOIN {table} AS stored ON stored.{quote('lead_id')} = v.lead_id "
            f"WHERE stored.{quote('lead_id')} IS NULL OR ({stored}) IS DISTINCT FROM "
            "(v.score, v.fit, v.engaged, v.explanation, v.probability, v.factors, %s::int)"
        )
        differs = f"({ours}) IS DISTINCT FROM ({theirs})"
    else:
        rows = f"VALUES ({', '.join(['%s'] * (len(SCORE_FIELDS) + 1))})"
        differs = f"({ours}) IS NOT ({theirs})"
    return (
        f"INSERT INTO {table} ({columns}) {rows} "
        f"ON CONFLICT ({quote('lead_id')}) DO UPDATE SET {updates} WHERE {differs}"
    )


def _store(scored: Scored, context: Context) -> None:
    """Upsert the LeadScore rows that changed: the only place both scores are stored.

    Explanation and factors come as JSON text already (built once per distinct fragment),
    so nothing is encoded per lead here. `computed_at` is when the stored values were
    computed: a rescore that gets the same values leaves the row alone.
    """
    n = len(scored.ids)
    if not n:
        return
    computed_at = LeadScore._meta.get_field("computed_at").get_db_prep_save(context.now, connection)
    version = context.model_version if scored.probability is not None else None
    probability = scored.probability if scored.probability is not None else [None] * n
    factors = scored.factors if scored.factors is not None else ["[]"] * n
    # One list per column, in the upsert's order (lead_id, then SCORE_FIELDS); the last two
    # columns are the same for the whole batch.
    per_lead = [
        scored.ids,
        scored.score,
        scored.fit_points,
        scored.engagement_points,
        scored.explanation,
        probability,
        factors,
    ]
    # Derived data: no version bump, no updated_at (see the module docstring).
    if connection.vendor == "postgresql":
        _execute_with_arrays(
            _upsert_statement(postgres=True), [version, computed_at, *per_lead, version]
        )
        return
    rows = zip(*per_lead, [version] * n, [computed_at] * n, strict=True)
    with connection.cursor() as cursor:
        cursor.executemany(_upsert_statement(postgres=False), list(rows))


def _execute_with_arrays(sql: str, params: list) -> None:
    """Run on PostgreSQL with the parameters bound by the server. Django's cursor quotes them
    into the SQL text on the client, which for arrays of 10,000 JSON texts took longer than
    the database's own work."""
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params)


def _qualify(scored: Scored, threshold: int | None) -> int:
    """Move new and contacted leads that reached the threshold to MQL; how many moved."""
    if threshold is None:
        return 0
    moved = 0
    for lead_id, status, score in zip(scored.ids, scored.status, scored.score, strict=True):
        if status in QUALIFIES and score >= threshold:
            moved += _qualify_one(lead_id, score, threshold)
    return moved


def _qualify_one(lead_id: int, score: int, threshold: int) -> int:
    try:
        with transaction.atomic():
            lead = Lead.objects.select_for_update().get(pk=lead_id)
            if lead.status not in QUALIFIES or was_rejected_by_sales(lead.pk):
                # A lead sales sent back goes to marketing-qualified again only by hand.
                return 0
            lead_update(actor=None, lead=lead, values={"status": Lead.Status.MQL})
            record_event(
                actor=None,
                verb="lead.qualified_by_score",
                obj=lead,
                after={"score": score, "threshold": threshold},
            )
            return 1
    except (Lead.DoesNotExist, ValidationError) as exc:
        # A lead that fails its own validation stays where it is; the score is still stored.
        log.warning("lead %s not qualified: %s", lead_id, exc)
        return 0


@transaction.atomic
def lead_rescore(lead_id: int) -> LeadScore | None:
    """Recompute one lead's scores and store them; None when the lead is gone.

    The batch path with a batch of one, so it gives exactly what `rescore_all` gives.
    """
    context = Context.load()
    scored = score_leads([lead_id], context)
    if not scored.ids:
        return None
    _store(scored, context)
    _qualify(scored, ScoringSettings.current().mql_threshold)
    return LeadScore.objects.get(pk=lead_id)


def rescore_all(batch: int = BATCH, progress=None, after_id: int = 0) -> int:
    """Recompute every lead (with `after_id`, every lead after that id) in id order, a batch
    per transaction; returns how many.

    Each batch is two reads (its leads; their activities, form submissions and engagement in
    one statement), array maths, and one write (the LeadScore upsert of the rows that
    changed), written while the next batch is read and computed (`_written_behind`).
    `progress(done, total)` follows each batch.
    """
    context = Context.load()
    threshold = ScoringSettings.current().mql_threshold
    total = Lead.objects.filter(pk__gt=after_id).count()

    def batches() -> Iterator[Scored]:
        last_id = after_id
        while True:
            leads = read_batch(after_id=last_id, limit=batch)
            if not leads.n:
                return
            yield score_batch(leads, read_engagement(leads.ids, context.now), context)
            last_id = leads.ids[-1]

    def write(scored: Scored) -> None:
        with transaction.atomic():
            _store(scored, context)
        _qualify(scored, threshold)

    done = 0
    for scored in _written_behind(batches(), write):
        done += len(scored.ids)
        if progress is not None:
            progress(done, max(total, done))
    return done


def _written_behind(batches: Iterator[Scored], write: Callable[[Scored], None]):
    """Each batch once `write` has stored it. Outside a transaction the writes run in a
    second thread, on its own connection, while the next batch is read and computed: the
    database's work and Python's then share the cores instead of taking turns (a first
    rescore of 1,000,000 leads went from 74 s to 47 s on PostgreSQL). Inside a transaction
    a second connection would not see its rows, so there each batch is written in line."""
    if connection.in_atomic_block:
        for scored in batches:
            write(scored)
            yield scored
        return

    def write_and_close(scored: Scored | None) -> Scored | None:
        if scored is None:
            connection.close()  # the writer thread's own connection
        else:
            write(scored)
        return scored

    with ThreadPoolExecutor(max_workers=1) as writer:
        pending = None
        try:
            for scored in batches:
                if pending is not None:
                    yield pending.result()
                pending = writer.submit(write_and_close, scored)
            if pending is not None:
                yield pending.result()
        finally:
            writer.submit(write_and_close, None).result()


def rescore_leads(ids: list[int], batch: int = BATCH) -> int:
    """Recompute the leads `ids` (any order, gone ones skipped), a batch per transaction."""
    context = Context.load()
    threshold = ScoringSettings.current().mql_threshold
    ordered = sorted(set(ids))
    done = 0
    for start in range(0, len(ordered), batch):
        with transaction.atomic():
            scored = score_leads(ordered[start : start + batch], context)
            _store(scored, context)
        _qualify(scored, threshold)
        done += len(scored.ids)
    return done


# Above this many changed leads an import asks for the full rescore instead of a list of ids.
MAX_LISTED = 50_000


def imported_rescore_request(*, first_new_id: int | None, changed_ids: list[int]) -> None:
    """Score what an import wrote in bulk, past the per-change rescoring: the leads it
    created (every id from `first_new_id` on) and those it changed. A small import into a
    large database rescores its own leads, not every lead."""
    if first_new_id is None and not changed_ids:
        return
    if len(changed_ids) > MAX_LISTED:
        rescore_request(actor=None)
        return
    from lejek.scoring.tasks import rescore_imported

    after_id = first_new_id - 1 if first_new_id is not None else None
    older = [pk for pk in changed_ids if first_new_id is None or pk < first_new_id]
    transaction.on_commit(lambda: rescore_imported.enqueue(after_id, older))


@transaction.atomic
def rescore_request(*, actor) -> ScoringSettings:
    """Queue "recompute all scores"; the worker does it, the settings page shows progress.

    `actor=None` is Lejek itself, e.g. after an import wrote leads in bulk.
    """
    if actor is not None:
        _ensure_can_configure(actor)
    from lejek.scoring.tasks import rescore_all_leads

    settings = ScoringSettings.objects.select_for_update().get(pk=ScoringSettings.current().pk)
    settings.rescore_state = ScoringSettings.Work.QUEUED
    settings.rescore_done = 0
    settings.rescore_total = Lead.objects.count()
    settings.save(update_fields=["rescore_state", "rescore_done", "rescore_total"])
    record_event(actor=actor, verb="scoring.rescore_requested", obj=settings)
    transaction.on_commit(lambda: rescore_all_leads.enqueue())
    return settings


def rescore_progress(done: int, total: int) -> None:
    ScoringSettings.objects.filter(pk=1).update(
        rescore_state=ScoringSettings.Work.RUNNING, rescore_done=done, rescore_total=total
    )


# Training -----------------------------------------------------------------------------------


@transaction.atomic
def training_request(*, actor) -> ScoringSettings:
    _ensure_can_configure(actor)
    from lejek.scoring.tasks import train_model

    settings = ScoringSettings.current()
    ScoringSettings.objects.filter(pk=settings.pk).update(
        training_state=ScoringSettings.Work.QUEUED
    )
    record_event(actor=actor, verb="scoring.training_requested", obj=settings)
    actor_id = actor.pk if actor is not None else None
    transaction.on_commit(lambda: train_model.enqueue(actor_id))
    return settings


def model_train(*, actor, seed: int = 0) -> ScoringModel | None:
    """Train a new model version from the known outcomes; None (with a note) if too few."""
    from lejek.scoring.training import train_from_database

    ScoringSettings.current()
    ScoringSettings.objects.filter(pk=1).update(training_state=ScoringSettings.Work.RUNNING)
    now = timezone.now()
    try:
        trained = train_from_database(now, seed=seed)
    except predictive.TooFewOutcomes as exc:
        _training_finished(
            _(
                "Too few known outcomes to learn from (%(detail)s). The rule-based score is used "
                "alone until there are more."
            )
            % {"detail": exc}
        )
        return None
    except Exception:
        # The page must not wait for a training that died; the error goes to the worker log.
        _training_finished(_("Training failed; see the worker log."))
        raise
    return _model_store(actor=actor, trained=trained, now=now)


@transaction.atomic
def _model_store(*, actor, trained: predictive.Trained, now) -> ScoringModel:
    latest = ScoringModel.objects.select_for_update().order_by("-version").first()
    model = ScoringModel.objects.create(
        version=(latest.version + 1) if latest else 1,
        trained_at=now,
        trained_by=actor if actor is not None and actor.pk else None,
        **trained.stored_fields(),
    )
    record_event(
        actor=actor,
        verb="scoring.model_trained",
        obj=model,
        after={"version": model.version, "n_samples": model.n_samples, "auc": model.auc},
    )
    _training_finished(
        _("Version %(version)s trained on %(n)s leads.")
        % {"version": model.version, "n": model.n_samples}
    )
    return model


def _training_finished(note: str) -> None:
    ScoringSettings.objects.filter(pk=1).update(
        training_state=ScoringSettings.Work.IDLE,
        training_note=note[:300],
        training_finished_at=timezone.now(),
    )


# Settings and rules -------------------------------------------------------------------------


@transaction.atomic
def scoring_settings_update(*, actor, mql_threshold: int | None) -> ScoringSettings:
    _ensure_can_configure(actor)
    if mql_threshold is not None and not 0 <= mql_threshold <= 100:
        raise ValidationError({"mql_threshold": _("Enter a number from 0 to 100.")})
    settings = ScoringSettings.current()
    before = settings.mql_threshold
    if before != mql_threshold:
        settings.mql_threshold = mql_threshold
        settings.save(update_fields=["mql_threshold"])
        record_event(
            actor=actor,
            verb="scoring.settings_changed",
            obj=settings,
            before={"mql_threshold": before},
            after={"mql_threshold": mql_threshold},
        )
    return settings


def _clean_rule(name: str, conditions: Any, points: Any) -> tuple[str, list[dict], int]:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Give the rule a name.")]
    try:
        points = int(points)
    except (TypeError, ValueError):
        points = None
    if points is None or not -100 <= points <= 100:
        errors["points"] = [_("Enter whole points from -100 to 100.")]
    cleaned = []
    keys = set(custom_field_keys())
    for number, condition in enumerate(conditions or [], start=1):
        try:
            cleaned.append(clean_fit_condition(condition, keys))
        except ValidationError as exc:
            errors.setdefault("conditions", []).extend(
                _("Condition %(n)s: %(message)s") % {"n": number, "message": message}
                for message in exc.messages
            )
    if errors:
        raise ValidationError(errors)
    return name, cleaned, points


@transaction.atomic
def fit_rule_create(*, actor, name: str, conditions: list, points: int, is_active=True):
    _ensure_can_configure(actor)
    name, conditions, points = _clean_rule(name, conditions, points)
    rule = FitRule.objects.create(
        name=name, conditions=conditions, points=points, is_active=is_active
    )
    after = {"name": name, "conditions": conditions, "points": points, "is_active": is_active}
    record_event(actor=actor, verb="scoring.fit_rule_created", obj=rule, after=after)
    return rule


@transaction.atomic
def fit_rule_update(
    *, actor, rule: FitRule, name: str, conditions: list, points: int, is_active: bool
) -> FitRule:
    _ensure_can_configure(actor)
    name, conditions, points = _clean_rule(name, conditions, points)
    fields = ["name", "conditions", "points", "is_active"]
    before = {f: getattr(rule, f) for f in fields}
    rule.name, rule.conditions, rule.points, rule.is_active = name, conditions, points, is_active
    after = {f: getattr(rule, f) for f in fields}
    if after != before:
        rule.save(update_fields=fields)
        record_event(
            actor=actor, verb="scoring.fit_rule_changed", obj=rule, before=before, after=after
        )
    return rule


@transaction.atomic
def fit_rule_delete(*, actor, rule: FitRule) -> None:
    _ensure_can_configure(actor)
    record_event(
        actor=actor,
        verb="scoring.fit_rule_deleted",
        obj=rule,
        before={"name": rule.name, "conditions": rule.conditions, "points": rule.points},
    )
    rule.delete()


@transaction.atomic
def engagement_rules_save(*, actor, rules: dict[str, tuple[int, float]]) -> None:
    """Points and half-life per engagement kind; every kind is stored."""
    _ensure_can_configure(actor)
    errors: dict[str, list[str]] = {}
    for kind, (points, half_life) in rules.items():
        if kind not in EngagementKind.values:
            errors[kind] = [_("Unknown kind of engagement.")]
        elif not -100 <= points <= 100:
            errors[f"{kind}-points"] = [_("Enter whole points from -100 to 100.")]
        elif not 0 < half_life <= 3650:
            errors[f"{kind}-half_life"] = [_("Enter a half-life from 0.1 to 3650 days.")]
    if errors:
        raise ValidationError(errors)
    settings = ScoringSettings.current()
    before = {r.kind: [r.points, r.half_life_days] for r in EngagementRule.objects.all()}
    for kind, (points, half_life) in rules.items():
        EngagementRule.objects.update_or_create(
            kind=kind, defaults={"points": points, "half_life_days": half_life}
        )
    after = {r.kind: [r.points, r.half_life_days] for r in EngagementRule.objects.all()}
    if after != before:
        record_event(
            actor=actor,
            verb="scoring.engagement_rules_changed",
            obj=settings,
            before=before,
            after=after,
        )


# Engagement ---------------------------------------------------------------------------------


@transaction.atomic
def engagement_record(
    *, actor, lead: Lead, kind: str, at: datetime.datetime | None = None, url: str = ""
) -> Engagement:
    """Record that a lead engaged (e.g. visited a page) and rescore it after commit."""
    if actor is not None and not Lead.objects.visible_to(actor).filter(pk=lead.pk).exists():
        raise PermissionDenied(_("You cannot see this lead."))
    if kind not in EngagementKind.values:
        raise ValidationError({"kind": _("Unknown kind of engagement.")})
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise ValidationError({"at": _("Give the time with its time zone.")})
    if at > timezone.now() + datetime.timedelta(minutes=5):
        raise ValidationError({"at": _("The time cannot be in the future.")})
    engagement = Engagement(lead=lead, kind=kind, occurred_at=at, url=url[:500])
    engagement.full_clean()
    engagement.save()
    record_event(
        actor=actor,
        verb="lead.engaged",
        obj=lead,
        after={"kind": kind, "at": at, "engagement": engagement.pk},
    )
    schedule_rescore(lead.pk)
    return engagement
