"""Automatic assignment for many new leads at once (imports).

The same routing as `lead_assign_automatically` (assignment.py): the first matching rule's
team, else the team the lead came with, else the default pool; then the team's strategy picks
the rep. What changes is the cost: the rules, the teams and their candidates are read once per
batch, each team is locked once per batch, and the strategies count the leads handed out so
far in memory instead of asking the database for every lead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import F

from lejek.imports.bulk import link
from lejek.leads import scores
from lejek.leads.assignment import (
    _actual_values,
    _choose,
    _reason,
    candidates,
    condition_holds,
    default_pool,
    open_lead_counts,
)
from lejek.leads.models import AssignmentRule, Lead
from lejek.users.models import Team, User

# Open-lead counts for "fewest open" teams are read from the database on the first batch
# and then every this many batches; in between, the batches' own hand-outs are added in
# memory. Counting every batch would read a team's whole open-lead list a thousand times
# over in a million-row import; live assignments during an import show up at the next
# refresh.
RECOUNT_EVERY = 25


@dataclass(frozen=True)
class Outcome:
    rule: AssignmentRule | None
    team: Team
    rep: User | None
    reason: str


@dataclass
class _TeamState:
    team: Team
    people: list[User]
    counts: dict[int, int] | None
    handed_out: int = 0


@dataclass
class BatchAssigner:
    """Routes unsaved leads; call `begin()` inside each batch's transaction, `end()` before it
    commits. `per_rep` counts the leads each rep received, for one notification at the end."""

    rules: list[AssignmentRule] = field(default_factory=list)
    pool: Team | None = None
    per_rep: Counter = field(default_factory=Counter)
    _batch_reps: Counter = field(default_factory=Counter)
    _teams: dict[int, _TeamState] = field(default_factory=dict)
    _tested: list[str] = field(default_factory=list)
    _scorer: scores.Scorer | None = None
    _matches: dict[tuple, AssignmentRule | None] = field(default_factory=dict)
    _counts: dict[int, dict[int, int]] = field(default_factory=dict)
    _outcomes: dict[tuple, Outcome] = field(default_factory=dict)
    _batches: int = 0

    def begin(self) -> None:
        rules = AssignmentRule.objects.filter(is_active=True).select_related("team")
        self.rules = list(rules.order_by("position", "id"))
        self._tested = sorted({c["field"] for r in self.rules for c in r.conditions or []})
        # The scoring rules and model are loaded once a batch, and only when a rule needs them.
        tests_scores = any(name in scores.FIELDS for name in self._tested)
        self._scorer = scores.scorer() if tests_scores else None
        self._matches = {}
        self._outcomes = {}
        self.pool = default_pool()
        self._teams = {}
        self._batch_reps = Counter()
        if self._batches % RECOUNT_EVERY == 0:
            self._counts = {}
        self._batches += 1

    def forget(self) -> None:
        """After a rolled-back batch: its hand-outs never happened, so count afresh."""
        self._counts = {}
        self._batches = 0

    def matching_rule(self, lead: Lead) -> AssignmentRule | None:
        """assignment.matching_rule over the rules read once; leads that agree on every field
        the rules test get the same answer, so it is remembered for them."""
        if self._scorer is not None:
            scores.scores_of(lead, self._scorer)
        try:
            key = tuple(tuple(_actual_values(lead, field)) for field in self._tested)
            hash(key)
        except TypeError:
            key = None
        if key is not None and key in self._matches:
            return self._matches[key]
        found = None
        for rule in self.rules:
            if all(condition_holds(lead, c) for c in rule.conditions or []):
                found = rule
                break
        if key is not None:
            self._matches[key] = found
        return found

    def route(self, lead: Lead, own_team: Team | None = None) -> Outcome | None:
        """Set the lead's owner and team as lead_assign_automatically would; None when the
        lead stays as it is. `own_team` is the team the lead arrived with, if any."""
        rule = self.matching_rule(lead)
        team = rule.team if rule is not None else (own_team or self.pool)
        if team is None:
            return None
        rep = self._pick(team) if rule is not None else None
        if rep is None and lead.team_id == team.pk:
            return None
        link(lead, "owner", rep)
        link(lead, "team", team)
        if rep is not None:
            self._batch_reps[rep.pk] += 1
        # Leads sent the same way share one outcome (and one translated reason) per batch.
        key = (rule.pk if rule is not None else None, team.pk, rep.pk if rep is not None else None)
        outcome = self._outcomes.get(key)
        if outcome is None:
            outcome = self._outcomes[key] = Outcome(rule, team, rep, _reason(rule, rep))
        return outcome

    def _pick(self, team: Team) -> User | None:
        state = self._teams.get(team.pk)
        if state is None:
            state = self._state(team)
            self._teams[team.pk] = state
        chosen = _choose(state.team, state.people, state.counts)
        if chosen is None:
            return None
        if state.team.assignment_strategy == Team.Strategy.ROUND_ROBIN:
            state.team.round_robin_counter += 1
            state.handed_out += 1
        elif state.counts is not None:
            state.counts[chosen.pk] = state.counts.get(chosen.pk, 0) + 1
        return chosen

    def _state(self, team: Team) -> _TeamState:
        # Locked until the batch commits, like pick_rep, so live assignments queue behind it.
        locked = Team.objects.select_for_update().get(pk=team.pk)
        people = candidates(locked)
        counts = None
        if locked.assignment_strategy != Team.Strategy.ROUND_ROBIN:
            counts = self._counts.get(locked.pk)
            if counts is None:
                counts = self._counts[locked.pk] = open_lead_counts(people)
        return _TeamState(locked, people, counts)

    def end(self) -> None:
        """Move each round-robin counter by the leads this batch handed out."""
        for state in self._teams.values():
            if state.handed_out:
                Team.objects.filter(pk=state.team.pk).update(
                    round_robin_counter=F("round_robin_counter") + state.handed_out
                )
        self._teams = {}
        self.per_rep.update(self._batch_reps)
        self._batch_reps = Counter()
