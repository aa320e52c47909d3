"""An import writes leads in bulk, past the per-change rescoring; once it is done, the leads it
created and those it changed are scored, and only those."""

from __future__ import annotations

import pytest

from lejek.core.models import Event
from lejek.imports.models import ImportJob
from lejek.leads.models import Lead
from lejek.scoring import services as scoring_services
from lejek.scoring.models import LeadScore
from lejek.scoring.services import fit_rule_create, lead_rescore
from tests.factories import make_lead
from tests.test_import_support import media, run_file, write_csv  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def scoring(manager, settings):
    settings.TASKS = IMMEDIATE
    fit_rule_create(
        actor=manager,
        name="Poland",
        points=40,
        conditions=[{"field": "country", "op": "eq", "value": "PL"}],
    )


def test_an_import_scores_the_leads_it_created_and_changed_and_leaves_the_rest(
    admin, scoring, tmp_path, django_capture_on_commit_callbacks
):
    untouched = make_lead(admin, email="stary@firma.de", country="DE")
    changed = make_lead(admin, email="ewa@firma.pl")
    for lead in (untouched, changed):
        lead_rescore(lead.pk)
    before = LeadScore.objects.get(lead=untouched).computed_at
    assert LeadScore.objects.get(lead=changed).score == 0
    rows = [["Imię", "Nazwisko", "E-mail", "Kraj"]]
    rows += [[f"N{n}", "Nowak", f"n{n}@firma.pl", "PL"] for n in range(3)]
    rows += [["Ewa", "Lis", "ewa@firma.pl", "PL"]]  # fills the open lead's empty country

    with django_capture_on_commit_callbacks(execute=True):
        job = run_file(admin, "lead", write_csv(tmp_path, rows))

    assert job.status == ImportJob.Status.DONE, job.message
    assert (job.created_count, job.updated_count) == (3, 1)
    new = Lead.objects.filter(email__startswith="n")
    assert {s.score for s in LeadScore.objects.filter(lead__in=new)} == {40}
    assert LeadScore.objects.get(lead=changed).score == 40
    assert LeadScore.objects.get(lead=untouched).computed_at == before
    assert not Event.objects.filter(verb="scoring.rescore_requested").exists()


def test_a_very_large_change_asks_for_the_full_rescore(
    admin, scoring, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    make_lead(admin, email="ewa@firma.pl")
    monkeypatch.setattr(scoring_services, "MAX_LISTED", 0)
    rows = [["Imię", "Nazwisko", "E-mail", "Kraj"], ["Ewa", "Lis", "ewa@firma.pl", "PL"]]

    with django_capture_on_commit_callbacks(execute=True):
        run_file(admin, "lead", write_csv(tmp_path, rows))

    assert Event.objects.filter(verb="scoring.rescore_requested").count() == 1
    assert LeadScore.objects.get(lead__email="ewa@firma.pl").score == 40


def test_a_dry_run_scores_nothing(admin, scoring, tmp_path, django_capture_on_commit_callbacks):
    rows = [["Imię", "Nazwisko", "E-mail", "Kraj"], ["Ola", "Nowak", "ola@firma.pl", "PL"]]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run_file(admin, "lead", write_csv(tmp_path, rows), dry_run=True)
    assert not callbacks
    assert not LeadScore.objects.exists()
