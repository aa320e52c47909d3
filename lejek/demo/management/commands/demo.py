from __future__ import annotations

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from lejek.demo.data import DemoSummary, build_demo, demo_logins, has_data, reset_data
from lejek.demo.scenario import DEFAULT_SEED, DEMO_PASSWORD, SIZES


class Command(BaseCommand):
    help = (
        "Create the deterministic demo data set: teams, users, pipelines, products, campaigns, "
        "companies, contacts, leads and deals with a year of history."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="the same seed gives the same data"
        )
        parser.add_argument(
            "--size",
            choices=list(SIZES),
            default="small",
            help="small: 2,000 leads; large: 20,000 leads",
        )
        parser.add_argument("--leads", type=int, help="number of leads (instead of --size)")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when the database already has users or records",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="first delete ALL data in the database, users included",
        )

    def handle(self, *, seed, size, leads, if_empty, reset, verbosity, **options):
        # A new database works too: its tables are made first (nothing to do when they are).
        call_command("migrate", interactive=False, verbosity=0)
        if if_empty and has_data():
            if verbosity:
                self.stdout.write("The database already has data; no demo data was loaded.")
            return
        if has_data() and not reset:
            raise CommandError(
                "The database already has data. `lejek demo --reset` deletes all of it, "
                "users included, and loads the demo data instead."
            )
        if leads is not None and leads < 1:
            raise CommandError("--leads must be a positive number.")
        started = time.perf_counter()
        with transaction.atomic():
            if reset:
                reset_data()
            summary = build_demo(seed=seed, leads=leads or SIZES[size])
        if verbosity:
            self.stdout.write(report(summary, time.perf_counter() - started))


def report(summary: DemoSummary, seconds: float) -> str:
    counts = ", ".join(f"{n:,} {name}" for name, n in summary.counts.items())
    lines = [
        f"Demo data loaded in {seconds:.1f} s (seed {summary.seed}): {counts}.",
        "",
        f"Demo logins, all with the password {DEMO_PASSWORD}:",
    ]
    for email, role, teams in demo_logins():
        lines.append(f"  {email:<24} {role:<14} {teams}".rstrip())
    return "\n".join(lines)
