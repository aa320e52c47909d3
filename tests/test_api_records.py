"""Records through the JSON API: create, read, update, list and delete for every resource,
filters, ordering and pages."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lejek.activities.models import Activity, Task
from lejek.contacts.models import Company, Contact
from lejek.core.models import CustomField, Event
from lejek.leads.models import Lead
from lejek.leads.services import campaign_create, source_create
from lejek.pipeline.models import Deal
from lejek.pipeline.services import pipeline_create
from lejek.users.models import Role
from lejek.users.services import user_create
from tests.factories import (
    make_company,
    make_deal,
    make_lead,
)
from tests.test_api_support import (
    EDITS,
    Api,
    assert_problem,
    records_of,
)


def stage_named(pipeline, name):
    return pipeline.stages.get(name=name)


# --- leads -------------------------------------------------------------------------------


def test_rep_creates_lead_owned_by_them_in_their_team(rep):
    response = Api(rep).post("/leads", {"first_name": "Jan", "email": "jan@firma.pl"})
    assert response.status_code == 201, response.content
    body = response.json()
    lead = Lead.objects.get(pk=body["id"])
    assert body["owner"] == rep.pk == lead.owner_id
    assert body["team"] == rep.team_ids[0]
    assert body["status"] == "new"
    assert body["version"] == 1
    assert body["custom"] == {}
    assert response["Location"] == f"/api/v1/leads/{lead.pk}"
    assert response["ETag"] == '"1"'
    assert Event.objects.filter(verb="lead.created", object_id=lead.pk, actor=rep).exists()


def test_lead_read_returns_every_field_and_etag(rep):
    lead = make_lead(rep, title="CEO", company_name="Acme")
    response = Api(rep).get(f"/leads/{lead.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "CEO"
    assert body["company_name"] == "Acme"
    assert body["email"] == lead.email
    for key in ("source", "campaign", "contact", "company", "score", "description"):
        assert key in body
    assert response["ETag"] == '"1"'


def test_lead_patch_changes_only_fields_sent(rep):
    lead = make_lead(rep, title="CEO", phone="+48600100200")
    response = Api(rep).patch(f"/leads/{lead.pk}", {"title": "CTO", "status": "contacted"})
    assert response.status_code == 200, response.content
    lead.refresh_from_db()
    assert (lead.title, lead.status, lead.phone) == ("CTO", "contacted", "+48600100200")
    assert response.json()["version"] == 2 == lead.version
    assert response["ETag"] == '"2"'
    event = Event.objects.get(verb="lead.updated", object_id=lead.pk)
    assert event.after == {"title": "CTO", "status": "contacted"}


def test_lead_patch_with_current_version_succeeds(rep):
    lead = make_lead(rep)
    response = Api(rep).patch(f"/leads/{lead.pk}", {"title": "CFO", "version": 1})
    assert response.status_code == 200
    assert response.json()["version"] == 2


def test_lead_patch_accepts_if_match_from_etag(rep):
    api = Api(rep)
    lead = make_lead(rep)
    etag = api.get(f"/leads/{lead.pk}")["ETag"]
    response = api.patch(f"/leads/{lead.pk}", {"title": "CFO"}, if_match=etag)
    assert response.status_code == 200
    assert Lead.objects.get(pk=lead.pk).title == "CFO"


def test_lead_links_to_source_campaign_and_company(admin, rep):
    source = source_create(actor=admin, name="Targi")
    campaign = campaign_create(actor=admin, name="Wiosna", source=source)
    company = make_company(rep)
    response = Api(rep).post(
        "/leads",
        {"last_name": "Nowak", "campaign": campaign.pk, "company": company.pk},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["campaign"], body["source"], body["company"]) == (
        campaign.pk,
        source.pk,
        company.pk,
    )


def test_lead_custom_fields_are_saved_and_merged(rep):
    CustomField.objects.create(entity="lead", key="budget", label="Budget", type="number")
    CustomField.objects.create(entity="lead", key="region", label="Region", type="text")
    api = Api(rep)
    created = api.post("/leads", {"last_name": "Nowak", "custom": {"budget": "5000"}}).json()
    assert created["custom"] == {"budget": 5000}
    patched = api.patch(f"/leads/{created['id']}", {"custom": {"region": "Mazowsze"}}).json()
    assert patched["custom"] == {"budget": 5000, "region": "Mazowsze"}


def test_lead_delete_removes_it(rep):
    api = Api(rep)
    lead = make_lead(rep)
    response = api.delete(f"/leads/{lead.pk}")
    assert response.status_code == 204
    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert Event.objects.filter(verb="lead.deleted", object_id=lead.pk).exists()
    assert_problem(api.get(f"/leads/{lead.pk}"), 404)


def test_lead_list_filters_by_status_owner_and_text(rep, manager):
    mine = make_lead(rep, last_name="Wiśniewski", status="mql")
    make_lead(rep, last_name="Zieliński", status="new")
    managers = make_lead(manager, last_name="Wójcik", status="mql")
    api = Api(manager)

    by_status = api.get("/leads", {"status": "mql"}).json()
    assert {item["id"] for item in by_status["items"]} == {mine.pk, managers.pk}
    assert by_status["count"] == 2

    own = api.get("/leads", {"owner": "me"}).json()
    assert [item["id"] for item in own["items"]] == [managers.pk]

    of_rep = api.get("/leads", {"owner": rep.pk, "q": "wiśniew"}).json()
    assert [item["id"] for item in of_rep["items"]] == [mine.pk]


def test_lead_list_filters_by_creation_time(rep):
    old = make_lead(rep)
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=30))
    new = make_lead(rep)
    api = Api(rep)
    since = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    assert [i["id"] for i in api.get("/leads", {"created_after": since}).json()["items"]] == [
        new.pk
    ]
    assert [i["id"] for i in api.get("/leads", {"created_before": since}).json()["items"]] == [
        old.pk
    ]


def test_lead_list_filters_by_custom_field(rep):
    CustomField.objects.create(
        entity="lead", key="tier", label="Tier", type="choice", choices=["gold", "silver"]
    )
    gold = make_lead(rep, custom={"tier": "gold"})
    make_lead(rep, custom={"tier": "silver"})
    body = Api(rep).get("/leads", {"cf_tier": "gold"}).json()
    assert [item["id"] for item in body["items"]] == [gold.pk]


def test_lead_list_orders_by_whitelisted_field(rep):
    b = make_lead(rep, last_name="Bąk")
    a = make_lead(rep, last_name="Adamski")
    c = make_lead(rep, last_name="Cieślak")
    body = Api(rep).get("/leads", {"ordering": "last_name"}).json()
    assert [item["id"] for item in body["items"]] == [a.pk, b.pk, c.pk]
    body = Api(rep).get("/leads", {"ordering": "-last_name"}).json()
    assert [item["id"] for item in body["items"]] == [c.pk, b.pk, a.pk]


def test_lead_list_pages_with_offset(rep):
    leads = [make_lead(rep) for _ in range(5)]
    api = Api(rep)
    first = api.get("/leads", {"limit": 2, "offset": 0, "ordering": "created_at"}).json()
    assert first["count"] == 5
    assert [i["id"] for i in first["items"]] == [leads[0].pk, leads[1].pk]
    assert "offset=2" in first["next"]
    last = api.get("/leads", {"limit": 2, "offset": 4, "ordering": "created_at"}).json()
    assert [i["id"] for i in last["items"]] == [leads[4].pk]
    assert last["next"] is None


def walk(api, path, params):
    """Every item of a list, following the `next` links page by page."""
    items = []
    while path:
        body = api.get(path, params).json()
        items += body["items"]
        path, params = (body["next"].split("/api/v1", 1)[1] if body["next"] else None), {}
    return items


@pytest.mark.parametrize("ordering", ["-created_at", "last_name", "-score", "company_name"])
def test_lead_list_cursor_walks_every_row_once(rep, ordering):
    leads = [make_lead(rep, last_name=f"N{i % 3}", company_name="") for i in range(7)]
    seen = [item["id"] for item in walk(Api(rep), "/leads", {"limit": 3, "ordering": ordering})]
    assert sorted(seen) == sorted(lead.pk for lead in leads)
    assert len(seen) == 7


def test_cursor_page_skips_nothing_when_rows_are_added_meanwhile(rep):
    first_leads = [make_lead(rep) for _ in range(3)]
    api = Api(rep)
    page = api.get("/leads", {"limit": 2, "ordering": "created_at"}).json()
    make_lead(rep)  # lands after the cursor; must not push earlier rows onto the next page twice
    rest = api.get(page["next"].split("/api/v1", 1)[1]).json()
    assert [i["id"] for i in page["items"]] == [first_leads[0].pk, first_leads[1].pk]
    assert rest["items"][0]["id"] == first_leads[2].pk


# --- companies and contacts ----------------------------------------------------------------


def test_company_crud(rep):
    api = Api(rep)
    created = api.post("/companies", {"name": "Acme Sp. z o.o.", "nip": "5260250274", "size": 40})
    assert created.status_code == 201, created.content
    company_id = created.json()["id"]
    assert api.get(f"/companies/{company_id}").json()["nip"] == "5260250274"
    patched = api.patch(f"/companies/{company_id}", {"city": "Kraków", "version": 1})
    assert patched.json()["city"] == "Kraków"
    assert patched.json()["version"] == 2
    listed = api.get("/companies", {"q": "acme"}).json()
    assert [item["id"] for item in listed["items"]] == [company_id]
    assert api.delete(f"/companies/{company_id}").status_code == 204
    assert not Company.objects.filter(pk=company_id).exists()


def test_contact_crud_with_company(rep):
    api = Api(rep)
    company = make_company(rep)
    created = api.post(
        "/contacts",
        {"first_name": "Anna", "last_name": "Nowak", "company": company.pk, "language": "pl"},
    )
    assert created.status_code == 201, created.content
    contact_id = created.json()["id"]
    assert created.json()["company"] == company.pk
    assert api.get(f"/contacts/{contact_id}").json()["last_name"] == "Nowak"
    patched = api.patch(f"/contacts/{contact_id}", {"company": None, "title": "CFO"})
    assert (patched.json()["company"], patched.json()["title"]) == (None, "CFO")
    listed = api.get("/contacts", {"company": company.pk}).json()
    assert listed["items"] == []
    assert api.delete(f"/contacts/{contact_id}").status_code == 204
    assert not Contact.objects.filter(pk=contact_id).exists()


# --- deals -------------------------------------------------------------------------------


def test_deal_crud(rep, pipeline):
    api = Api(rep)
    company = make_company(rep)
    created = api.post(
        "/deals", {"title": "Wdrożenie CRM", "amount": "12500.50", "company": company.pk}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["pipeline"] == pipeline.pk
    assert body["stage"] == stage_named(pipeline, "Qualified").pk
    assert body["state"] == "open"
    assert body["amount"] == "12500.50"
    assert body["currency"] == "PLN"
    deal_id = body["id"]
    patched = api.patch(f"/deals/{deal_id}", {"amount": 15000, "expected_close_date": "2031-03-31"})
    assert patched.status_code == 200, patched.content
    assert (patched.json()["amount"], patched.json()["expected_close_date"]) == (
        "15000.00",
        "2031-03-31",
    )
    assert api.get(f"/deals/{deal_id}").json()["version"] == 2
    assert api.delete(f"/deals/{deal_id}").status_code == 204
    assert not Deal.objects.filter(pk=deal_id).exists()


def test_deal_created_with_only_a_stage_goes_to_that_stage(rep, pipeline):
    proposal = stage_named(pipeline, "Proposal")
    body = Api(rep).post("/deals", {"title": "X", "stage": proposal.pk}).json()
    assert (body["pipeline"], body["stage"]) == (pipeline.pk, proposal.pk)


def test_deal_move_records_a_stage_change(rep, pipeline):
    api = Api(rep)
    deal = make_deal(rep, pipeline)
    proposal = stage_named(pipeline, "Proposal")
    response = api.post(f"/deals/{deal.pk}/move", {"stage": proposal.pk, "version": 1})
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == proposal.pk
    assert response.json()["version"] == 2
    changes = api.get(f"/deals/{deal.pk}/stage-changes").json()
    assert [(c["from_stage"], c["to_stage"]) for c in changes] == [
        (None, deal.stage_id),
        (deal.stage_id, proposal.pk),
    ]
    assert changes[1]["actor"] == rep.pk


def test_deal_moved_to_lost_keeps_reason_and_reads_lost(rep, pipeline):
    deal = make_deal(rep, pipeline)
    lost = stage_named(pipeline, "Lost")
    body = (
        Api(rep)
        .post(f"/deals/{deal.pk}/move", {"stage": lost.pk, "lost_reason": "Za drogo"})
        .json()
    )
    assert (body["state"], body["lost_reason"]) == ("lost", "Za drogo")
    assert body["closed_at"] is not None


def test_deal_list_filters_by_stage_state_and_pipeline(rep, pipeline):
    open_deal = make_deal(rep, pipeline)
    won_deal = make_deal(rep, pipeline, stage=stage_named(pipeline, "Won"))
    api = Api(rep)
    assert [i["id"] for i in api.get("/deals", {"state": "won"}).json()["items"]] == [won_deal.pk]
    assert [i["id"] for i in api.get("/deals", {"state": "open"}).json()["items"]] == [open_deal.pk]
    by_stage = api.get("/deals", {"stage": open_deal.stage_id}).json()
    assert [i["id"] for i in by_stage["items"]] == [open_deal.pk]
    assert api.get("/deals", {"pipeline": pipeline.pk}).json()["count"] == 2


# --- activities and tasks ------------------------------------------------------------------


def test_activity_crud_on_a_lead(rep):
    api = Api(rep)
    lead = make_lead(rep)
    created = api.post(
        "/activities",
        {
            "lead": lead.pk,
            "kind": "call",
            "subject_line": "Pierwszy telefon",
            "occurred_at": "2030-05-04T10:00:00+02:00",
            "duration_minutes": 15,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["lead"], body["deal"], body["author"]) == (lead.pk, None, rep.pk)
    assert body["occurred_at"] == "2030-05-04T08:00:00Z"
    activity_id = body["id"]
    patched = api.patch(f"/activities/{activity_id}", {"body": "Oddzwonić w piątek."})
    assert patched.json()["body"] == "Oddzwonić w piątek."
    listed = api.get("/activities", {"lead": lead.pk}).json()
    assert [item["id"] for item in listed["items"]] == [activity_id]
    assert api.get(f"/activities/{activity_id}").json()["duration_minutes"] == 15
    assert api.delete(f"/activities/{activity_id}").status_code == 204
    assert not Activity.objects.filter(pk=activity_id).exists()


def test_task_crud_and_done_toggle(rep, pipeline):
    api = Api(rep)
    deal = make_deal(rep, pipeline)
    created = api.post(
        "/tasks", {"deal": deal.pk, "title": "Wyślij ofertę", "due_date": "2030-01-10"}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["assignee"], body["done"], body["deal"]) == (rep.pk, False, deal.pk)
    task_id = body["id"]

    done = api.patch(f"/tasks/{task_id}", {"done": True})
    assert done.json()["done"] is True
    assert done.json()["done_at"] is not None
    assert Event.objects.filter(verb="task.completed", object_id=task_id).exists()
    reopened = api.patch(f"/tasks/{task_id}", {"done": False, "title": "Wyślij ofertę v2"})
    assert (reopened.json()["done"], reopened.json()["title"]) == (False, "Wyślij ofertę v2")

    assert [
        i["id"] for i in api.get("/tasks", {"assignee": "me", "done": "false"}).json()["items"]
    ] == [task_id]
    assert api.delete(f"/tasks/{task_id}").status_code == 204
    assert not Task.objects.filter(pk=task_id).exists()


def test_task_can_be_given_to_a_teammate(rep, teammate):
    lead = make_lead(rep)
    body = (
        Api(rep)
        .post("/tasks", {"lead": lead.pk, "title": "Zadzwoń", "assignee": teammate.pk})
        .json()
    )
    assert body["assignee"] == teammate.pk
    assert teammate.notifications.filter(kind="task.assigned").exists()


# --- reference lists ----------------------------------------------------------------------


def test_me_describes_the_caller(rep, north):
    body = Api(rep).get("/me").json()
    assert body == {
        "id": rep.pk,
        "name": "Rita Rep",
        "email": "rita@example.com",
        "role": "rep",
        "teams": [north.pk],
        "is_active": True,
        "language": "en",
    }


def test_users_and_teams_are_listed(rep, teammate, other_rep, north, south):
    api = Api(rep)
    users = api.get("/users", {"team": north.pk}).json()
    assert {u["email"] for u in users["items"]} == {"rita@example.com", "tom@example.com"}
    assert users["items"][0]["teams"] == [north.pk]
    teams = api.get("/teams").json()
    assert [t["name"] for t in teams["items"]] == ["North", "South"]


def test_sources_campaigns_and_pipelines_are_listed(admin, rep, pipeline):
    source = source_create(actor=admin, name="Strona WWW", kind="web_form")
    campaign_create(actor=admin, name="Jesień", source=source, cost="1200.00")
    api = Api(rep)
    assert api.get("/sources").json()["items"] == [
        {"id": source.pk, "name": "Strona WWW", "kind": "web_form"}
    ]
    campaign = api.get("/campaigns", {"source": source.pk}).json()["items"][0]
    assert (campaign["name"], campaign["cost"], campaign["currency"]) == (
        "Jesień",
        "1200.00",
        "PLN",
    )
    pipelines = api.get("/pipelines").json()["items"]
    assert [s["name"] for s in pipelines[0]["stages"]] == [
        "Qualified",
        "Proposal",
        "Negotiation",
        "Won",
        "Lost",
    ]
    assert pipelines[0]["is_default"] is True
    assert api.get(f"/pipelines/{pipeline.pk}").json()["stages"][3]["is_won"] is True


@pytest.mark.parametrize("resource", sorted(EDITS))
def test_list_query_count_does_not_grow_with_rows(rep, pipeline, resource):
    api = Api(rep)
    records_of(rep, pipeline)
    with CaptureQueriesContext(connection) as few:
        api.get(f"/{resource}")
    for _ in range(4):
        records_of(rep, pipeline)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(f"/{resource}").json()["items"]) == 5
    assert len(many) == len(few)


def test_user_and_pipeline_lists_query_count_does_not_grow(rep, teammate, pipeline):
    api = Api(rep)
    with CaptureQueriesContext(connection) as few:
        api.get("/users")
        api.get("/pipelines")
    for n in range(3):
        user_create(actor=None, email=f"u{n}@example.com", password=None, role=Role.REP)
        pipeline_create(actor=None, name=f"P{n}", stages=[{"name": "A"}, {"name": "B"}])
    with CaptureQueriesContext(connection) as many:
        assert api.get("/users").json()["count"] == 5
        assert api.get("/pipelines").json()["count"] == 4
    assert len(many) == len(few)


@pytest.mark.parametrize("ordering", ["expected_close_date", "-expected_close_date"])
def test_cursor_walks_a_nullable_ordering_without_gaps(rep, pipeline, ordering):
    days = [None, "2030-01-05", None, "2030-01-01", "2030-01-05", None, "2030-02-01"]
    deals = [make_deal(rep, pipeline, expected_close_date=day) for day in days]
    items = walk(Api(rep), "/deals", {"limit": 2, "ordering": ordering})
    seen = [(item["expected_close_date"], item["id"]) for item in items]
    assert sorted(i for _, i in seen) == sorted(deal.pk for deal in deals)
    dated = [day for day, _ in seen if day is not None]
    assert dated == sorted(dated, reverse=ordering.startswith("-"))
    nulls_at = [n for n, (day, _) in enumerate(seen) if day is None]
    assert nulls_at == ([4, 5, 6] if ordering.startswith("-") else [0, 1, 2])
