"""Lead import at scale: `run_import` over a generated CSV, against raw `executemany`.

Generates N realistic leads (Polish and German names, companies, phones for half of them,
~3% repeats of earlier people, ~1% bad e-mails, ~0.5% impossible dates), streamed to disk,
then imports them with dedup and automatic assignment on (two rules, a round-robin team of
three, a fewest-open team of two, a default pool). In the same run, through the same database
connection, the same rows are inserted raw into the leads table with `cursor.executemany`
(no checks, no dedup, no events), and the ratio is reported. Peak memory is the process's
maximum RSS during the import.

    .venv/bin/python -m bench.import_leads --rows 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lejek_import \
        .venv/bin/python -m bench.import_leads --rows 100000
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import os
import platform
import pstats
import random
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lejek.settings")
os.environ.setdefault("LEJEK_VAR_DIR", "/tmp/lejek-bench-import")
os.environ.setdefault("LEJEK_LANGUAGE", "en")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "localhost")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import CharField, TextField  # noqa: E402
from django.utils import timezone  # noqa: E402

from lejek.imports.mapping import guess_mapping  # noqa: E402
from lejek.imports.models import ImportJob  # noqa: E402
from lejek.imports.services import run_import  # noqa: E402
from lejek.leads.assignment import rule_create, team_set_assignment  # noqa: E402
from lejek.leads.models import Lead  # noqa: E402
from lejek.users.models import Role  # noqa: E402
from lejek.users.services import team_create, user_create  # noqa: E402

RESULTS = Path(__file__).parent / "results"
# Seconds of this process's CPU time, next to the wall-clock ones: on a shared machine the
# wall clock also counts the time other processes had the CPU.
CPU: dict[str, float] = {}
LOAD: dict[str, str] = {}
HEADERS = ["Imię", "Nazwisko", "E-mail", "Telefon", "Firma", "Kraj", "Stanowisko", "Utworzono"]
FIRST = ["Anna", "Jan", "Piotr", "Katarzyna", "Marek", "Agnieszka", "Łukasz", "Zofia", "Jürgen"]
LAST = ["Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Kamiński", "Lewandowska", "Müller"]
COMPANY = ["Acme", "Żółw", "Kret", "Orzeł", "Bałtyk", "Tatra", "Wisła", "Polmet", "Hansa"]
FORMS = ["Sp. z o.o.", "S.A.", "sp.k.", "GmbH", ""]
TITLES = ["CEO", "Dyrektor handlowy", "Kierownik zakupów", "Specjalista", "", "Właściciel"]
COUNTRIES = ["PL"] * 6 + ["DE"] * 3 + ["CZ"]


def prepare() -> object:
    if connection.vendor == "sqlite":
        # A new file rather than a flush of the last run's million rows: reading those (through
        # memory-mapped pages) would count in this process's peak memory before the import.
        connection.close()
        name = Path(connection.settings_dict["NAME"])
        for path in (name, Path(f"{name}-wal"), Path(f"{name}-shm")):
            path.unlink(missing_ok=True)
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    admin = user_create(actor=None, email="admin@bench.pl", password="x", role=Role.ADMIN, teams=[])
    north = team_create(actor=None, name="North")
    south = team_create(actor=None, name="South")
    pool = team_create(actor=None, name="Pool")
    team_set_assignment(actor=admin, team=north, strategy="round_robin")
    team_set_assignment(actor=admin, team=south, strategy="fewest_open")
    team_set_assignment(actor=admin, team=pool, strategy="round_robin", is_default_pool=True)
    for n in range(3):
        user_create(actor=None, email=f"n{n}@bench.pl", password="x", role=Role.REP, teams=[north])
    for n in range(2):
        user_create(actor=None, email=f"s{n}@bench.pl", password="x", role=Role.REP, teams=[south])
    rule_create(
        actor=admin,
        name="Poland",
        team=north,
        conditions=[{"field": "country", "op": "eq", "value": "PL"}],
    )
    rule_create(
        actor=admin,
        name="German-speaking",
        team=south,
        conditions=[{"field": "country", "op": "in", "value": "DE, AT, CH"}],
    )
    return admin


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """N leads streamed to `path`; memory stays flat whatever N is."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADERS)
        for n in range(rows):
            person = n
            if n > 100 and rng.random() < 0.03:
                person = rng.randrange(n)  # the same person again
            first, last = FIRST[person % len(FIRST)], LAST[person % len(LAST)]
            initial = "ljzakmp"[person % 7]
            email = f"{initial}.{person}@firma{person % 5000}.pl"
            if rng.random() < 0.01:
                email = email.replace("@", " at ")
            phone = f"+48 6{person % 100:02d} {person % 1000:03d} {person % 997:03d}"
            company = f"{COMPANY[person % len(COMPANY)]} {person % 5000} {FORMS[person % 5]}"
            day = 1 + person % 28
            created = f"{day:02d}.{1 + person % 12:02d}.2025"
            if rng.random() < 0.005:
                created = "31.02.2025"
            writer.writerow(
                [
                    first,
                    last,
                    email,
                    phone if person % 2 else "",
                    company.strip(),
                    COUNTRIES[person % len(COUNTRIES)],
                    TITLES[person % len(TITLES)],
                    created,
                ]
            )


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def run(admin, path: Path, batch: int, profile: bool) -> tuple[ImportJob, float]:
    job = ImportJob.objects.create(
        kind="lead",
        file=str(path.relative_to(settings.MEDIA_ROOT)),
        original_name=path.name,
        headers=HEADERS,
        mapping=guess_mapping("lead", HEADERS),
        actor=admin,
    )
    profiler = cProfile.Profile() if profile else None
    CPU["import"] = time.process_time()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    job = run_import(job, progress_every=batch)
    CPU["import"] = time.process_time() - CPU["import"]
    if profiler:
        profiler.disable()
        stats = io.StringIO()
        pstats.Stats(profiler, stream=stats).sort_stats(
            os.environ.get("BENCH_SORT", "cumulative")
        ).print_stats(40)
        print(stats.getvalue())
    return job, time.perf_counter() - started


def raw_rows(path: Path):
    now = timezone.now()
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        for first, last, email, phone, company, country, title, _created in reader:
            yield (first, last, email, phone, company, title, "new", country, now, now)


def raw_insert(path: Path, batch: int) -> tuple[float, int]:
    """The same rows as plain INSERTs through the same connection, then removed again."""
    table = Lead._meta.db_table
    columns = [
        "first_name",
        "last_name",
        "email",
        "phone",
        "company_name",
        "title",
        "status",
        "country",
        "created_at",
        "updated_at",
    ]
    # Every other text column empty, as a new lead's would be.
    blanks = [
        field.column
        for field in Lead._meta.concrete_fields
        if isinstance(field, CharField | TextField) and field.column not in columns
    ]
    sql = (
        f"INSERT INTO {table} ({', '.join(columns + blanks)}, version, custom) "
        f"VALUES ({', '.join(['%s'] * len(columns))}, {', '.join(["''"] * len(blanks))}, "
        "1, '{}')"
    )
    first_id = Lead.objects.order_by("-id").values_list("id", flat=True).first() or 0
    rows = raw_rows(path)
    CPU["raw"] = time.process_time()
    started = time.perf_counter()
    count = 0
    while True:
        chunk = [row for _n, row in zip(range(batch), rows, strict=False)]
        if not chunk:
            break
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, chunk)
        count += len(chunk)
    elapsed = time.perf_counter() - started
    CPU["raw"] = time.process_time() - CPU["raw"]
    # Everything above first_id is the raw rows: the import had finished before.
    # Plain DELETE: nothing refers to these rows, and the ORM's cascade collection of a
    # million ids would only cost time.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id > %s", [first_id])
    return elapsed, count


def report(args, job: ImportJob, elapsed: float, raw: float, raw_count: int, rss: dict) -> str:
    vendor = connection.vendor
    rate = job.processed_rows / elapsed if elapsed else 0
    raw_rate = raw_count / raw if raw else 0
    lines = [
        f"## {args.rows:,} rows",
        "",
        f"- database: {vendor} ({connection.settings_dict['NAME']}); Python "
        f"{platform.python_version()}; {platform.machine()}; batch {args.batch}",
        f"- import: {elapsed:.1f} s, **{rate:,.0f} rows/s** (dedup, validation, assignment, "
        "one Event per lead)",
        f"- outcome: {job.created_count:,} created, {job.updated_count:,} updated, "
        f"{job.skipped_count:,} skipped as duplicates, {job.rejected_count:,} rejected; "
        f"status {job.status} {job.message}",
        f"- raw `executemany` of the same {raw_count:,} rows: {raw:.1f} s, {raw_rate:,.0f} rows/s",
        f"- ratio import / raw: **{elapsed / raw if raw else 0:.1f}x**",
        f"- memory: RSS {rss['before']:.0f} MB before the import, peak {rss['peak']:.0f} MB "
        f"(process maximum RSS)",
        f"- CPU time of this process: import {CPU['import']:.1f} s "
        f"({job.processed_rows / CPU['import']:,.0f} rows per CPU second), raw {CPU['raw']:.1f} s "
        "(on PostgreSQL the server's own CPU time is not in these)",
        f"- machine: {os.cpu_count()} CPUs, load average {LOAD['start']} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end",
        "",
    ]
    return "\n".join(lines)


def save(section: str, rows: int) -> Path:
    """Keep one section per row count in bench/results/import_leads-<database>.md."""
    path = RESULTS / f"import_leads-{connection.vendor}.md"
    title = f"# Lead import benchmark ({connection.vendor})\n\nRun: `bench/import_leads.py`.\n\n"
    sections: dict[str, str] = {}
    if path.exists():
        text = path.read_text()
        for part in text.split("\n## ")[1:]:
            heading, _sep, _body = part.partition("\n")
            sections[heading] = "## " + part.rstrip() + "\n"
    sections[f"{rows:,} rows"] = section
    ordered = sorted(sections.items(), key=lambda item: _section_order(item[0]))
    path.write_text(title + "\n".join(body for _h, body in ordered))
    return path


def _section_order(heading: str) -> int:
    """Row-count sections by size; any other section (notes) after them."""
    first = heading.split()[0].replace(",", "")
    return int(first) if first.isdigit() else sys.maxsize


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the import")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results")
    args = parser.parse_args(argv)
    LOAD["start"] = f"{os.getloadavg()[0]:.1f}"
    admin = prepare()
    path = Path(settings.MEDIA_ROOT) / "imports" / f"bench-{args.rows}.csv"
    started = time.perf_counter()
    generate(path, args.rows)
    print(f"generated {args.rows:,} rows in {time.perf_counter() - started:.1f} s: {path}")
    rss = {"before": current_rss_mb()}
    job, elapsed = run(admin, path, args.batch, args.profile)
    rss["peak"] = peak_rss_mb()
    raw, raw_count = raw_insert(path, args.batch)
    section = report(args, job, elapsed, raw, raw_count, rss)
    print(section)
    if not args.no_save:
        print(f"written to {save(section, args.rows)}")
    path.unlink(missing_ok=True)
    return 0 if job.status == ImportJob.Status.DONE else 1


if __name__ == "__main__":
    sys.exit(main())
