"""Lead capture over HTTP: the public form endpoint under concurrent clients, through gunicorn.

Starts `gunicorn` with 2 sync workers (DEBUG off, rate limit off) on a fresh database with a
team of three reps and an assignment rule, so each submission does the real work: checks,
idempotency row, lead with dedup and contact matching, automatic assignment, consent record.
Then C client threads send N JSON submissions (each a new person, with its own
Idempotency-Key) over plain http.client connections, and p50 / p99 latency and leads/s are
reported. In the same run the raw database inserts the same N leads, one INSERT + COMMIT per
lead, for the ratio.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lejek.settings")
os.environ.setdefault("LEJEK_VAR_DIR", "/tmp/lejek-bench-forms")
os.environ.setdefault("LEJEK_LANGUAGE", "en")
# The server runs as in production: DEBUG off (no query log), plain HTTP on localhost.
SERVER_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "SECURE_SSL_REDIRECT": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "LEJEK_FORM_RATE_LIMIT": "off",
    "LOG_LEVEL": "ERROR",
}
os.environ.update(SERVER_ENV)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from lejek.leads.assignment import rule_create  # noqa: E402
from lejek.leads.models import Consent, Lead, WebForm  # noqa: E402
from lejek.leads.webforms import webform_create  # noqa: E402
from lejek.users.models import Role  # noqa: E402
from lejek.users.services import team_create, user_create  # noqa: E402

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent


def prepare() -> WebForm:
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    team = team_create(actor=None, name="North")
    admin = user_create(actor=None, email="admin@bench.test", password=None, role=Role.ADMIN)
    for i in range(3):
        user_create(
            actor=None, email=f"rep{i}@bench.test", password=None, role=Role.REP, teams=[team]
        )
    rule_create(actor=admin, name="Everything to North", team=team, conditions=[])
    return webform_create(
        actor=admin,
        name="Contact us",
        team=team,
        fields=[
            {"name": "first_name"},
            {"name": "last_name"},
            {"name": "email", "required": True},
            {"name": "phone"},
            {"name": "company_name"},
            {"name": "description"},
        ],
        consent_text="I agree to be contacted.",
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    env = {**os.environ, **SERVER_ENV}
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "lejek.wsgi:application",
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not start")


def body(n: int) -> bytes:
    return json.dumps(
        {
            "first_name": "Anna",
            "last_name": f"Nowak {n}",
            "email": f"anna.nowak{n}@firma{n % 97}.pl",
            "phone": f"+48 601 {n // 1000 % 1000:03d} {n % 1000:03d}",
            "company_name": f"Firma {n % 97} Sp. z o.o.",
            "description": "Please call me about a quote for 20 seats.",
            "consent": True,
        }
    ).encode()


def send(port: int, path: str, n: int, run: str) -> tuple[int, float]:
    payload = body(n)
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": f"{run}-{n}",
        "Content-Length": str(len(payload)),
    }
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=payload, headers=headers)
        status = conn.getresponse().status
    finally:
        conn.close()
    return status, (time.perf_counter() - start) * 1000


def fire(port: int, path: str, total: int, clients: int, first: int, run: str) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    numbers = iter(range(first, first + total))

    def client() -> None:
        while True:
            with lock:
                n = next(numbers, None)
            if n is None:
                return
            status, ms = send(port, path, n, run)
            with lock:
                latencies.append(ms)
                statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "statuses": statuses,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "rate": total / wall,
        "wall": wall,
    }


def raw_inserts(total: int) -> float:
    """Leads/s for the same rows written as one INSERT and one COMMIT each, no Django."""
    now = timezone.now()
    sql = (
        "INSERT INTO leads_lead (created_at, updated_at, version, first_name, last_name, email,"
        " phone, company_name, title, status, medium, utm_source, utm_medium, utm_campaign,"
        " utm_term, utm_content, referrer, country, region, score, description, custom)"
        " VALUES (%s, %s, 1, %s, %s, %s, %s, %s, '', 'new', '', '', '', '', '', '', '', '',"
        " '', 0, %s, '{}')"
    )
    rows = []
    for n in range(total):
        data = json.loads(body(10_000_000 + n))
        rows.append(
            (
                now,
                now,
                data["first_name"],
                data["last_name"],
                data["email"],
                data["phone"].replace(" ", ""),
                data["company_name"],
                data["description"],
            )
        )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for row in rows:
            cursor.execute(sql, row)  # autocommit: each statement is its own transaction
    return total / (time.perf_counter() - started)


def in_process(form: WebForm, total: int, first: int) -> dict:
    """One submission at a time through Django's test client, no HTTP: where the time goes."""
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from lejek.leads import webform_submission

    original = webform_submission.lead_create
    inside: list[float] = []

    def timed_lead_create(**kwargs):
        started = time.perf_counter()
        try:
            return original(**kwargs)
        finally:
            inside.append((time.perf_counter() - started) * 1000)

    client = Client()
    path = f"/f/{form.key}/"
    totals = []
    webform_submission.lead_create = timed_lead_create
    try:
        for n in range(first, first + total):
            headers = {"Idempotency-Key": f"inproc-{n}"}
            started = time.perf_counter()
            client.post(path, body(n), content_type="application/json", headers=headers)
            totals.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.post(path, body(first + total), content_type="application/json")
    finally:
        webform_submission.lead_create = original
    return {
        "total": statistics.median(totals),
        "lead_create": statistics.median(inside[: len(totals)]),
        "queries": len(queries.captured_queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 8])
    args = parser.parse_args()
    form = prepare()
    load_before = os.getloadavg()[0]
    path = f"/f/{form.key}/"
    port = free_port()
    server = start_server(port)
    results = []
    first = 1_000
    try:
        fire(port, path, 100, 2, 0, "warm")  # warm imports, connections, caches
        for clients in args.clients:
            results.append((clients, fire(port, path, args.requests, clients, first, "run")))
            first += args.requests
    finally:
        server.terminate()
        server.wait(timeout=30)
    profile = in_process(form, 300, first)
    load_after = os.getloadavg()[0]
    leads = Lead.objects.count()
    consents = Consent.objects.count()
    assigned = Lead.objects.filter(owner__isnull=False).count()
    raw = raw_inserts(args.requests)
    vendor = connection.vendor
    lines = [
        f"# Public form endpoint — {vendor}",
        "",
        f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; gunicorn, 2 sync workers, DEBUG off, rate limit off; "
        f"1-minute load average {load_before:.1f} before, {load_after:.1f} after (the machine "
        "is shared: other work running at the same time slows every figure).",
        f"Per row: {args.requests:,} JSON submissions (each a new person with its own "
        "Idempotency-Key, consent ticked) from N client threads on the same machine, after 100 "
        "warm-up submissions. Each creates a lead (dedup lookup, contact and company matching, "
        "round-robin assignment among 3 reps, a notification), an idempotency row and a "
        "consent record.",
        "Raw = the same leads inserted with one INSERT + COMMIT each from one Python "
        "connection, no HTTP and no Django.",
        "",
        "| clients | responses | p50 (ms) | p99 (ms) | leads/s | raw INSERT+COMMIT/s | ratio |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for clients, result in results:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(result["statuses"].items()))
        lines.append(
            f"| {clients} | {statuses} | {result['p50']:.1f} | {result['p99']:.1f} "
            f"| {result['rate']:.0f} | {raw:.0f} | {raw / result['rate']:.0f}x |"
        )
    lines += [
        "",
        "Where the time goes: one submission at a time in the same process through Django's "
        f"test client (no HTTP, no gunicorn), median of 300: {profile['total']:.1f} ms per "
        f"submission, of which {profile['lead_create']:.1f} ms inside `lead_create` (dedup, "
        "contact and company matching, validation, assignment, notification); "
        f"{profile['queries']} SQL statements per submission in all.",
        "",
        f"Database afterwards: {leads} leads, {consents} consents, {assigned} assigned.",
        "Targets (DESIGN.md): p99 < 50 ms, >= 500 leads/s with 2 workers.",
    ]
    text = "\n".join(lines) + "\n"
    print(text, file=sys.stderr)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"form_endpoint-{vendor}.md"
    out.write_text(text)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
