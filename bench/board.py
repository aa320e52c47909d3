"""The board at scale: server time of the whole page against the raw SQL for the same figures.

Builds N open deals in one pipeline (bulk, outside the timed part), a third of them with open
tasks and some recently won and lost ones, then times each scenario as the median of several
runs through Django's test client (no network, rendering included) and the equivalent
hand-written SQL (the column aggregates in one GROUP BY, then the first page of cards of
every column with their joins and next task date) in the same process. It also counts the
queries each page makes, at N and at a tenth of N: the two must be equal.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lejek.settings")
os.environ.setdefault("LEJEK_VAR_DIR", "/tmp/lejek-bench-board")
os.environ.setdefault("LEJEK_LANGUAGE", "en")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from lejek.activities.models import Task  # noqa: E402
from lejek.contacts.models import Company  # noqa: E402
from lejek.pipeline.board import CARDS_PER_PAGE, RECENT_CLOSED_DAYS  # noqa: E402
from lejek.pipeline.models import Deal, Pipeline, Stage  # noqa: E402
from lejek.pipeline.services import pipeline_create  # noqa: E402
from lejek.users.models import Role, User  # noqa: E402
from lejek.users.services import team_create, user_create  # noqa: E402

RESULTS = Path(__file__).parent / "results"
RUNS = 7
BATCH = 5000
STAGES = [
    {"name": "Qualified", "probability": 10},
    {"name": "Meeting", "probability": 20},
    {"name": "Proposal", "probability": 40},
    {"name": "Negotiation", "probability": 70},
    {"name": "Contract", "probability": 90},
    {"name": "Won", "probability": 100, "is_won": True},
    {"name": "Lost", "probability": 0, "is_lost": True},
]


def prepare(rows: int) -> tuple[User, User, Pipeline]:
    call_command("flush", interactive=False, verbosity=0)
    team = team_create(actor=None, name="North")
    admin = user_create(actor=None, email="admin@bench.test", password=None, role=Role.ADMIN)
    rep = user_create(
        actor=None, email="rep@bench.test", password=None, role=Role.REP, teams=[team]
    )
    other = user_create(
        actor=None, email="other@bench.test", password=None, role=Role.REP, teams=[team]
    )
    pipeline = pipeline_create(actor=None, name="New business", is_default=True, stages=STAGES)
    stages = list(pipeline.stages.order_by("position"))
    open_stages = [s for s in stages if not s.is_closed]
    closed_stages = [s for s in stages if s.is_closed]
    companies = Company.objects.bulk_create(
        [Company(name=f"Firma {i} Sp. z o.o.", team=team) for i in range(2000)]
    )
    rng = random.Random(7)
    now = timezone.now()
    with transaction.atomic():
        _bulk_deals(rows, open_stages, pipeline, companies, (rep, other), team, rng, now)
        # Closed deals, most of them too old for the won and lost columns.
        _bulk_deals(rows // 10, closed_stages, pipeline, companies, (rep, other), team, rng, now)
        _bulk_tasks(rng, now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return admin, rep, pipeline


def _bulk_deals(n, stages, pipeline, companies, owners, team, rng, now) -> None:
    batch = []
    for i in range(n):
        stage = rng.choice(stages)
        entered = now - datetime.timedelta(days=rng.randint(0, 90), minutes=i)
        batch.append(
            Deal(
                title=f"Deal {i}",
                pipeline=pipeline,
                stage=stage,
                amount=Decimal(rng.randint(1, 500) * 100),
                currency="EUR" if i % 10 == 0 else "PLN",
                owner=owners[i % 2],
                team=team,
                company=rng.choice(companies),
                stage_entered_at=entered,
                closed_at=entered if stage.is_closed else None,
                lost_reason="Price" if stage.is_lost else "",
                created_at=entered,
                updated_at=entered,
            )
        )
        if len(batch) == BATCH:
            Deal.objects.bulk_create(batch)
            batch = []
    Deal.objects.bulk_create(batch)


def _bulk_tasks(rng, now) -> None:
    ids = list(Deal.objects.values_list("pk", flat=True)[::3])
    today = timezone.localdate(now)
    tasks = [
        Task(
            deal_id=pk, title="Follow up", due_date=today + datetime.timedelta(rng.randint(-5, 20))
        )
        for pk in ids
    ]
    Task.objects.bulk_create(tasks, batch_size=BATCH)


def median_ms(fn) -> float:
    fn()  # warm caches
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def raw_board(pipeline_id: int, stage_ids: list[int], where: str, params: list) -> None:
    """The same figures by hand: one GROUP BY for the headers, one page per column."""
    recent = timezone.now() - datetime.timedelta(days=RECENT_CLOSED_DAYS)
    scope = (
        "d.pipeline_id = %s AND (s.is_won = FALSE AND s.is_lost = FALSE OR d.closed_at >= %s)"
        f" AND {where}"
    )
    base = [pipeline_id, recent, *params]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.stage_id, d.currency, COUNT(*), SUM(d.amount) FROM pipeline_deal d"
            " JOIN pipeline_stage s ON s.id = d.stage_id"
            f" LEFT JOIN contacts_company c ON c.id = d.company_id WHERE {scope}"
            " GROUP BY d.stage_id, d.currency",
            base,
        )
        cursor.fetchall()
        for stage_id in stage_ids:
            cursor.execute(
                "SELECT d.id, d.title, d.amount, d.currency, d.version, d.stage_entered_at,"
                " c.name, u.first_name, u.last_name,"
                " (SELECT t.due_date FROM activities_task t WHERE t.deal_id = d.id"
                "  AND t.done_at IS NULL AND t.due_date IS NOT NULL"
                "  ORDER BY t.due_date, t.id LIMIT 1)"
                " FROM pipeline_deal d JOIN pipeline_stage s ON s.id = d.stage_id"
                " LEFT JOIN contacts_company c ON c.id = d.company_id"
                " LEFT JOIN users_user u ON u.id = d.owner_id"
                f" WHERE {scope} AND d.stage_id = %s"
                f" ORDER BY d.stage_entered_at DESC, d.id DESC LIMIT {CARDS_PER_PAGE}",
                [*base, stage_id],
            )
            cursor.fetchall()


def query_count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def measure(rows: int) -> tuple[list[str], dict[str, int]]:
    admin, rep, pipeline = prepare(rows)
    as_admin, as_rep = Client(), Client()
    as_admin.force_login(admin)
    as_rep.force_login(rep)
    # Cards are read for the open columns; won and lost start collapsed (header only).
    open_stages = Stage.objects.filter(pipeline=pipeline, is_won=False, is_lost=False)
    stage_ids = list(open_stages.values_list("pk", flat=True))
    rep_scope = (
        f"(d.owner_id = {rep.pk} OR (d.owner_id IS NULL AND d.team_id IN ({rep.team_ids[0]})))"
    )
    like = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
    scenarios = [
        ("admin, whole board", as_admin, "/deals/board/", "1=1", []),
        ("rep (sees half)", as_rep, "/deals/board/", rep_scope, []),
        (
            "admin, owner = rep",
            as_admin,
            f"/deals/board/?owner={rep.pk}",
            "d.owner_id = %s",
            [rep.pk],
        ),
        (
            "admin, text search",
            as_admin,
            "/deals/board/?q=firma+12",
            f"(d.title {like} %s OR c.name {like} %s) AND (d.title {like} %s OR c.name {like} %s)",
            ["%firma%", "%firma%", "%12%", "%12%"],
        ),
    ]
    lines, counts = [], {}
    for name, client, url, where, params in scenarios:
        counts[name] = query_count(client, url)
        page = median_ms(lambda client=client, url=url: client.get(url))
        raw = median_ms(
            lambda where=where, params=params: raw_board(pipeline.pk, stage_ids, where, params)
        )
        lines.append(f"| {name} | {page:.1f} | {counts[name]} | {raw:.1f} | {page / raw:.1f}x |")
        print(lines[-1], file=sys.stderr)
    return lines, counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    load_before = os.getloadavg()[0]

    # The query count at a tenth of the size first: it must not change with the deals.
    _small_lines, small_counts = measure(args.rows // 10)
    started = time.perf_counter()
    lines, counts = measure(args.rows)
    print(f"measured {args.rows} deals in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    same = all(small_counts[name] == counts[name] for name in counts)

    out_lines = [
        f"# Board at {args.rows:,} open deals — {connection.vendor}",
        "",
        f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; median of {RUNS} runs after one warm-up; load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (the machine is shared).",
        f"{len(STAGES)} stages; a tenth as many older closed deals; a task on every third deal.",
        "Page = the whole HTML response through Django's test client (session, user, filters,",
        "rendering); raw = the column aggregates in one GROUP BY plus the first",
        f"{CARDS_PER_PAGE} cards of every open column (won and lost start collapsed) with their",
        "joins and next task date, as hand-written SQL in the same process.",
        "Queries = the page's query count.",
        "",
        "| scenario | page (ms) | queries | raw SQL (ms) | ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
        *lines,
        "",
        f"Query count at {args.rows // 10:,} deals: "
        + ", ".join(f"{name}: {n}" for name, n in small_counts.items())
        + (" — the same as at full size." if same else " — DIFFERENT from full size."),
    ]
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"board-{connection.vendor}.md"
    out.write_text("\n".join(out_lines) + "\n")
    print(f"wrote {out}", file=sys.stderr)
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
