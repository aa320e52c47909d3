"""Lead scoring at scale: model quality against a known truth, training time, rescoring time.

1. Quality: generated leads (lejek.scoring.synthetic) with a known chance of converting;
   trained on N outcomes, measured on 50,000 others: AUC of the true model, of Lejek's model
   and of a categorical naive-Bayes baseline, calibration error and Brier score.
2. Training time for N outcomes (the whole `predictive.train`, features included).
3. Rescoring, split honestly in two:
   a. the compute path for 1,000,000 leads in memory: fit rules, decayed engagement and the
      predictive probability with factors, batch by batch as `rescore_all` does;
   b. `rescore_all` against the database for --db-leads real lead rows with activities
      (reads, compute, upsert of LeadScore), twice: the first run inserts every LeadScore
      row, the second writes only the rows whose values changed (engagement fades between
      the runs); next to the raw database writing the same score column with `executemany`.
4. One lead: the compute path alone, and `lead_rescore` (reads + compute + writes).

Run: .venv/bin/python -m bench.scoring [--outcomes 100000] [--leads 1000000]
     [--db-leads 1000000] [--reuse-db]

Building 1,000,000 leads takes minutes; `--reuse-db` keeps a database this bench built
before (same lead count, a model stored) and only resets its scores.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lejek.settings")
os.environ.setdefault("LEJEK_VAR_DIR", "/tmp/lejek-bench-scoring")
os.environ.setdefault("LEJEK_LANGUAGE", "en")

import django

django.setup()

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from lejek.activities.models import Activity  # noqa: E402
from lejek.leads.models import Campaign, Lead, Source  # noqa: E402
from lejek.scoring import compute, features, predictive, synthetic  # noqa: E402
from lejek.scoring.baseline import NaiveBayesBaseline  # noqa: E402
from lejek.scoring.models import (  # noqa: E402
    EngagementRule,
    FitRule,
    LeadScore,
    ScoringModel,
    ScoringSettings,
)
from lejek.scoring.rules import FitEvaluator, Lookups, Rule  # noqa: E402
from lejek.scoring.services import lead_rescore, rescore_all  # noqa: E402

RESULTS = Path(__file__).parent / "results"
BATCH = 10_000  # as rescore_all
FIT_RULES = [
    Rule("Poland", 15, ({"field": "country", "op": "eq", "value": "PL"},)),
    Rule("Mid-size", 20, ({"field": "company_size", "op": "gte", "value": "50"},)),
    Rule("Decision maker", 10, ({"field": "title", "op": "in", "value": ["CEO", "Owner"]},)),
    Rule("Software", 25, ({"field": "custom.industry", "op": "eq", "value": "software"},)),
    Rule("Free mailbox", -10, ({"field": "email_kind", "op": "eq", "value": "free"},)),
    Rule("Referral", 10, ({"field": "source", "op": "eq", "value": "referral"},)),
]


def quality(outcomes: int) -> tuple[list[str], predictive.Trained]:
    leads, labels, _truth = synthetic.generate(outcomes, seed=1)
    test, test_labels, test_truth = synthetic.generate(50_000, seed=2)
    spec = synthetic.spec()
    trained = predictive.train(leads, labels, spec, seed=0)
    compiled = predictive.CompiledModel.from_estimator(trained.estimator, trained.spec)
    cat, num = features.matrices(test, spec)
    ours = compiled.probabilities(cat, num)
    nb = NaiveBayesBaseline().fit(*features.matrices(leads, spec), labels)
    nb_p = nb.predict_proba(cat, num)
    true_auc = roc_auc_score(test_labels, test_truth)
    lines = [
        f"## Quality and training ({outcomes:,} outcomes; measured on 50,000 other leads)",
        "",
        "| model | AUC | calibration error (ECE) | Brier |",
        "| --- | ---: | ---: | ---: |",
        _quality_row("true model (known formula)", test_labels, test_truth),
        _quality_row("Lejek (calibrated logistic regression)", test_labels, ours),
        _quality_row("naive Bayes over binned values", test_labels, nb_p),
        "",
        f"- Lejek AUC - true AUC: {roc_auc_score(test_labels, ours) - true_auc:+.4f} "
        "(bar: no worse than -0.02)",
        f"- training time, {outcomes:,} outcomes (features, fit, 3-fold calibration, held-out "
        f"metrics): **{trained.seconds:.1f} s** (target < 30 s)",
        "",
    ]
    return lines, trained


def _quality_row(name: str, labels: np.ndarray, p: np.ndarray) -> str:
    auc = roc_auc_score(labels, p)
    ece = predictive.expected_calibration_error(p, labels)
    brier = float(np.mean((p - labels) ** 2))
    return f"| {name} | {auc:.4f} | {ece:.4f} | {brier:.4f} |"


def memory_rows(records: list[dict], lookups: Lookups, start: int) -> list[dict]:
    """Synthetic records as the lead rows a database pass reads."""
    by_name = {s.name: s.pk for s in lookups.sources.values()}
    return [
        {
            "id": start + i,
            "status": "new",
            "score": 0,
            "source_id": by_name.get(r["source"]),
            "campaign_id": None,
            "medium": r["medium"],
            "utm_source": r["utm_source"],
            "utm_medium": "",
            "utm_campaign": "",
            "country": r["country"],
            "region": r["region"],
            "company_size": r["company_size"],
            "title": r["title"],
            "company_name": "",
            "email": "a@gmail.com" if r["email_kind"] == "free" else "a@firma.pl",
            "custom": r["custom"],
        }
        for i, r in enumerate(records)
    ]


def compute_path(n: int, trained: predictive.Trained) -> list[str]:
    """Both scores for n in-memory leads, as rescore_all computes a batch (no database)."""
    lookups = Lookups(
        sources={i: Source(pk=i, name=name) for i, name in enumerate(synthetic.SOURCES, 1)}
    )
    model = predictive.CompiledModel.from_estimator(trained.estimator, trained.spec)
    context = compute.Context(
        now=timezone.now(),
        lookups=lookups,
        fit=FitEvaluator(FIT_RULES, lookups),
        decay={str(k): v for k, v in compute.DEFAULT_ENGAGEMENT.items()},
        model_version=1,
        model=model,
    )
    pool, _labels, _truth = synthetic.generate(20_000, seed=9)
    elapsed = cpu = 0.0
    for start in range(0, n, BATCH):
        chunk = [pool[(start + i) % len(pool)] for i in range(min(BATCH, n - start))]
        batch = compute.Batch.from_rows(memory_rows(chunk, lookups, start))
        events = [
            (position, kind, (r["last_days"] or 0) + j)
            for position, r in enumerate(chunk)
            for kind, count in r["counts"].items()
            for j in range(count)
        ]
        engaged = compute.Engaged(
            np.array([e[0] for e in events], dtype=np.intp),
            [e[1] for e in events],
            np.array([e[2] for e in events], dtype=float),
        )
        began, began_cpu = time.perf_counter(), time.process_time()
        compute.score_batch(batch, engaged, context)
        elapsed += time.perf_counter() - began
        cpu += time.process_time() - began_cpu
    return [
        f"## Rescoring {n:,} leads: compute path (in memory)",
        "",
        f"Fit rules ({len(FIT_RULES)}), decayed engagement (about 4.5 events per lead) and the "
        f"predictive probability with its factors, as JSON text ready to store, in batches of "
        f"{BATCH:,}: **{elapsed:.1f} s** wall, {cpu:.1f} s CPU ({n / elapsed:,.0f} leads/s; "
        "target for 1M: < 60 s).",
        "",
    ]


def build_database(n: int, trained: predictive.Trained) -> None:
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    sources = {name: Source.objects.create(name=name) for name in synthetic.SOURCES}
    Campaign.objects.create(name="Google Ads Q1")
    # Automatic qualification is measured on its own (each one is a full lead_update with
    # its Events); with it on, a first rescore of fresh data is mostly qualifications.
    ScoringSettings.objects.update_or_create(pk=1, defaults={"mql_threshold": None})
    for rule in FIT_RULES:
        FitRule.objects.create(name=rule.name, points=rule.points, conditions=list(rule.conditions))
    for kind, decay in compute.DEFAULT_ENGAGEMENT.items():
        EngagementRule.objects.create(
            kind=kind, points=decay.points, half_life_days=decay.half_life_days
        )
    ScoringModel.objects.create(version=1, **trained.stored_fields())
    pool, _labels, _truth = synthetic.generate(20_000, seed=9)
    now = timezone.now()
    leads, activities = [], []
    with transaction.atomic():
        for i in range(n):
            r = pool[i % len(pool)]
            leads.append(
                Lead(
                    first_name="Lead",
                    last_name=str(i),
                    email=f"lead{i}@{'gmail.com' if r['email_kind'] == 'free' else 'firma.pl'}",
                    country=r["country"],
                    region=r["region"],
                    title=r["title"],
                    medium=r["medium"],
                    company_size=r["company_size"],
                    source=sources[r["source"]],
                    custom=r["custom"],
                )
            )
            if len(leads) == 5000:
                _flush(leads, activities, pool, i - 4999, now)
        _flush(leads, activities, pool, n - len(leads), now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _flush(leads, activities, pool, first, now) -> None:
    created = Lead.objects.bulk_create(leads)
    for offset, lead in enumerate(created):
        r = pool[(first + offset) % len(pool)]
        for kind in ("call", "meeting"):
            for j in range(r["counts"][kind]):
                at = now - timezone.timedelta(days=(r["last_days"] or 0) + j)
                activities.append(Activity(lead=lead, kind=kind, occurred_at=at))
    Activity.objects.bulk_create(activities, batch_size=5000)
    leads.clear()
    activities.clear()


def reusable(n: int) -> bool:
    """A database this bench built before, with n leads and a model."""
    call_command("migrate", verbosity=0)
    return Lead.objects.count() == n and ScoringModel.objects.exists()


def timed_rescore() -> tuple[float, float, float, float]:
    """Wall and CPU seconds of one `rescore_all`, with the load average before and after."""
    load = os.getloadavg()[0]
    began, began_cpu = time.perf_counter(), time.process_time()
    rescore_all()
    return time.perf_counter() - began, time.process_time() - began_cpu, load, os.getloadavg()[0]


def database_path(n: int, trained: predictive.Trained, reuse: bool) -> list[str]:
    started = time.perf_counter()
    if reuse and reusable(n):
        LeadScore.objects.all().delete()
        print(f"reused {n:,} leads", file=sys.stderr)
    else:
        build_database(n, trained)
        print(f"built {n:,} leads in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    n_activities = Activity.objects.count()
    first = timed_rescore()
    assert LeadScore.objects.count() == n
    print(f"first rescore_all: {first[0]:.1f} s", file=sys.stderr)
    since = timezone.now()
    again = timed_rescore()
    rewritten = LeadScore.objects.filter(computed_at__gte=since).count()
    print(f"second rescore_all: {again[0]:.1f} s, {rewritten:,} rows written", file=sys.stderr)
    ids = list(Lead.objects.values_list("id", flat=True))
    load = os.getloadavg()[0]
    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE scoring_leadscore SET score = %s WHERE lead_id = %s",
            [(i % 100, i) for i in ids],
        )
    raw = time.perf_counter() - began
    single = [lead_rescore(ids[i * 97 % len(ids)]) for i in range(5)]  # warm-up
    times = []
    for i in range(50):
        began = time.perf_counter()
        single.append(lead_rescore(ids[(i * 7919) % len(ids)]))
        times.append((time.perf_counter() - began) * 1000)
    p95 = sorted(times)[int(len(times) * 0.95)]

    def row(name: str, run: tuple[float, float, float, float]) -> str:
        wall, cpu, before, after = run
        return (
            f"| {name} | {wall:.1f} | {cpu:.1f} | {n / wall:,.0f} | {wall / raw:.1f}x | "
            f"{before:.1f} / {after:.1f} |"
        )

    lines = [
        f"## Rescoring {n:,} leads: `rescore_all` on {connection.vendor}",
        "",
        f"{n:,} leads with {n_activities:,} activities, {len(FIT_RULES)} fit rules, a trained "
        "model. Reads (leads; activities, form submissions and engagement in one statement), "
        f"compute, upsert of LeadScore with explanation and factors, in batches of {BATCH:,}.",
        "",
        "| what | wall s | CPU s (this process) | leads/s | vs raw | load avg before / after |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        row("`rescore_all`, first run (inserts every LeadScore row)", first),
        row(f"`rescore_all` again (writes the {rewritten:,} rows that changed)", again),
        f"| raw `executemany` UPDATE of LeadScore's score column only | {raw:.1f} | | "
        f"{n / raw:,.0f} | 1.0x | {load:.1f} |",
        "",
    ]
    if n < 1_000_000:
        lines += [
            f"Extrapolated to 1,000,000 leads: {first[0] * 1_000_000 / n:.0f} s (first run).",
            "",
        ]
    lines += [
        "## One lead",
        "",
        f"- `lead_rescore` (reads, compute, writes, on {connection.vendor}): median "
        f"**{statistics.median(times):.2f} ms**, p95 {p95:.2f} ms",
    ]
    return lines


def single_compute(trained: predictive.Trained) -> str:
    model = predictive.CompiledModel.from_estimator(trained.estimator, trained.spec)
    leads = synthetic.generate(200, seed=4)[0]
    times = []
    for lead in leads:
        began = time.perf_counter()
        cat, num = features.matrices([lead], model.spec)
        contributions = model.contributions(cat, num)
        model.factors([lead], contributions)
        times.append((time.perf_counter() - began) * 1000)
    return (
        "- predictive probability and factors for one lead (compiled model, no database): "
        f"median **{statistics.median(times):.3f} ms** (target < 5 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outcomes", type=int, default=100_000)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--db-leads", type=int, default=1_000_000)
    parser.add_argument("--reuse-db", action="store_true")
    args = parser.parse_args()
    lines = [
        f"# Lead scoring — {connection.vendor}",
        "",
        f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}. Produced by `python -m bench.scoring`. Load average at "
        f"the start: {os.getloadavg()[0]:.1f} (wall time counts other processes' share of the "
        "cores; CPU time is this process alone).",
        "",
    ]
    quality_lines, trained = quality(args.outcomes)
    lines += quality_lines
    print("\n".join(quality_lines), file=sys.stderr)
    if args.leads:
        lines += compute_path(args.leads, trained)
        print(lines[-2], file=sys.stderr)
    lines += database_path(args.db_leads, trained, args.reuse_db)
    lines.append(single_compute(trained))
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    write_section(RESULTS / "scoring.md", connection.vendor, text)
    print(text)


def write_section(path: Path, vendor: str, text: str) -> None:
    """Replace this database's section of the results file, keeping the other's."""
    begin, end = f"<!-- {vendor} -->", f"<!-- /{vendor} -->"
    old = path.read_text() if path.exists() else ""
    block = f"{begin}\n{text}{end}\n"
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        new = head + block + rest.split(end, 1)[1].lstrip("\n")
    else:
        new = (old + "\n" if old else "") + block
    path.write_text(new)


if __name__ == "__main__":
    main()
