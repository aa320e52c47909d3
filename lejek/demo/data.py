"""The demo data set: one believable year of a Polish B2B software vendor's sales funnel.

`build_demo` is deterministic: one `random.Random(seed)` draws every choice and every date is
an offset from `now` (by default the start of today), so a seed gives the same people,
companies, leads and deals all day, dated to look current. The fixed facts of the demo company
live in `scenario.py`, its words in `vocabulary.py`.

Users, teams, pipelines, the catalogue and custom fields go through the services; the volume
rows (leads, deals, their history, activities, tasks) are built in memory and written with
`bulk_create`, each with its creation Event, so the small set loads in seconds.
"""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import models, transaction
from django.utils import timezone

from lejek.activities.email_templates import email_template_create
from lejek.activities.models import Activity, Comment, Task
from lejek.contacts.models import Company, Contact
from lejek.core.custom_fields import clean_value
from lejek.core.models import CustomField, Event, Reason
from lejek.core.reasons import reason_create
from lejek.core.services_custom_fields import custom_field_create
from lejek.demo import vocabulary as words
from lejek.demo.clock import Clock
from lejek.demo.scenario import (
    CAMPAIGN_SHARE,
    CAMPAIGN_TAIL_DAYS,
    CAMPAIGNS,
    CUSTOM_FIELDS,
    DEFAULT_SEED,
    DEMO_PASSWORD,
    DEMO_USERS,
    DURATIONS,
    LEAD_SCORES,
    MARKETING_SOURCES,
    NEW_BUSINESS,
    OPEN_TOUCHED,
    OWNERS,
    RENEWALS,
    ROLE_NAMES,
    SIZES,
    SOURCES,
    SYSTEM_SOURCES,
    TEAM_NAMES,
    DemoUser,
    PipelineSpec,
    lead_status_odds,
)
from lejek.leads.models import (
    DEFAULT_ACCEPT_HOURS,
    Handoff,
    Lead,
    LeadStatusChange,
    Source,
)
from lejek.leads.services import campaign_create, source_create
from lejek.leads.status_history import furthest_to_keep
from lejek.leads.webforms import webform_create
from lejek.pipeline.models import Deal, Stage, StageChange, moves_along, visited_key
from lejek.pipeline.services import pipeline_create, stage_update
from lejek.sales.services import product_create
from lejek.scoring.models import LeadScore
from lejek.users.models import User
from lejek.users.services import team_create, user_create


@dataclass
class DemoSummary:
    seed: int
    counts: dict[str, int]


# (verb, record, actor, when or None for the record's created_at, before, after)
PendingEvent = tuple[str, models.Model, Any, datetime.datetime | None, dict, dict]


class DemoBuilder:
    """Builds the whole data set once; use `build_demo` rather than this class directly."""

    def __init__(self, *, seed: int, leads: int, now: datetime.datetime):
        self.rng = random.Random(seed)
        self.seed = seed
        self.lead_count = leads
        self.now = now
        self.clock = Clock(self.rng, now)
        self.today = self.clock.today
        self.companies: list[Company] = []
        self.company_contacts: list[list[Contact]] = []
        self.contacts: list[Contact] = []
        self.leads: list[Lead] = []
        self.lead_scores: list[LeadScore] = []
        self.deals: list[Deal] = []
        self.changes: list[StageChange] = []
        self.status_changes: list[LeadStatusChange] = []
        self.handoffs: list[Handoff] = []
        self.activities: list[Activity] = []
        self.tasks: list[Task] = []
        self.comments: list[Comment] = []
        self.mentions: list[tuple[Comment, User]] = []
        self.events: list[PendingEvent] = []

    def build(self) -> DemoSummary:
        self._set_up_people()
        self._set_up_pipelines()
        self._set_up_catalogue()
        self._set_up_custom_fields()
        self._set_up_sales_tools()
        self._make_companies(max(10, round(self.lead_count * 0.15)))
        self._make_contacts(len(self.companies) * 2)
        self._make_leads()
        self._make_direct_deals(round(self.lead_count * 0.11))
        self._make_comments()
        self._backdate_parents()
        self._save()
        return DemoSummary(seed=self.seed, counts=self._counts())

    # Configuration: through the services, like an admin setting Lejek up.

    def _set_up_people(self) -> None:
        admin = self._create_user(DEMO_USERS[0], actor=None)
        self.teams = {key: team_create(actor=admin, name=name) for key, name in TEAM_NAMES.items()}
        self.users = {"admin": admin}
        for spec in DEMO_USERS[1:]:
            self.users[spec.key] = self._create_user(spec, actor=admin)
        self.region_of_team = {team.pk: key for key, team in self.teams.items()}
        # One hash for the shared password: hashing is slow by design (most of a second each).
        User.objects.filter(pk__in=[u.pk for u in self.users.values()]).update(
            password=make_password(DEMO_PASSWORD),
            date_joined=self.now - datetime.timedelta(days=400),
        )

    def _create_user(self, spec: DemoUser, *, actor: User | None) -> User:
        return user_create(
            actor=actor,
            email=spec.email,
            password=None,
            first_name=spec.first_name,
            last_name=spec.last_name,
            role=spec.role,
            teams=[self.teams[region] for region in spec.regions],
            language=spec.language,
        )

    def _set_up_pipelines(self) -> None:
        self.stages: dict[str, list[Stage]] = {}
        for spec in (NEW_BUSINESS, RENEWALS):
            stages = [{"name": name, "probability": p} for name, p in spec.open_stages]
            stages.append({"name": spec.won, "probability": 100, "is_won": True})
            stages.append({"name": spec.lost, "probability": 0, "is_lost": True})
            pipeline = pipeline_create(
                actor=self.users["admin"],
                name=spec.name,
                stages=stages,
                is_default=spec.is_default,
            )
            self.stages[spec.name] = list(pipeline.stages.order_by("position"))

    def _set_up_catalogue(self) -> None:
        admin, marketer = self.users["admin"], self.users["marketing"]
        for sku, name, unit, price, vat in words.PRODUCTS:
            product_create(
                actor=admin,
                sku=sku,
                name=name,
                unit=unit,
                net_price=Decimal(price),
                vat_rate=Decimal(vat),
            )
        self.sources = {
            key: source_create(actor=marketer, name=name, kind=kind)
            for key, name, kind, _weight in SOURCES
        }
        self.source_weights = [(key, weight) for key, _n, _k, weight in SOURCES if weight]
        self.campaigns = []
        for name, channel, source_key, starts_ago, days, cost, share in CAMPAIGNS:
            starts_on = self.today - datetime.timedelta(days=starts_ago)
            campaign = campaign_create(
                actor=marketer,
                name=name,
                channel=channel,
                source=self.sources[source_key],
                starts_on=starts_on,
                ends_on=starts_on + datetime.timedelta(days=days - 1),
                cost=Decimal(cost),
                created_at=self.clock.moment(starts_ago + 14),
            )
            self.campaigns.append((campaign, source_key, share))

    def _set_up_sales_tools(self) -> None:
        """Lists of reasons, a stage gate, a web form and e-mail templates, as a team has them."""
        admin, marketer = self.users["admin"], self.users["marketing"]
        for label, _weight in words.LOST_REASONS:
            reason_create(actor=admin, kind=Reason.Kind.DEAL_LOST, label=label)
        for label in words.DISQUALIFY_REASONS:
            reason_create(actor=admin, kind=Reason.Kind.LEAD_DISQUALIFIED, label=label)
        negotiation = next(s for s in self.stages[NEW_BUSINESS.name] if s.name == "Negocjacje")
        stage_update(
            actor=admin,
            stage=negotiation,
            values={"required_fields": ["amount", "expected_close_date"]},
        )
        webform_create(
            actor=marketer,
            name="Kontakt — strona www",
            source=self.sources["web"],
            team=self.teams["north"],
            fields=[
                {"name": "first_name", "required": False, "label": ""},
                {"name": "last_name", "required": True, "label": ""},
                {"name": "email", "required": True, "label": ""},
                {"name": "phone", "required": False, "label": ""},
                {"name": "company_name", "required": False, "label": ""},
                {"name": "description", "required": False, "label": "Czego szukasz?"},
            ],
            consent_required=True,
            consent_text=words.WEB_FORM_CONSENT,
            success_message="Dziękujemy! Odezwiemy się w ciągu jednego dnia roboczego.",
        )
        for name, language, subject, body in words.EMAIL_TEMPLATES:
            email_template_create(
                actor=marketer, name=name, language=language, subject=subject, body=body
            )

    def _set_up_custom_fields(self) -> None:
        self.fields: dict[str, CustomField] = {}
        for entity, key, label, type_, choices in CUSTOM_FIELDS:
            self.fields[entity] = custom_field_create(
                actor=self.users["admin"],
                entity=entity,
                key=key,
                label=label,
                type=type_,
                choices=choices,
            )

    def _custom(self, entity: str, value: Any) -> dict[str, Any]:
        field = self.fields[entity]
        return {field.key: clean_value(field, value)}

    # The volume rows: built in memory, saved in bulk by `_save`.

    def _owner(self, region: str) -> User:
        keys, weights = zip(*OWNERS[region], strict=True)
        return self.users[self.rng.choices(keys, weights)[0]]

    def _event(
        self,
        verb: str,
        obj: models.Model,
        actor: User | None,
        when: datetime.datetime | None = None,
        *,
        before: dict | None = None,
        after: dict | None = None,
    ) -> None:
        self.events.append((verb, obj, actor, when, before or {}, after or {}))

    def _make_companies(self, count: int) -> None:
        taken: set[str] = set()
        for _ in range(count):
            firm = words.random_firm(self.rng, taken)
            taken.add(firm.brand)
            owner = self._owner(firm.region)
            custom = {}
            if self.rng.random() < 0.7:
                segment = (
                    "MŚP" if firm.size < 50 else "Średnie" if firm.size < 250 else "Korporacja"
                )
                custom = self._custom("company", segment)
            mailbox = self.rng.choice(
                ["info", "office", "hello"] if firm.english else ["biuro", "kontakt", "sekretariat"]
            )
            created = self.clock.moment(self.rng.uniform(20, 365))
            company = Company(
                name=firm.name,
                nip=words.random_nip(self.rng) if firm.country == "PL" else "",
                domain=firm.domain,
                industry=firm.industry,
                size=firm.size,
                phone=firm.phone,
                email=f"{mailbox}@{firm.domain}",
                street=firm.street,
                city=firm.city,
                postal_code=firm.postal_code,
                country=firm.country,
                owner=owner,
                team=self.teams[firm.region],
                custom=custom,
                created_at=created,
                updated_at=created,
            )
            self.companies.append(company)
            self.company_contacts.append([])
            self._event("company.created", company, owner)

    def _make_contacts(self, count: int) -> None:
        per_company = [1] * len(self.companies)
        for _ in range(count - len(self.companies)):
            per_company[self.rng.randrange(len(per_company))] += 1
        for company, people, n in zip(
            self.companies, self.company_contacts, per_company, strict=True
        ):
            # A company writes its addresses one way; only small firms use bare first names.
            style = self.rng.randrange(4 if company.size < 50 else 3)
            for _ in range(n):
                contact = self._contact(company, style, people)
                people.append(contact)
                self._event("contact.created", contact, contact.owner)
        self.contacts = [c for people in self.company_contacts for c in people]
        self.unconverted = list(self.contacts)
        self.rng.shuffle(self.unconverted)

    def _contact(self, company: Company, style: int, colleagues: list[Contact]) -> Contact:
        english = company.country != "PL" or self.rng.random() < 0.04
        person = words.random_person(self.rng, english=english)
        email = person.email_at(company.domain, style)
        if any(c.email == email for c in colleagues):
            local, domain = email.split("@")
            email = f"{local}{len(colleagues) + 1}@{domain}"
        created = self.clock.after(company.created_at, 0, 90) or company.created_at
        custom = {}
        if self.rng.random() < 0.5:
            custom = self._custom("contact", self.rng.random() < 0.6)
        return Contact(
            first_name=person.first_name,
            last_name=person.last_name,
            email=email,
            phone=words.uk_mobile(self.rng) if english else words.pl_mobile(self.rng),
            title=self.rng.choice(words.EN_TITLES if english else words.PL_TITLES),
            company=company,
            preferred_channel=self.rng.choice(["email", "email", "phone", "meeting", ""]),
            language="en" if english else "pl",
            owner=company.owner,
            team=company.team,
            custom=custom,
            created_at=created,
            updated_at=created,
        )

    def _make_leads(self) -> None:
        prospects: list[words.Firm] = []
        taken = {c.name for c in self.companies}
        for _ in range(max(5, min(round(self.lead_count * 0.5), 2_500))):
            firm = words.random_firm(self.rng, taken)
            taken.add(firm.brand)
            prospects.append(firm)
        for _ in range(self.lead_count):
            self._lead(prospects)

    def _lead_origin(self) -> tuple[str, Any, datetime.datetime]:
        """(source key, campaign or None, arrival) of one lead."""
        if self.rng.random() < CAMPAIGN_SHARE:
            campaign, key, _share = self.rng.choices(
                self.campaigns, weights=[c[2] for c in self.campaigns]
            )[0]
            first = (self.today - campaign.starts_on).days
            last = max(0, (self.today - campaign.ends_on).days - CAMPAIGN_TAIL_DAYS)
            return key, campaign, self.clock.moment(self.rng.uniform(last, first))
        keys, weights = zip(*self.source_weights, strict=True)
        key = self.rng.choices(keys, weights)[0]
        # More leads lately than a year ago: the business is growing.
        return key, None, self.clock.moment(365 * self.rng.random() ** 1.4)

    def _lead(self, prospects: list[words.Firm]) -> None:
        source_key, campaign, created = self._lead_origin()
        age = (self.now - created).total_seconds() / 86_400
        statuses, weights = lead_status_odds(age)
        status = self.rng.choices(statuses, weights)[0]
        converted_at = None
        if status == Lead.Status.CONVERTED:
            converted_at = self.clock.after(created, 2, 25)
            if converted_at is None or not self.unconverted:
                status, converted_at = Lead.Status.SQL, None
        lead = (
            self._converted_lead(created, converted_at)
            if converted_at
            else self._open_lead(prospects, status)
        )
        lead.status = status
        lead.source = self.sources[source_key]
        lead.campaign = campaign
        self.lead_scores.append(LeadScore(lead=lead, score=self.rng.randint(*LEAD_SCORES[status])))
        lead.created_at = created
        lead.updated_at = converted_at or (
            created if status == Lead.Status.NEW else self.clock.after(created, 0.5, 12) or created
        )
        if self.rng.random() < 0.4:
            budget = round(self.rng.lognormvariate(math.log(40_000), 0.7), -3)
            lead.custom = self._custom("lead", max(budget, 2_000))
        if self.rng.random() < 0.35:
            text = self.rng.choice(words.LEAD_DESCRIPTIONS)
            lead.description = text.format(n=self.rng.choice([5, 10, 15, 25, 40, 60]))
        self.leads.append(lead)
        if source_key in SYSTEM_SOURCES:
            actor = None
        elif source_key in MARKETING_SOURCES or lead.owner is None:
            actor = self.users["marketing"]
        else:
            actor = lead.owner
        self._event("lead.created", lead, actor)
        self._status_path(lead, actor)
        self._lead_history(lead)
        if converted_at:
            self._converted_deal(lead)

    def _open_lead(self, prospects: list[words.Firm], status: str) -> Lead:
        company = None
        if self.rng.random() < 0.15:
            company = self.rng.choice(self.companies)
            name, domain = company.name, company.domain
            english, region = company.country != "PL", self.region_of_team[company.team_id]
        else:
            firm = self.rng.choice(prospects)
            name, domain, english, region = firm.name, firm.domain, firm.english, firm.region
        person = words.random_person(self.rng, english=english)
        if not english and self.rng.random() < 0.1:
            email = person.email_at(self.rng.choice(words.PERSONAL_MAIL_DOMAINS), 0)
        else:
            email = person.email_at(domain, self.rng.randrange(3))
        if status == Lead.Status.NEW and self.rng.random() < 0.35:
            owner = None  # waiting in the team's pool for someone to pick it up
        else:
            owner = self._owner(region)
        phone = ""
        if self.rng.random() < 0.65:
            phone = words.uk_mobile(self.rng) if english else words.pl_mobile(self.rng)
        title = ""
        if self.rng.random() < 0.7:
            title = self.rng.choice(words.EN_TITLES if english else words.PL_TITLES)
        return Lead(
            first_name=person.first_name,
            last_name=person.last_name,
            email=email,
            phone=phone,
            company_name=name,
            title=title,
            company=company,
            owner=owner,
            team=self.teams[region],
        )

    def _converted_lead(self, created: datetime.datetime, converted_at: datetime.datetime) -> Lead:
        # The contact (and its company) is what the lead became: it dates from the conversion.
        contact = self.unconverted.pop()
        contact.created_at = contact.updated_at = converted_at
        return Lead(
            first_name=contact.first_name,
            last_name=contact.last_name,
            email=contact.email,
            phone=contact.phone,
            company_name=contact.company.name,
            title=contact.title,
            contact=contact,
            company=contact.company,
            owner=contact.owner,
            team=contact.team,
        )

    def _status_path(self, lead: Lead, actor) -> None:
        """The lifecycle steps that brought the lead to its status, spread evenly from its
        creation to its last update (no random draws, so the rest of the data stays as it
        was)."""
        order = [Lead.Status.NEW, Lead.Status.CONTACTED, Lead.Status.MQL, Lead.Status.SQL]
        if lead.status == Lead.Status.DISQUALIFIED:
            path = [Lead.Status.NEW, Lead.Status.CONTACTED, Lead.Status.DISQUALIFIED]
        elif lead.status == Lead.Status.CONVERTED:
            path = [*order, Lead.Status.CONVERTED]
        else:
            path = order[: order.index(lead.status) + 1]
        # How far it got; no path enters a status twice, so no change has a previous entry.
        lead.furthest_status = furthest_to_keep(path, lead.status)
        span = lead.updated_at - lead.created_at
        for i, status in enumerate(path):
            when = lead.created_at + span * (i / max(len(path) - 1, 1))
            self.status_changes.append(
                LeadStatusChange(
                    lead=lead,
                    from_status=path[i - 1] if i else "",
                    to_status=status,
                    changed_at=when,
                    actor=actor if i == 0 else lead.owner,
                )
            )
        if lead.status == Lead.Status.MQL and lead.owner is not None:
            # Handed to its rep when it became marketing-qualified; the older ones are overdue.
            offered = self.status_changes[-1].changed_at
            self.handoffs.append(
                Handoff(
                    lead=lead,
                    source=lead.source,
                    owner=lead.owner,
                    offered_at=offered,
                    due_at=offered + datetime.timedelta(hours=DEFAULT_ACCEPT_HOURS),
                )
            )

    def _lead_history(self, lead: Lead) -> None:
        """The calls and e-mails that moved a lead along, and the task that is next."""
        status = lead.status
        if lead.owner is None:
            return
        if status != Lead.Status.NEW:
            count = 1 if status in (Lead.Status.CONTACTED, Lead.Status.DISQUALIFIED) else 2
            lines = self.rng.sample(words.LEAD_ACTIVITIES, count)
            for line in lines:
                self._activity(lead, line, self.clock.between(lead.created_at, lead.updated_at))
            if status == Lead.Status.DISQUALIFIED:
                self._activity(lead, words.DISQUALIFIED_NOTE, lead.updated_at)
        age = (self.today - self.clock.date(lead.created_at)).days
        if status == Lead.Status.NEW and age < 30 and self.rng.random() < 0.3:
            due = self.clock.date(lead.created_at) + datetime.timedelta(days=1)
            self._task(lead, words.LEAD_TASKS[0], lead.created_at, due)
        elif status in OPEN_TOUCHED and self.rng.random() < 0.35:
            due = self.today + datetime.timedelta(days=self.rng.randint(-5, 10))
            due = max(due, self.clock.date(lead.updated_at))
            title = self.rng.choice(words.LEAD_TASKS[1:])
            self._task(lead, title, lead.updated_at, due)

    def _activity(self, subject, line: tuple[str, str, str], when: datetime.datetime) -> None:
        kind, subject_line, body = line
        low_high = DURATIONS.get(kind)
        activity = Activity(
            kind=kind,
            subject_line=subject_line,
            body=body,
            occurred_at=when,
            duration_minutes=self.rng.randint(*low_high) if low_high else None,
            author=subject.owner,
            created_at=when,
            **{subject._meta.model_name: subject},
        )
        self.activities.append(activity)
        self._event("activity.logged", activity, subject.owner)

    def _task(
        self,
        subject,
        title: str,
        created: datetime.datetime,
        due: datetime.date,
        done_at: datetime.datetime | None = None,
    ) -> None:
        task = Task(
            title=title,
            due_date=due,
            assignee=subject.owner,
            created_by=subject.owner,
            created_at=created,
            updated_at=done_at or created,
            done_at=done_at,
            **{subject._meta.model_name: subject},
        )
        self.tasks.append(task)
        self._event("task.created", task, subject.owner)

    def _converted_deal(self, lead: Lead) -> None:
        company = lead.company
        topic = self.rng.choice(words.DEAL_TOPICS)
        self._deal(
            spec=NEW_BUSINESS,
            title=f"{words.short_name(company.name)} — {topic}",
            company=company,
            contact=lead.contact,
            lead=lead,
            source=lead.source,
            start=lead.updated_at,
        )

    def _make_direct_deals(self, count: int) -> None:
        """Deals opened without a lead: renewals of existing customers and referrals."""
        for _ in range(count):
            index = self.rng.randrange(len(self.companies))
            company = self.companies[index]
            contact = self.rng.choice(self.company_contacts[index])
            start = self.clock.moment(self.rng.uniform(1, 360))
            if self.rng.random() < 0.45:
                spec, source = RENEWALS, None
                year = self.clock.date(start).year
                title = f"{words.short_name(company.name)} — odnowienie opieki serwisowej {year}"
            else:
                spec = NEW_BUSINESS
                source = self.sources[self.rng.choice(["referral", "manual"])]
                title = f"{words.short_name(company.name)} — {self.rng.choice(words.DEAL_TOPICS)}"
            self._deal(
                spec=spec,
                title=title,
                company=company,
                contact=contact,
                lead=None,
                source=source,
                start=start,
            )

    def _simulate(self, spec: PipelineSpec, start: datetime.datetime) -> list[tuple[int, Any]]:
        """A deal's stage moves as (stage position, when): most stall early, some win or lose."""
        moves = [(0, start)]
        position, at = 0, start
        won, lost = len(spec.open_stages), len(spec.open_stages) + 1
        while position < won:
            forward, losing = spec.odds[position]
            roll = self.rng.random()
            if roll >= forward + losing:
                break
            at = self.clock.after(at, *spec.days_per_stage)
            if at is None:
                break
            position = position + 1 if roll < forward else lost
            moves.append((position, at))
        return moves

    def _amount(self, company: Company, renewal: bool) -> tuple[Decimal, str]:
        size = company.size
        scale = 0.35 if size < 10 else 0.6 if size < 50 else 1 if size < 250 else 1.8
        value = self.rng.lognormvariate(math.log((9_000 if renewal else 38_000) * scale), 0.6)
        if company.country != "PL":
            return Decimal(max(500, round(value / 4.3, -1))).quantize(Decimal("0.01")), "EUR"
        return Decimal(max(1_500, round(value, -2))).quantize(Decimal("0.01")), "PLN"

    def _deal(
        self,
        *,
        spec: PipelineSpec,
        title: str,
        company: Company,
        contact: Contact,
        lead: Lead | None,
        source: Source | None,
        start: datetime.datetime,
    ) -> None:
        stages = self.stages[spec.name]
        moves = self._simulate(spec, start)
        position, last_at = moves[-1]
        stage = stages[position]
        amount, currency = self._amount(company, spec is RENEWALS)
        lost_reason = ""
        if stage.is_lost:
            reasons, weights = zip(*words.LOST_REASONS, strict=True)
            lost_reason = self.rng.choices(reasons, weights)[0]
        custom = {}
        if lost_reason == "Wybrali konkurencję" or self.rng.random() < 0.25:
            custom = self._custom("deal", self.rng.choice(words.COMPETITORS))
        if stage.is_closed:
            expected = self.clock.date(last_at)
        else:
            expected = self.clock.date(last_at) + datetime.timedelta(days=self.rng.randint(14, 60))
        deal = Deal(
            title=title,
            pipeline_id=stage.pipeline_id,
            stage=stage,
            amount=amount,
            currency=currency,
            expected_close_date=expected,
            closed_at=last_at if stage.is_closed else None,
            lost_reason=lost_reason,
            stage_entered_at=last_at,
            company=company,
            contact=contact,
            lead=lead,
            source=source,
            owner=company.owner,
            team=company.team,
            custom=custom,
            created_at=start,
            updated_at=last_at,
            stages_visited=visited_key(stages[position].pk for position, _at in moves),
        )
        self.deals.append(deal)
        self._event("deal.created", deal, deal.owner)
        self._stage_history(deal, stages, moves)
        self._deal_work(deal, spec, moves)

    def _stage_history(self, deal: Deal, stages: list[Stage], moves: list) -> None:
        for move in moves_along((stages[position], at) for position, at in moves):
            self.changes.append(StageChange(deal=deal, actor=deal.owner, **vars(move)))
            stage = move.to_stage
            if move.from_stage is not None:
                self._event(
                    "deal.stage_changed",
                    deal,
                    deal.owner,
                    move.changed_at,
                    before={"stage": move.from_stage.pk},
                    after={
                        "stage": stage.pk,
                        "lost_reason": deal.lost_reason if stage.is_lost else "",
                    },
                )

    def _deal_work(self, deal: Deal, spec: PipelineSpec, moves: list) -> None:
        """Activities through each stage, a closing note, and the tasks around them."""
        for (position, start), following in zip(moves, [*moves[1:], None], strict=True):
            if position >= len(spec.open_stages):
                break
            # A stalled deal went quiet: its activity stops a few weeks after the last move.
            end = following[1] if following else min(self.now, start + datetime.timedelta(days=30))
            lines = spec.activities[position]
            for line in self.rng.sample(lines, self.rng.randint(1, min(2, len(lines)))):
                self._activity(deal, line, self.clock.between(start, end))
        if deal.stage.is_won:
            self._activity(deal, words.WON_NOTE, deal.closed_at)
        elif deal.stage.is_lost:
            kind, subject_line, body = words.LOST_NOTE
            note = (kind, subject_line, body.format(reason=deal.lost_reason))
            self._activity(deal, note, deal.closed_at)
        if self.rng.random() < 0.5:
            end = moves[1][1] if len(moves) > 1 else self.now
            done_at = self.clock.between(deal.created_at, end)
            title = self.rng.choice(words.DONE_TASKS)
            self._task(deal, title, deal.created_at, self.clock.date(done_at), done_at)
        if not deal.stage.is_closed:
            self._next_step(deal, spec)

    def _next_step(self, deal: Deal, spec: PipelineSpec) -> None:
        """Every open deal has a next step: some overdue, some due today, most ahead."""
        roll = self.rng.random()
        if roll < 0.25:
            offset = -self.rng.randint(1, 14)
        elif roll < 0.45:
            offset = 0
        else:
            offset = self.rng.randint(1, 21)
        due = self.today + datetime.timedelta(days=offset)
        entered = deal.stage_entered_at
        due = max(due, self.clock.date(entered))
        self._task(deal, spec.tasks[deal.stage.position], entered, due)

    def _make_comments(self) -> None:
        """A manager's questions on a few open deals, some answered by the rep."""
        open_deals = [d for d in self.deals if not d.stage.is_closed]
        count = min(len(open_deals), max(3, len(self.deals) // 20))
        manager, admin = self.users["manager"], self.users["admin"]
        for deal in self.rng.sample(open_deals, count):
            in_managers_team = deal.team_id in manager.team_ids and deal.owner != manager
            author = manager if in_managers_team else admin
            since = max(deal.stage_entered_at, self.now - datetime.timedelta(days=30))
            when = self.clock.between(since, self.now)
            body = self.rng.choice(words.COMMENTS).format(handle=deal.owner.mention_handle)
            self._comment(deal, author, body, when)
            self.mentions.append((self.comments[-1], deal.owner))
            reply_at = self.clock.after(when, 0, 2)
            if reply_at and self.rng.random() < 0.5:
                self._comment(deal, deal.owner, self.rng.choice(words.REPLIES), reply_at)

    def _comment(self, deal: Deal, author: User, body: str, when: datetime.datetime) -> None:
        comment = Comment(deal=deal, author=author, body=body, created_at=when)
        self.comments.append(comment)
        self._event("comment.added", comment, author)

    def _backdate_parents(self) -> None:
        """A contact or company exists before anything that points at it."""
        for deal in self.deals:
            deal.contact.created_at = min(deal.contact.created_at, deal.created_at)
        for row in [*self.contacts, *self.leads, *self.deals]:
            if row.company is not None:
                row.company.created_at = min(row.company.created_at, row.created_at)
        for row in [*self.companies, *self.contacts]:
            row.updated_at = max(row.updated_at, row.created_at)

    def _save(self) -> None:
        rows = [
            (Company, self.companies),
            (Contact, self.contacts),
            (Lead, self.leads),
            (LeadScore, self.lead_scores),
            (LeadStatusChange, self.status_changes),
            (Handoff, self.handoffs),
            (Deal, self.deals),
            (StageChange, self.changes),
            (Activity, self.activities),
            (Task, self.tasks),
            (Comment, self.comments),
        ]
        for model, objs in rows:
            model.objects.bulk_create(objs, batch_size=1000)
        through = Comment.mentions.through
        through.objects.bulk_create(
            [through(comment_id=c.pk, user_id=u.pk) for c, u in self.mentions]
        )
        types = ContentType.objects.get_for_models(*[model for model, _objs in rows])
        Event.objects.bulk_create(
            [
                Event(
                    created_at=when or obj.created_at,
                    actor=actor,
                    verb=verb,
                    content_type=types[type(obj)],
                    object_id=obj.pk,
                    object_repr=str(obj)[:200],
                    before=before,
                    after=after,
                )
                for verb, obj, actor, when, before, after in self.events
            ],
            batch_size=1000,
        )

    def _counts(self) -> dict[str, int]:
        return {
            "companies": len(self.companies),
            "contacts": len(self.contacts),
            "leads": len(self.leads),
            "deals": len(self.deals),
            "stage changes": len(self.changes),
            "activities": len(self.activities),
            "tasks": len(self.tasks),
            "comments": len(self.comments),
            "events": len(self.events),
        }


def default_now() -> datetime.datetime:
    """The data set is "as of" the start of today: one seed gives the same data all day long."""
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def build_demo(
    *, seed: int = DEFAULT_SEED, leads: int = SIZES["small"], now: datetime.datetime | None = None
) -> DemoSummary:
    """Create the demo data set in one transaction. The database must hold no users yet."""
    with transaction.atomic():
        return DemoBuilder(seed=seed, leads=leads, now=now or default_now()).build()


def has_data() -> bool:
    return any(model.objects.exists() for model in (User, Lead, Contact, Company, Deal))


def reset_data() -> None:
    """Delete every row of every table, users included, the way `manage.py flush` does."""
    call_command("flush", interactive=False, verbosity=0)


def demo_logins() -> list[tuple[str, str, str]]:
    """(e-mail, role, teams) of each demo user present in the database, in a fixed order."""
    users = User.objects.filter(email__in=[u.email for u in DEMO_USERS]).prefetch_related("teams")
    by_email = {user.email: user for user in users}
    return [
        (
            spec.email,
            ROLE_NAMES[spec.role],
            ", ".join(team.name for team in by_email[spec.email].teams.all()),
        )
        for spec in DEMO_USERS
        if spec.email in by_email
    ]
