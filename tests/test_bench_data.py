"""The benchmark data set: shaped like a real funnel, consistent row by row, deterministic."""

from __future__ import annotations

import datetime
import io
import itertools
import random
from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.urls import reverse

from lejek.activities.models import Activity
from lejek.contacts.models import Company, Contact
from lejek.demo import bench_data
from lejek.leads.models import Campaign, Lead, LeadStatusChange, Source
from lejek.pipeline.models import Deal, Stage, StageChange
from lejek.scoring.models import LeadScore
from lejek.users.models import Role, User
from tests.analytics_history import (
    assert_stage_entries_match_histories,
    assert_status_summaries_match_histories,
)
from tests.conftest import make_user

LEADS = 2_000
NOW = datetime.datetime(2026, 3, 16, 0, 0, tzinfo=datetime.UTC)
MODELS = (Company, Contact, Lead, LeadScore, LeadStatusChange, Deal, StageChange, Activity)


def fingerprint() -> dict[str, object]:
    return {
        "counts": {m.__name__: m.objects.count() for m in MODELS},
        "amounts": Deal.objects.aggregate(total=Sum("amount"))["total"],
        "scores": LeadScore.objects.aggregate(total=Sum("score"))["total"],
        "statuses": dict(Lead.objects.values_list("status").annotate(n=Count("id"))),
        "emails": list(Lead.objects.order_by("id").values_list("email", flat=True)[:50]),
    }


@pytest.fixture(scope="class")
def bench_set(django_db_setup, django_db_blocker):
    """One data set shared by a class of checks, rolled back when the class is done."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield bench_data.generate(leads=LEADS, seed=7, now=NOW)
        transaction.set_rollback(True)


@pytest.fixture
def bench(bench_set, db):
    return bench_set


class TestBenchDataSet:
    def test_counts_are_in_the_expected_ranges(self, bench):
        counts = {m: m.objects.count() for m in MODELS}
        assert counts[Lead] == counts[LeadScore] == LEADS
        assert bench.counts["leads"] == LEADS
        changes = counts[LeadStatusChange] + counts[StageChange]
        assert 2.5 <= changes / LEADS <= 3.5
        assert 1.0 <= counts[Activity] / LEADS <= 2.0
        converted = Lead.objects.filter(status=Lead.Status.CONVERTED).count()
        assert 0.18 <= converted / LEADS <= 0.32
        assert Deal.objects.filter(lead__isnull=False).count() == converted
        assert counts[Company] == counts[Contact] >= converted
        assert Campaign.objects.count() == bench_data.CAMPAIGN_COUNT
        assert User.objects.filter(role=Role.REP).count() == 20
        kinds = set(Source.objects.values_list("kind", flat=True))
        assert {"web_form", "campaign", "event", "import", "api", "manual", "email"} <= kinds
        assert {m.__name__: bench.counts[name] for name, (m, _c) in bench_data.PLANS.items()} == {
            m.__name__: n for m, n in counts.items()
        }

    def test_every_lead_status_is_its_last_change(self, bench):
        last: dict[int, str] = {}
        previous: dict[int, str] = defaultdict(lambda: Lead.Status.NEW)
        changes = LeadStatusChange.objects.order_by("lead_id", "changed_at", "id")
        for lead_id, from_status, to_status in changes.values_list(
            "lead_id", "from_status", "to_status"
        ):
            assert from_status == previous[lead_id]
            previous[lead_id] = last[lead_id] = to_status
        for lead_id, status in Lead.objects.values_list("id", "status"):
            assert last.get(lead_id, Lead.Status.NEW) == status
        # Every lifecycle step happens, and so do the dead ends.
        reached = set(LeadStatusChange.objects.values_list("to_status", flat=True))
        assert reached == set(Lead.Status.values) - {Lead.Status.NEW}

    def test_the_summaries_kept_for_the_funnel_agree_with_the_histories(self, bench):
        assert_status_summaries_match_histories()
        assert_stage_entries_match_histories()

    def test_every_deal_stage_is_its_last_stage_change(self, bench):
        moves = defaultdict(list)
        for deal_id, from_id, to_id in StageChange.objects.order_by(
            "deal_id", "changed_at", "id"
        ).values_list("deal_id", "from_stage_id", "to_stage_id"):
            moves[deal_id].append((from_id, to_id))
        for deal_id, stage_id in Deal.objects.values_list("id", "stage_id"):
            history = moves[deal_id]
            assert history[0][0] is None
            assert history[-1][1] == stage_id
            for (_f, before), (after, _t) in itertools.pairwise(history):
                assert before == after

    def test_histories_have_skips_backward_moves_and_reopenings(self, bench):
        position = dict(Stage.objects.values_list("id", "position"))
        lost = set(Stage.objects.filter(is_lost=True).values_list("id", flat=True))
        steps = [
            (position[f], position[t], f in lost)
            for f, t in StageChange.objects.filter(from_stage__isnull=False).values_list(
                "from_stage_id", "to_stage_id"
            )
        ]
        assert any(t - f == 2 for f, t, from_lost in steps if not from_lost)
        assert any(t < f for f, t, from_lost in steps if not from_lost)
        assert any(from_lost for _f, _t, from_lost in steps)

    def test_closed_and_open_deals_carry_what_they_should(self, bench):
        won = Deal.objects.won()
        assert won.filter(closed_at__isnull=True).count() == 0
        assert won.filter(expected_close_date__isnull=True).count() == 0
        without_amount = won.filter(amount__isnull=True).count()
        assert 0 < without_amount <= 0.1 * won.count()
        lost = Deal.objects.lost()
        assert lost.filter(lost_reason="").count() == 0
        assert lost.filter(closed_at__isnull=True).count() == 0
        still_open = Deal.objects.open()
        assert still_open.exists()
        assert still_open.filter(closed_at__isnull=False).count() == 0
        assert still_open.filter(expected_close_date__isnull=True).count() == 0
        assert Deal.objects.filter(currency="EUR").exists()

    def test_won_customers_buy_again(self, bench):
        won_by_company = defaultdict(list)
        for company_id, created, closed in Deal.objects.won().values_list(
            "company_id", "created_at", "closed_at"
        ):
            won_by_company[company_id].append((created, closed))
        repeaters = {c: d for c, d in won_by_company.items() if len(d) >= 2}
        assert repeaters
        for deals in repeaters.values():
            deals.sort()
            first_closed = deals[0][1]
            assert deals[1][0] > first_closed + datetime.timedelta(days=30)
        assert Deal.objects.filter(lead__isnull=True).exists()

    def test_dates_stay_in_the_two_years_before_now(self, bench):
        start = NOW - datetime.timedelta(days=bench_data.HISTORY_DAYS + 1)
        assert not Lead.objects.filter(created_at__lt=start).exists()
        assert not Lead.objects.filter(created_at__gt=NOW).exists()
        assert not LeadStatusChange.objects.filter(changed_at__gt=NOW).exists()
        assert not StageChange.objects.filter(changed_at__gt=NOW).exists()
        assert not Activity.objects.filter(occurred_at__gt=NOW).exists()

    def test_a_sample_of_every_model_passes_validation(self, bench):
        rng = random.Random(1)
        for model in MODELS:
            ids = list(model.objects.values_list("pk", flat=True))
            for pk in rng.sample(ids, min(50, len(ids))):
                model.objects.get(pk=pk).full_clean()

    def test_pages_open_for_an_admin(self, bench, client):
        client.force_login(User.objects.get(email=f"admin@{bench_data.BENCH_DOMAIN}"))
        lead = Lead.objects.filter(status=Lead.Status.CONVERTED).first()
        deal = Deal.objects.filter(lead=lead).first()
        for url in (
            reverse("lead-list"),
            reverse("deal-board"),
            reverse("lead-detail", args=[lead.pk]),
            reverse("deal-detail", args=[deal.pk]),
            reverse("company-detail", args=[deal.company_id]),
        ):
            assert client.get(url).status_code == 200, url


def test_same_seed_gives_same_data_and_another_seed_differs(db):
    def built(seed: int) -> dict[str, object]:
        with transaction.atomic():
            bench_data.generate(leads=500, seed=seed, now=NOW)
            result = fingerprint()
            transaction.set_rollback(True)
        return result

    first = built(11)
    assert built(11) == first
    other = built(12)
    assert other["amounts"] != first["amounts"]
    assert other["emails"] != first["emails"]


def table_indexes() -> dict[str, set[str]]:
    with connection.cursor() as cursor:
        return {
            model._meta.db_table: {
                name
                for name, info in connection.introspection.get_constraints(
                    cursor, model._meta.db_table
                ).items()
                if info["index"]
            }
            for model in MODELS
        }


# The bulk load forks its row generator; the test runner's own threads make Python warn.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_command_writes_in_bulk_refuses_other_data_and_resets(transactional_db):
    # Transactional: the command commits chunk by chunk, as it does from the shell.
    indexes_before = table_indexes()
    out = io.StringIO()
    call_command("bench_data", leads=300, stdout=out)
    assert "300 / 300 leads written" in out.getvalue()
    assert "lead status changes" in out.getvalue()
    assert Lead.objects.count() == 300
    # The indexes dropped for the bulk load are back.
    assert table_indexes() == indexes_before
    for deal_id, stage_id in Deal.objects.values_list("id", "stage_id"):
        last = StageChange.objects.filter(deal_id=deal_id).order_by("changed_at", "id").last()
        assert last.to_stage_id == stage_id

    # A second run replaces an earlier benchmark set.
    call_command("bench_data", leads=200, stdout=io.StringIO())
    assert Lead.objects.count() == 200

    make_user("ola@example.com", Role.REP, [], "Ola", "Other")
    with pytest.raises(CommandError, match="--reset"):
        call_command("bench_data", leads=100, stdout=io.StringIO())
    assert Lead.objects.count() == 200

    call_command("bench_data", leads=100, reset=True, stdout=io.StringIO())
    assert Lead.objects.count() == 100
    assert not User.objects.filter(email="ola@example.com").exists()


def test_command_refuses_a_lead_count_below_one(db):
    with pytest.raises(CommandError, match="positive"):
        call_command("bench_data", leads=0, stdout=io.StringIO())
    assert not Lead.objects.exists()
