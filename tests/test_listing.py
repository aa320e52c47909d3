"""The declarative list machinery: search, filters, chips, sorting, paging, bad parameters."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lejek.core.listing import ListResult, url_with, without_blanks
from lejek.core.models import CustomField
from lejek.leads.models import Lead
from lejek.leads.services import source_create
from lejek.leads.views import LEADS
from lejek.pipeline.views import DEALS
from lejek.scoring.models import LeadScore
from tests.factories import make_deal, make_lead


def run(user, query: str = "", listing=LEADS, model=Lead) -> ListResult:
    request = RequestFactory().get(f"/leads/?{query}")
    request.user = user
    return listing.run(request, model.objects.visible_to(user))


def names(result: ListResult) -> list[str]:
    return [str(row) for row in result.rows]


def test_search_matches_any_declared_field_and_every_word(rep):
    make_lead(rep, first_name="Jan", last_name="Kowalski", email="jk@alfa.pl")
    make_lead(rep, first_name="Jan", last_name="Nowak", company_name="Kowalski i Syn")
    make_lead(rep, first_name="Ewa", last_name="Lis", email="ewa@beta.pl")

    assert sorted(names(run(rep, "q=kowalski"))) == ["Jan Kowalski", "Jan Nowak"]
    assert names(run(rep, "q=beta.pl")) == ["Ewa Lis"]
    result = run(rep, "q=beta.pl")
    assert [c.label for c in result.chips] == ["Search: “beta.pl”"]
    assert result.chips[0].remove_url == "/leads/"


def test_search_with_two_words_needs_both(rep):
    make_lead(rep, first_name="Jan", last_name="Kowalski")
    make_lead(rep, first_name="Jan", last_name="Nowak")
    assert names(run(rep, "q=jan+kowalski")) == ["Jan Kowalski"]


def test_owner_me_and_unassigned(rep, manager, teammate, north):
    mine = make_lead(rep, last_name="Mine")
    pooled = make_lead(manager, last_name="Pool", owner=None, team=north)
    theirs = make_lead(teammate, last_name="Theirs")

    assert {r.pk for r in run(manager, "owner=unassigned").rows} == {pooled.pk}
    assert {r.pk for r in run(rep, "owner=me").rows} == {mine.pk}
    by_id = run(manager, f"owner={teammate.pk}")
    assert {r.pk for r in by_id.rows} == {theirs.pk}
    assert by_id.chips[0].label == "Owner: Tom Teammate"


def test_status_and_source_filters_combine_with_chips_that_remove_one(rep, admin):
    web = source_create(actor=admin, name="Web")
    fair = source_create(actor=admin, name="Fair")
    hit = make_lead(rep, last_name="Hit", status=Lead.Status.MQL, source=web)
    make_lead(rep, last_name="WrongSource", status=Lead.Status.MQL, source=fair)
    make_lead(rep, last_name="WrongStatus", status=Lead.Status.NEW, source=web)

    result = run(rep, f"status=mql&source={web.pk}&sort=name")
    assert [r.pk for r in result.rows] == [hit.pk]
    labels = {c.label: c.remove_url for c in result.chips}
    assert labels["Status: Marketing-qualified"] == f"/leads/?source={web.pk}&sort=name"
    assert labels["Source: Web"] == "/leads/?status=mql&sort=name"


def test_created_date_range_includes_the_whole_last_day(rep):
    old = make_lead(rep, last_name="Old")
    edge = make_lead(rep, last_name="Edge")
    Lead.objects.filter(pk=old.pk).update(
        created_at=timezone.make_aware(datetime.datetime(2024, 1, 1, 12))
    )
    Lead.objects.filter(pk=edge.pk).update(
        created_at=timezone.make_aware(datetime.datetime(2024, 3, 31, 23, 30))
    )
    result = run(rep, "created_from=2024-02-01&created_to=2024-03-31")
    assert [r.pk for r in result.rows] == [edge.pk]
    assert len(result.chips) == 2


@pytest.mark.parametrize(
    "query",
    [
        "owner=abc",
        "owner=99999999999999999999999",
        "team=-1",
        "source=1.5",
        "status=nope",
        "created_from=2024-13-45",
        "created_to=yesterday",
        "sort=password",
        "sort=-__class__",
        "page=abc",
        "page=1e999",
        "page=-3",
        "page=0",
    ],
)
def test_unreadable_parameters_are_ignored(rep, query):
    make_lead(rep)
    result = run(rep, query)
    assert result.total == 1
    assert result.chips == []


def test_unknown_but_well_formed_id_shows_nothing_and_says_so(rep):
    make_lead(rep)
    result = run(rep, "source=424242")
    assert result.total == 0
    assert result.chips[0].label == "Source: #424242"


def test_sort_whitelist_and_toggle_links(rep):
    make_lead(rep, last_name="Bbb", first_name="")
    make_lead(rep, last_name="Aaa", first_name="")
    make_lead(rep, last_name="Ccc", first_name="")

    assert names(run(rep, "sort=name")) == ["Aaa", "Bbb", "Ccc"]
    result = run(rep, "sort=-name")
    assert names(result) == ["Ccc", "Bbb", "Aaa"]
    header = next(h for h in result.headers if h.label == "Name")
    assert header.aria_sort == "descending"
    assert header.url == "/leads/?sort=name"
    score = next(h for h in result.headers if h.label == "Score")
    assert score.url == "/leads/?sort=-score"  # numbers open biggest first
    assert score.aria_sort == ""


def test_default_sort_is_newest_first(rep):
    first = make_lead(rep)
    second = make_lead(rep)
    assert [r.pk for r in run(rep).rows] == [second.pk, first.pk]


def test_pagination_slices_pages_and_clamps_out_of_range(rep):
    for _ in range(7):
        make_lead(rep)
    listing = dataclasses.replace(LEADS, page_size=3)
    result = run(rep, "page=3", listing=listing)
    assert result.total == 7
    assert result.page.number == 3
    assert len(result.rows) == 1
    assert result.prev_url == "/leads/?page=2"
    assert result.next_url is None
    beyond = run(rep, "page=99", listing=listing)
    assert beyond.page.number == 3
    first = run(rep, "page=2", listing=listing)
    assert first.prev_url == "/leads/"


def test_custom_field_filters_and_chips(rep, admin):
    CustomField.objects.create(entity="lead", key="size", label="Size", type="number")
    CustomField.objects.create(
        entity="lead", key="tier", label="Tier", type="choice", choices=["A", "B"]
    )
    small = make_lead(rep, last_name="Small", custom={"size": 5, "tier": "A"})
    big = make_lead(rep, last_name="Big", custom={"size": 500, "tier": "B"})
    make_lead(rep, last_name="Unknown")

    result = run(rep, "cf_size_min=10")
    assert [r.pk for r in result.rows] == [big.pk]
    assert result.chips[0].label == "Size ≥ 10"
    assert [r.pk for r in run(rep, "cf_tier=A").rows] == [small.pk]
    assert "cf_size_min" in result.form.fields and "cf_tier" in result.form.fields

    bad = run(rep, "cf_size_min=lots")
    assert bad.total == 0
    assert bad.chips[0].label == "Size ≥ lots"


def test_rows_are_only_what_the_user_may_see(rep, other_rep):
    make_lead(rep, last_name="Ours")
    make_lead(other_rep, last_name="Theirs")
    assert names(run(rep)) == ["Jan Ours"]
    assert names(run(other_rep)) == ["Jan Theirs"]
    # Filtering by another team's owner id reveals nothing either.
    assert run(rep, f"owner={other_rep.pk}").total == 0


def test_deal_state_filter_and_amount_sort_keeps_empty_amounts_last(rep, pipeline):
    won = pipeline.stages.get(is_won=True)
    small = make_deal(rep, pipeline, title="Small", amount=10)
    big = make_deal(rep, pipeline, title="Big", amount=1000)
    empty = make_deal(rep, pipeline, title="Empty")
    closed = make_deal(rep, pipeline, title="Closed", amount=5, stage=won)

    descending = run(rep, "sort=-amount", listing=DEALS, model=closed.__class__)
    assert [r.pk for r in descending.rows] == [big.pk, small.pk, closed.pk, empty.pk]
    ascending = run(rep, "sort=amount", listing=DEALS, model=closed.__class__)
    assert [r.pk for r in ascending.rows] == [closed.pk, small.pk, big.pk, empty.pk]
    won_only = run(rep, "state=won", listing=DEALS, model=closed.__class__)
    assert [r.pk for r in won_only.rows] == [closed.pk]


def test_url_helpers_drop_page_and_blank_values():
    from django.http import QueryDict

    params = QueryDict("q=&owner=me&page=4&status=")
    clean = without_blanks(params)
    assert clean.urlencode() == "owner=me&page=4"
    assert without_blanks(QueryDict("owner=me")) is None
    assert url_with("/leads/", params, status="new") == "/leads/?q=&owner=me&status=new"


@pytest.mark.parametrize(
    "query",
    [
        "cf_size_min=99999999999999999999999",
        "cf_size=-99999999999999999999",
        "cf_amount_max=1e30",
        "cf_amount=NaN",
        "cf_amount_min=Infinity",
        "cf_day_min=0001-01-01",
        "cf_day_max=9999-12-31",
    ],
)
def test_extreme_custom_field_bounds_do_not_fail_the_page(client_for, rep, query):
    CustomField.objects.create(entity="lead", key="size", label="Size", type="number")
    CustomField.objects.create(entity="lead", key="amount", label="Amount", type="decimal")
    CustomField.objects.create(entity="lead", key="day", label="Day", type="date")
    make_lead(rep, custom={"size": 3, "amount": "2.50", "day": "2024-01-01"})
    response = client_for(rep).get(f"/leads/?{query}")
    assert response.status_code == 200
    assert "Size" in response.content.decode()


def test_rep_still_gets_the_owner_filter_with_me_and_unassigned(rep):
    result = run(rep)
    owner = next(f for f in result.primary_fields if f.name == "owner")
    values = [value for value, _label in owner.field.choices]
    assert values == ["", "me", "unassigned"]


def test_the_count_joins_the_score_table_only_when_the_score_is_filtered_or_sorted(rep):
    low, high = make_lead(rep, first_name="Low"), make_lead(rep, first_name="High")
    make_lead(rep, first_name="Unscored")
    for lead, score in ((low, 10), (high, 90)):
        LeadScore.objects.update_or_create(
            lead=lead,
            defaults={
                "score": score,
                "fit_points": score,
                "engagement_points": 0,
                "explanation": [],
                "factors": [],
                "computed_at": timezone.now(),
            },
        )

    def counts(query: str) -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            result = run(rep, query)
        return result, [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"]]

    result, [count] = counts("")
    assert "scoring_leadscore" not in count
    assert result.total == 3
    assert {row.first_name: row.score for row in result.rows} == {
        "Low": 10,
        "High": 90,
        "Unscored": 0,
    }  # the rows still show their score

    result, [count] = counts("score_min=50")
    assert "scoring_leadscore" in count
    assert [row.first_name for row in result.rows] == ["High"]

    result, _counts = counts("sort=-score")
    assert [row.first_name for row in result.rows] == ["High", "Low", "Unscored"]
