"""The demo data set: deterministic, valid record by record, and shaped like a real funnel."""

from __future__ import annotations

import datetime
import io
import itertools

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from lejek.activities.models import Activity, Comment, Task
from lejek.contacts.models import Company, Contact
from lejek.core.custom_fields import clean_value
from lejek.core.models import CustomField, Event
from lejek.demo.data import build_demo
from lejek.demo.scenario import DEMO_PASSWORD, DEMO_USERS
from lejek.leads.models import Campaign, Lead, Source
from lejek.pipeline.models import Deal, Pipeline, StageChange
from lejek.sales.models import Product
from lejek.users.models import Role, Team, User
from tests.analytics_history import (
    assert_stage_entries_match_histories,
    assert_status_summaries_match_histories,
)

LEADS = 200
NOW = datetime.datetime(2026, 3, 16, 11, 30, tzinfo=datetime.UTC)
OWNED = (Company, Contact, Lead, Deal)


def fingerprint() -> dict[str, list]:
    return {
        "leads": list(Lead.objects.order_by("pk").values_list("email", "status", "created_at")),
        "deals": list(Deal.objects.order_by("pk").values_list("amount", "stage__name")),
        "nips": list(Company.objects.order_by("pk").values_list("nip", flat=True)),
    }


def built_fingerprint(seed: int) -> dict[str, list]:
    """Build a data set, note what it holds, and roll it back."""
    with transaction.atomic():
        build_demo(seed=seed, leads=100, now=NOW)
        result = fingerprint()
        transaction.set_rollback(True)
    return result


def nip_is_valid(nip: str) -> bool:
    """Written out again here rather than imported, so the generator is checked independently."""
    if len(nip) != 10 or not nip.isdigit():
        return False
    total = sum(w * int(d) for w, d in zip((6, 5, 7, 2, 3, 4, 5, 6, 7), nip[:9], strict=True))
    # A remainder of 10 matches no digit: such numbers are never issued.
    return total % 11 == int(nip[9])


def test_same_seed_gives_same_data_and_another_seed_differs(db):
    first = built_fingerprint(42)
    assert built_fingerprint(42) == first
    other = built_fingerprint(7)
    assert other["leads"] != first["leads"]
    assert other["deals"] != first["deals"]


def test_command_loads_once_and_resets_on_request(transactional_db):
    # Transactional: each command commits, as it does when run from the shell.
    out = io.StringIO()
    call_command("demo", leads=60, stdout=out)
    assert "anna@lejek.demo" in out.getvalue()
    assert DEMO_PASSWORD in out.getvalue()

    with pytest.raises(CommandError, match="--reset"):
        call_command("demo", leads=60, stdout=io.StringIO())

    out = io.StringIO()
    call_command("demo", if_empty=True, stdout=out)
    assert "already has data" in out.getvalue()
    assert Lead.objects.count() == 60

    call_command("demo", leads=80, seed=3, reset=True, stdout=io.StringIO())
    assert Lead.objects.count() == 80
    assert User.objects.count() == len(DEMO_USERS)


@pytest.fixture(scope="class")
def demo_set(django_db_setup, django_db_blocker):
    """One data set shared by a class of checks, rolled back when the class is done."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_demo(seed=42, leads=LEADS)
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_set, db):
    """The shared data set; each test runs in its own savepoint inside it."""
    return demo_set


class TestDemoDataSet:
    def test_size_follows_the_lead_count(self, demo):
        assert demo.counts["leads"] == Lead.objects.count() == LEADS
        assert Company.objects.count() == 30
        assert Contact.objects.count() == 60
        assert 30 <= Deal.objects.count() <= 90
        assert Pipeline.objects.count() == 2
        assert Product.objects.count() >= 12
        assert Source.objects.count() == len(Source.Kind)
        assert Campaign.objects.filter(cost__gt=0).count() == 6

    def test_every_lead_has_the_status_history_that_led_to_its_status(self, demo):
        from lejek.leads.models import LeadStatusChange

        last = {}
        for change in LeadStatusChange.objects.order_by("changed_at", "id"):
            previous = last.get(change.lead_id)
            assert change.from_status == (previous.to_status if previous else "")
            if previous:
                assert change.changed_at >= previous.changed_at
            last[change.lead_id] = change
        leads = Lead.objects.all()
        assert len(last) == leads.count()
        for lead in leads:
            assert last[lead.pk].to_status == lead.status
            assert lead.created_at <= last[lead.pk].changed_at <= lead.updated_at

    def test_the_summaries_kept_for_the_funnel_agree_with_the_histories(self, demo):
        assert_status_summaries_match_histories()
        assert_stage_entries_match_histories()

    def test_marketing_qualified_leads_wait_for_their_reps_answer(self, demo):
        from lejek.leads.models import Handoff

        waiting = Lead.objects.filter(status=Lead.Status.MQL, owner__isnull=False)
        assert waiting.exists()
        handoffs = Handoff.objects.filter(outcome=Handoff.Outcome.PENDING)
        assert sorted(handoffs.values_list("lead", flat=True)) == sorted(
            waiting.values_list("pk", flat=True)
        )
        for handoff in handoffs.select_related("lead"):
            assert handoff.owner_id == handoff.lead.owner_id
            assert handoff.due_at > handoff.offered_at

    def test_every_nip_is_valid(self, demo):
        nips = list(Company.objects.exclude(nip="").values_list("nip", flat=True))
        assert len(nips) > Company.objects.count() // 2
        assert all(nip_is_valid(nip) for nip in nips), [n for n in nips if not nip_is_valid(n)]
        assert len(set(nips)) == len(nips)

    def test_people_cover_every_role_and_both_teams(self, demo):
        assert Team.objects.count() == 2
        roles = sorted(User.objects.values_list("role", flat=True))
        assert roles == sorted(
            [Role.ADMIN, Role.MANAGER, Role.REP, Role.REP, Role.REP, Role.MARKETING]
        )
        reps_per_team = [t.members.filter(role=Role.REP).count() for t in Team.objects.all()]
        assert sorted(reps_per_team) == [1, 2]
        assert User.objects.filter(language="en").count() == 1
        demo_users = User.objects.filter(email__in=[u.email for u in DEMO_USERS])
        assert demo_users.count() == len(DEMO_USERS)
        assert demo_users.order_by().values("password").distinct().count() == 1
        assert demo_users.get(email="anna@lejek.demo").check_password(DEMO_PASSWORD)

    def test_owned_records_sit_in_their_owners_team(self, demo):
        for model in OWNED:
            for record in model.objects.select_related("owner"):
                assert record.team_id is not None
                if record.owner is not None:
                    assert record.team_id in record.owner.team_ids, record
        pool = Lead.objects.filter(owner__isnull=True)
        assert pool.exists()
        assert not pool.filter(team__isnull=True).exists()

    def test_rep_sees_own_records_and_team_pool_only(self, demo):
        anna, john = (
            User.objects.get(email="anna@lejek.demo"),
            User.objects.get(email="john@lejek.demo"),
        )
        visible = Lead.objects.visible_to(anna)
        assert visible.filter(owner=anna).exists()
        assert visible.filter(owner__isnull=True).exists()
        assert not visible.filter(owner=john).exists()

    def test_stage_histories_agree_with_their_deals(self, demo):
        changes: dict[int, list[StageChange]] = {}
        for change in StageChange.objects.select_related("to_stage").order_by("changed_at", "id"):
            changes.setdefault(change.deal_id, []).append(change)
        for deal in Deal.objects.select_related("stage"):
            history = changes[deal.pk]
            assert history[0].from_stage_id is None
            assert history[0].changed_at == deal.created_at
            for before, after in itertools.pairwise(history):
                assert after.from_stage_id == before.to_stage_id
                assert after.changed_at >= before.changed_at
            last = history[-1]
            assert last.to_stage_id == deal.stage_id
            assert deal.stage_entered_at == last.changed_at
            if deal.stage.is_closed:
                assert deal.closed_at == last.changed_at
            else:
                assert deal.closed_at is None
            assert bool(deal.lost_reason) == deal.stage.is_lost
        assert Deal.objects.won().exists()
        assert Deal.objects.lost().exists()
        assert Deal.objects.open().count() > Deal.objects.won().count()

    def test_leads_follow_a_funnel(self, demo):
        def count(*statuses):
            return Lead.objects.filter(status__in=statuses).count()

        early = count(Lead.Status.NEW, Lead.Status.CONTACTED)
        converted = count(Lead.Status.CONVERTED)
        assert early > converted > 0
        assert count(Lead.Status.MQL, Lead.Status.SQL) > 0
        assert count(Lead.Status.DISQUALIFIED) > 0
        for lead in Lead.objects.filter(status=Lead.Status.CONVERTED):
            assert lead.deals.exists()
            assert lead.contact_id and lead.company_id
        assert Lead.objects.filter(campaign__isnull=False).exists()
        assert Lead.objects.values("source").distinct().count() >= 6

    def test_custom_values_are_valid_for_their_definitions(self, demo):
        models = {"lead": Lead, "contact": Contact, "company": Company, "deal": Deal}
        for field in CustomField.objects.all():
            values = [
                record.custom[field.key]
                for record in models[field.entity].objects.all()
                if field.key in record.custom
            ]
            assert values, f"no {field.entity} has a value for {field.key}"
            for value in values:
                assert clean_value(field, value) == value

    def test_nothing_happens_in_the_future(self, demo):
        now = timezone.now()
        for model, name in [
            (Lead, "created_at"),
            (Deal, "updated_at"),
            (StageChange, "changed_at"),
            (Activity, "occurred_at"),
            (Comment, "created_at"),
            (Event, "created_at"),
        ]:
            latest = model.objects.order_by(f"-{name}").values_list(name, flat=True).first()
            assert latest <= now, model
        oldest = Lead.objects.order_by("created_at").values_list("created_at", flat=True).first()
        assert oldest >= now - datetime.timedelta(days=370)

    def test_tasks_include_overdue_today_and_done(self, demo):
        today = timezone.localdate()
        open_tasks = Task.objects.open()
        assert open_tasks.filter(due_date__lt=today).exists()
        assert open_tasks.filter(due_date__gte=today).exists()
        assert Task.objects.filter(done_at__isnull=False).exists()

    def test_every_record_has_its_creation_event(self, demo):
        for model, verb in [
            (Company, "company.created"),
            (Contact, "contact.created"),
            (Lead, "lead.created"),
            (Deal, "deal.created"),
            (Activity, "activity.logged"),
            (Task, "task.created"),
            (Comment, "comment.added"),
        ]:
            ids = set(Event.objects.filter(verb=verb).values_list("object_id", flat=True))
            assert ids == set(model.objects.values_list("pk", flat=True)), verb
        moves = StageChange.objects.filter(from_stage__isnull=False).count()
        assert Event.objects.filter(verb="deal.stage_changed").count() == moves
