"""The predictive score: learns from known outcomes, is calibrated, ranks nearly as well as the
true model on generated leads and better than naive Bayes, and copes with new values."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.management import call_command
from sklearn.metrics import roc_auc_score

from lejek.leads.models import Lead, Source
from lejek.scoring import compute, synthetic
from lejek.scoring.baseline import NaiveBayesBaseline
from lejek.scoring.features import combined, matrices
from lejek.scoring.models import ScoringModel, ScoringSettings
from lejek.scoring.predictive import (
    CompiledModel,
    TooFewOutcomes,
    expected_calibration_error,
    train,
)
from lejek.scoring.services import lead_rescore, model_train
from tests.factories import make_lead


@pytest.fixture(scope="module")
def trained():
    leads, outcomes, _truth = synthetic.generate(4000, seed=11)
    return train(leads, outcomes, synthetic.spec(), seed=0)


@pytest.fixture(scope="module")
def held_out():
    return synthetic.generate(10000, seed=12)


def test_auc_comes_within_002_of_the_true_model_and_beats_naive_bayes(trained, held_out):
    leads, outcomes, truth = held_out
    cat, num = matrices(leads, trained.spec)
    ours = CompiledModel.from_estimator(trained.estimator, trained.spec).probabilities(cat, num)
    train_leads, train_outcomes, _ = synthetic.generate(4000, seed=11)
    nb = NaiveBayesBaseline().fit(*matrices(train_leads, trained.spec), train_outcomes)

    true_auc = roc_auc_score(outcomes, truth)
    our_auc = roc_auc_score(outcomes, ours)
    nb_auc = roc_auc_score(outcomes, nb.predict_proba(cat, num))

    assert our_auc >= true_auc - 0.02
    assert our_auc > nb_auc


def test_probabilities_are_calibrated_on_held_out_leads(trained, held_out):
    leads, outcomes, _truth = held_out
    cat, num = matrices(leads, trained.spec)
    p = CompiledModel.from_estimator(trained.estimator, trained.spec).probabilities(cat, num)

    assert expected_calibration_error(p, outcomes) < 0.03
    assert abs(p.mean() - outcomes.mean()) < 0.02
    assert trained.ece < 0.05 and 0 < trained.brier < 0.25


def test_the_compiled_formula_gives_the_pipelines_probabilities(trained, held_out):
    leads = held_out[0][:500]
    cat, num = matrices(leads, trained.spec)
    compiled = CompiledModel.from_estimator(trained.estimator, trained.spec)

    expected = trained.estimator.predict_proba(combined(cat, num))[:, 1]
    assert np.allclose(compiled.probabilities(cat, num), expected, atol=1e-9)


def test_values_never_seen_in_training_still_get_a_probability(trained):
    lead = dict(synthetic.generate(1, seed=3)[0][0])
    lead.update(country="JP", title="Astronaut", source="carrier pigeon", company_size=None)
    lead["custom"] = {"industry": "space", "budget": "not a number", "newsletter": None}
    cat, num = matrices([lead], trained.spec)
    compiled = CompiledModel.from_estimator(trained.estimator, trained.spec)

    probability = compiled.probabilities(cat, num)[0]
    pipeline = trained.estimator.predict_proba(combined(cat, num))[0, 1]
    assert 0 < probability < 1
    assert probability == pytest.approx(pipeline)


def test_too_few_outcomes_refuses_to_train():
    leads, outcomes, _truth = synthetic.generate(150, seed=5)
    with pytest.raises(TooFewOutcomes):
        train(leads, outcomes, synthetic.spec())


def test_with_too_few_outcomes_the_rule_score_stands_alone(rep):
    won = make_lead(rep, status=Lead.Status.CONVERTED)
    make_lead(rep, status=Lead.Status.DISQUALIFIED)

    assert model_train(actor=None) is None
    assert "Too few known outcomes" in ScoringSettings.current().training_note
    assert lead_rescore(won.pk).probability is None
    assert not ScoringModel.objects.exists()


def _outcome_leads(n: int) -> None:
    """n decided leads where Polish referrals are mostly won, others mostly lost."""
    rng = np.random.default_rng(7)
    referral = Source.objects.create(name="Referral", kind=Source.Kind.REFERRAL)
    rows = []
    for i in range(n):
        polish = rng.random() < 0.5
        won = rng.random() < (0.8 if polish else 0.2)
        rows.append(
            Lead(
                first_name="Lead",
                last_name=str(i),
                email=f"lead{i}@{'firma.pl' if polish else 'gmail.com'}",
                country="PL" if polish else "US",
                company_size=int(rng.integers(5, 500)),
                source=referral if polish else None,
                status=Lead.Status.CONVERTED if won else Lead.Status.DISQUALIFIED,
            )
        )
    Lead.objects.bulk_create(rows)


def test_training_from_known_outcomes_gives_new_leads_a_probability_with_factors(rep, capsys):
    _outcome_leads(400)

    call_command("scoring", "train")

    assert "Model v1: 400 outcomes" in capsys.readouterr().out
    model = ScoringModel.objects.get()
    assert model.auc > 0.75
    referral = Source.objects.get(name="Referral")
    polish = make_lead(rep, country="PL", email="szef@firma.pl", source=referral)
    american = make_lead(rep, country="US", email="bob@gmail.com")
    unseen = make_lead(rep, country="JP", email="ken@example.jp")
    p_polish = lead_rescore(polish.pk)
    p_american = lead_rescore(american.pk)
    assert p_polish.probability > 0.65 > 0.35 > p_american.probability
    assert p_polish.model_version == 1
    assert "country" in {factor["feature"] for factor in p_polish.factors}
    assert 0 < lead_rescore(unseen.pk).probability < 1


def test_the_model_is_loaded_once_per_version(rep):
    _outcome_leads(300)
    first = model_train(actor=None)
    version, loaded = compute.current_model()
    assert (version, compute.current_model()[1]) == (first.version, loaded)

    second = model_train(actor=None, seed=1)
    version, reloaded = compute.current_model()
    assert version == second.version and reloaded is not loaded
