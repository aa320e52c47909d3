"""`lejek bench-data --leads N`: a large, realistic funnel history for benchmarks."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from lejek.demo import bench_data


class Command(BaseCommand):
    help = (
        "Generate a large, realistic sales history for benchmarks: leads with their status "
        "history, companies, contacts, deals with stage history, repeat purchases, activities."
    )

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, required=True, help="number of leads")
        parser.add_argument(
            "--seed",
            type=int,
            default=bench_data.DEFAULT_SEED,
            help="the same seed gives the same data",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="first delete ALL data in the database, users included",
        )

    def handle(self, *, leads, seed, reset: bool, verbosity, **options):
        if leads < 1:
            raise CommandError("--leads must be a positive number.")
        # A new database works too: its tables are made first (nothing to do when they are).
        call_command("migrate", interactive=False, verbosity=0)
        held = bench_data.existing_data()
        if held == "other" and not reset:
            raise CommandError(
                "The database already holds data that bench-data did not make. "
                "`lejek bench-data --reset` deletes all of it, users included, and generates "
                "the benchmark data instead."
            )
        if held != "none":
            # An earlier benchmark set is replaced whole: its users and names would clash.
            bench_data.reset()
        progress = self._progress if verbosity else None
        summary = bench_data.generate(leads=leads, seed=seed, progress=progress)
        if verbosity:
            self.stdout.write(report(summary))

    def _progress(self, done: int, total: int, seconds: float) -> None:
        self.stdout.write(f"{done:,} / {total:,} leads written ({seconds:.1f} s)")


def report(summary: bench_data.Summary) -> str:
    lines = [f"Benchmark data generated in {summary.seconds:.1f} s (seed {summary.seed}):"]
    for name, count in summary.counts.items():
        per_lead = count / summary.leads
        lines.append(f"  {name:<20} {count:>12,}  ({per_lead:.2f} per lead)")
    changes = summary.counts["lead status changes"] + summary.counts["stage changes"]
    lines.append(
        f"  {'status + stage changes':<20} {changes:>12,}  ({changes / summary.leads:.2f} per lead)"
    )
    phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in summary.phases.items())
    lines.append(f"  time: {phases}")
    return "\n".join(lines)
