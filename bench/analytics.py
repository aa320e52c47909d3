"""The funnel dashboard at scale: every figure against a hand-written SQL query for it.

Runs on the database in DATABASE_URL, which must already hold a large history
(`lejek bench-data --leads 1000000`). For each registered figure it times the figure as the
dashboard computes it (Scope of an admin, the default period: the last 12 months), and, in the
same run, one hand-written SQL query (or two, where the figure needs two) computing the same
numbers; each time is the best of RUNS runs. The sum of the figures is the whole dashboard's
data work (rendering is not included). The hand-written queries read the raw histories; some
figures read what the services keep from them (a lead's furthest step, a change's previous
entry, the time a deal entered the stage it leaves).

Then the page as a user gets it: gunicorn serves the dashboard's shell and each card in its
own request, fetched six at a time as a browser does; the time to the last card is what a
manager waits for the whole page.

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python manage.py bench_data --leads 1000000
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python -m bench.analytics
"""

from __future__ import annotations

import argparse
import html
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lejek.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "localhost")
os.environ.setdefault("LEJEK_LANGUAGE", "en")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.db import connection  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.server import ROOT, free_port, start_gunicorn, stop  # noqa: E402
from lejek.analytics.figures import FIGURES  # noqa: E402
from lejek.analytics.figures.forecast import AHEAD, BEHIND, add_months  # noqa: E402
from lejek.analytics.figures.funnel import LEAD_STEPS, funnel_pipeline, funnel_stages  # noqa: E402
from lejek.analytics.scope import Scope, midnight, scope_from  # noqa: E402
from lejek.analytics.sql import days_sql  # noqa: E402
from lejek.leads.models import Lead, LeadStatusChange  # noqa: E402
from lejek.pipeline.models import StageChange  # noqa: E402
from lejek.users.models import Role, User  # noqa: E402

RESULTS = Path(__file__).parent / "results"
RUNS = 3


def hand_written(scope: Scope) -> dict[str, list[tuple[str, list]]]:
    """Per figure key, the SQL a person would write for the same numbers."""
    adapt = connection.ops.adapt_datetimefield_value
    adapt_date = connection.ops.adapt_datefield_value
    since, until = adapt(scope.since), adapt(scope.until)
    cur = scope.currency
    pipeline = funnel_pipeline(scope)
    stages = funnel_stages(pipeline)
    stage_rank = " ".join(f"WHEN {s.pk} THEN {i}" for i, s in enumerate(stages))
    status_rank = " ".join(f"WHEN '{s.value}' THEN {i}" for i, s in enumerate(LEAD_STEPS))
    buckets = scope.buckets()
    bucket = " ".join(
        f"WHEN {{col}} < '{adapt(midnight(day))}' THEN {i}" for i, day in enumerate(buckets[1:])
    )
    open_stage = "s.is_won = FALSE AND s.is_lost = FALSE"
    money = f"d.currency = '{cur}' AND d.amount IS NOT NULL"
    # The notes under money figures: deals counted but left out of the sums.
    left_out = (
        f"COUNT(*) FILTER (WHERE d.currency <> '{cur}' AND d.amount IS NOT NULL), "
        "COUNT(*) FILTER (WHERE d.amount IS NULL)"
    )
    won_in_period = "s.is_won = TRUE AND d.closed_at >= %s AND d.closed_at < %s"
    won_deals = "FROM pipeline_deal d JOIN pipeline_stage s ON s.id = d.stage_id"
    before = scope.previous()
    this_month = timezone.localdate().replace(day=1)
    ahead = [add_months(this_month, n) for n in range(AHEAD + 1)]
    behind = [add_months(this_month, -n) for n in range(BEHIND, -1, -1)]
    last_month = ahead[-1]
    # Deals already past their expected date count in this month (bucket 0).
    months_ahead = (
        " ".join(
            f"WHEN d.expected_close_date < '{day.isoformat()}' THEN {i}"
            for i, day in enumerate(ahead[1:-1])
        )
        + f" ELSE {AHEAD - 1}"
    )
    months_behind = " ".join(
        f"WHEN d.closed_at < '{adapt(midnight(day))}' THEN {i}" for i, day in enumerate(behind[1:])
    )
    before_since, before_until = adapt(before.since), adapt(before.until)
    return {
        "lead_funnel": [
            (
                f"""SELECT top, COUNT(*) FROM (
                  SELECT l.id, MAX(CASE c.to_status {status_rank} ELSE 0 END) AS top
                  FROM leads_lead l LEFT JOIN leads_leadstatuschange c ON c.lead_id = l.id
                  WHERE l.created_at >= %s AND l.created_at < %s GROUP BY l.id) t GROUP BY top""",
                [since, until],
            ),
            (
                "SELECT status, COUNT(*) FROM leads_lead "
                "WHERE created_at >= %s AND created_at < %s GROUP BY status",
                [since, until],
            ),
        ],
        "deal_funnel": [
            (
                f"""SELECT top, COUNT(*) FROM (
                  SELECT d.id, MAX(CASE c.to_stage_id {stage_rank} ELSE 0 END) AS top
                  FROM pipeline_deal d JOIN pipeline_stagechange c ON c.deal_id = d.id
                  WHERE d.pipeline_id = %s AND d.created_at >= %s AND d.created_at < %s
                  GROUP BY d.id) t GROUP BY top""",
                [pipeline.pk, since, until],
            ),
            (
                "SELECT stage_id, COUNT(*) FROM pipeline_deal "
                "WHERE pipeline_id = %s AND created_at >= %s AND created_at < %s GROUP BY 1",
                [pipeline.pk, since, until],
            ),
        ],
        "deal_transitions": [
            (
                "SELECT from_stage_id, to_stage_id, COUNT(*) FROM pipeline_stagechange "
                "WHERE changed_at >= %s AND changed_at < %s AND from_stage_id IS NOT NULL "
                "GROUP BY 1, 2",
                [since, until],
            )
        ],
        "lead_statuses_over_time": [
            (
                f"""SELECT b, to_status, COUNT(*) FROM (
                    SELECT DISTINCT CASE {bucket.format(col="changed_at")}
                           ELSE {len(buckets) - 1} END AS b, to_status, lead_id
                    FROM leads_leadstatuschange
                    WHERE changed_at >= %s AND changed_at < %s) t GROUP BY 1, 2""",
                [since, until],
            )
        ],
        "win_rate": [
            (
                f"""SELECT COUNT(*) FILTER (WHERE s.is_won = TRUE),
                    COUNT(*) FILTER (WHERE s.is_lost = TRUE),
                    SUM(d.amount) FILTER (WHERE s.is_won = TRUE AND {money}),
                    AVG(d.amount) FILTER (WHERE s.is_won = TRUE AND {money}),
                    COUNT(*) FILTER (WHERE s.is_won = TRUE AND d.currency <> '{cur}'
                                     AND d.amount IS NOT NULL),
                    COUNT(*) FILTER (WHERE s.is_won = TRUE AND d.amount IS NULL)
                    FROM pipeline_deal d JOIN pipeline_stage s ON s.id = d.stage_id
                    WHERE d.closed_at >= %s AND d.closed_at < %s""",
                [since, until],
            ),
            (
                _median_sql("d.amount", f"{won_deals} WHERE {won_in_period} AND {money}"),
                [since, until],
            ),
        ],
        "lost_reasons": [
            (
                f"""SELECT d.lost_reason, COUNT(*), SUM(d.amount) FILTER (WHERE {money}),
                    {left_out} FROM pipeline_deal d JOIN pipeline_stage s ON s.id = d.stage_id
                    WHERE s.is_lost = TRUE AND d.closed_at >= %s AND d.closed_at < %s
                    GROUP BY 1""",
                [since, until],
            )
        ],
        "pipeline_value": [
            (
                f"""SELECT d.stage_id, COUNT(*), SUM(d.amount) FILTER (WHERE {money}),
                    {left_out} FROM pipeline_deal d JOIN pipeline_stage s ON s.id = d.stage_id
                    WHERE d.pipeline_id = %s AND {open_stage} GROUP BY 1""",
                [pipeline.pk],
            )
        ],
        "won_per_period": [
            (
                f"""SELECT CASE {bucket.format(col="d.closed_at")} ELSE {len(buckets) - 1} END,
                    COUNT(*), SUM(d.amount) FILTER (WHERE {money}), {left_out}
                    FROM pipeline_deal d JOIN pipeline_stage s ON s.id = d.stage_id
                    WHERE {won_in_period} GROUP BY 1""",
                [since, until],
            )
        ],
        "cycle_length": [
            (
                f"""SELECT COUNT(*), AVG({days_sql("d.closed_at", "d.created_at")}),
                    AVG({days_sql("d.closed_at", "COALESCE(l.created_at, d.created_at)")})
                    FROM pipeline_deal d JOIN pipeline_stage s ON s.id = d.stage_id
                    LEFT JOIN leads_lead l ON l.id = d.lead_id
                    WHERE {won_in_period}""",
                [since, until],
            ),
            (
                _median_sql(
                    days_sql("d.closed_at", "d.created_at"), f"{won_deals} WHERE {won_in_period}"
                ),
                [since, until],
            ),
            (
                _median_sql(
                    days_sql("d.closed_at", "COALESCE(l.created_at, d.created_at)"),
                    f"{won_deals} LEFT JOIN leads_lead l ON l.id = d.lead_id WHERE {won_in_period}",
                ),
                [since, until],
            ),
        ],
        "cycle_distribution": [
            (
                f"""SELECT CASE WHEN x <= 7 THEN 0 WHEN x <= 14 THEN 1 WHEN x <= 30 THEN 2
                    WHEN x <= 60 THEN 3 WHEN x <= 90 THEN 4 WHEN x <= 180 THEN 5
                    WHEN x <= 365 THEN 6 ELSE 7 END, COUNT(*) FROM (
                    SELECT {days_sql("d.closed_at", "d.created_at")} AS x
                    FROM pipeline_deal d JOIN pipeline_stage s ON s.id = d.stage_id
                    WHERE {won_in_period}) t GROUP BY 1""",
                [since, until],
            )
        ],
        "time_in_stage": [
            (
                f"""SELECT stage, COUNT(*), AVG(x),
                    AVG(x) FILTER (WHERE rn IN ((n + 1) / 2, (n + 2) / 2))
                    FROM (SELECT stage, x,
                          ROW_NUMBER() OVER (PARTITION BY stage ORDER BY x) AS rn,
                          COUNT(*) OVER (PARTITION BY stage) AS n
                          FROM (SELECT c.from_stage_id AS stage, {
                    days_sql(
                        "c.changed_at",
                        "(SELECT MAX(p.changed_at) FROM pipeline_stagechange p "
                        "WHERE p.deal_id = c.deal_id AND p.changed_at < c.changed_at)",
                    )
                } AS x
                    FROM pipeline_stagechange c
                    WHERE c.changed_at >= %s AND c.changed_at < %s
                    AND c.from_stage_id IS NOT NULL) stays) ranked GROUP BY stage""",
                [since, until],
            )
        ],
        "forecast": [
            (
                f"""SELECT CASE {months_ahead} END, d.stage_id, COUNT(*),
                    COUNT(*) FILTER (WHERE d.expected_close_date < %s), {left_out},
                    SUM(d.amount) FILTER (WHERE {money}),
                    SUM(d.amount) FILTER (WHERE {money} AND ls.probability IS NOT NULL),
                    SUM(d.amount * ls.probability) FILTER (WHERE {money}
                                                           AND ls.probability IS NOT NULL)
                    FROM pipeline_deal d JOIN pipeline_stage s ON s.id = d.stage_id
                    LEFT JOIN scoring_leadscore ls ON ls.lead_id = d.lead_id
                    WHERE {open_stage} AND d.expected_close_date IS NOT NULL
                    AND d.expected_close_date < %s GROUP BY 1, 2""",
                [adapt_date(this_month), adapt_date(last_month)],
            ),
            (
                """SELECT to_stage_id, SUM(won), SUM(lost) FROM (
                    SELECT c.deal_id, c.to_stage_id,
                           MAX(CASE WHEN s.is_won THEN 1 ELSE 0 END) AS won,
                           MAX(CASE WHEN s.is_lost THEN 1 ELSE 0 END) AS lost
                    FROM pipeline_deal d JOIN pipeline_stage s ON s.id = d.stage_id
                    JOIN pipeline_stagechange c ON c.deal_id = d.id
                    WHERE s.is_won = TRUE OR s.is_lost = TRUE
                    GROUP BY c.deal_id, c.to_stage_id) t GROUP BY 1""",
                [],
            ),
            (
                f"""SELECT CASE {months_behind} END, SUM(d.amount) {won_deals}
                    WHERE s.is_won = TRUE AND {money} AND d.closed_at >= %s AND d.closed_at < %s
                    GROUP BY 1""",
                [adapt(midnight(behind[0])), adapt(midnight(this_month))],
            ),
        ],
        "headline": [
            (
                "SELECT COUNT(*) FROM leads_lead WHERE created_at >= %s AND created_at < %s",
                [start, end],
            )
            for start, end in ((since, until), (before_since, before_until))
        ]
        + [
            (
                f"""SELECT COUNT(*) FILTER (WHERE s.is_won = TRUE),
                    COUNT(*) FILTER (WHERE s.is_lost = TRUE),
                    SUM(d.amount) FILTER (WHERE s.is_won = TRUE AND {money}),
                    AVG({days_sql("d.closed_at", "d.created_at")}) FILTER (WHERE s.is_won = TRUE)
                    FROM pipeline_deal d JOIN pipeline_stage s ON s.id = d.stage_id
                    WHERE d.closed_at >= %s AND d.closed_at < %s""",
                [start, end],
            )
            for start, end in ((since, until), (before_since, before_until))
        ],
        "sources": [
            (
                f"""SELECT l.source_id, COUNT(DISTINCT l.id),
                    COUNT(DISTINCT l.id) FILTER (WHERE s.is_won = TRUE),
                    SUM(d.amount) FILTER (WHERE s.is_won = TRUE AND {money})
                    FROM leads_lead l LEFT JOIN pipeline_deal d ON d.lead_id = l.id
                    LEFT JOIN pipeline_stage s ON s.id = d.stage_id
                    WHERE l.created_at >= %s AND l.created_at < %s GROUP BY 1""",
                [since, until],
            )
        ],
        "campaigns": [
            (
                f"""SELECT l.campaign_id, COUNT(DISTINCT l.id),
                    COUNT(DISTINCT l.id) FILTER (WHERE s.is_won = TRUE),
                    SUM(d.amount) FILTER (WHERE s.is_won = TRUE AND {money})
                    FROM leads_lead l LEFT JOIN pipeline_deal d ON d.lead_id = l.id
                    LEFT JOIN pipeline_stage s ON s.id = d.stage_id
                    WHERE l.created_at >= %s AND l.created_at < %s
                    AND l.campaign_id IS NOT NULL GROUP BY 1""",
                [since, until],
            )
        ],
        "reps": [
            (
                f"""SELECT d.owner_id, COUNT(*) FILTER (WHERE {open_stage}),
                    COUNT(*) FILTER (WHERE {won_in_period}),
                    COUNT(*) FILTER (WHERE s.is_lost = TRUE AND d.closed_at >= %s
                                     AND d.closed_at < %s),
                    SUM(d.amount) FILTER (WHERE {won_in_period} AND {money}),
                    AVG({days_sql("d.closed_at", "d.created_at")}) FILTER (WHERE {won_in_period})
                    FROM pipeline_deal d JOIN pipeline_stage s ON s.id = d.stage_id
                    WHERE d.owner_id IS NOT NULL GROUP BY 1""",
                [since, until, since, until, since, until, since, until],
            ),
            (
                "SELECT author_id, COUNT(*) FROM activities_activity "
                "WHERE occurred_at >= %s AND occurred_at < %s GROUP BY 1",
                [since, until],
            ),
        ],
        **_customer_sql(money),
    }


def _median_sql(value: str, rows: str) -> str:
    """The median of `value` over `rows` (a FROM … WHERE clause) in one query: the mean of
    the middle one or two values by rank."""
    return f"""SELECT AVG(x) FROM (
        SELECT {value} AS x, ROW_NUMBER() OVER (ORDER BY {value}) AS rn, COUNT(*) OVER () AS n
        {rows}) t WHERE rn IN ((n + 1) / 2, (n + 2) / 2)"""


def _customer_sql(money: str) -> dict[str, list[tuple[str, list]]]:
    customer = "d.company_id, CASE WHEN d.company_id IS NULL THEN d.contact_id END"
    won = (
        f"FROM pipeline_deal d JOIN pipeline_stage s ON s.id = d.stage_id "
        f"WHERE s.is_won = TRUE AND {money} "
        "AND (d.company_id IS NOT NULL OR d.contact_id IS NOT NULL)"
    )
    per_customer = (
        f"SELECT {customer}, COUNT(*) AS n, SUM(d.amount) AS revenue, "
        f"MIN(d.closed_at) AS first_at, MAX(d.closed_at) AS last_at {won} GROUP BY 1, 2"
    )
    summary = (
        f"SELECT COUNT(*), SUM(n), SUM(revenue), AVG({days_sql('%s', 'first_at')}), "
        f"AVG(CASE WHEN n > 1 THEN {days_sql('last_at', 'first_at')} END) FROM ({per_customer}) t"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    by_group = {
        column: (
            f"SELECT g, COUNT(*), SUM(n), SUM(revenue), AVG({days_sql('%s', 'first_at')}) FROM ("
            f"SELECT {column} AS g, {customer}, COUNT(*) AS n, SUM(d.amount) AS revenue, "
            f"MIN(d.closed_at) AS first_at {won.replace('WHERE', join + ' WHERE')} "
            "GROUP BY 1, 2, 3) t GROUP BY g"
        )
        for column, join in (
            ("d.source_id", ""),
            ("l.campaign_id", "LEFT JOIN leads_lead l ON l.id = d.lead_id"),
        )
    }
    return {
        "clv_summary": [(summary, [now])],
        "clv_by_source": [(summary, [now]), (by_group["d.source_id"], [now])],
        "clv_by_campaign": [(summary, [now]), (by_group["l.campaign_id"], [now])],
        "top_customers": [(f"{per_customer} ORDER BY revenue DESC LIMIT 20", [])],
    }


def best_of(work: Callable[[], object]) -> float:
    times = []
    for _run in range(RUNS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def run_sql(queries: list[tuple[str, list]]) -> None:
    with connection.cursor() as cursor:
        for sql, params in queries:
            cursor.execute(sql, params)
            cursor.fetchall()


# The page as a browser loads it -------------------------------------------------------------

PAGE_WORKERS = 4  # gunicorn workers, as the README runs it
BROWSER_CONNECTIONS = 6  # what a browser opens to one host


def session_cookie(user: User) -> str:
    """A signed-in session for `user`, made directly (no password needed)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def fetch(url: str, cookie: str) -> str:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=120) as response:
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")
        return response.read().decode()


def page_load(user: User) -> tuple[float, float, int]:
    """The dashboard as a browser loads it, from gunicorn with PAGE_WORKERS workers: the shell,
    then every card's request, BROWSER_CONNECTIONS at a time. Returns the best of RUNS of
    (seconds to the shell, seconds to the last card, cards)."""
    port = free_port()
    static = Path(tempfile.mkdtemp(prefix="lejek-bench-static-"))
    env = {
        **os.environ,
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(static),  # DEBUG off serves collected, hashed static files
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env
    ).check_returncode()
    server = start_gunicorn(port, workers=PAGE_WORKERS, env=env)
    base = f"http://127.0.0.1:{port}"
    cookie = session_cookie(user)
    try:
        url = f"{base}{reverse('analytics-dashboard')}"
        fetch(url, cookie)  # a first request loads templates and URLs: not measured
        runs = []
        for _run in range(RUNS):
            started = time.perf_counter()
            shell = fetch(url, cookie)
            shell_at = time.perf_counter() - started
            cards = [base + html.unescape(u) for u in re.findall(r'hx-get="([^"]+)"', shell)]
            with ThreadPoolExecutor(BROWSER_CONNECTIONS) as pool:
                list(pool.map(lambda card: fetch(card, cookie), cards))
            runs.append((shell_at, time.perf_counter() - started, len(cards)))
        return min(runs, key=lambda run: run[1])
    finally:
        stop(server)
        shutil.rmtree(static, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).first()
    scope, _form = scope_from({}, admin)
    sql = hand_written(scope)
    counts = {
        "leads": Lead.objects.count(),
        "status changes": LeadStatusChange.objects.count(),
        "stage changes": StageChange.objects.count(),
    }
    load = os.getloadavg()[0]
    lines = []
    total = total_sql = 0.0
    for key, figure in FIGURES.items():
        figure_time = best_of(lambda figure=figure: figure.compute(scope))
        queries = sql.get(key)
        sql_time = best_of(lambda queries=queries: run_sql(queries)) if queries else None
        total += figure_time
        total_sql += sql_time or 0
        ratio = f"{figure_time / sql_time:.1f}x" if sql_time else "—"
        sql_text = f"{sql_time * 1000:,.0f}" if sql_time else "—"
        lines.append(f"| {key} | {figure_time * 1000:,.0f} | {sql_text} | {ratio} |")
        print(lines[-1], flush=True)
    shell_at, page_at, cards = page_load(admin)
    report = "\n".join(
        [
            f"## {connection.vendor}",
            "",
            f"- data: {counts['leads']:,} leads, {counts['status changes']:,} lead status "
            f"changes, {counts['stage changes']:,} deal stage changes "
            f"({counts['status changes'] + counts['stage changes']:,} in all)",
            f"- Python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
            f"{load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; best of {RUNS}",
            f"- period: {scope.start} to {scope.end} (the default), as an admin (sees all)",
            "",
            "| figure | Lejek (ms) | hand-written SQL (ms) | ratio |",
            "| --- | ---: | ---: | ---: |",
            *lines,
            f"| **whole dashboard** | **{total * 1000:,.0f}** | **{total_sql * 1000:,.0f}** | "
            f"**{total / total_sql:.1f}x** |",
            "",
            f"In a browser's way (gunicorn, {PAGE_WORKERS} workers; {BROWSER_CONNECTIONS} "
            f"requests at a time): the page with its filters in {shell_at * 1000:,.0f} ms, all "
            f"{cards} cards filled in {page_at * 1000:,.0f} ms (best of {RUNS}).",
            "",
        ]
    )
    print(report)
    if not args.no_save:
        save(report)
    return 0


def save(section: str) -> None:
    path = RESULTS / "analytics.md"
    title = (
        "# Funnel dashboard at scale\n\nRun: `bench/analytics.py` (see its docstring). "
        "Targets (DESIGN.md): the whole dashboard under 1.5 s on SQLite at 1,000,000 leads, "
        "each figure within 2x of its hand-written SQL. The hand-written queries compute every "
        "number the figure shows (medians, the previous period, the notes counting deals left "
        "out of the sums), the way a person would write them by hand.\n\n"
    )
    sections: dict[str, str] = {}
    if path.exists():
        for part in path.read_text().split("\n## ")[1:]:
            heading = part.partition("\n")[0]
            sections[heading] = "## " + part.rstrip() + "\n"
    sections[connection.vendor] = section
    path.write_text(title + "\n".join(sections[k] for k in sorted(sections)))


if __name__ == "__main__":
    sys.exit(main())
