"""Settings → Lead scoring (managers and admins only), recomputing in the background, and the
score panel on a lead's page."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from lejek.core.models import Event
from lejek.scoring.models import EngagementRule, FitRule, LeadScore, ScoringSettings
from lejek.scoring.services import engagement_rules_save, fit_rule_create, lead_rescore
from tests.factories import make_activity, make_lead, set_language

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
URL = "/settings/scoring/"


@pytest.mark.parametrize("persona", ["rep", "marketer"])
def test_only_managers_and_admins_open_scoring_settings(persona, request, client_for):
    user = request.getfixturevalue(persona)
    client = client_for(user)

    assert client.get(URL).status_code == 403
    assert client.post(f"{URL}recompute/").status_code == 403
    assert client.post(f"{URL}rules/new/", {"name": "x", "points": 5}).status_code == 403
    assert not FitRule.objects.exists()


def test_manager_sees_rules_threshold_and_model_status(
    manager, admin, client_for, django_assert_max_num_queries
):
    fit_rule_create(
        actor=manager,
        name="Poland",
        points=15,
        conditions=[{"field": "country", "op": "eq", "value": "PL"}],
    )

    client = client_for(manager)
    client.get(URL)  # the settings row is created on the first visit
    with django_assert_max_num_queries(12):
        page = client.get(URL)

    assert page.status_code == 200
    text = page.content.decode()
    assert "Poland" in text and "Country is PL" in text
    assert "MQL threshold" in text
    assert "No model yet" in text
    assert client_for(admin).get(URL).status_code == 200


def test_adding_a_fit_rule_through_the_form(manager, client_for):
    client = client_for(manager)
    response = client.post(
        f"{URL}rules/new/",
        {
            "name": "Decision makers",
            "points": "20",
            "is_active": "on",
            "cond-0-field": "title",
            "cond-0-op": "in",
            "cond-0-value": "CEO, Owner",
        },
    )

    assert response.status_code == 302
    rule = FitRule.objects.get()
    assert (rule.points, rule.conditions) == (
        20,
        [{"field": "title", "op": "in", "value": ["CEO", "Owner"]}],
    )
    assert Event.objects.filter(verb="scoring.fit_rule_created").exists()


def test_a_bad_rule_shows_field_errors_and_saves_nothing(manager, client_for):
    response = client_for(manager).post(
        f"{URL}rules/new/",
        {"name": "", "points": "500", "cond-0-field": "company_size", "cond-0-op": "gte"},
    )

    assert response.status_code == 400
    text = response.content.decode()
    assert "Enter a value to compare with." in text
    assert "This field is required." in text
    assert not FitRule.objects.exists()


def test_engagement_rules_and_threshold_are_saved_from_the_page(manager, client_for):
    data = {"action": "engagement"}
    for kind in ("note", "call", "meeting", "email", "form_submitted", "page_visit"):
        data[f"{kind}-points"] = "5"
        data[f"{kind}-half_life"] = "10"
    data["call-points"] = "9"
    client = client_for(manager)

    saved = client.post(URL, data)
    threshold = client.post(URL, {"action": "threshold", "mql_threshold": "75"})
    refused = client.post(URL, {"action": "threshold", "mql_threshold": "150"})

    assert saved.status_code == threshold.status_code == 302
    assert EngagementRule.objects.get(kind="call").points == 9
    assert EngagementRule.objects.count() == 6
    assert refused.status_code == 400
    assert ScoringSettings.current().mql_threshold == 75


def test_recompute_all_runs_in_the_background_and_reports_back(
    manager, rep, client_for, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    fit_rule_create(actor=manager, name="Everyone", points=7, conditions=[])
    leads = [make_lead(rep) for _ in range(3)]
    client = client_for(manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{URL}recompute/")

    assert response.status_code == 302
    assert {s.lead_id: s.score for s in LeadScore.objects.all()} == {lead.pk: 7 for lead in leads}
    state = ScoringSettings.current()
    assert (state.rescore_state, state.rescore_done) == ("idle", 3)
    assert "Last recomputed 3 leads" in client.get(URL).content.decode()


def test_the_lead_panel_explains_the_score(manager, rep, django_assert_num_queries):
    engagement_rules_save(
        actor=manager,
        rules={k: (0, 14) for k in ("note", "meeting", "email", "form_submitted", "page_visit")}
        | {"call": (8, 14)},
    )
    fit_rule_create(
        actor=manager,
        name="Poland",
        points=15,
        conditions=[{"field": "country", "op": "eq", "value": "PL"}],
    )
    lead = make_lead(rep, country="PL")
    make_activity(rep, lead, kind="call")
    lead_rescore(lead.pk)
    request = RequestFactory().get("/")
    request.user = rep

    with django_assert_num_queries(1):
        html = Template("{% load scoring %}{% lead_score_panel lead %}").render(
            Context({"lead": lead, "request": request})
        )

    assert "23" in html and "/ 100" in html
    assert "Poland" in html and "+15" in html
    assert "Engagement: Call" in html and "+8.0" in html
    assert "too few leads have been won or lost" in html


def test_the_panel_of_an_unscored_lead_says_so(rep):
    lead = make_lead(rep)
    html = Template("{% load scoring %}{% lead_score_panel lead %}").render(Context({"lead": lead}))
    assert "Not scored yet" in html


def test_the_progress_part_refreshes_alone_while_recomputing(manager, client_for):
    ScoringSettings.current()
    ScoringSettings.objects.filter(pk=1).update(
        rescore_state="running", rescore_done=40, rescore_total=100
    )

    part = client_for(manager).get(f"{URL}?part=progress", HTTP_HX_REQUEST="true")

    text = part.content.decode()
    assert part.status_code == 200
    assert "Recomputing: 40 of 100 leads." in text
    assert 'hx-trigger="every 2s"' in text
    assert "<html" not in text and "Fit rules" not in text


def test_settings_page_and_rule_form_render_for_a_polish_manager(manager, client_for):
    set_language(manager, "pl")
    fit_rule_create(
        actor=manager,
        name="Duże firmy",
        points=20,
        conditions=[{"field": "email_kind", "op": "eq", "value": "corporate"}],
    )
    client = client_for(manager)

    page = client.get(URL)
    form = client.get(f"{URL}rules/{FitRule.objects.get().pk}/")

    assert page.status_code == form.status_code == 200
    assert "Duże firmy" in page.content.decode()
    assert 'value="corporate"' in form.content.decode()
