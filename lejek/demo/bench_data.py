"""A large, realistic funnel history for benchmarks: `lejek bench-data --leads N`.

Two years of a sales team's work, ending at the start of today: teams and reps, sources and
campaigns, N leads with their status history, the companies and contacts of the leads that got
far, deals through the pipeline (with skips, backward moves and reopenings), repeat purchases
of won customers, and the calls, e-mails and meetings around all of it.

Speed is the point (a million leads in about two minutes), so the volume rows bypass the ORM:
they are plain tuples, generated a chunk of leads at a time with ids assigned here (in a
second process when loading in bulk), and written with `executemany` on SQLite or `COPY` on
PostgreSQL. Only the small configuration (users,
teams, sources, campaigns, the pipeline) goes through the ORM. No Events are written: the
history is what the lead status changes and stage changes say.

Times are whole seconds since the epoch (UTC) while generating, and become text only when a
row is written, from a cache of day and minute strings: datetime objects are too slow here.
"""

from __future__ import annotations

import datetime
import itertools
import math
import multiprocessing
import random
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from lejek.activities.models import Activity
from lejek.contacts.models import Company, Contact
from lejek.demo import vocabulary as words
from lejek.demo.data import has_data, reset_data
from lejek.leads.models import Campaign, Lead, LeadStatusChange, Source
from lejek.leads.status_history import furthest_to_keep
from lejek.pipeline.models import Deal, Pipeline, Stage, StageChange, moves_along, visited_key
from lejek.scoring.models import LeadScore
from lejek.users.models import Role, Team, User

BENCH_DOMAIN = "bench.lejek"
BENCH_PASSWORD = "lejek-bench"
DEFAULT_SEED = 7
CHUNK = 25_000
DAY = 86_400
HISTORY_DAYS = 730

# Lead statuses as plain strings: enum members are slow in the per-lead loop.
NEW, CONTACTED, MQL, SQL, CONVERTED, DISQUALIFIED = (str(s) for s in Lead.Status.values)
TEAMS = [
    # (name, share of leads, reps)
    ("Sprzedaż Północ", 34, 6),
    ("Sprzedaż Południe", 28, 5),
    ("Sprzedaż Zachód", 22, 5),
    ("Key Accounts", 16, 4),
]
# (name, kind, weight among the leads that arrive without a campaign)
SOURCES = [
    ("Formularz na stronie", Source.Kind.WEB_FORM, 34),
    ("Kampanie reklamowe", Source.Kind.CAMPAIGN, 0),
    ("Targi i konferencje", Source.Kind.EVENT, 5),
    ("Import z pliku", Source.Kind.IMPORT, 12),
    ("Integracja API", Source.Kind.API, 6),
    ("Wprowadzone ręcznie", Source.Kind.MANUAL, 14),
    ("E-mail do działu sprzedaży", Source.Kind.EMAIL, 15),
    ("Polecenia klientów", Source.Kind.REFERRAL, 14),
]
# Channels of the campaigns: (channel, source kind, utm_source, utm_medium, days, cost range)
CHANNELS = [
    ("Google Ads", Source.Kind.CAMPAIGN, "google", "cpc", (30, 120), (6_000, 40_000)),
    ("LinkedIn", Source.Kind.CAMPAIGN, "linkedin", "paid_social", (20, 90), (5_000, 30_000)),
    ("Facebook", Source.Kind.CAMPAIGN, "facebook", "paid_social", (14, 60), (2_000, 15_000)),
    ("Targi", Source.Kind.EVENT, "", "", (1, 4), (15_000, 60_000)),
    ("Webinar", Source.Kind.EVENT, "webinar", "event", (1, 1), (1_000, 5_000)),
    ("Newsletter", Source.Kind.EMAIL, "newsletter", "email", (3, 14), (300, 2_000)),
]
CAMPAIGN_COUNT = 30
CAMPAIGN_SHARE = 0.35
CAMPAIGN_TAIL_DAYS = 14
# The lifecycle: (next status, odds of getting there, days it takes)
STEPS = [
    (CONTACTED, 0.74, (0.1, 4)),
    (MQL, 0.64, (1, 20)),
    (SQL, 0.7, (2, 25)),
    (CONVERTED, 0.74, (3, 30)),
]
# A lead that stops short is disqualified this often; the others stay open where they are.
DISQUALIFY_SHARE = 0.55
SCORES = {
    NEW: (5, 40),
    CONTACTED: (15, 55),
    MQL: (40, 70),
    SQL: (60, 90),
    CONVERTED: (65, 98),
    DISQUALIFIED: (0, 25),
}
# (name, probability, odds of a forward move, odds of a move to lost); past the open stages come
# the won and the lost stage.
OPEN_STAGES = [
    ("Zakwalifikowany", 10, 0.66, 0.14),
    ("Analiza potrzeb", 25, 0.64, 0.17),
    ("Propozycja", 50, 0.62, 0.2),
    ("Negocjacje", 75, 0.6, 0.28),
]
SKIP_SHARE = 0.06
BACK_SHARE = 0.05
REOPEN_SHARE = 0.04
NO_AMOUNT_WON = 0.03
NO_AMOUNT_OPEN = 0.2
REPEAT_SHARE = 0.35
THIRD_SHARE = 0.4
UTM_TERMS = ["erp", "system erp", "program magazynowy", "crm", "faktury", "erp chmura"]
REFERRERS = ["https://www.google.com/", "https://www.bing.com/", "https://www.linkedin.com/", ""]
FOREIGN = [("GB", 5), ("DE", 2), ("IE", 1), ("CZ", 1)]


@dataclass
class Summary:
    seed: int
    leads: int
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    # Seconds per phase: set-up, rows (generated and written), indexes, statistics.
    phases: dict[str, float] = field(default_factory=dict)


@dataclass
class Config:
    """The small rows the volume rows point at, as ids."""

    admin: int
    marketing: int
    teams: list[tuple[int, list[int]]]
    team_weights: list[int]
    sources: list[tuple[int, str]]
    source_weights: list[int]
    campaigns: list[tuple[int, int, str, str, str, int, int]]
    pipeline: int
    stages: list[int]
    won: int
    lost: int


class InsertPlan:
    """How one model's rows are written: its table, the columns the generator fills, in order.

    Columns the generator does not know (added to the model later) are written with their
    default; a NOT NULL column without a default stops the run before anything is written.
    """

    def __init__(self, model: type[models.Model], columns: list[str]):
        self.model = model
        self.table = model._meta.db_table
        known = set(columns)
        extra_columns, extras = [], []
        for f in model._meta.concrete_fields:
            if f.column in known:
                continue
            if not f.null and not f.has_default():
                raise RuntimeError(f"{self.table}.{f.column} needs a value and has no default.")
            extra_columns.append(f.column)
            extras.append(f.get_db_prep_save(f.get_default(), connection))
        self.columns = [*columns, *extra_columns]
        self.extras = tuple(extras)

    def rows(self, rows: list[tuple]) -> list[tuple]:
        if not self.extras:
            return rows
        return [row + self.extras for row in rows]


PLANS = {
    "companies": (
        Company,
        "id created_at updated_at version name nip domain industry size phone email street city "
        "postal_code country notes owner_id team_id custom",
    ),
    "contacts": (
        Contact,
        "id created_at updated_at version first_name last_name email phone title company_id "
        "preferred_channel language notes owner_id team_id custom",
    ),
    "leads": (
        Lead,
        "id created_at updated_at version first_name last_name email phone company_name title "
        "status source_id campaign_id contact_id company_id medium utm_source utm_medium "
        "utm_campaign utm_term utm_content referrer country region company_size "
        "disqualified_reason description owner_id team_id custom furthest_status",
    ),
    "lead scores": (LeadScore, "lead_id score"),
    "lead status changes": (
        LeadStatusChange,
        "id lead_id from_status to_status changed_at actor_id",
    ),
    "deals": (
        Deal,
        "id created_at updated_at version title pipeline_id stage_id amount currency "
        "expected_close_date closed_at lost_reason stage_entered_at company_id contact_id lead_id "
        "source_id owner_id team_id custom stages_visited",
    ),
    "stage changes": (
        StageChange,
        "id deal_id from_stage_id to_stage_id changed_at from_stage_entered_at actor_id",
    ),
    "activities": (
        Activity,
        "id lead_id contact_id company_id deal_id kind subject_line body occurred_at "
        "duration_minutes author_id created_at",
    ),
}


class Stamps:
    """Epoch seconds to the text each database reads as an aware datetime (UTC)."""

    def __init__(self, first_day: int, last_day: int, postgres: bool):
        self.first_day = first_day
        epoch = datetime.date(1970, 1, 1)
        self.days = [
            (epoch + datetime.timedelta(days=d)).isoformat()
            for d in range(first_day, last_day + 400)
        ]
        suffix = "+00" if postgres else ""
        self.minutes = [f" {m // 60:02d}:{m % 60:02d}:00{suffix}" for m in range(1440)]

    def at(self, ts: int | None) -> str | None:
        if ts is None:
            return None
        return self.days[ts // DAY - self.first_day] + self.minutes[ts % DAY // 60]

    def date(self, ts: int) -> str:
        return self.days[ts // DAY - self.first_day]


class Writer:
    """Writes each chunk's rows: executemany on SQLite, COPY on PostgreSQL, one transaction each.

    In bulk mode (outside any transaction, into empty tables) the tables' secondary indexes
    are built once at the end rather than row by row, and foreign keys are not checked row by
    row: the generator assigns every id itself. Inside a transaction (the tests) it writes in
    place with every check on.
    """

    def __init__(self, plans: dict[str, InsertPlan], *, bulk: bool):
        connection.ensure_connection()
        self.plans = plans
        self.postgres = connection.vendor == "postgresql"
        self.raw = connection.connection
        self.bulk = bulk
        self.indexes: list[str] = []
        if bulk:
            self._relax()

    def put(self, chunk: dict[str, list[tuple]]) -> None:
        if not self.bulk:
            with transaction.atomic():
                self._write(chunk)
        elif self.postgres:
            with self.raw.transaction():
                self._write(chunk)
        else:
            self.raw.execute("BEGIN IMMEDIATE")
            try:
                self._write(chunk)
            except BaseException:
                self.raw.execute("ROLLBACK")
                raise
            self.raw.execute("COMMIT")

    def close(self) -> None:
        """Puts back the indexes and the checks."""
        if self.bulk:
            self._restore()

    def _write(self, chunk: dict[str, list[tuple]]) -> None:
        quote = connection.ops.quote_name
        for name, rows in chunk.items():
            if not rows:
                continue
            plan = self.plans[name]
            rows = plan.rows(rows)
            columns = ", ".join(quote(c) for c in plan.columns)
            table = quote(plan.table)
            if self.postgres:
                cursor = self.raw.cursor()
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    write_row = copy.write_row
                    for row in rows:
                        write_row(row)
            else:
                marks = ", ".join("?" * len(plan.columns))
                self.raw.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)

    def _relax(self) -> None:
        tables = [plan.table for plan in self.plans.values()]
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
                    "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                    [tables],
                )
                found = cursor.fetchall()
                cursor.execute("SET session_replication_role = replica")
                cursor.execute("SET maintenance_work_mem = '256MB'")
            else:
                marks = ", ".join("%s" for _t in tables)
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                    f"AND tbl_name IN ({marks})",
                    tables,
                )
                found = cursor.fetchall()
                cursor.execute("PRAGMA foreign_keys = OFF")
            for name, definition in found:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
                self.indexes.append(definition)

    def _restore(self) -> None:
        with connection.cursor() as cursor:
            for definition in self.indexes:
                cursor.execute(definition)
            if self.postgres:
                cursor.execute("SET session_replication_role = DEFAULT")
                cursor.execute("RESET maintenance_work_mem")
            else:
                cursor.execute("PRAGMA foreign_keys = ON")


class Generator:
    """Builds the history one chunk of leads at a time; `run` drives it."""

    def __init__(self, *, seed: int, leads: int, now: datetime.datetime, config: Config):
        self.rng = random.Random(seed)
        self.seed = seed
        self.lead_total = leads
        self.config = config
        self.now = int(now.timestamp())
        self.first = self.now - HISTORY_DAYS * DAY
        self.stamps = Stamps(
            self.first // DAY - 60, self.now // DAY, connection.vendor == "postgresql"
        )
        self.ids = {
            name: itertools.count(_max_id(model) + 1) for name, (model, _c) in PLANS.items()
        }
        self.counts = {name: 0 for name in PLANS}
        self._prepare_words()
        self._reset_chunk()

    # Words and pools drawn from once, so the per-lead work is a few list lookups.

    def _prepare_words(self) -> None:
        rng = self.rng
        pool = max(200, min(50_000, self.lead_total // 4))
        taken: set[str] = set()
        self.firms = []
        for _ in range(pool):
            firm = words.random_firm(rng, taken)
            taken.add(firm.brand)
            self.firms.append(firm)
        slug = words.ascii_slug
        self.pl_people = [
            (
                first,
                male if i < len(words.PL_MEN) else female,
                slug(first, ""),
                slug(male if i < len(words.PL_MEN) else female, ""),
            )
            for i, first in enumerate([*words.PL_MEN, *words.PL_WOMEN])
            for male, female in words.PL_SURNAMES
        ]
        self.en_people = [
            (first, last, slug(first, ""), slug(last, ""))
            for first in words.EN_FIRST
            for last in words.EN_LAST
        ]
        self.sizes = [(1, 9), (10, 49), (50, 249), (250, 999), (1000, 5000)]
        self.size_cum = list(_cumulate([15, 35, 33, 13, 4]))
        self.team_cum = list(_cumulate(self.config.team_weights))
        self.source_cum = list(_cumulate(self.config.source_weights))
        self.campaign_cum = list(_cumulate([c[5] for c in self.config.campaigns]))
        self.foreign_cum = list(_cumulate([w for _c, w in FOREIGN]))
        self.lost_reasons = [r for r, _w in words.LOST_REASONS]
        self.lost_cum = list(_cumulate([w for _r, w in words.LOST_REASONS]))

    def _reset_chunk(self) -> None:
        self.rows: dict[str, list[tuple]] = {name: [] for name in PLANS}

    def _id(self, name: str) -> int:
        return next(self.ids[name])

    # Time: working hours (07:00 to 16:00 UTC, 8 to 18 in Warsaw), never at the weekend.

    def work_after(self, ts: int, low: float, high: float) -> int:
        day = int((ts + self.rng.uniform(low, high) * DAY) // DAY)
        weekday = (day + 3) % 7
        if weekday >= 5:
            day += 7 - weekday
        random_ = self.rng.random
        moment = day * DAY + 25_200 + int(random_() * 32_400)
        return max(moment, ts + 600 + int(random_() * 6_000))

    def between(self, start: int, end: int) -> int:
        return start + int((end - start) * self.rng.random())

    # One lead, its history and what came of it.

    def lead(self) -> None:
        rng = self.rng
        random_ = rng.random
        cfg = self.config
        lead_id = self._id("leads")
        team_index = _pick(self.team_cum, random_())
        team_id, reps = cfg.teams[team_index]
        owner = reps[int(random_() * len(reps))]
        campaign_id = None
        utm = ("", "", "", "", "")
        medium = referrer = ""
        if random_() < CAMPAIGN_SHARE:
            campaign_id, source_id, kind, start, end, _w, utm_pair = self._campaign()
            created = self._moment(start, end)
            utm_source, utm_medium = utm_pair
            if utm_source:
                term = UTM_TERMS[int(random_() * len(UTM_TERMS))] if utm_medium == "cpc" else ""
                utm = (utm_source, utm_medium, f"c{campaign_id}", term, "")
                medium = utm_medium
        else:
            source_id, kind = cfg.sources[_pick(self.source_cum, random_())]
            # More leads lately than two years ago: the business is growing.
            created = self._moment(self.now - int(HISTORY_DAYS * random_() ** 1.35 * DAY), None)
            if kind == Source.Kind.WEB_FORM:
                referrer = REFERRERS[int(random_() * len(REFERRERS))]
                medium = "organic" if referrer else "direct"
        firm = self.firms[int(random_() * len(self.firms))]
        english = firm.english
        country = firm.country
        if not english and random_() < 0.03:
            country = FOREIGN[_pick(self.foreign_cum, random_())][0]
            english = True
        people = self.en_people if english else self.pl_people
        first, last, first_slug, last_slug = people[int(random_() * len(people))]
        if not english and random_() < 0.1:
            domain = words.PERSONAL_MAIL_DOMAINS[int(random_() * 5)]
        else:
            domain = firm.domain
        email = f"{first_slug}.{last_slug}@{domain}"
        phone = ""
        if random_() < 0.65:
            digits = int(random_() * 90_000_000) + 10_000_000
            phone = f"+48 5{digits // 1_000_000} {digits // 1000 % 1000:03d} {digits % 1000:03d}"
        titles = words.EN_TITLES if english else words.PL_TITLES
        title = titles[int(random_() * len(titles))] if random_() < 0.7 else ""
        size_low, size_high = self.sizes[_pick(self.size_cum, random_())]
        size = size_low + int(random_() * (size_high - size_low + 1)) if random_() < 0.8 else None

        history = self._lifecycle(created)
        status, updated = history[-1]
        if status == NEW and random_() < 0.3:
            owner = None  # waiting in the team's pool for someone to pick it up
        # One row per change; the lead's arrival is its created_at, not a change.
        actor = owner or cfg.admin
        changes = self.rows["lead status changes"]
        next_change = self.ids["lead status changes"]
        at = self.stamps.at
        for (previous, _since), (to_status, when) in itertools.pairwise(history):
            changes.append((next(next_change), lead_id, previous, to_status, at(when), actor))
        low, high = SCORES[status]
        score = low + int((random_() + random_()) / 2 * (high - low + 1))
        reason = ""
        if status == DISQUALIFIED:
            reason = words.DISQUALIFY_REASONS[int(random_() * len(words.DISQUALIFY_REASONS))]
        # No status is entered twice, so no change has a previous entry.
        furthest = furthest_to_keep([step for step, _when in history], status)
        description = ""
        if random_() < 0.2:
            text = words.LEAD_DESCRIPTIONS[int(random_() * len(words.LEAD_DESCRIPTIONS))]
            description = text.format(n=10 + int(random_() * 50))
        self._lead_activities(lead_id, history, owner)

        company_id = contact_id = None
        reached = status == CONVERTED or (status == SQL and random_() < 0.5)
        if reached:
            became = history[-1][1]
            company_id = self._company(firm, country, size, owner, team_id, became)
            contact_id = self._contact(
                first, last, email, phone, title, english, company_id, owner, team_id, became
            )
        self.rows["leads"].append(
            (
                lead_id, at(created), at(updated), len(history), first, last, email, phone,
                firm.name, title, status, source_id, campaign_id, contact_id, company_id, medium,
                *utm, referrer, country, firm.city if country == firm.country else "", size,
                reason, description, owner, team_id, "{}", furthest,
            )
        )  # fmt: skip
        self.rows["lead scores"].append((lead_id, score))
        if status == CONVERTED:
            self._deals(
                firm, lead_id, source_id, company_id, contact_id, owner, team_id, updated, english
            )

    def _campaign(self):
        c = self.config.campaigns[_pick(self.campaign_cum, self.rng.random())]
        campaign_id, source_id, kind, start, end, weight, utm = c
        return (
            campaign_id,
            source_id,
            kind,
            start,
            min(end + CAMPAIGN_TAIL_DAYS * DAY, self.now),
            weight,
            utm,
        )

    def _moment(self, start: int, end: int | None) -> int:
        """A working-hours moment between start and end (or on start's day), before now."""
        ts = start if end is None else start + int((end - start) * self.rng.random())
        day = ts // DAY
        weekday = (day + 3) % 7
        if weekday >= 5:
            day -= weekday - 4
        random_ = self.rng.random
        moment = day * DAY + 25_200 + int(random_() * 32_400)
        return min(moment, self.now - 300 - int(random_() * 7_200))

    def _lifecycle(self, created: int) -> list[tuple[str, int]]:
        """(status, when) from creation on: each step taken with its odds, if its time has come."""
        rng = self.rng
        history = [(NEW, created)]
        at = created
        for status, odds, (low, high) in STEPS:
            if rng.random() >= odds:
                break
            nxt = self.work_after(at, low, high)
            if nxt > self.now:
                return history  # still on its way: too early to say
            history.append((status, nxt))
            at = nxt
        else:
            return history
        if rng.random() < DISQUALIFY_SHARE:
            nxt = self.work_after(at, 2, 40)
            if nxt <= self.now:
                history.append((DISQUALIFIED, nxt))
        return history

    def _lead_activities(self, lead_id: int, history: list, owner: int | None) -> None:
        """The call or e-mail that moved the lead along, at most steps."""
        rng = self.rng
        rows = self.rows["activities"]
        at = self.stamps.at
        lines = words.LEAD_ACTIVITIES
        for (_s, start), (status, end) in itertools.pairwise(history):
            if status == DISQUALIFIED:
                line = words.DISQUALIFIED_NOTE
            elif rng.random() < 0.55:
                line = lines[int(rng.random() * len(lines))]
            else:
                continue
            when = at(self.between(start, end))
            kind, subject, body = line
            duration = 5 + int(rng.random() * 35) if kind == "call" else None
            rows.append(
                (
                    self._id("activities"),
                    lead_id,
                    None,
                    None,
                    None,
                    kind,
                    subject,
                    body,
                    when,
                    duration,
                    owner,
                    when,
                )
            )

    def _company(self, firm, country, size, owner, team_id, when: int) -> int:
        company_id = self._id("companies")
        at = self.stamps.at(when)
        self.rows["companies"].append(
            (
                company_id, at, at, 1, firm.name, "", firm.domain, firm.industry, size,
                firm.phone, f"biuro@{firm.domain}", firm.street, firm.city, firm.postal_code,
                country, "", owner, team_id, "{}",
            )
        )  # fmt: skip
        return company_id

    def _contact(self, first, last, email, phone, title, english, company_id, owner, team_id, when):
        contact_id = self._id("contacts")
        at = self.stamps.at(when)
        channel = ("email", "email", "phone", "meeting", "")[int(self.rng.random() * 5)]
        self.rows["contacts"].append(
            (
                contact_id, at, at, 1, first, last, email, phone, title, company_id, channel,
                "en" if english else "pl", "", owner, team_id, "{}",
            )
        )  # fmt: skip
        return contact_id

    # Deals: the converted lead's, and the repeat purchases of a won customer.

    def _deals(
        self, firm, lead_id, source_id, company_id, contact_id, owner, team_id, start, foreign
    ):
        rng = self.rng
        topics = words.DEAL_TOPICS
        short = words.short_name(firm.name)
        title = f"{short} — {topics[int(rng.random() * len(topics))]}"
        won_at = self._deal(
            title,
            0,
            start,
            lead_id,
            source_id,
            company_id,
            contact_id,
            owner,
            team_id,
            firm.size,
            foreign,
        )
        purchases = 1
        while won_at is not None and purchases < 3:
            if rng.random() >= (REPEAT_SHARE if purchases == 1 else THIRD_SHARE):
                break
            again = self.work_after(won_at, 60, 300)
            if again > self.now:
                break
            title = f"{short} — {'rozbudowa systemu' if purchases == 1 else 'kolejne licencje'}"
            won_at = self._deal(
                title,
                2,
                again,
                None,
                None,
                company_id,
                contact_id,
                owner,
                team_id,
                firm.size,
                foreign,
            )
            purchases += 1

    def _moves(self, first: int, start: int) -> list[tuple[int, int]]:
        """(stage index, when): forward, sometimes skipping or back, to won, lost or a stall."""
        rng = self.rng
        won, lost = len(OPEN_STAGES), len(OPEN_STAGES) + 1
        moves = [(first, start)]
        position, at = first, start
        for _ in range(12):
            if position == won:
                break
            if position == lost:
                if rng.random() >= REOPEN_SHARE:
                    break
                target = rng.randrange(won)
            else:
                _n, _p, forward, losing = OPEN_STAGES[position]
                roll = rng.random()
                if roll >= forward + losing:
                    break
                if roll < forward:
                    step = rng.random()
                    if step < BACK_SHARE and position > 0:
                        target = position - 1
                    elif step < BACK_SHARE + SKIP_SHARE:
                        target = min(position + 2, won)
                    else:
                        target = position + 1
                else:
                    target = lost
            nxt = self.work_after(at, 3, 28)
            if nxt > self.now:
                break
            position, at = target, nxt
            moves.append((position, at))
        return moves

    def _deal(
        self,
        title,
        first,
        start,
        lead_id,
        source_id,
        company_id,
        contact_id,
        owner,
        team_id,
        size,
        foreign,
    ):
        """Writes one deal with its moves and work; returns when it was won, if it was."""
        rng = self.rng
        cfg = self.config
        deal_id = self._id("deals")
        moves = self._moves(first, start)
        position, last_at = moves[-1]
        stage_ids = cfg.stages
        won, lost = len(OPEN_STAGES), len(OPEN_STAGES) + 1
        scale = (
            0.35
            if (size or 50) < 10
            else 0.6
            if (size or 50) < 50
            else 1
            if (size or 50) < 250
            else 1.8
        )
        value = rng.lognormvariate(math.log(38_000 * scale), 0.6)
        if foreign:
            amount, currency = max(500, round(value / 4.3, -1)), "EUR"
        else:
            amount, currency = max(1_500, round(value, -2)), "PLN"
        amount = int(amount)
        closed = position in (won, lost)
        if (position == won and rng.random() < NO_AMOUNT_WON) or (
            not closed and rng.random() < NO_AMOUNT_OPEN
        ):
            amount = None
        lost_reason = (
            self.lost_reasons[_pick(self.lost_cum, rng.random())] if position == lost else ""
        )
        stamps = self.stamps
        if closed:
            expected = stamps.date(last_at)
        else:
            # Open deals expect to close in two to eight weeks; a few dates have passed.
            expected = stamps.date(last_at + int(rng.uniform(-20, 60) * DAY))
        actor = owner or cfg.admin
        changes = self.rows["stage changes"]
        path = [(stage_ids[stage_index], stamps.at(at)) for stage_index, at in moves]
        for move in moves_along(path):
            changes.append(
                (
                    self._id("stage changes"),
                    deal_id,
                    move.from_stage,
                    move.to_stage,
                    move.changed_at,
                    move.from_stage_entered_at,
                    actor,
                )
            )
        self._deal_activities(deal_id, moves, owner)
        self.rows["deals"].append(
            (
                deal_id, stamps.at(start), stamps.at(last_at), len(moves), title, cfg.pipeline,
                stage_ids[position], amount, currency, expected,
                stamps.at(last_at) if closed else None, lost_reason, stamps.at(last_at),
                company_id, contact_id, lead_id, source_id, owner, team_id, "{}",
                visited_key(stage_id for stage_id, _when in path),
            )
        )  # fmt: skip
        return last_at if position == won else None

    def _deal_activities(self, deal_id: int, moves: list, owner: int | None) -> None:
        rng = self.rng
        rows = self.rows["activities"]
        at = self.stamps.at
        open_count = len(OPEN_STAGES)
        for (position, start), following in zip(moves, [*moves[1:], None], strict=False):
            if position >= open_count:
                continue
            if rng.random() >= 0.6:
                continue
            end = following[1] if following else min(self.now, start + 30 * DAY)
            lines = words.NEW_BUSINESS_ACTIVITIES[position]
            kind, subject, body = lines[int(rng.random() * len(lines))]
            when = at(self.between(start, end))
            duration = None
            if kind == "call":
                duration = 5 + int(rng.random() * 35)
            elif kind == "meeting":
                duration = 30 + int(rng.random() * 90)
            rows.append(
                (
                    self._id("activities"),
                    None,
                    None,
                    None,
                    deal_id,
                    kind,
                    subject,
                    body,
                    when,
                    duration,
                    owner,
                    when,
                )
            )

    # Writing.

    def chunks(self) -> Iterator[dict[str, list[tuple]]]:
        """The rows of CHUNK leads at a time, per plan."""
        done = 0
        while done < self.lead_total:
            size = min(CHUNK, self.lead_total - done)
            for _ in range(size):
                self.lead()
            yield self.rows
            self._reset_chunk()
            done += size

    def run(self, progress: Callable[[int, int, float], None] | None = None) -> Summary:
        plans = {
            name: InsertPlan(model, columns.split()) for name, (model, columns) in PLANS.items()
        }
        bulk = not connection.in_atomic_block and not Lead.objects.exists()
        # In bulk, the rows are made in a second process while this one writes them: making
        # them is about as much Python as writing them, and one process runs one at a time.
        chunks = _made_elsewhere(self) if bulk else self.chunks()
        writer = Writer(plans, bulk=bulk)
        started = time.perf_counter()
        done = 0
        try:
            for chunk in chunks:
                writer.put(chunk)
                for name, rows in chunk.items():
                    self.counts[name] += len(rows)
                done += len(chunk["leads"])
                if progress:
                    progress(done, self.lead_total, time.perf_counter() - started)
        finally:
            chunks.close()
            rows_done = time.perf_counter()
            writer.close()
        summary = Summary(seed=self.seed, leads=self.lead_total, counts=dict(self.counts))
        summary.phases["rows"] = rows_done - started
        summary.phases["indexes"] = time.perf_counter() - rows_done
        return summary


def _made_elsewhere(generator: Generator) -> Iterator[dict[str, list[tuple]]]:
    """The generator's chunks, made in a forked child process and passed back through a pipe.

    The child has a copy of the generator (its random state included), so the rows are the
    ones it would make here. It never touches the database connection it inherits, and runs
    only the generator's Python and the queue: the command forks from its only thread, and
    under a test runner's threads (where Python warns that a fork may deadlock) no lock that
    another thread could hold is taken in the child.
    """
    context = multiprocessing.get_context("fork")
    channel = context.Queue(maxsize=2)
    child = context.Process(target=_make_chunks, args=(generator, channel), daemon=True)
    child.start()
    try:
        while (item := channel.get()) is not None:
            if isinstance(item, str):
                raise RuntimeError(f"Generating the rows failed:\n{item}")
            yield item
    finally:
        if child.is_alive():
            child.kill()
        child.join()


def _make_chunks(generator: Generator, channel) -> None:
    try:
        for chunk in generator.chunks():
            channel.put(chunk)
        channel.put(None)
    except BaseException:
        channel.put(traceback.format_exc())


def _cumulate(weights: list[int]):
    total = sum(weights)
    running = 0
    for weight in weights:
        running += weight
        yield running / total


def _pick(cumulative: list[float], roll: float) -> int:
    for index, edge in enumerate(cumulative):
        if roll < edge:
            return index
    return len(cumulative) - 1


def _max_id(model: type[models.Model]) -> int:
    return model.objects.aggregate(top=models.Max("pk"))["top"] or 0


# Configuration: the few rows the history hangs on, through the ORM.


def _set_up(rng: random.Random, now: datetime.datetime) -> Config:
    password = make_password(BENCH_PASSWORD)  # one hash: hashing is slow by design
    joined = now - datetime.timedelta(days=HISTORY_DAYS + 30)
    people = iter(rng.sample(range(len(words.PL_MEN) * len(words.PL_SURNAMES)), 40))

    def user(local: str, role: str, first: str, last: str) -> User:
        return User(
            username=f"{local}@{BENCH_DOMAIN}",
            email=f"{local}@{BENCH_DOMAIN}",
            password=password,
            first_name=first,
            last_name=last,
            role=role,
            date_joined=joined,
        )

    def person() -> tuple[str, str, str]:
        index = next(people)
        first = words.PL_MEN[index % len(words.PL_MEN)]
        last = words.PL_SURNAMES[index // len(words.PL_MEN)][0]
        return first, last, f"{words.ascii_slug(first, '')}.{words.ascii_slug(last, '')}"

    admin = user("admin", Role.ADMIN, "Adam", "Admin")
    marketing = user("marketing", Role.MARKETING, "Marta", "Marketing")
    marketing2 = user("marketing2", Role.MARKETING, "Monika", "Kampanie")
    User.objects.bulk_create([admin, marketing, marketing2])
    teams = []
    for position, (name, _share, rep_count) in enumerate(TEAMS):
        team, _created = Team.objects.get_or_create(name=name)
        first, last, local = person()
        manager = user(f"{local}.m{position}", Role.MANAGER, first, last)
        reps = [
            user(f"{p[2]}.r{position}{i}", Role.REP, p[0], p[1])
            for i, p in ((i, person()) for i in range(rep_count))
        ]
        User.objects.bulk_create([manager, *reps])
        team.members.add(manager, *reps)
        teams.append((team.pk, [r.pk for r in reps] + [manager.pk] * (1 if rep_count < 5 else 0)))
    sources = {}
    for name, kind, _weight in SOURCES:
        sources[kind], _created = Source.objects.get_or_create(name=name, defaults={"kind": kind})
    campaigns = _set_up_campaigns(rng, now, sources)
    pipeline, stages = _set_up_pipeline()
    return Config(
        admin=admin.pk,
        marketing=marketing.pk,
        teams=teams,
        team_weights=[share for _n, share, _r in TEAMS],
        sources=[(sources[kind].pk, kind) for _n, kind, weight in SOURCES if weight],
        source_weights=[weight for _n, _k, weight in SOURCES if weight],
        campaigns=campaigns,
        pipeline=pipeline.pk,
        stages=[s.pk for s in stages],
        won=stages[len(OPEN_STAGES)].pk,
        lost=stages[len(OPEN_STAGES) + 1].pk,
    )


def _set_up_campaigns(rng: random.Random, now: datetime.datetime, sources: dict) -> list[tuple]:
    today = now.date()
    campaigns = []
    for number in range(CAMPAIGN_COUNT):
        channel, kind, utm_source, utm_medium, (short, long), (cheap, dear) = CHANNELS[
            number % len(CHANNELS)
        ]
        topic = words.DEAL_TOPICS[rng.randrange(len(words.DEAL_TOPICS))]
        days = rng.randint(short, long)
        starts_on = today - datetime.timedelta(days=rng.randint(days + 1, HISTORY_DAYS - 5))
        ends_on = starts_on + datetime.timedelta(days=days - 1)
        cost = round(rng.uniform(cheap, dear), -2)
        campaign = Campaign.objects.create(
            name=f"{channel} — {topic} ({starts_on:%m/%Y}) #{number + 1}",
            channel=channel,
            source=sources[kind],
            starts_on=starts_on,
            ends_on=ends_on,
            cost=cost,
            created_at=now - datetime.timedelta(days=(today - starts_on).days + 14),
        )
        start = int(datetime.datetime.combine(starts_on, datetime.time(), datetime.UTC).timestamp())
        end = int(datetime.datetime.combine(ends_on, datetime.time(), datetime.UTC).timestamp())
        # Leads per campaign follow its budget: a trade fair brings more than a newsletter.
        weight = max(1, int(cost // 1_000))
        campaigns.append(
            (campaign.pk, sources[kind].pk, kind, start, end, weight, (utm_source, utm_medium))
        )
    return campaigns


def _set_up_pipeline() -> tuple[Pipeline, list[Stage]]:
    pipeline = Pipeline.objects.create(
        name="Nowy biznes (bench)",
        is_default=not Pipeline.objects.filter(is_default=True).exists(),
    )
    specs = [(name, probability, False, False) for name, probability, _f, _l in OPEN_STAGES]
    specs += [("Wygrana", 100, True, False), ("Przegrana", 0, False, True)]
    stages = Stage.objects.bulk_create(
        [
            Stage(pipeline=pipeline, name=name, position=i, probability=p, is_won=won, is_lost=lost)
            for i, (name, p, won, lost) in enumerate(specs)
        ]
    )
    return pipeline, stages


# The run: what the database holds, how it is tuned while writing, and the tidying after.


def existing_data() -> str:
    """ "none", "bench" (only what an earlier run made) or "other" (anything else)."""
    if not has_data() and not Pipeline.objects.filter(name="Nowy biznes (bench)").exists():
        return "none"
    people = User.objects.all()
    if people.exists() and not people.exclude(email__endswith=f"@{BENCH_DOMAIN}").exists():
        return "bench"
    return "other"


def default_now() -> datetime.datetime:
    """The history ends at the start of today: one seed gives the same data all day long."""
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def generate(
    *,
    leads: int,
    seed: int = DEFAULT_SEED,
    now: datetime.datetime | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> Summary:
    """Write the history into a database that holds no users or records (see `existing_data`)."""
    if leads < 1:
        raise ValueError("leads must be a positive number")
    started = time.perf_counter()
    now = now or default_now()
    with _fast_sqlite():
        with transaction.atomic():
            config = _set_up(random.Random(seed * 7_919 + 1), now)
        generator = Generator(seed=seed, leads=leads, now=now, config=config)
        set_up = time.perf_counter()
        summary = generator.run(progress)
        _tidy()
    summary.phases["set-up"] = set_up - started
    rows_and_indexes = summary.phases["rows"] + summary.phases["indexes"]
    summary.phases["statistics"] = time.perf_counter() - set_up - rows_and_indexes
    summary.seconds = time.perf_counter() - started
    return summary


def reset() -> None:
    """Empty the database the way `lejek demo --reset` does: every table, users included."""
    reset_data()


class _fast_sqlite:
    """On SQLite, while generating: no fsync and a larger page cache, restored afterwards.

    Inside an open transaction (tests) the settings cannot change and are left alone.
    """

    def __enter__(self):
        self.active = connection.vendor == "sqlite" and not connection.in_atomic_block
        if self.active:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous")
                self.synchronous = cursor.fetchone()[0]
                cursor.execute("PRAGMA cache_size")
                self.cache_size = cursor.fetchone()[0]
                cursor.execute("PRAGMA synchronous=OFF")
                cursor.execute("PRAGMA cache_size=-64000")
        return self

    def __exit__(self, *exc):
        if self.active:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA synchronous={int(self.synchronous)}")
                cursor.execute(f"PRAGMA cache_size={int(self.cache_size)}")
        return False


def _tidy() -> None:
    """Sequences past the ids written here (PostgreSQL), and fresh planner statistics."""
    touched = [model for model, _c in PLANS.values()]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), touched):
            cursor.execute(sql)
        if connection.in_atomic_block and connection.vendor == "postgresql":
            return  # ANALYZE works inside a transaction, but tests need not pay for it
        if connection.vendor == "sqlite":
            # A bounded sample per index: a full ANALYZE would read every row again.
            cursor.execute("PRAGMA analysis_limit=1000")
        for model in touched:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
