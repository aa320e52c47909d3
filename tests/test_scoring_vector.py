"""The batch path scores leads as arrays; it must give exactly what one lead scored alone gets,
and what a plain lead-by-lead reading of the rules and the model gives."""

from __future__ import annotations

import datetime

import numpy as np
import pytest
from django.utils import timezone

from lejek.activities.models import Activity
from lejek.core.services_custom_fields import custom_field_create
from lejek.leads.assignment import condition_holds
from lejek.leads.models import Campaign, FormSubmission, Lead, Source, WebForm
from lejek.scoring import compute, features, synthetic
from lejek.scoring.models import Engagement, LeadScore, ScoringModel
from lejek.scoring.predictive import train
from lejek.scoring.rules import engagement_points, engine_condition, probe, raw_value
from lejek.scoring.services import (
    engagement_rules_save,
    fit_rule_create,
    fit_rule_update,
    lead_rescore,
    rescore_all,
    scoring_settings_update,
)
from tests.factories import make_activity, make_lead

# One condition per operator, on standard, scoring-only and custom fields.
RULES = [
    ("Poland", 30, [("country", "eq", "PL")]),
    ("Not Germany", 3, [("country", "ne", "DE")]),
    ("DACH or CZ", 7, [("country", "in", "DE, AT, CH, cz")]),
    ("Chief", 12, [("title", "contains", "chief")]),
    ("Big", 20, [("company_size", "gte", "100")]),
    ("Small", -5, [("company_size", "lte", "10")]),
    ("Size known", 2, [("company_size", "is_set", "yes")]),
    ("Size unknown", -2, [("company_size", "is_set", "no")]),
    ("Referral", 10, [("source", "eq", "referral")]),
    ("Ads", 4, [("campaign", "eq", "Google Ads Q1")]),
    ("Paid", 3, [("medium", "in", "cpc, social")]),
    ("New", 1, [("status", "eq", "new")]),
    ("Free mailbox", -10, [("email_kind", "eq", "free")]),
    ("Our domain", 6, [("email_domain", "contains", "firma")]),
    ("Named company", 2, [("company_name", "is_set", "yes")]),
    ("Software", 25, [("custom.industry", "eq", "software")]),
    ("Big budget", 9, [("custom.budget", "gte", "50")]),
    ("Subscribed", 5, [("custom.newsletter", "eq", "true")]),
    ("Polish software", 8, [("country", "eq", "PL"), ("custom.industry", "eq", "software")]),
    ("Everyone", 1, []),
]

# (country, title, size, e-mail, company, source, campaign, medium, custom): known, missing
# and never-seen values, and custom values of odd types as other systems write them.
LEADS = [
    ("PL", "Chief Executive", 250, "szef@firma.pl", "Firma", "referral", None, "cpc", {}),
    (
        "pl",
        "CEO",
        5,
        "ceo@gmail.com",
        "",
        "web_form",
        "Google Ads Q1",
        "",
        {"industry": "software"},
    ),
    ("DE", "", None, "", "", None, None, "social", {"industry": "retail", "budget": 120}),
    ("CZ", "Student", 10, "x@seznam.cz", "Ucz", "event", None, "", {"budget": "75,5"}),
    ("JP", "Astronaut", 100, "ken@example.jp", "", "import", None, "", {"industry": "mining"}),
    ("", "Chief of Staff", 99, "a@o2.pl", "", None, "Google Ads Q1", "cpc", {"newsletter": True}),
    ("AT", "Owner", 1000, "b@firma.de", "Firma", "referral", None, "", {"newsletter": False}),
    ("GB", "CTO", 0, "c@outlook.com", "", "web_form", None, "", {"newsletter": 1, "budget": 0}),
    ("US", "Intern", 3, "d@corp.us", "", None, None, "", {"budget": None, "industry": ""}),
    ("PL", "Sales Manager", 50, "e@firma.pl", "", "event", None, "", {"budget": [1, 2]}),
    ("UA", "CEO", 20, "f@ukr.net", "", "campaign", "Google Ads Q1", "", {"industry": "software"}),
    ("ch", "chief", 75, "g@FIRMA.ch", "", "referral", None, "organic", {"budget": 50}),
]

DAYS = [0, 0.5, 3, 14, 40, 400, -2]  # -2: dated in the future, counts in full


@pytest.fixture
def custom_fields(admin):
    for key, kind, label in synthetic.CUSTOM_FIELDS:
        custom_field_create(
            actor=admin,
            entity="lead",
            key=key,
            label=label,
            type=kind,
            choices=["software", "manufacturing", "retail", "education"]
            if kind == "choice"
            else None,
        )


@pytest.fixture
def model(db):
    records, outcomes, _truth = synthetic.generate(3000, seed=21)
    trained = train(records, outcomes, synthetic.spec(), seed=0)
    return ScoringModel.objects.create(version=1, **trained.stored_fields())


@pytest.fixture
def varied_leads(manager, rep, custom_fields):
    # Qualifying changes a lead's status, which a rule tests: keep statuses still.
    scoring_settings_update(actor=manager, mql_threshold=None)
    engagement_rules_save(
        actor=manager,
        rules={
            "note": (1, 7),
            "call": (8, 14),
            "meeting": (15, 30),
            "email": (-4, 3),
            "form_submitted": (10, 30),
            "page_visit": (2, 7),
        },
    )
    for name, points, conditions in RULES:
        fit_rule_create(
            actor=manager,
            name=name,
            points=points,
            conditions=[{"field": f, "op": op, "value": v} for f, op, v in conditions],
        )
    sources = {name: Source.objects.create(name=name) for name in synthetic.SOURCES}
    campaign = Campaign.objects.create(name="Google Ads Q1")
    form = WebForm.objects.create(name="Contact us")
    now = timezone.now()
    leads = []
    for n, (country, title, size, email, company, source, camp, medium, custom) in enumerate(LEADS):
        lead = make_lead(
            rep,
            country=country,
            title=title,
            company_size=size,
            email=email,
            company_name=company,
            source=sources.get(source),
            campaign=campaign if camp else None,
            medium=medium,
        )
        # Stored as-is, past the form's checks: what an import or an older version left.
        Lead.objects.filter(pk=lead.pk).update(custom=custom)
        leads.append(lead)
        for k, kind in enumerate(["note", "call", "meeting", "email"][: n % 5]):
            for days in DAYS[(n + k) % len(DAYS) :: 3]:
                activity = make_activity(rep, lead, kind=kind)
                Activity.objects.filter(pk=activity.pk).update(
                    occurred_at=now - datetime.timedelta(days=days)
                )
        if n % 3 == 0:
            submission = FormSubmission.objects.create(
                form=form, key=f"k{n}", body_hash="x", lead=lead
            )
            FormSubmission.objects.filter(pk=submission.pk).update(
                created_at=now - datetime.timedelta(days=n)
            )
        for days in DAYS[n % 4 :: 2]:
            Engagement.objects.create(
                lead=lead, kind="page_visit", occurred_at=now - datetime.timedelta(days=days)
            )
    # A kind without a rule of its own still counts for the model, never for points.
    Engagement.objects.create(lead=leads[0], kind="unknown", occurred_at=now)
    return leads


def stored(lead_id: int) -> tuple:
    s = LeadScore.objects.get(pk=lead_id)
    return (
        s.score,
        s.fit_points,
        s.engagement_points,
        s.explanation,
        s.probability,
        s.factors,
        s.model_version,
    )


def test_batches_and_one_lead_alone_store_identical_scores(varied_leads, model):
    assert rescore_all(batch=5) == len(varied_leads)
    in_bulk = {lead.pk: stored(lead.pk) for lead in varied_leads}
    for lead in varied_leads:
        lead_rescore(lead.pk)
    alone = {lead.pk: stored(lead.pk) for lead in varied_leads}

    assert in_bulk == alone
    assert len({row[0] for row in in_bulk.values()}) > 5  # the leads really differ
    assert all(row[4] is not None and row[5] for row in in_bulk.values())
    assert all(row[6] == model.version for row in in_bulk.values())


def test_the_batch_path_equals_scoring_each_lead_field_by_field(varied_leads, model):
    """The reference: the engine's condition_holds per lead and condition, the decay of each
    engagement one by one, and the model's record-based formula used in training."""
    rescore_all(batch=4)
    context = compute.Context.load()
    ids = [lead.pk for lead in varied_leads]
    rows = {row["id"]: row for row in compute.lead_rows(ids)}
    events = compute.engagement_of(ids)
    for pk in ids:
        scored = LeadScore.objects.get(pk=pk)
        row = rows[pk]
        aged, counts, last = compute.summary(events.get(pk, []), scored.computed_at)
        matched = [
            rule
            for rule in context.fit.rules
            if all(
                condition_holds(
                    probe(c["field"], raw_value(row, c["field"]), context.lookups),
                    engine_condition(c),
                )
                for c in rule.conditions
            )
        ]
        per_kind = engagement_points(aged, context.decay)
        expected = [{"kind": "fit", "label": r.name, "points": r.points} for r in matched]
        expected += [
            {"kind": "engagement", "label": kind, "points": round(points, 1)}
            for kind, points in sorted(per_kind.items(), key=lambda item: -abs(item[1]))
            if round(points, 1)
        ]
        fit = float(sum(r.points for r in matched))
        engaged = sum(per_kind.values())
        assert scored.explanation == expected
        assert (scored.fit_points, scored.engagement_points) == (fit, round(engaged, 2))
        assert scored.score == max(0, min(100, round(fit + engaged)))

        record = features.record_from_row(row, context.lookups, counts, last)
        cat, num = features.matrices([record], context.model.spec)
        contributions = context.model.contributions(cat, num)
        logit = context.model.intercept + contributions.sum(axis=1)
        assert scored.probability == float(np.round(1 / (1 + np.exp(-logit)), 4)[0])
        assert scored.factors == context.model.factors([record], contributions)[0]


def test_unseen_values_and_odd_custom_types_still_get_a_probability(varied_leads, model):
    rescore_all()
    astronaut = LeadScore.objects.get(lead__title="Astronaut")
    assert 0 < astronaut.probability < 1
    listed = LeadScore.objects.get(lead__country="PL", lead__title="Sales Manager")
    assert 0 < listed.probability < 1
    budget = [f for f in listed.factors if f["feature"] == "custom.budget"]
    assert budget == [] or budget[0]["value"] == "[1, 2]"


def test_a_lead_gone_between_batches_is_skipped_and_the_rest_scored(varied_leads):
    gone = varied_leads[3]
    Lead.objects.filter(pk=gone.pk).delete()

    assert rescore_all(batch=2) == len(varied_leads) - 1
    assert lead_rescore(gone.pk) is None
    assert not LeadScore.objects.filter(pk=gone.pk).exists()


def test_a_rescore_rewrites_only_the_rows_whose_values_changed(manager, rep):
    scoring_settings_update(actor=manager, mql_threshold=None)
    poland = fit_rule_create(
        actor=manager,
        name="Poland",
        points=30,
        conditions=[{"field": "country", "op": "eq", "value": "PL"}],
    )
    polish, german = make_lead(rep, country="PL"), make_lead(rep, country="DE")
    rescore_all()
    first = {s.pk: s.computed_at for s in LeadScore.objects.all()}

    fit_rule_update(
        actor=manager,
        rule=poland,
        name="Poland",
        conditions=poland.conditions,
        points=35,
        is_active=True,
    )
    rescore_all()

    now = {s.pk: s for s in LeadScore.objects.all()}
    assert now[polish.pk].score == 35 and now[polish.pk].computed_at > first[polish.pk]
    assert now[german.pk].score == 0 and now[german.pk].computed_at == first[german.pk]


@pytest.mark.django_db(transaction=True)
def test_writing_behind_in_a_second_thread_stores_what_writing_in_line_does(varied_leads, model):
    from django.db import connection

    assert not connection.in_atomic_block  # so the batches are written by the second thread
    seen = []
    assert rescore_all(batch=3, progress=lambda done, total: seen.append(done)) == len(varied_leads)
    behind = {lead.pk: stored(lead.pk) for lead in varied_leads}
    for lead in varied_leads:
        lead_rescore(lead.pk)

    assert behind == {lead.pk: stored(lead.pk) for lead in varied_leads}
    assert seen == sorted(seen) and seen[-1] == len(varied_leads)
