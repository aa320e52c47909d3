"""Lead capture over HTTP: the public form endpoint, and the leads it leads to.

Starts `gunicorn` with 2 sync workers (DEBUG off, rate limit off) on a fresh database with a
team of three reps and an assignment rule, so each lead does the real work: dedup and
contact matching, automatic assignment, a notification, a consent record. Client threads send
JSON submissions (each a new person, with its own Idempotency-Key) over plain http.client
connections. Four measurements:

(a) The endpoint alone, with 1, 2 and 8 clients: p50 / p99 latency and accepted
    submissions/s. No worker runs, so the requests only check and store (202 Accepted).
(c) Processing alone: the backlog (a) left is drained by `submissions_process`, in this
    process, a batch of submissions per transaction: leads/s of the worker by itself.
(b) End to end, as in production: gunicorn and one, then two `lejek worker`s run side by
    side; 8 clients send N submissions and the clock stops when every one of them is a lead.
    leads/s = N / that time; the endpoint's latency during the run is reported too.
And, in this process through Django's test client: time and SQL statements per request,
the part of it spent in middleware, and per lead in processing.

In the same run the raw database inserts the same N leads, one INSERT + COMMIT per lead,
for the ratio.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
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
    # Assignment notifications are e-mailed by the worker; kept in memory, not sent.
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}
os.environ.update(SERVER_ENV)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.server import ROOT, free_port, start_gunicorn, stop  # noqa: E402
from lejek.leads.assignment import rule_create  # noqa: E402
from lejek.leads.capture import BATCH, submissions_process  # noqa: E402
from lejek.leads.models import Consent, FormSubmission, Lead, WebForm  # noqa: E402
from lejek.leads.webforms import webform_create  # noqa: E402
from lejek.users.models import Role  # noqa: E402
from lejek.users.services import team_create, user_create  # noqa: E402

RESULTS = Path(__file__).parent / "results"


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


def start_worker() -> subprocess.Popen:
    """`lejek worker` as production runs it (its default 1 s poll when the queue is empty)."""
    command = [
        sys.executable,
        "-m",
        "lejek.cli",
        "worker",
        "--no-reload",
        "--queue-name",
        "*",
        "--verbosity",
        "0",
    ]
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, **SERVER_ENV})


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
        " utm_term, utm_content, referrer, country, region, description, custom,"
        " disqualified_reason, furthest_status)"
        " VALUES (%s, %s, 1, %s, %s, %s, %s, %s, '', 'new', '', '', '', '', '', '', '', '',"
        " '', %s, '{}', '', '')"
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


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def in_process(form: WebForm, total: int, first: int) -> dict:
    """One request at a time through Django's test client, no HTTP: where the time goes.

    The same requests are also sent straight to the view (RequestFactory, no middleware), so
    the difference is what the middleware costs on this URL. Then the submissions are
    processed in one run, timed per lead.
    """
    from django.test import Client, RequestFactory
    from django.test.utils import CaptureQueriesContext

    from lejek.leads.public_views import public_form

    client = Client()
    factory = RequestFactory()
    path = f"/f/{form.key}/"
    full, bare = [], []
    for n in range(first, first + total):
        headers = {"Idempotency-Key": f"inproc-{n}"}
        started = time.perf_counter()
        client.post(path, body(n), content_type="application/json", headers=headers)
        full.append(time.perf_counter() - started)
        m = n + total
        request = factory.post(
            path, body(m), content_type="application/json", headers={"Idempotency-Key": f"v-{m}"}
        )
        started = time.perf_counter()
        public_form(request, form.key)
        bare.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as request_queries:
        client.post(
            path, body(first + 3 * total), content_type="application/json", headers={"X": "1"}
        )
    # A run processes many submissions a batch at a time, so it is timed as a run.
    batch = BATCH.get(connection.vendor, 100)
    with CaptureQueriesContext(connection) as lead_queries:
        submissions_process(limit=batch)
    started = time.perf_counter()
    submissions_process(limit=total)
    per_lead = (time.perf_counter() - started) / total
    submissions_process()
    return {
        "request": median_ms(full),
        "view": median_ms(bare),
        "request_queries": len(request_queries.captured_queries),
        "lead": per_lead * 1000,
        "lead_queries": len(lead_queries.captured_queries) / batch,
        "batch": batch,
    }


def drain() -> dict:
    """Process the queue in this process, as one worker would: leads/s by itself."""
    queued = FormSubmission.objects.queued().count()
    started = time.perf_counter()
    done = submissions_process()
    seconds = time.perf_counter() - started
    return {"queued": queued, "done": done, "rate": done.total / seconds, "seconds": seconds}


def end_to_end(port: int, path: str, total: int, clients: int, first: int, workers: int) -> dict:
    """N submissions with gunicorn and workers running: time until every one is a lead."""
    run = f"e2e{workers}"
    started_workers = [start_worker() for _ in range(workers)]
    try:
        time.sleep(3)  # the workers' start-up (Django, a first poll) is not the leads' time
        before = FormSubmission.objects.count()
        started = time.perf_counter()
        endpoint = fire(port, path, total, clients, first, run)
        sent = time.perf_counter() - started
        deadline = time.time() + 1800
        while time.time() < deadline:
            if not FormSubmission.objects.queued().exists():
                break
            time.sleep(0.05)
        wall = time.perf_counter() - started
    finally:
        for worker in started_workers:
            stop(worker)
    stored = FormSubmission.objects.count() - before
    processed = FormSubmission.objects.filter(key__startswith=f"{run}-", status="processed")
    return {
        "workers": workers,
        "endpoint": endpoint,
        "stored": stored,
        "processed": processed.count(),
        "failed": FormSubmission.objects.filter(status="failed").count(),
        "sent_seconds": sent,
        "wall": wall,
        "rate": total / wall,
    }


NOTES = "## Notes\n"


def status_text(statuses: dict[int, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 8])
    parser.add_argument("--e2e-clients", type=int, default=8)
    parser.add_argument("--e2e-workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    form = prepare()
    load_before = os.getloadavg()
    path = f"/f/{form.key}/"
    port = free_port()
    server = start_gunicorn(port, workers=2, env={**os.environ, **SERVER_ENV})
    results = []
    first = 1_000
    try:
        fire(port, path, 100, 2, 0, "warm")  # warm imports, connections, caches
        for clients in args.clients:
            results.append((clients, fire(port, path, args.requests, clients, first, "run")))
            first += args.requests
        load_endpoint = os.getloadavg()
        alone = drain()
        e2e_runs = []
        for workers in args.e2e_workers:
            e2e_runs.append(end_to_end(port, path, args.requests, args.e2e_clients, first, workers))
            first += args.requests
    finally:
        stop(server)
    load_e2e = os.getloadavg()
    profile = in_process(form, 300, first)
    leads = Lead.objects.count()
    consents = Consent.objects.count()
    assigned = Lead.objects.filter(owner__isnull=False).count()
    submissions = FormSubmission.objects.count()
    raw = raw_inserts(args.requests)
    vendor = connection.vendor

    max_age = connection.settings_dict["CONN_MAX_AGE"]

    def load(figures: tuple[float, float, float]) -> str:
        return "/".join(f"{x:.1f}" for x in figures)

    lines = [
        f"# Public form endpoint — {vendor}",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; gunicorn, 2 sync "
        f"workers, DEBUG off, rate limit off, CONN_MAX_AGE {max_age}. Load average "
        f"(1/5/15 min): {load(load_before)} before, {load(load_endpoint)} after (a), "
        f"{load(load_e2e)} after (b). The machine is shared: other work running at "
        "the same time slows every figure.",
        f"Each row: {args.requests:,} JSON submissions (each a new person with its own "
        "Idempotency-Key, consent ticked) from N client threads on the same machine, after 100 "
        "warm-up submissions. Raw = the same leads inserted with one INSERT + COMMIT each from "
        "one Python connection, no HTTP and no Django.",
        "",
        "## (a) The endpoint: check, store, answer 202",
        "",
        "No worker running: each request checks the values and stores one row; the lead is "
        "made later.",
        "",
        "| clients | responses | p50 (ms) | p99 (ms) | accepted/s | raw INSERT+COMMIT/s | ratio |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for clients, result in results:
        lines.append(
            f"| {clients} | {status_text(result['statuses'])} | {result['p50']:.1f} "
            f"| {result['p99']:.1f} | {result['rate']:.0f} | {raw:.0f} "
            f"| {raw / result['rate']:.1f}x |"
        )
    done = alone["done"]
    lines += [
        "",
        "## (b) End to end: until every lead exists",
        "",
        f"gunicorn and N `lejek worker`s (default 1 s poll) running side by side; "
        f"{args.e2e_clients} clients send {args.requests:,} submissions; the clock runs from "
        "the first request until no submission is queued.",
        "",
        "| workers | submissions | sent in (s) | all leads in (s) | leads/s end to end "
        "| endpoint p50 (ms) | endpoint p99 (ms) | responses | processed | failed |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for e2e in e2e_runs:
        end = e2e["endpoint"]
        lines.append(
            f"| {e2e['workers']} | {args.requests:,} | {e2e['sent_seconds']:.1f} "
            f"| {e2e['wall']:.1f} | {e2e['rate']:.0f} | {end['p50']:.1f} | {end['p99']:.1f} "
            f"| {status_text(end['statuses'])} | {e2e['processed']:,} | {e2e['failed']} |"
        )
    lines += [
        "",
        "## (c) Processing alone",
        "",
        f"The {alone['queued']:,} submissions (a) left queued, drained in one process by "
        f"`submissions_process` (batches of {profile['batch']}, one transaction each): "
        f"{alone['seconds']:.1f} s, "
        f"**{alone['rate']:.0f} leads/s** ({done.created:,} created, {done.repeats} repeats, "
        f"{done.failed} failed).",
        "",
        "## Where the time goes",
        "",
        "One at a time in this process through Django's test client (no HTTP, no gunicorn), "
        f"median of 300: **{profile['request']:.2f} ms per request** with "
        f"{profile['request_queries']} SQL statements (the form with its consent version, "
        "the INSERT, the look for a waiting task run); the view called directly, without "
        f"middleware: {profile['view']:.2f} ms, so the middleware costs "
        f"{profile['request'] - profile['view']:.2f} ms on this URL. "
        f"Processing: **{profile['lead']:.2f} ms per lead** (a run of 300) with "
        f"{profile['lead_queries']:.2f} SQL statements per lead (a batch of "
        f"{profile['batch']}: the claim, open leads, contacts and companies of the batch, "
        "assignment, multi-row INSERTs of leads, history, consents, Events and "
        "notifications, the rows marked; per lead only the advisory lock on its person on "
        "PostgreSQL, and after commit one rescoring task for the whole batch).",
        "",
        f"Database afterwards: {submissions} submissions, {leads} leads, {consents} consents, "
        f"{assigned} assigned.",
        "Targets (DESIGN.md): p99 < 50 ms, >= 500 leads/s with 2 workers.",
    ]
    text = "\n".join(lines) + "\n"
    print(text, file=sys.stderr)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"form_endpoint-{vendor}.md"
    if out.exists() and NOTES in out.read_text():  # notes written by hand stay
        text += "\n" + NOTES + out.read_text().split(NOTES, 1)[1]
    out.write_text(text)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
