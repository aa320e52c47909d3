"""The lead list at scale: server time of the whole page against the raw SQL for the same rows.

Builds N leads (bulk, outside the timed part), then times each scenario as the median of
several runs through Django's test client (no network), and the equivalent hand-written SQL
(the count plus the page of 50 rows with their joins) in the same process.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lejek.settings")
os.environ.setdefault("LEJEK_VAR_DIR", "/tmp/lejek-bench")
os.environ.setdefault("LEJEK_LANGUAGE", "en")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from lejek.leads.models import Lead, Source  # noqa: E402
from lejek.scoring.models import LeadScore  # noqa: E402
from lejek.users.models import Role, User  # noqa: E402
from lejek.users.services import team_create, user_create  # noqa: E402

RESULTS = Path(__file__).parent / "results"
RUNS = 7


def prepare(rows: int) -> tuple[User, User]:
    call_command("flush", interactive=False, verbosity=0)
    team = team_create(actor=None, name="North")
    admin = user_create(actor=None, email="admin@bench.test", password=None, role=Role.ADMIN)
    rep = user_create(
        actor=None, email="rep@bench.test", password=None, role=Role.REP, teams=[team]
    )
    other = user_create(
        actor=None, email="other@bench.test", password=None, role=Role.REP, teams=[team]
    )
    sources = [Source.objects.create(name=f"Source {i}") for i in range(8)]
    rng = random.Random(7)
    now = timezone.now()
    statuses = [s for s, _ in Lead.Status.choices]
    batch = []
    with transaction.atomic():
        for i in range(rows):
            owner = rep if i % 2 else other
            batch.append(
                Lead(
                    first_name=rng.choice(["Anna", "Jan", "Ewa", "Piotr", "Maria", "Tomasz"]),
                    last_name=f"Nowak{i}",
                    email=f"lead{i}@example.pl",
                    company_name=f"Firma {i % 5000}",
                    status=rng.choice(statuses),
                    source=rng.choice(sources),
                    owner=owner,
                    team=team,
                    created_at=now - timezone.timedelta(minutes=i),
                )
            )
            if len(batch) == 5000:
                _save(batch, rng)
                batch = []
        _save(batch, rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return admin, rep


def _save(leads: list[Lead], rng: random.Random) -> None:
    Lead.objects.bulk_create(leads)
    LeadScore.objects.bulk_create(LeadScore(lead=lead, score=rng.randint(0, 100)) for lead in leads)


def median_ms(fn) -> float:
    fn()  # warm caches
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def raw_page(where: str, order: str, offset: int, params: list) -> None:
    sql_rows = (
        "SELECT l.id, l.first_name, l.last_name, l.email, l.company_name, l.status, ls.score,"
        " l.created_at, s.name, u.first_name, u.last_name"
        " FROM leads_lead l LEFT JOIN leads_source s ON s.id = l.source_id"
        " LEFT JOIN users_user u ON u.id = l.owner_id"
        " LEFT JOIN scoring_leadscore ls ON ls.lead_id = l.id"
        f" WHERE {where} ORDER BY {order} LIMIT 50 OFFSET {offset}"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM leads_lead l WHERE {where}", params)
        cursor.fetchone()
        cursor.execute(sql_rows, params)
        cursor.fetchall()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    admin, rep = prepare(args.rows)
    print(f"built {args.rows} leads in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    as_admin, as_rep = Client(), Client()
    as_admin.force_login(admin)
    as_rep.force_login(rep)
    rep_scope = (
        f"(l.owner_id = {rep.pk} OR (l.owner_id IS NULL AND l.team_id IN ({rep.team_ids[0]})))"
    )
    deep = (args.rows // 50) // 2 * 50
    scenarios = [
        (
            "admin, first page, newest first",
            as_admin,
            "/leads/",
            "1=1",
            "l.created_at DESC, l.id DESC",
            0,
            [],
        ),
        (
            "admin, page in the middle",
            as_admin,
            f"/leads/?page={deep // 50}",
            "1=1",
            "l.created_at DESC, l.id DESC",
            deep - 50,
            [],
        ),
        (
            "admin, sorted by name",
            as_admin,
            "/leads/?sort=name",
            "1=1",
            "l.last_name, l.first_name, l.id",
            0,
            [],
        ),
        (
            "admin, highest score first",
            as_admin,
            "/leads/?sort=-score",
            "1=1",
            "COALESCE(ls.score, 0) DESC, l.id DESC",
            0,
            [],
        ),
        (
            "admin, status filter",
            as_admin,
            "/leads/?status=new",
            "l.status = %s",
            "l.created_at DESC, l.id DESC",
            0,
            ["new"],
        ),
        (
            "admin, text search",
            as_admin,
            "/leads/?q=nowak123",
            "(l.first_name LIKE %s OR l.last_name LIKE %s OR l.email LIKE %s"
            " OR l.company_name LIKE %s OR l.phone LIKE %s)",
            "l.created_at DESC, l.id DESC",
            0,
            ["%nowak123%"] * 5,
        ),
        (
            "rep (sees half), first page",
            as_rep,
            "/leads/",
            rep_scope,
            "l.created_at DESC, l.id DESC",
            0,
            [],
        ),
    ]
    if connection.vendor == "postgresql":
        scenarios[4] = (
            *scenarios[4][:3],
            scenarios[4][3].replace("LIKE", "ILIKE"),
            *scenarios[4][4:],
        )

    lines = [
        f"# Lead list at {args.rows:,} leads — {connection.vendor}",
        "",
        f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; median of {RUNS} runs after one warm-up.",
        "Page = the whole HTML response through Django's test client; raw = COUNT(*) plus the",
        "page of 50 rows with the same joins, as hand-written SQL in the same process.",
        "",
        "| scenario | page (ms) | raw SQL (ms) | ratio |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, client, url, where, order, offset, params in scenarios:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        page = median_ms(lambda client=client, url=url: client.get(url))
        raw = median_ms(
            lambda where=where, order=order, offset=offset, params=params: raw_page(
                where, order, offset, params
            )
        )
        lines.append(f"| {name} | {page:.1f} | {raw:.1f} | {page / raw:.1f}x |")
        print(lines[-1], file=sys.stderr)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"list_pages-{connection.vendor}.md"
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
