"""Automatic lead assignment: ordered rules pick a team, the team's strategy picks the rep.

Rules are checked in position order; the first whose conditions all hold wins. A lead that
matches no rule waits in the default-pool team. Within a team, only active, available reps
take leads (managers only when the team has no available rep).

The team row is locked while a rep is chosen, so concurrent assignments line up behind each
other and round-robin hands leads out exactly in turn.
"""

from __future__ import annotations

import datetime
import decimal
from fractions import Fraction
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lejek.core.events import record_event
from lejek.core.models import CustomField
from lejek.leads import scores
from lejek.leads.models import AssignmentRule, Handoff, Lead
from lejek.users.models import Role, Team, User
from lejek.users.services import notify
from lejek.users.visibility import check_assignment

CUSTOM_PREFIX = "custom."

# Lead fields a rule may test, with the words shown in the rule editor and the rule list.
FIELDS = {
    "source": gettext_lazy("Source"),
    "campaign": gettext_lazy("Campaign"),
    "medium": gettext_lazy("Medium"),
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "country": gettext_lazy("Country"),
    "region": gettext_lazy("Region"),
    "company_size": gettext_lazy("Company size"),
    "status": gettext_lazy("Status"),
}

OPS = {
    "eq": gettext_lazy("is"),
    "ne": gettext_lazy("is not"),
    "in": gettext_lazy("is one of"),
    "contains": gettext_lazy("contains"),
    "gte": gettext_lazy("is at least"),
    "lte": gettext_lazy("is at most"),
    "is_set": gettext_lazy("is filled in"),
}

NO_WORDS = {"0", "false", "no", "nie", "n", "off"}


# Conditions ---------------------------------------------------------------------------------


def custom_field_keys() -> dict[str, str]:
    """Lead custom fields a rule may test, key → label."""
    rows = CustomField.objects.filter(entity=CustomField.Entity.LEAD).values_list("key", "label")
    return dict(rows)


def field_label(field: str, custom_labels: dict[str, str] | None = None) -> str:
    if field.startswith(CUSTOM_PREFIX):
        key = field.removeprefix(CUSTOM_PREFIX)
        labels = custom_field_keys() if custom_labels is None else custom_labels
        return labels.get(key, key)
    return str(FIELDS.get(field) or scores.FIELDS.get(field, field))


def _split_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(item).strip() for item in value if str(item).strip()]
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


def _as_number(value: Any) -> decimal.Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = decimal.Decimal(str(value).strip().replace(",", "."))
    except decimal.InvalidOperation:
        return None
    return number if number.is_finite() else None


def _as_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def clean_condition(
    condition: Any, custom_keys: set[str] | None = None, with_scores: bool = False
) -> dict:
    """Check one condition and return its stored form, or raise ValidationError.

    Only assignment rules pass `with_scores`: scoring's fit rules reuse this check, and they
    compute the score, so they must not test it.
    """
    if not isinstance(condition, dict):
        raise ValidationError(_("A condition needs a field, an operator and a value."))
    field = str(condition.get("field") or "").strip()
    op = str(condition.get("op") or "").strip()
    value = condition.get("value")
    keys = set(custom_field_keys()) if custom_keys is None else custom_keys
    known = (
        field in FIELDS
        or (with_scores and field in scores.FIELDS)
        or (field.startswith(CUSTOM_PREFIX) and field.removeprefix(CUSTOM_PREFIX) in keys)
    )
    if not known:
        raise ValidationError(
            _("“%(field)s” is not a lead field rules can test.") % {"field": field}
        )
    if op not in OPS:
        raise ValidationError(_("“%(op)s” is not a known comparison.") % {"op": op})
    if op == "is_set":
        return {"field": field, "op": op, "value": str(value).strip().lower() not in NO_WORDS}
    if op == "in":
        items = _split_list(value)
        if not items:
            raise ValidationError(_("List at least one value, separated by commas."))
        return {"field": field, "op": op, "value": items}
    text = "" if value is None else str(value).strip()
    if not text:
        raise ValidationError(_("Enter a value to compare with."))
    if op in ("gte", "lte") and _as_number(text) is None and _as_date(text) is None:
        raise ValidationError(_("Enter a number or a date (YYYY-MM-DD)."))
    if field in scores.FIELDS:
        _check_score_value(op, text)
    return {"field": field, "op": op, "value": text}


def _check_score_value(op: str, text: str) -> None:
    number = _as_number(text)
    if op == "contains" or number is None or not 0 <= number <= 100:
        raise ValidationError(_("Scores are compared with a number from 0 to 100."))


def clean_conditions(conditions: Any) -> list[dict]:
    """Every condition checked; errors name the condition by its number."""
    if not isinstance(conditions, list):
        raise ValidationError({"conditions": _("Conditions must be a list.")})
    keys = set(custom_field_keys())
    cleaned, errors = [], []
    for number, condition in enumerate(conditions, start=1):
        try:
            cleaned.append(clean_condition(condition, keys, with_scores=True))
        except ValidationError as exc:
            for message in exc.messages:
                errors.append(_("Condition %(n)s: %(message)s") % {"n": number, "message": message})
    if errors:
        raise ValidationError({"conditions": errors})
    return cleaned


def _actual_values(lead: Lead, field: str) -> list[Any]:
    """What the lead holds for `field`; several spellings where a rule may name it either way."""
    if field == "source":
        source = lead.source
        return [source.pk, source.kind, source.name] if source else []
    if field == "campaign":
        campaign = lead.campaign
        return [campaign.pk, campaign.name] if campaign else []
    if field in scores.FIELDS:
        value = scores.value_of(lead, field)
    elif field.startswith(CUSTOM_PREFIX):
        value = (lead.custom or {}).get(field.removeprefix(CUSTOM_PREFIX))
    else:
        value = getattr(lead, field, None)
    return [] if value is None or value == "" else [value]


def _same(actual: Any, expected: Any) -> bool:
    a, b = _as_number(actual), _as_number(expected)
    if a is not None and b is not None:
        return a == b
    return str(actual).strip().casefold() == str(expected).strip().casefold()


def _compare(actual: Any, expected: Any) -> int | None:
    """-1, 0 or 1 comparing numbers or dates; None when they cannot be compared."""
    a, b = _as_number(actual), _as_number(expected)
    if a is None or b is None:
        a, b = _as_date(actual), _as_date(expected)
    if a is None or b is None:
        return None
    return (a > b) - (a < b)


def condition_holds(lead: Lead, condition: dict) -> bool:
    values = _actual_values(lead, condition["field"])
    op, expected = condition["op"], condition.get("value")
    if op == "is_set":
        return bool(values) == bool(expected)
    if op == "eq":
        return any(_same(value, expected) for value in values)
    if op == "ne":
        return not any(_same(value, expected) for value in values)
    if op == "in":
        return any(_same(value, item) for value in values for item in _split_list(expected))
    if op == "contains":
        needle = str(expected).casefold()
        return any(needle in str(value).casefold() for value in values)
    if op in ("gte", "lte"):
        results = [_compare(value, expected) for value in values]
        wanted = (0, 1) if op == "gte" else (-1, 0)
        return any(result in wanted for result in results)
    # Stored rules are checked on save; anything else is from an older version: never match.
    return False


def matching_rule(lead: Lead) -> AssignmentRule | None:
    """The first active rule, in position order, whose conditions all hold for `lead`."""
    rules = AssignmentRule.objects.filter(is_active=True).select_related("team")
    for rule in rules.order_by("position", "id"):
        if all(condition_holds(lead, c) for c in rule.conditions or []):
            return rule
    return None


def describe_condition(condition: dict, custom_labels: dict[str, str] | None = None) -> str:
    """A condition in words, e.g. “Country is one of PL, DE”."""
    field = field_label(condition.get("field", ""), custom_labels)
    op = condition.get("op")
    value = condition.get("value")
    if op == "is_set":
        return (_("%(field)s is filled in") if value else _("%(field)s is empty")) % {
            "field": field
        }
    if isinstance(value, list):
        value = ", ".join(str(item) for item in value)
    return f"{field} {OPS.get(op, op)} {value}"


# Choosing a rep -----------------------------------------------------------------------------


def candidates(team: Team) -> list[User]:
    """Active, available reps of the team by id; its managers only if no rep is available."""
    people = list(
        User.objects.filter(
            teams=team, is_active=True, is_available=True, role__in=[Role.REP, Role.MANAGER]
        ).order_by("id")
    )
    reps = [person for person in people if person.role == Role.REP]
    return reps or people


def open_lead_counts(people: list[User]) -> dict[int, int]:
    rows = (
        Lead.objects.open()
        .filter(owner__in=people)
        .order_by()
        .values_list("owner")
        .annotate(n=Count("id"))
    )
    return dict(rows)


def _fewest_open(people: list[User], counts: dict[int, int] | None = None) -> User:
    counts = open_lead_counts(people) if counts is None else counts
    return min(people, key=lambda person: (counts.get(person.pk, 0), person.pk))


def _weighted(people: list[User], counts: dict[int, int] | None = None) -> User | None:
    """Lowest open leads per unit of capacity; capacity 0 means never."""
    people = [person for person in people if person.lead_capacity > 0]
    if not people:
        return None
    counts = open_lead_counts(people) if counts is None else counts
    return min(
        people,
        key=lambda p: (Fraction(counts.get(p.pk, 0), p.lead_capacity), p.pk),
    )


def _choose(team: Team, people: list[User], counts: dict[int, int] | None = None) -> User | None:
    if not people:
        return None
    if team.assignment_strategy == Team.Strategy.FEWEST_OPEN:
        return _fewest_open(people, counts)
    if team.assignment_strategy == Team.Strategy.WEIGHTED:
        return _weighted(people, counts)
    return people[team.round_robin_counter % len(people)]


@transaction.atomic
def pick_rep(team: Team) -> User | None:
    """The member who gets the next lead, by the team's strategy; None if nobody can take it.

    Locks the team row until the surrounding transaction ends, so concurrent callers choose
    one after another and each sees the previous one's lead and counter.
    """
    locked = Team.objects.select_for_update().get(pk=team.pk)
    chosen = _choose(locked, candidates(locked))
    if chosen is not None and locked.assignment_strategy == Team.Strategy.ROUND_ROBIN:
        Team.objects.filter(pk=locked.pk).update(round_robin_counter=F("round_robin_counter") + 1)
    return chosen


def preview_rep(team: Team) -> User | None:
    """Who `pick_rep` would choose now, without locking or moving the round-robin counter."""
    return _choose(team, candidates(team))


def default_pool() -> Team | None:
    return Team.objects.filter(is_default_pool=True).first()


def route(lead: Lead) -> tuple[AssignmentRule | None, Team | None]:
    """The rule that matches and the team it sends the lead to.

    Without a matching rule, a lead that arrived with a team (a web form's default team, say)
    waits in that team's pool; any other waits in the default pool.
    """
    rule = matching_rule(lead)
    if rule is not None:
        return rule, rule.team
    if lead.team_id is not None:
        return None, lead.team
    return None, default_pool()


# Assigning ----------------------------------------------------------------------------------


def _reason(rule: AssignmentRule | None, rep: User | None) -> str:
    if rule is None:
        return _("matched no rule; waits in the default pool")
    if rep is None:
        return _("rule “%(rule)s”; nobody in the team is available, waits in its pool") % {
            "rule": rule.name
        }
    return _("rule “%(rule)s”") % {"rule": rule.name}


def new_lead_text(lead: Lead, rule: AssignmentRule | None, rep: User | None) -> str:
    """What a rep the rules chose is told about the lead, in the active language."""
    return _("New lead for you: %(lead)s (%(reason)s)") % {
        "lead": lead,
        "reason": _reason(rule, rep),
    }


def _notify_assignee(*, actor, lead: Lead, rep: User, text_for) -> None:
    with translation.override(rep.language):
        text = text_for()
    notify(recipient=rep, actor=actor, kind="lead.assigned", text=text, url=lead.get_absolute_url())


def _write_owner(lead: Lead, *, owner: User | None, team: Team | None, only_unassigned: bool):
    rows = Lead.objects.filter(pk=lead.pk)
    if only_unassigned:
        rows = rows.filter(owner__isnull=True)
    now = timezone.now()
    updated = rows.update(owner=owner, team=team, version=F("version") + 1, updated_at=now)
    if updated:
        lead.refresh_from_db(fields=["owner", "team", "version", "updated_at"])
    return updated


@transaction.atomic
def lead_assign_automatically(*, actor: User | None, lead: Lead) -> Lead:
    """Route an unowned lead: rule → team → rep, or the default pool when no rule matches.

    Idempotent: a lead that already has an owner, or that would stay where it is, is left
    alone, so a second call neither reassigns nor logs anything.
    """
    # of=self: the joined source and campaign are only read, and may be missing.
    locked = Lead.objects.select_for_update(of=("self",)).select_related("source", "campaign")
    current = locked.get(pk=lead.pk)
    if current.owner_id is not None:
        return current
    rule, team = route(current)
    if team is None:
        return current
    rep = pick_rep(team) if rule is not None else None
    if rep is None and current.team_id == team.pk:
        return current
    team_before = current.team_id
    if not _write_owner(current, owner=rep, team=team, only_unassigned=True):
        return current
    reason = _reason(rule, rep)
    record_event(
        actor=actor,
        verb="lead.assigned",
        obj=current,
        before={"owner": None, "team": team_before},
        after={
            "owner": rep.pk if rep else None,
            "team": team.pk,
            "rule": rule.name if rule else None,
            "reason": reason,
        },
    )
    if rep is not None:
        _notify_assignee(
            actor=actor,
            lead=current,
            rep=rep,
            text_for=lambda: new_lead_text(current, rule, rep),
        )
    return current


def _ensure_can_reassign(actor: User, lead: Lead) -> None:
    if actor.role not in (Role.ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only managers and admins reassign leads."))
    if not Lead.objects.visible_to(actor).filter(pk=lead.pk).exists():
        raise PermissionDenied(_("You cannot reassign a lead outside your teams."))


def _team_for(owner: User, lead: Lead) -> Team | None:
    """Keep the lead's team when the new owner is in it; otherwise the owner's first team."""
    if lead.team_id and lead.team_id in owner.team_ids:
        return lead.team
    return owner.teams.order_by("id").first()


@transaction.atomic
def lead_reassign(*, actor: User, lead: Lead, owner: User, team: Team | None = None) -> Lead:
    """Hand a lead to another person (managers within their teams, admins anyone)."""
    _ensure_can_reassign(actor, lead)
    current = Lead.objects.select_for_update().get(pk=lead.pk)
    team = team if team is not None else _team_for(owner, current)
    check_assignment(actor, owner=owner, team=team)
    if current.owner_id == owner.pk and current.team_id == (team.pk if team else None):
        return current
    before = {"owner": current.owner_id, "team": current.team_id}
    _write_owner(current, owner=owner, team=team, only_unassigned=False)
    # A hand-off waiting for an answer now waits for the new owner.
    Handoff.objects.filter(lead=current, outcome=Handoff.Outcome.PENDING).update(owner=owner)
    record_event(
        actor=actor,
        verb="lead.assigned",
        obj=current,
        before=before,
        after={
            "owner": owner.pk,
            "team": team.pk if team else None,
            "rule": None,
            "reason": _("reassigned by %(actor)s") % {"actor": actor},
        },
    )
    _notify_assignee(
        actor=actor,
        lead=current,
        rep=owner,
        text_for=lambda: (
            _("%(actor)s handed you a lead: %(lead)s") % {"actor": actor, "lead": current}
        ),
    )
    return current


# Rules --------------------------------------------------------------------------------------


def can_manage_team(actor: User | None, team: Team) -> bool:
    if actor is None:
        return True
    if not actor.is_active:
        return False
    if actor.role == Role.ADMIN:
        return True
    return actor.role == Role.MANAGER and team.pk in actor.team_ids


def manageable_teams(actor: User):
    if actor.role == Role.ADMIN:
        return Team.objects.all()
    if actor.role == Role.MANAGER:
        return Team.objects.filter(pk__in=actor.team_ids)
    return Team.objects.none()


def _ensure_team(actor: User | None, team: Team) -> None:
    if not can_manage_team(actor, team):
        raise PermissionDenied(_("Only admins and the team's managers change its assignment."))


def _rule_state(rule: AssignmentRule) -> dict:
    return {
        "name": rule.name,
        "team": rule.team_id,
        "is_active": rule.is_active,
        "conditions": rule.conditions,
        "position": rule.position,
    }


@transaction.atomic
def rule_create(
    *, actor: User | None, name: str, team: Team, conditions: list, is_active: bool = True
) -> AssignmentRule:
    """Add a rule at the end of the list (it is checked after every existing rule)."""
    _ensure_team(actor, team)
    last = AssignmentRule.objects.aggregate(last=Max("position"))["last"]
    rule = AssignmentRule(
        name=(name or "").strip(),
        team=team,
        is_active=is_active,
        conditions=clean_conditions(conditions),
        position=0 if last is None else last + 1,
    )
    rule.full_clean()
    rule.save()
    record_event(actor=actor, verb="assignment_rule.created", obj=rule, after=_rule_state(rule))
    return rule


@transaction.atomic
def rule_update(
    *,
    actor: User | None,
    rule: AssignmentRule,
    name: str,
    team: Team,
    conditions: list,
    is_active: bool,
) -> AssignmentRule:
    _ensure_team(actor, rule.team)
    _ensure_team(actor, team)
    before = _rule_state(rule)
    rule.name = (name or "").strip()
    rule.team = team
    rule.conditions = clean_conditions(conditions)
    rule.is_active = is_active
    rule.full_clean()
    rule.save(update_fields=["name", "team", "conditions", "is_active"])
    record_event(
        actor=actor,
        verb="assignment_rule.updated",
        obj=rule,
        before=before,
        after=_rule_state(rule),
    )
    return rule


@transaction.atomic
def rule_delete(*, actor: User | None, rule: AssignmentRule) -> None:
    _ensure_team(actor, rule.team)
    record_event(actor=actor, verb="assignment_rule.deleted", obj=rule, before=_rule_state(rule))
    rule.delete()


def _save_order(actor: User | None, ordered: list[AssignmentRule]) -> None:
    for position, rule in enumerate(ordered):
        if rule.position != position:
            before = rule.position
            AssignmentRule.objects.filter(pk=rule.pk).update(position=position)
            rule.position = position
            record_event(
                actor=actor,
                verb="assignment_rule.moved",
                obj=rule,
                before={"position": before},
                after={"position": position},
            )


@transaction.atomic
def rules_reorder(*, actor: User | None, rule_ids: list[int]) -> list[AssignmentRule]:
    """Put the rules in exactly this order. Each rule that moves must be the actor's to manage."""
    rules = {r.pk: r for r in AssignmentRule.objects.select_for_update().select_related("team")}
    if sorted(rule_ids) != sorted(rules):
        raise ValidationError(_("List every rule exactly once."))
    ordered = [rules[pk] for pk in rule_ids]
    for position, rule in enumerate(ordered):
        if rule.position != position:
            _ensure_team(actor, rule.team)
    _save_order(actor, ordered)
    return ordered


@transaction.atomic
def rule_move(*, actor: User | None, rule: AssignmentRule, up: bool) -> AssignmentRule:
    """Swap a rule with its neighbour above or below; the rule moved must be the actor's."""
    _ensure_team(actor, rule.team)
    ordered = list(AssignmentRule.objects.select_for_update().order_by("position", "id"))
    index = next(i for i, r in enumerate(ordered) if r.pk == rule.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    _save_order(actor, ordered)
    rule.position = next(r.position for r in ordered if r.pk == rule.pk)
    return rule


# Teams and people ---------------------------------------------------------------------------


@transaction.atomic
def team_set_assignment(
    *, actor: User | None, team: Team, strategy: str, is_default_pool: bool | None = None
) -> Team:
    """Set how the team shares new leads; admins also choose the one default-pool team."""
    _ensure_team(actor, team)
    if strategy not in Team.Strategy.values:
        raise ValidationError({"assignment_strategy": _("Choose a known way to share leads.")})
    before = {
        "assignment_strategy": team.assignment_strategy,
        "is_default_pool": team.is_default_pool,
    }
    team.assignment_strategy = strategy
    if is_default_pool is not None and is_default_pool != team.is_default_pool:
        if actor is not None and actor.role != Role.ADMIN:
            raise PermissionDenied(_("Only admins choose the default pool."))
        if is_default_pool:
            # One default pool at most (a database constraint): the old one stops being it.
            for old in Team.objects.filter(is_default_pool=True).exclude(pk=team.pk):
                Team.objects.filter(pk=old.pk).update(is_default_pool=False)
                record_event(
                    actor=actor,
                    verb="team.assignment_changed",
                    obj=old,
                    before={"is_default_pool": True},
                    after={"is_default_pool": False},
                )
        team.is_default_pool = is_default_pool
    after = {
        "assignment_strategy": team.assignment_strategy,
        "is_default_pool": team.is_default_pool,
    }
    if after != before:
        team.save(update_fields=["assignment_strategy", "is_default_pool"])
        record_event(
            actor=actor, verb="team.assignment_changed", obj=team, before=before, after=after
        )
    return team


def can_set_availability(actor: User, person: User) -> bool:
    if actor.role == Role.ADMIN or actor.pk == person.pk:
        return actor.is_active
    return actor.role == Role.MANAGER and bool(set(actor.team_ids) & set(person.team_ids))


def can_set_capacity(actor: User | None, person: User) -> bool:
    if actor is None or actor.role == Role.ADMIN:
        return True
    return actor.role == Role.MANAGER and bool(set(actor.team_ids) & set(person.team_ids))


@transaction.atomic
def user_set_availability(
    *,
    actor: User | None,
    user: User,
    is_available: bool | None = None,
    lead_capacity: int | None = None,
) -> User:
    """Mark a person available for new leads or not, and (managers, admins) set their capacity."""
    if actor is not None and not can_set_availability(actor, user):
        raise PermissionDenied(_("You cannot change this person's availability."))
    if lead_capacity is not None and not can_set_capacity(actor, user):
        raise PermissionDenied(_("Only managers and admins set lead capacity."))
    if lead_capacity is not None and not 0 <= lead_capacity <= 32767:
        raise ValidationError({"lead_capacity": _("Enter a number from 0 to 32767.")})
    before = {"is_available": user.is_available, "lead_capacity": user.lead_capacity}
    if is_available is not None:
        user.is_available = is_available
    if lead_capacity is not None:
        user.lead_capacity = lead_capacity
    after = {"is_available": user.is_available, "lead_capacity": user.lead_capacity}
    if after != before:
        user.save(update_fields=["is_available", "lead_capacity"])
        record_event(
            actor=actor, verb="user.availability_changed", obj=user, before=before, after=after
        )
    return user
