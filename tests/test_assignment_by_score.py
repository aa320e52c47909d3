"""Assignment rules that test the lead's scores: the score and the win probability a lead has
at the moment it is routed, from a form, the API, an import or a person."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from lejek.core.models import Event
from lejek.imports.models import ImportJob
from lejek.leads.assignment import clean_condition, rule_create
from lejek.leads.assignment_forms import RuleForm
from lejek.leads.models import Lead, Source
from lejek.leads.services import lead_create
from lejek.scoring.rules import clean_fit_condition
from lejek.scoring.services import fit_rule_create, lead_rescore, model_train
from tests.test_import_support import media, run_file, write_csv  # noqa: F401
from tests.test_scoring_model import _outcome_leads

pytestmark = pytest.mark.django_db


def cond(field, op, value) -> dict:
    return {"field": field, "op": op, "value": value}


@pytest.fixture
def polish_fit(manager):
    """Polish leads score 40 from fit alone."""
    return fit_rule_create(
        actor=manager, name="Poland", points=40, conditions=[cond("country", "eq", "PL")]
    )


@pytest.fixture
def hot_to_north(admin, north, rep, polish_fit):
    return rule_create(
        actor=admin, name="Hot leads", team=north, conditions=[cond("score", "gte", "30")]
    )


@pytest.fixture
def rest_to_south(admin, south, other_rep, hot_to_north):
    return rule_create(actor=admin, name="Everyone else", team=south, conditions=[])


def test_a_new_lead_is_routed_by_the_score_it_has_when_it_arrives(
    admin, rep, other_rep, hot_to_north, rest_to_south
):
    polish = lead_create(actor=admin, first_name="Ola", email="ola@firma.pl", country="PL")
    german = lead_create(actor=admin, first_name="Udo", email="udo@firma.de", country="DE")

    assert (polish.owner, german.owner) == (rep, other_rep)
    assigned = Event.objects.get(verb="lead.assigned", object_id=polish.pk)
    assert assigned.after["rule"] == "Hot leads"
    # The stored score the rescore writes afterwards agrees with what routing saw.
    assert lead_rescore(polish.pk).score == 40
    assert lead_rescore(german.pk).score == 0


def test_a_rule_can_route_by_win_probability_once_a_model_is_trained(admin, north, south, rep):
    _outcome_leads(400)  # Polish referrals mostly won, others mostly lost
    referral = Source.objects.get(name="Referral")
    rule = rule_create(
        actor=admin,
        name="Likely buyers",
        team=north,
        conditions=[cond("win_probability", "gte", "60")],
    )

    before_training = lead_create(actor=admin, email="a@firma.pl", country="PL", source=referral)
    assert model_train(actor=None) is not None
    likely = lead_create(actor=admin, email="b@firma.pl", country="PL", source=referral)
    unlikely = lead_create(actor=admin, email="bob@gmail.com", country="US")

    # Without a model there is no probability, so "at least 60 %" cannot hold.
    assert before_training.owner is None
    assert likely.owner == rep
    assert unlikely.owner is None
    assert Event.objects.get(verb="lead.assigned", object_id=likely.pk).after["rule"] == rule.name
    assert lead_rescore(likely.pk).probability >= 0.6 > lead_rescore(unlikely.pk).probability


@pytest.mark.usefixtures("media")
def test_an_import_routes_each_row_by_its_score(
    admin, rep, other_rep, hot_to_north, rest_to_south, tmp_path
):
    rows = [["Imię", "Nazwisko", "E-mail", "Kraj"]]
    rows += [[f"P{n}", "Nowak", f"p{n}@firma.pl", "PL"] for n in range(5)]
    rows += [[f"D{n}", "Weber", f"d{n}@firma.de", "DE"] for n in range(4)]

    job = run_file(admin, "lead", write_csv(tmp_path, rows))

    assert job.status == ImportJob.Status.DONE, job.message
    owners = dict(Lead.objects.values_list("email", "owner"))
    assert {owners[f"p{n}@firma.pl"] for n in range(5)} == {rep.pk}
    assert {owners[f"d{n}@firma.de"] for n in range(4)} == {other_rep.pk}


def test_a_lead_already_engaged_is_routed_with_its_engagement(
    admin, manager, north, rep, polish_fit
):
    from lejek.activities.services import activity_log
    from lejek.leads.assignment import lead_assign_automatically

    rule_create(actor=admin, name="Warm", team=north, conditions=[cond("score", "gte", "55")])
    lead = lead_create(actor=admin, email="ewa@firma.pl", country="PL", assign=False)
    assert lead_assign_automatically(actor=admin, lead=lead).owner is None  # 40 points

    activity_log(actor=admin, subject=lead, kind="meeting", body="Demo")  # +15 today
    assert lead_assign_automatically(actor=admin, lead=lead).owner == rep


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (cond("score", "gte", "150"), "from 0 to 100"),
        (cond("score", "gte", "high"), "number"),
        (cond("win_probability", "contains", "5"), "from 0 to 100"),
        (cond("win_probability", "eq", "-1"), "from 0 to 100"),
    ],
)
def test_score_conditions_need_a_number_from_0_to_100(admin, north, condition, message):
    with pytest.raises(ValidationError) as error:
        rule_create(actor=admin, name="Bad", team=north, conditions=[condition])
    assert message in str(error.value)


def test_fit_rules_cannot_test_the_score_they_produce():
    assert clean_condition(cond("score", "gte", "10"), with_scores=True)["field"] == "score"
    with pytest.raises(ValidationError):
        clean_fit_condition(cond("score", "gte", "10"))
    with pytest.raises(ValidationError):
        clean_fit_condition(cond("win_probability", "gte", "10"))


def test_the_rule_editor_offers_the_scores(admin, north):
    choices = dict(RuleForm(actor=admin).fields["cond-0-field"].choices)
    assert "score" in choices and "win_probability" in choices

    form = RuleForm(
        data={
            "name": "Hot",
            "team": north.pk,
            "is_active": "on",
            "cond-0-field": "score",
            "cond-0-op": "gte",
            "cond-0-value": "70",
        },
        actor=admin,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["conditions"] == [cond("score", "gte", "70")]


def test_trying_a_typed_lead_shows_the_score_rule_it_would_match(
    client_for, manager, rep, hot_to_north
):
    page = client_for(manager).get("/settings/assignment/try/", {"country": "PL"})

    assert page.status_code == 200
    text = page.content.decode()
    assert "Hot leads" in text and str(rep) in text
    assert "<dd>40</dd>" in text
    assert '<option value="" selected>—</option>' in text  # the source picker's empty choice
    assert "no trained model" in text
    assert not Lead.objects.exists()
