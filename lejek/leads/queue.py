"""The reps' work queue: their open leads, the ones needing attention now first.

`hot_leads()` is a selector: one query, whatever the number of leads, with everything a row
shows (next task, last touch, win probability, pending hand-off) annotated by subqueries.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from lejek.activities.models import Activity, Task
from lejek.leads.models import Handoff, Lead
from lejek.scoring.models import Engagement
from lejek.users.models import Role, User

QUEUE_SIZE = 50

# Points added to the score for a lead touched (created, engaged, called) recently.
HOT_DAYS, HOT_BONUS = 3, 20
WARM_DAYS, WARM_BONUS = 14, 10


@dataclass(frozen=True)
class QueueOwner:
    """Whose queue is shown, and whether the viewer is looking at someone else's."""

    person: User
    is_other: bool


def queue_people(viewer: User) -> QuerySet[User]:
    """Whose queues `viewer` may open: admins anyone's, managers their teams' members."""
    people = User.objects.filter(is_active=True).exclude(role=Role.MARKETING)
    if viewer.role == Role.ADMIN:
        return people
    if viewer.role == Role.MANAGER:
        return people.filter(Q(teams__in=viewer.team_ids) | Q(pk=viewer.pk)).distinct()
    return people.filter(pk=viewer.pk)


def queue_owner(viewer: User, rep: str | int | None) -> QueueOwner:
    """The person named by `?rep=`, if the viewer may see their queue; the viewer otherwise.

    A rep asking for someone else's queue, or an id that is not a person the viewer manages,
    is refused with the same message, so ids of strangers reveal nothing.
    """
    if rep in (None, "") or str(rep) == str(viewer.pk):
        return QueueOwner(viewer, False)
    refused = PermissionDenied(_("You can open the work queue only of people in your teams."))
    if not str(rep).isdigit() or viewer.role not in (Role.ADMIN, Role.MANAGER):
        raise refused
    person = queue_people(viewer).filter(pk=int(rep)).first()
    if person is None:
        raise refused
    return QueueOwner(person, True)


def _latest(queryset: QuerySet, field: str) -> Subquery:
    return Subquery(queryset.order_by(f"-{field}").values(field)[:1])


def hot_leads(
    viewer: User,
    *,
    owner: User | None = None,
    limit: int | None = QUEUE_SIZE,
    now: datetime.datetime | None = None,
) -> QuerySet[Lead]:
    """The open leads of `owner` (the viewer by default) that the viewer sees, best first.

    Order:

    1. leads with something overdue: an open task due before today, or a hand-off from
       marketing still pending after its `due_at`;
    2. then by priority = score + recency bonus, where the bonus is +20 if the lead was
       created, engaged (an Engagement row) or worked (an Activity) in the last 3 days,
       +10 within 14 days, else 0 — computed in the database, so it sorts and slices there;
    3. then by score, then newest first.

    Each lead carries `next_task_title`, `next_task_due` (its earliest open task: dated
    before undated), `task_overdue`, `last_touch_at` (latest activity up to now),
    `handoff_due` (the pending hand-off's deadline, or None), `handoff_overdue`,
    `is_overdue`, `win_probability`, `priority` and `queue_total` (all the owner's open
    leads the viewer sees, before the limit).
    """
    owner = owner or viewer
    now = now or timezone.now()
    today = timezone.localdate(now)
    open_tasks = Task.objects.filter(lead=OuterRef("pk"), done_at__isnull=True).order_by(
        F("due_date").asc(nulls_last=True), "id"
    )
    pending = Handoff.objects.filter(lead=OuterRef("pk")).pending()
    touches = Activity.objects.filter(lead=OuterRef("pk"), occurred_at__lte=now)
    engaged = Engagement.objects.filter(lead=OuterRef("pk"), occurred_at__lte=now)
    owned = Lead.objects.visible_to(viewer).open().filter(owner=owner)
    mine = owned.with_score()
    leads = mine.select_related("company").annotate(
        task_overdue=Exists(open_tasks.filter(due_date__lt=today)),
        handoff_overdue=Exists(pending.overdue(now)),
    )
    if limit:
        leads = leads.filter(
            _may_rank(mine, limit) | Q(task_overdue=True) | Q(handoff_overdue=True)
        )
    leads = (
        leads.annotate(
            next_task_title=Subquery(open_tasks.values("title")[:1]),
            next_task_due=Subquery(open_tasks.values("due_date")[:1], output_field=DateField()),
            handoff_due=Subquery(pending.values("due_at")[:1], output_field=DateTimeField()),
            last_touch_at=_latest(touches, "occurred_at"),
            last_engaged_at=_latest(engaged, "occurred_at"),
            win_probability=F("lead_score__probability"),
            # One uncorrelated subquery, so "the first 50 of 312" costs no second round trip.
            queue_total=Subquery(
                owned.order_by().values("owner").annotate(n=Count("pk")).values("n")[:1],
                output_field=IntegerField(),
            ),
        )
        .annotate(
            is_overdue=Case(
                When(Q(task_overdue=True) | Q(handoff_overdue=True), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            priority=F("score") + _recency_bonus(now),
        )
        .order_by("-is_overdue", "-priority", "-score", "-created_at", "-id")
    )
    return leads[:limit] if limit else leads


def _may_rank(mine: QuerySet[Lead], limit: int) -> Q:
    """Leads whose score could still reach the first `limit` places.

    The `limit`-th best score s is one sort of the owner's open leads' scores. Any lead below
    s - HOT_BONUS ranks under those `limit` leads whatever its recency, so the costly
    per-lead subqueries run only for the few that may rank (and for overdue ones).
    """
    cutoff = mine.order_by("-score").values("score")[limit - 1 : limit]
    return Q(score__gte=Coalesce(Subquery(cutoff), Value(0)) - HOT_BONUS)


def _recency_bonus(now: datetime.datetime) -> Case:
    def touched_since(days: int) -> Q:
        since = now - datetime.timedelta(days=days)
        return (
            Q(created_at__gte=since) | Q(last_touch_at__gte=since) | Q(last_engaged_at__gte=since)
        )

    return Case(
        When(touched_since(HOT_DAYS), then=Value(HOT_BONUS)),
        When(touched_since(WARM_DAYS), then=Value(WARM_BONUS)),
        default=Value(0),
        output_field=IntegerField(),
    )


def days_overdue(due: datetime.date | datetime.datetime | None, now=None) -> int:
    """Whole days past `due` (0 when not overdue): "overdue 3 d" on the row."""
    if due is None:
        return 0
    now = now or timezone.now()
    if isinstance(due, datetime.datetime):
        # A deadline missed by minutes already reads "1 d": "0 d" would look like not late.
        return max((now - due).days, 1) if due < now else 0
    return max((timezone.localdate(now) - due).days, 0)
