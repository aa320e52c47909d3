"""The reports pages: the dashboard, the records behind a number, and table downloads."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from html import escape, unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from lejek.analytics.dashboard_views import chart_data
from lejek.analytics.figures import FIGURES, SECTIONS, Figure, compute
from lejek.analytics.scope import scope_from
from lejek.analytics.tables import Chart, Column, Table
from lejek.core.exporting import text_value
from lejek.leads.services import lead_update
from lejek.pipeline.services import deal_move_to_stage
from tests.factories import make_deal, make_lead, set_language

DASHBOARD = "/reports/"


def stage(pipeline, name):
    return pipeline.stages.get(name=name)


def moved(actor, pipeline, *names, **values):
    """A deal of `actor` moved through the named stages, in order."""
    deal = make_deal(actor, pipeline, **values)
    for name in names:
        deal_move_to_stage(actor=actor, deal=deal, stage=stage(pipeline, name))
        deal.refresh_from_db()
    return deal


def lead_through(actor, *statuses, **values):
    lead = make_lead(actor, **values)
    for status in statuses:
        lead = lead_update(actor=actor, lead=lead, values={"status": status})
    return lead


@pytest.fixture
def history(rep, other_rep, pipeline):
    """Four deals and four leads of Rita's, one deal and one lead of Oskar's (another team)."""
    return {
        "qualified": make_deal(rep, pipeline, title="Still qualified"),
        "proposal": moved(rep, pipeline, "Proposal", title="At proposal"),
        "negotiation": moved(rep, pipeline, "Proposal", "Negotiation", title="Negotiating"),
        "won": moved(rep, pipeline, "Proposal", "Negotiation", "Won", title="Won deal"),
        "other": moved(other_rep, pipeline, "Proposal", title="Oskar's proposal"),
        "lead_new": lead_through(rep, first_name="Nowy"),
        "lead_contacted": lead_through(rep, "contacted", first_name="Kontakt"),
        "lead_mql": lead_through(rep, "mql", first_name="Marketing"),
        "lead_sql": lead_through(rep, "sql", first_name="Sprzedaz"),
        "lead_other": lead_through(other_rep, "contacted", first_name="Obcy"),
    }


def card_url(key):
    return reverse("analytics-card", args=[key])


def fetch(client, key, params=None):
    """One figure as its placeholder on the dashboard fetches it."""
    response = client.get(card_url(key), params or {})
    assert response.status_code == 200
    return response


def card(response, key):
    """The card of `key`: the card endpoint's answer, or one card of the all-at-once page."""
    if "sections" not in response.context:
        assert response.context["card"].key == key
        return response.context["card"]
    for section in response.context["sections"]:
        for found in section.cards:
            if found.key == key:
                return found
    raise AssertionError(f"no card {key}")


def cell(response, key, row, column):
    """The text and link of one number on the dashboard, by row label and column key."""
    shown = card(response, key)
    index = [c.key for c in shown.columns].index(column)
    for line in shown.rows:
        if line.cells[0].text == row:
            return line.cells[index]
    raise AssertionError(f"no row {row} in {key}")


def placeholder_urls(html):
    """The hx-get URL of every placeholder on the page, in page order."""
    return [unescape(url) for url in re.findall(r'hx-get="([^"]*)"', html)]


# The page: a shell of placeholders ----------------------------------------------------------


@pytest.mark.parametrize("persona", ["admin", "manager", "rep", "marketer"])
@pytest.mark.parametrize("language", ["pl", "en"])
def test_dashboard_renders_for_every_role_in_both_languages(
    request, client_for, history, persona, language
):
    user = request.getfixturevalue(persona)
    set_language(user, language)
    client = client_for(user)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    scope = response.context["scope"]
    with translation.override(language):
        assert formats.date_format(scope.end, "DATE_FORMAT") in html
        assert gettext("Computing…") in html
    for key in ("lead_funnel", "deal_funnel", "deal_transitions", "lead_statuses_over_time"):
        assert f'id="figure-{key}"' in html
    # The charts come with the cards, in the user's language too.
    shown = fetch(client, "deal_funnel").content.decode()
    assert 'data-chart="chart-data-deal_funnel"' in shown
    assert 'id="chart-data-deal_funnel" type="application/json"' in shown
    with translation.override(language):
        assert gettext("Reached") in shown


def test_signed_out_visitor_is_sent_to_log_in(client):
    for url in (DASHBOARD, card_url("deal_funnel")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_dashboard_computes_no_figure(client_for, admin, history, monkeypatch):
    computed = []

    def counted(scope):
        computed.append(scope)
        return _headline(scope)

    monkeypatch.setitem(
        FIGURES,
        "counted",
        Figure(key="counted", title="Counted", section="funnel", compute=counted),
    )
    response = client_for(admin).get(DASHBOARD)
    assert response.status_code == 200
    assert computed == []
    assert "tiles" not in response.context
    html = response.content.decode()
    assert 'id="figure-counted"' in html
    assert "<table>" not in html  # no figure's table, only placeholders


def test_dashboard_query_count_is_small_and_does_not_grow_with_the_data(
    client_for, admin, rep, pipeline, django_assert_max_num_queries
):
    client = client_for(admin)
    client.get(DASHBOARD)  # warm caches (content types, sessions)
    # Session, user and the filter form's choices: nothing per figure, nothing per record.
    with django_assert_max_num_queries(12) as few:
        assert client.get(DASHBOARD).status_code == 200
    _deals(12, rep, pipeline)
    for _ in range(10):
        lead_through(rep, "contacted")
    with django_assert_max_num_queries(len(few)):
        assert client.get(DASHBOARD).status_code == 200


def test_every_figure_has_one_placeholder_that_loads_it_with_the_filters(
    client_for, admin, rep, history
):
    params = {"period": "30d", "owner": rep.pk}
    response = client_for(admin).get(DASHBOARD, params)
    html = response.content.decode()
    query = response.context["scope"].query_string()
    assert f"owner={rep.pk}" in query and "period=30d" in query
    # The headline tiles first, then every card in page order, each once.
    assert placeholder_urls(html) == [f"{card_url(key)}?{query}" for key in _page_order()]
    assert html.count('aria-busy="true"') == len(FIGURES)
    assert html.count('hx-trigger="load, retry"') == len(FIGURES)
    assert html.count('hx-swap="outerHTML"') == len(FIGURES)
    assert html.count("data-retry") == len(FIGURES)  # hidden until a request fails


def _page_order():
    """The figures' keys as the shell lays them out: the headline, then section by section."""
    cards = [
        figure.key
        for section in SECTIONS
        for figure in FIGURES.values()
        if figure.section == section
    ]
    others = [key for key, figure in FIGURES.items() if figure.section not in SECTIONS]
    return ["headline", *cards, *[key for key in others if key != "headline"]]


def test_placeholder_takes_its_title_from_the_figure(client_for, admin):
    html = client_for(admin).get(DASHBOARD).content.decode()
    for key, figure in FIGURES.items():
        if key != "headline":
            assert f'<h3 id="title-{key}">{escape(str(figure.title))}</h3>' in html


def test_placeholders_speak_the_users_language(client_for, admin):
    set_language(admin, "pl")
    html = client_for(admin).get(DASHBOARD).content.decode()
    assert '<h3 id="title-lead_funnel">Lejek leadów (leady utworzone w okresie)</h3>' in html
    assert "Obliczanie…" in html
    assert "Lead funnel" not in html


def test_without_javascript_a_link_asks_for_every_figure_at_once(client_for, admin, rep):
    html = client_for(admin).get(DASHBOARD, {"owner": rep.pk}).content.decode()
    noscript = re.search(r"<noscript>(.*?)</noscript>", html, re.S).group(1)
    link = unescape(re.search(r'href="([^"]*)"', noscript).group(1))
    assert link == f"{DASHBOARD}?owner={rep.pk}&all=1"


def test_all_renders_every_figure_inline(client_for, admin, history):
    response = client_for(admin).get(DASHBOARD, {"all": "1", "period": "12m"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "hx-get" not in html
    assert "aria-busy" not in html
    assert "<noscript>" not in html
    for key in FIGURES:
        if key != "headline":
            assert not card(response, key).pending
            assert f'id="figure-{key}"' in html
    assert response.context["tiles"]
    assert 'id="chart-data-deal_funnel" type="application/json"' in html
    assert cell(response, "deal_funnel", "Qualified", "reached").text == "5"
    # Filtering from this page keeps every figure in the page.
    assert '<input type="hidden" name="all" value="1">' in html


def test_all_query_count_does_not_grow_with_the_data(client_for, admin, rep, pipeline):
    client = client_for(admin)
    _deals(2, rep, pipeline)
    make_lead(rep)
    everything = {"all": "1"}
    client.get(DASHBOARD, everything)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(DASHBOARD, everything).status_code == 200
    _deals(12, rep, pipeline)
    for _ in range(10):
        lead_through(rep, "contacted")
    with CaptureQueriesContext(connection) as many:
        assert client.get(DASHBOARD, everything).status_code == 200
    assert len(many) == len(few)
    # The page's own queries (session, user, filter choices) plus a few per figure.
    assert len(few) <= 12 + 6 * len(FIGURES)


# One card at a time -------------------------------------------------------------------------


@pytest.mark.parametrize("key", [key for key in FIGURES if key != "headline"])
def test_card_endpoint_returns_the_figures_card(client_for, admin, history, key):
    response = fetch(client_for(admin), key, {"period": "12m"})
    shown = card(response, key)
    assert not shown.failed and not shown.pending
    scope, _form = scope_from({"period": "12m"}, admin)
    assert shown.title == str(compute(key, scope).title)
    html = response.content.decode()
    assert html.lstrip().startswith('<article class="panel report-card')
    assert f'id="figure-{key}"' in html
    assert "<html" not in html  # a fragment to swap in, not a page
    assert "hx-get" not in html and "aria-busy" not in html
    # The downloads, with the filters, exactly as on the page before.
    assert shown.exports == {
        fmt: f"{reverse('analytics-export', args=[key, fmt])}?{scope.query_string()}"
        for fmt in ("csv", "xlsx")
    }
    assert f'href="{escape(shown.exports["csv"])}" download' in html


def test_card_endpoint_returns_the_headline_tiles(client_for, admin, history):
    response = fetch(client_for(admin), "headline")
    tiles = response.context["tiles"]
    assert len(tiles) == 5
    html = response.content.decode()
    assert html.lstrip().startswith('<ul class="tiles report-tiles" id="report-tiles">')
    assert html.count('<li class="tile">') == 5


def test_card_of_an_unknown_figure_is_404(client_for, admin):
    assert client_for(admin).get(card_url("no_such_figure")).status_code == 404


def test_card_endpoint_answers_get_only(client_for, admin):
    assert client_for(admin).post(card_url("deal_funnel")).status_code == 405


@pytest.mark.parametrize("key", list(FIGURES))
def test_reps_card_shows_only_their_own_records(client_for, rep, other_rep, history, key):
    html = fetch(client_for(rep), key).content.decode()
    assert "Oskar" not in html
    # Asking for Oskar's records in the URL changes nothing.
    asked = fetch(client_for(rep), key, {"owner": other_rep.pk}).content.decode()
    assert "Oskar" not in asked


def test_reps_cards_count_their_own_records_only(client_for, admin, rep, other_rep, history):
    client = client_for(rep)
    assert cell(fetch(client, "deal_funnel"), "deal_funnel", "Qualified", "reached").text == "4"
    assert cell(fetch(client, "lead_funnel"), "lead_funnel", "Contacted", "reached").text == "3"
    asked = fetch(client, "deal_funnel", {"owner": other_rep.pk})
    assert cell(asked, "deal_funnel", "Qualified", "reached").text == "4"
    # The admin sees both reps, so the check above is not vacuous.
    everyone = fetch(client_for(admin), "lead_funnel")
    assert cell(everyone, "lead_funnel", "Contacted", "reached").text == "4"
    assert "Oskar" in fetch(client_for(admin), "reps").content.decode()


def test_managers_card_shows_their_team_only(client_for, manager, history):
    response = fetch(client_for(manager), "deal_funnel")
    assert cell(response, "deal_funnel", "Qualified", "reached").text == "4"


def test_numbers_are_right_aligned_links_to_their_records(client_for, admin, history):
    response = fetch(client_for(admin), "deal_funnel")
    reached = cell(response, "deal_funnel", "Proposal", "reached")
    assert reached.text == "4"
    assert reached.numeric
    assert reached.url.startswith(reverse("analytics-drill", args=["deal_funnel"]))
    html = response.content.decode()
    link = re.escape(reached.url.replace("&", "&amp;"))
    assert re.search(rf'<td class="num">\s*<a href="{link}">4</a>', html)


def test_biggest_leak_is_marked_in_words(client_for, admin, history):
    response = fetch(client_for(admin), "deal_funnel")
    funnel = card(response, "deal_funnel")
    leaks = [line for line in funnel.rows if line.highlighted]
    assert len(leaks) == 1
    assert "Biggest leak" in response.content.decode()


def test_rep_filter_in_the_url_changes_the_numbers(client_for, admin, rep, history):
    client = client_for(admin)
    everyone = fetch(client, "deal_funnel")
    ritas = fetch(client, "deal_funnel", {"owner": rep.pk})
    assert cell(everyone, "deal_funnel", "Qualified", "reached").text == "5"
    assert cell(ritas, "deal_funnel", "Qualified", "reached").text == "4"
    page = client.get(DASHBOARD, {"owner": rep.pk})
    assert page.context["form"]["owner"].value() == str(rep.pk)
    # The filter travels into the drill links and the downloads.
    assert f"owner={rep.pk}" in cell(ritas, "deal_funnel", "Qualified", "reached").url
    assert f"owner={rep.pk}" in card(ritas, "deal_funnel").exports["csv"]


def test_period_in_the_url_changes_the_numbers(client_for, admin, rep, pipeline):
    make_deal(rep, pipeline, when=timezone.now() - timezone.timedelta(days=60))
    make_deal(rep, pipeline)
    year = fetch(client_for(admin), "deal_funnel", {"period": "12m"})
    month = fetch(client_for(admin), "deal_funnel", {"period": "30d"})
    assert cell(year, "deal_funnel", "Qualified", "reached").text == "2"
    assert cell(month, "deal_funnel", "Qualified", "reached").text == "1"


def test_bad_parameters_are_reported_next_to_their_fields_not_a_500(client_for, admin, history):
    bad = {"period": "forever", "pipeline": "999999", "owner": "abc", "segment": "no equals"}
    client = client_for(admin)
    response = client.get(DASHBOARD, bad)
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"period", "pipeline", "owner", "segment"}
    html = response.content.decode()
    assert "These filters were not valid and are ignored" in html
    assert html.count('class="errorlist') >= 4
    # The placeholders ask for the default period, and so does a card asked with the bad ones.
    default = response.context["scope"].query_string()
    assert placeholder_urls(html)[0] == f"{card_url('headline')}?{default}"
    assert (
        cell(fetch(client, "deal_funnel", bad), "deal_funnel", "Qualified", "reached").text == "5"
    )


def test_custom_period_ending_before_it_starts_is_refused_at_the_end_date(client_for, admin):
    response = client_for(admin).get(
        DASHBOARD, {"period": "custom", "start": "2025-05-01", "end": "2025-04-01"}
    )
    assert response.status_code == 200
    assert "end" in response.context["form"].errors
    assert response.context["scope"].period == "12m"


def test_rep_cannot_filter_on_another_reps_records(client_for, rep, other_rep, history):
    client = client_for(rep)
    response = client.get(DASHBOARD, {"owner": other_rep.pk})
    assert response.status_code == 200
    assert "owner" in response.context["form"].errors
    # The placeholders ask for the filters that hold, not the refused one.
    urls = placeholder_urls(response.content.decode())
    assert urls and not any(f"owner={other_rep.pk}" in url for url in urls)
    # Rita's own four deals, never Oskar's.
    shown = fetch(client, "deal_funnel", {"owner": other_rep.pk})
    assert cell(shown, "deal_funnel", "Qualified", "reached").text == "4"


def _broken(scope):
    raise RuntimeError("the database went away")


def test_a_figure_that_raises_gives_its_failed_card_not_an_error(
    client_for, admin, history, monkeypatch
):
    monkeypatch.setitem(
        FIGURES, "broken", Figure(key="broken", title="Broken", section="funnel", compute=_broken)
    )
    client = client_for(admin)
    response = client.get(card_url("broken"))
    assert response.status_code == 200
    assert card(response, "broken").failed
    html = response.content.decode()
    assert 'id="figure-broken"' in html
    assert "This figure could not be computed" in html
    assert 'role="alert"' in html
    # The other cards are not affected.
    assert cell(fetch(client, "deal_funnel"), "deal_funnel", "Qualified", "reached").text == "5"


def test_a_figure_that_raises_does_not_break_the_all_at_once_page(
    client_for, admin, history, monkeypatch
):
    monkeypatch.setitem(
        FIGURES, "broken", Figure(key="broken", title="Broken", section="funnel", compute=_broken)
    )
    response = client_for(admin).get(DASHBOARD, {"all": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="figure-broken"' in html
    assert "This figure could not be computed" in html
    assert cell(response, "deal_funnel", "Qualified", "reached").text == "5"


def test_headline_that_raises_says_so_in_place_of_the_tiles(client_for, admin, monkeypatch):
    monkeypatch.setitem(
        FIGURES,
        "headline",
        Figure(key="headline", title="Headline", section="headline", compute=_broken),
    )
    response = client_for(admin).get(card_url("headline"))
    assert response.status_code == 200
    assert "The headline numbers could not be computed" in response.content.decode()


def _headline(scope):
    table = Table(
        key="headline",
        title="Headline",
        columns=[
            Column("metric", "Metric", "text"),
            Column("value", "Value", "int"),
            Column("previous", "Previous", "int"),
            Column("change", "Change (%)", "percent"),
        ],
    )
    table.rows = [
        {"metric": "New leads", "value": 1200, "previous": 1000, "change": 20.0},
        {"metric": "Won", "kind": "money", "value": Decimal("5000"), "previous": None},
    ]
    return table


def test_headline_figure_shows_as_tiles_with_the_change(client_for, admin, monkeypatch):
    monkeypatch.setitem(
        FIGURES,
        "headline",
        Figure(key="headline", title="Headline", section="funnel", compute=_headline),
    )
    response = fetch(client_for(admin), "headline")
    tiles = response.context["tiles"]
    assert [t.metric for t in tiles] == ["New leads", "Won"]
    assert (tiles[0].value, tiles[0].change, tiles[0].direction) == ("1,200", "20%", "up")
    assert tiles[1].value == "PLN\u00a05,000.00"
    html = response.content.decode()
    assert "20% against the previous period (1,000)" in html
    assert 'id="figure-headline"' not in html


def test_polish_page_formats_money_and_percent_the_polish_way(client_for, admin, monkeypatch):
    set_language(admin, "pl")
    monkeypatch.setitem(
        FIGURES,
        "headline",
        Figure(key="headline", title="Headline", section="funnel", compute=_headline),
    )
    tiles = fetch(client_for(admin), "headline").context["tiles"]
    assert tiles[0].value == "1\u00a0200"
    assert tiles[1].value == "5\u00a0000,00\u00a0zł"


def test_chart_data_follows_the_figures_chart(client_for, admin, history):
    client = client_for(admin)
    chart = card(fetch(client, "deal_funnel"), "deal_funnel").chart
    assert chart["type"] == "funnel"
    assert chart["labels"] == ["Qualified", "Proposal", "Negotiation", "Won"]
    assert chart["datasets"] == [
        {"key": "reached", "label": "Reached", "kind": "int", "data": [5, 4, 2, 1]}
    ]
    assert card(fetch(client, "deal_transitions"), "deal_transitions").chart["stacked"] is True


def _deals(count, owner, pipeline):
    for _ in range(count):
        moved(owner, pipeline, "Proposal")


# Drill-down -------------------------------------------------------------------------------


def drill(client, key, row, column, **params):
    return client.get(reverse("analytics-drill", args=[key]), {"row": row, "col": column, **params})


def listed(response):
    return {record.pk for record in response.context["page"].object_list}


def test_drill_lists_exactly_the_deals_behind_a_funnel_number(client_for, admin, history, pipeline):
    proposal = stage(pipeline, "Proposal")
    response = drill(client_for(admin), "deal_funnel", proposal.pk, "reached")
    assert response.status_code == 200
    expected = {history[k].pk for k in ("proposal", "negotiation", "won", "other")}
    assert listed(response) == expected
    html = response.content.decode()
    assert "4 deals" in html
    assert history["won"].get_absolute_url() in html
    assert "Proposal" in html and "Reached" in html


def test_drill_link_on_the_dashboard_opens_the_same_records(client_for, admin, history):
    client = client_for(admin)
    url = cell(fetch(client, "deal_funnel"), "deal_funnel", "Negotiation", "reached").url
    response = client.get(url)
    assert listed(response) == {history["negotiation"].pk, history["won"].pk}


def test_drill_lists_the_leads_behind_a_lead_funnel_number(client_for, admin, history):
    response = drill(client_for(admin), "lead_funnel", "contacted", "reached")
    expected = {history[k].pk for k in ("lead_contacted", "lead_mql", "lead_sql", "lead_other")}
    assert listed(response) == expected
    html = response.content.decode()
    assert "4 leads" in html
    assert history["lead_mql"].get_absolute_url() in html


def test_reps_drill_never_shows_other_reps_records(client_for, rep, history, pipeline):
    client = client_for(rep)
    deals = drill(client, "deal_funnel", stage(pipeline, "Proposal").pk, "reached")
    assert history["other"].pk not in listed(deals)
    assert listed(deals) == {history[k].pk for k in ("proposal", "negotiation", "won")}
    leads = drill(client, "lead_funnel", "contacted", "reached")
    assert history["lead_other"].pk not in listed(leads)
    assert "Oskar" not in leads.content.decode()


def test_drill_of_an_unknown_figure_is_404(client_for, admin):
    assert drill(client_for(admin), "no_such_figure", "1", "now").status_code == 404


def test_drill_of_a_figure_without_records_explains_itself(client_for, admin, history):
    response = drill(client_for(admin), "lead_statuses_over_time", "x", "new")
    assert response.status_code == 200
    assert response.context["page"] is None
    assert "has no list of records behind its numbers" in response.content.decode()


def test_drill_pages_fifty_records_at_a_time(client_for, admin, rep, pipeline):
    for _ in range(51):
        make_deal(rep, pipeline)
    qualified = stage(pipeline, "Qualified").pk
    client = client_for(admin)
    first = drill(client, "deal_funnel", qualified, "now")
    assert len(first.context["page"].object_list) == 50
    assert "51 deals" in first.content.decode()
    second = drill(client, "deal_funnel", qualified, "now", page=2)
    assert len(second.context["page"].object_list) == 1
    assert drill(client, "deal_funnel", qualified, "now", page="zz").status_code == 200


# Downloads --------------------------------------------------------------------------------


def as_text(values):
    return [[text_value(value) for value in row] for row in values]


def test_csv_export_reads_back_as_the_table(client_for, admin, rep, history):
    response = client_for(admin).get(
        reverse("analytics-export", args=["deal_funnel", "csv"]), {"owner": rep.pk}
    )
    assert response.status_code == 200
    scope, _form = scope_from({"owner": str(rep.pk)}, admin)
    table = compute("deal_funnel", scope)
    name = f"lejek-deal_funnel-{scope.start.isoformat()}-{scope.end.isoformat()}.csv"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == table.header()
    assert rows[1:] == as_text(table.values())
    assert rows[1][:3] == ["Qualified", "1", "4"]


def test_xlsx_export_reads_back_as_the_table(client_for, admin, history):
    response = client_for(admin).get(reverse("analytics-export", args=["lead_funnel", "xlsx"]))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    scope, _form = scope_from({}, admin)
    table = compute("lead_funnel", scope)
    assert rows[0] == table.header()
    assert rows[1:] == table.values()
    assert rows[2][2] == 4  # contacted: reached by four leads


def test_export_of_an_unknown_figure_is_404(client_for, admin):
    assert client_for(admin).get("/reports/no_such.csv").status_code == 404
    assert client_for(admin).get("/reports/deal_funnel.pdf").status_code == 404


def test_export_with_a_chart_only_figure_keeps_dates_as_dates(client_for, admin, history):
    response = client_for(admin).get(
        reverse("analytics-export", args=["lead_statuses_over_time", "xlsx"])
    )
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 13  # the header and the twelve months of the default period
    assert rows[-1][0].date() == timezone.localdate().replace(day=1)
    assert sum(rows[-1][1:]) > 0  # this month's leads


def test_export_of_a_broken_figure_says_so(client_for, admin, monkeypatch):
    monkeypatch.setitem(
        FIGURES, "broken", Figure(key="broken", title="Broken", section="funnel", compute=_broken)
    )
    response = client_for(admin).get("/reports/broken.csv")
    assert response.status_code == 500
    assert "could not be computed" in response.content.decode()


def test_figure_without_rows_draws_no_chart():
    table = Table(
        key="t", title="T", columns=[Column("a", "A", "text")], chart=Chart("bar", "a", ())
    )
    assert chart_data(table) is None
