"""The import wizard through its pages: upload, map, dry run, import, follow, download."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from openpyxl import Workbook

from lejek.imports.models import ImportJob, ImportMapping
from lejek.leads.models import Campaign, Lead, Source
from lejek.leads.services import campaign_create

pytestmark = pytest.mark.django_db

LEADS_CSV = (
    "Imię,Nazwisko,E-mail,Firma,Notatki\n"
    "Zofia,Żółkiewska,zofia@przyklad.pl,Łódzkie Młyny,Targi 2026\n"
    "Jan,Nowak,jan@przyklad.pl,Nowak Sp. z o.o.,\n"
    ",,,,only a note\n"
    "Ewa,Lis,ewa@przyklad.pl,Lis i Syn,\n"
)
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def csv_file(text: str, name: str = "leads.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def upload(client, text: str = LEADS_CSV, *, kind: str = "lead", name: str = "leads.csv", **extra):
    data = {"kind": kind, "file": csv_file(text, name), **extra}
    return client.post(reverse("import-new"), data)


def uploaded_job(client, text: str = LEADS_CSV, **kwargs) -> ImportJob:
    response = upload(client, text, **kwargs)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.latest("pk")
    assert response["Location"] == reverse("import-mapping", args=[job.pk])
    return job


def mapping_post(job: ImportJob, fields: dict[str, str], **extra) -> dict[str, str]:
    """The mapping form as a browser would send it: one select per column, by position."""
    data = {f"col_{i}": fields.get(header, "") for i, header in enumerate(job.headers)}
    data.update(extra)
    return data


def run_dry(client, job: ImportJob, fields: dict[str, str], capture, **extra):
    with capture(execute=True):
        response = client.post(
            reverse("import-mapping", args=[job.pk]), mapping_post(job, fields, **extra)
        )
    return response


LEAD_FIELDS = {
    "Imię": "first_name",
    "Nazwisko": "last_name",
    "E-mail": "email",
    "Firma": "company",
    "Notatki": "description",
}


# Who may import -----------------------------------------------------------------------------


def test_rep_is_refused_every_import_page(client_for, rep, marketer):
    job = uploaded_job(client_for(marketer))
    client = client_for(rep)
    for url in (
        reverse("import-list"),
        reverse("import-new"),
        reverse("import-job", args=[job.pk]),
        reverse("import-mapping", args=[job.pk]),
        reverse("import-report", args=[job.pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert upload(client).status_code == 403
    assert client.post(reverse("import-run", args=[job.pk])).status_code == 403


def test_signed_out_visitor_is_sent_to_log_in(client):
    response = client.get(reverse("import-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_marketer_imports_leads_contacts_companies_but_not_deals(client_for, marketer):
    client = client_for(marketer)
    page = client.get(reverse("import-new")).content.decode()
    assert 'value="lead"' in page
    assert 'value="company"' in page
    assert 'value="deal"' not in page
    response = upload(client, "Title\nBig deal\n", kind="deal")
    assert response.status_code == 400
    assert not ImportJob.objects.exists()


def test_manager_may_import_deals(client_for, manager, pipeline):
    client = client_for(manager)
    assert 'value="deal"' in client.get(reverse("import-new")).content.decode()
    job = uploaded_job(client, "Title,Amount\nBig deal,1000\n", kind="deal", name="deals.csv")
    assert job.kind == "deal"
    assert job.actor == manager


def test_each_user_sees_own_imports_and_admin_sees_all(client_for, marketer, manager, admin):
    uploaded_job(client_for(marketer), name="mias-list.csv")
    uploaded_job(client_for(manager), name="maxs-list.csv")

    marketer_page = client_for(marketer).get(reverse("import-list")).content.decode()
    assert "mias-list.csv" in marketer_page
    assert "maxs-list.csv" not in marketer_page

    admin_page = client_for(admin).get(reverse("import-list")).content.decode()
    assert "mias-list.csv" in admin_page
    assert "maxs-list.csv" in admin_page
    assert admin_page.index("maxs-list.csv") < admin_page.index("mias-list.csv")  # newest first


def test_someone_elses_import_is_not_found(client_for, marketer, manager):
    job = uploaded_job(client_for(marketer))
    client = client_for(manager)
    assert client.get(reverse("import-job", args=[job.pk])).status_code == 404
    assert client.get(reverse("import-mapping", args=[job.pk])).status_code == 404


# The list and the upload --------------------------------------------------------------------


def test_empty_list_explains_imports_and_offers_the_first(client_for, marketer):
    page = client_for(marketer).get(reverse("import-list")).content.decode()
    assert "No imports yet" in page
    assert f'href="{reverse("import-new")}"' in page
    assert "Import the first file" in page


def test_upload_page_takes_csv_and_xlsx_and_preselects_the_kind(client_for, marketer):
    page = client_for(marketer).get(reverse("import-new") + "?kind=company").content.decode()
    assert 'accept=".csv,.xlsx"' in page
    assert 'enctype="multipart/form-data"' in page
    assert re.search(r'<option value="company" selected>', page)


def test_empty_file_is_refused_next_to_the_file_field(client_for, marketer):
    response = upload(client_for(marketer), "")
    assert response.status_code == 400
    page = response.content.decode()
    assert "The submitted file is empty." in page
    assert not ImportJob.objects.exists()


def test_blank_lines_only_file_is_refused_as_empty(client_for, marketer):
    response = upload(client_for(marketer), "\n\n  \n")
    assert response.status_code == 400
    assert "The file is empty." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_png_renamed_to_csv_is_refused_with_a_reason(client_for, marketer):
    data = {"kind": "lead", "file": SimpleUploadedFile("leads.csv", PNG_BYTES, "text/csv")}
    response = client_for(marketer).post(reverse("import-new"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "This is not a CSV or XLSX file." in page
    # The message sits in the file field's error list.
    assert re.search(r'class="errorlist[^"]*"[^>]*>\s*<li>This is not a CSV or XLSX', page)
    assert not ImportJob.objects.exists()


def test_xlsx_upload_is_read_like_a_csv(client_for, marketer):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Nazwa firmy", "NIP", "Miasto"])
    sheet.append(["Łódzkie Młyny S.A.", "7251801126", "Łódź"])
    content = io.BytesIO()
    workbook.save(content)
    xlsx = SimpleUploadedFile(
        "firmy.xlsx",
        content.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    client = client_for(marketer)
    response = client.post(reverse("import-new"), {"kind": "company", "file": xlsx})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.headers == ["Nazwa firmy", "NIP", "Miasto"]
    page = client.get(reverse("import-mapping", args=[job.pk])).content.decode()
    assert "Łódzkie Młyny S.A." in page
    assert "7251801126" in page


def test_file_larger_than_memory_limit_streams_through_a_temporary_file(
    client_for, marketer, settings
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    rows = "".join(f"Jan{n},Nowak{n},jan{n}@przyklad.pl\n" for n in range(500))
    text = "Imię,Nazwisko,E-mail\n" + rows
    assert len(text.encode()) > 10 * settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    job = uploaded_job(client_for(marketer), text)
    assert job.headers == ["Imię", "Nazwisko", "E-mail"]
    assert job.file.size == len(text.encode())


def test_upload_without_a_file_asks_for_one(client_for, marketer):
    response = client_for(marketer).post(reverse("import-new"), {"kind": "lead"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


# Mapping ------------------------------------------------------------------------------------


def test_mapping_page_shows_each_column_with_three_first_values_and_the_guess(client_for, marketer):
    client = client_for(marketer)
    job = uploaded_job(client)
    page = client.get(reverse("import-mapping", args=[job.pk])).content.decode()
    for header in ("Imię", "Nazwisko", "E-mail", "Firma", "Notatki"):
        assert header in page
    assert "zofia@przyklad.pl" in page
    assert "jan@przyklad.pl" in page
    assert "ewa@przyklad.pl" not in page  # fourth data row: only the first three are shown
    assert "— do not import —" in page
    # The guessed field is preselected for the e-mail column.
    email_index = job.headers.index("E-mail")
    select = re.search(rf'<select name="col_{email_index}".*?</select>', page, re.S).group(0)
    assert re.search(r'<option value="email" selected>', select)


def test_file_contents_are_escaped(client_for, marketer):
    client = client_for(marketer)
    text = "<script>alert('h')</script>,E-mail\n<img src=x onerror=alert(1)>,a@b.pl\n"
    job = uploaded_job(client, text)
    page = client.get(reverse("import-mapping", args=[job.pk])).content.decode()
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;h&#x27;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_mapping_without_a_name_email_or_company_is_refused_clearly(client_for, marketer):
    client = client_for(marketer)
    job = uploaded_job(client)
    response = client.post(
        reverse("import-mapping", args=[job.pk]), mapping_post(job, {"Notatki": "description"})
    )
    assert response.status_code == 400
    assert "a lead needs one of them" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DRAFT


def test_required_field_left_unmapped_is_named(client_for, marketer):
    client = client_for(marketer)
    job = uploaded_job(client, "Imię,E-mail\nAnna,anna@przyklad.pl\n", kind="contact")
    response = client.post(
        reverse("import-mapping", args=[job.pk]),
        mapping_post(job, {"Imię": "first_name", "E-mail": "email"}),
    )
    assert response.status_code == 400
    assert "Choose the column for “Last name”: it is required." in response.content.decode()
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DRAFT


def test_full_name_fills_a_required_last_name(client_for, marketer):
    client = client_for(marketer)
    job = uploaded_job(client, "Osoba,E-mail\nAnna Nowak,anna@przyklad.pl\n", kind="contact")
    data = mapping_post(job, {"Osoba": "full_name", "E-mail": "email"})
    response = client.post(reverse("import-mapping", args=[job.pk]), data)
    assert response.status_code == 302
    assert ImportJob.objects.get(pk=job.pk).mapping["columns"]["Osoba"]["field"] == "full_name"


def test_two_columns_into_one_field_are_refused_on_the_second(client_for, marketer):
    client = client_for(marketer)
    job = uploaded_job(client)
    fields = {**LEAD_FIELDS, "Firma": "email"}
    response = client.post(reverse("import-mapping", args=[job.pk]), mapping_post(job, fields))
    assert response.status_code == 400
    assert "Column “E-mail” already goes there." in response.content.decode()


def test_value_translation_lines_must_have_an_equals_sign(client_for, marketer):
    client = client_for(marketer)
    job = uploaded_job(client, "E-mail,Status\na@b.pl,Nowy\n")
    data = mapping_post(job, {"E-mail": "email", "Status": "status"}, values_1="Nowy new")
    response = client.post(reverse("import-mapping", args=[job.pk]), data)
    assert response.status_code == 400
    assert "Line 1: write it as “value in the file = value in Lejek”." in response.content.decode()


def test_saved_mapping_is_kept_and_offered_for_the_next_file(
    client_for, marketer, django_capture_on_commit_callbacks
):
    client = client_for(marketer)
    job = uploaded_job(client)
    fields = {**LEAD_FIELDS, "Notatki": ""}
    response = run_dry(
        client, job, fields, django_capture_on_commit_callbacks, save_as="Targi list"
    )
    assert response.status_code == 302
    saved = ImportMapping.objects.get(kind="lead", name="Targi list")
    assert saved.mapping["columns"]["E-mail"]["field"] == "email"
    assert saved.created_by == marketer

    second = uploaded_job(client, name="second.csv")
    page = client.get(reverse("import-mapping", args=[second.pk])).content.decode()
    assert "Targi list" in page
    notes_index = second.headers.index("Notatki")
    guessed = re.search(rf'<select name="col_{notes_index}".*?</select>', page, re.S).group(0)
    assert re.search(r'<option value="description" selected>', guessed)

    applied = client.get(
        reverse("import-mapping", args=[second.pk]) + f"?saved={saved.pk}"
    ).content.decode()
    notes = re.search(rf'<select name="col_{notes_index}".*?</select>', applied, re.S).group(0)
    assert re.search(r'<option value="" selected>', notes)  # the saved mapping skips notes


def test_saved_mappings_of_another_kind_are_not_offered(client_for, marketer):
    ImportMapping.objects.create(kind="company", name="Company sheet", mapping={"columns": {}})
    client = client_for(marketer)
    job = uploaded_job(client)
    assert (
        "Company sheet" not in client.get(reverse("import-mapping", args=[job.pk])).content.decode()
    )


# Dry run, real run, progress ----------------------------------------------------------------


def dry_run_job(client, capture, text: str = LEADS_CSV, fields=None, **kwargs) -> ImportJob:
    job = uploaded_job(client, text, **kwargs)
    response = run_dry(client, job, fields or LEAD_FIELDS, capture)
    assert response.status_code == 302, response.content.decode()[:3000]
    started = ImportJob.objects.latest("pk")
    assert response["Location"] == reverse("import-job", args=[started.pk])
    return started


def test_dry_run_saves_nothing_and_shows_what_would_happen(
    client_for, marketer, django_capture_on_commit_callbacks
):
    client = client_for(marketer)
    job = dry_run_job(client, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.dry_run
    assert job.status == ImportJob.Status.DONE
    assert not Lead.objects.exists()

    page = client.get(reverse("import-job", args=[job.pk])).content.decode()
    assert "Dry run finished: nothing was saved yet." in page
    assert "Would be created" in page
    assert 'data-count="created">3<' in page
    assert 'data-count="rejected">1<' in page
    assert "Rows that would be rejected" in page
    assert "only a note" in page  # the rejected row itself, beside its reason
    assert reverse("import-report", args=[job.pk]) in page
    assert "Import for real" in page
    assert f'action="{reverse("import-run", args=[job.pk])}"' in page
    assert 'hx-trigger="every 1s"' not in page  # finished: no more polling
    assert re.search(r'<progress id="import-bar" max="4" value="4"', page)


def test_rejected_rows_show_their_reason_from_the_error_report(
    client_for, marketer, django_capture_on_commit_callbacks
):
    client = client_for(marketer)
    job = dry_run_job(client, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    with job.error_report.open("rb") as handle:
        rows = list(csv.reader(io.TextIOWrapper(handle, encoding="utf-8-sig")))
    assert rows[0][-1] == "error"
    assert len(rows) == 2
    reason = rows[1][-1]
    assert reason
    page = client.get(reverse("import-job", args=[job.pk])).content.decode()
    assert f'<td class="import-reason">{escape(reason)}</td>' in page


def test_import_for_real_after_the_dry_run_creates_the_leads(
    client_for, marketer, django_capture_on_commit_callbacks
):
    client = client_for(marketer)
    dry = dry_run_job(client, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import-run", args=[dry.pk]))
    real = ImportJob.objects.exclude(pk=dry.pk).get() if ImportJob.objects.count() > 1 else dry
    real.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("import-job", args=[real.pk])
    assert not real.dry_run
    assert real.status == ImportJob.Status.DONE
    assert real.created_count == 3
    assert sorted(Lead.objects.values_list("email", flat=True)) == [
        "ewa@przyklad.pl",
        "jan@przyklad.pl",
        "zofia@przyklad.pl",
    ]
    page = client.get(reverse("import-job", args=[real.pk])).content.decode()
    assert "Import finished." in page
    assert 'data-count="created">3<' in page
    assert "Import for real" not in page
    assert f'href="{reverse("lead-list")}' in page
    assert reverse("import-report", args=[real.pk]) in page


def test_import_for_real_twice_starts_one_run(
    client_for, marketer, django_capture_on_commit_callbacks
):
    client = client_for(marketer)
    dry = dry_run_job(client, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(reverse("import-run", args=[dry.pk]))
        second = client.post(reverse("import-run", args=[dry.pk]))
    assert first["Location"] == second["Location"]
    assert ImportJob.objects.filter(dry_run=False).count() == 1
    assert Lead.objects.count() == 3


def test_import_for_real_needs_a_finished_dry_run(client_for, marketer):
    client = client_for(marketer)
    job = uploaded_job(client)
    response = client.post(reverse("import-run", args=[job.pk]))
    assert response.status_code == 302
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DRAFT
    assert not Lead.objects.exists()


def test_progress_partial_polls_while_queued_and_stops_when_done(
    client_for, marketer, settings, django_capture_on_commit_callbacks
):
    # No worker picks the job up, so it waits in the queue as it would behind a busy worker.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    client = client_for(marketer)
    job = dry_run_job(client, django_capture_on_commit_callbacks)
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.QUEUED

    page = client.get(reverse("import-job", args=[job.pk])).content.decode()
    assert "<html" in page
    assert 'hx-trigger="every 1s"' in page
    assert "You can close this page" in page

    partial = client.get(reverse("import-job", args=[job.pk]), headers={"HX-Request": "true"})
    text = partial.content.decode()
    assert "<html" not in text
    assert text.lstrip().startswith('<section id="import-progress"')
    assert 'hx-trigger="every 1s"' in text

    from lejek.imports.tasks import run_import_job

    run_import_job.call(job.pk)
    done = client.get(reverse("import-job", args=[job.pk]), headers={"HX-Request": "true"})
    text = done.content.decode()
    assert 'hx-trigger="every 1s"' not in text
    assert "Dry run finished" in text
    assert 'data-count="created">3<' in text


def test_failed_import_says_why_and_offers_a_new_upload(
    client_for, marketer, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    client = client_for(marketer)
    job = dry_run_job(client, django_capture_on_commit_callbacks)
    job.file.storage.delete(job.file.name)  # the file vanished before a worker got to it

    from lejek.imports.tasks import run_import_job

    run_import_job.call(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    page = client.get(reverse("import-job", args=[job.pk])).content.decode()
    assert "The import stopped." in page
    assert escape(job.message) in page
    assert "Import for real" not in page
    assert f'href="{reverse("import-new")}?kind=lead"' in page


def test_error_report_downloads_only_for_its_owner_and_admins(
    client_for, marketer, admin, manager, rep, django_capture_on_commit_callbacks
):
    owner = client_for(marketer)
    job = dry_run_job(owner, django_capture_on_commit_callbacks)
    url = reverse("import-report", args=[job.pk])

    response = owner.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="leads-errors.csv"' in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "only a note" in body
    assert body.splitlines()[0].endswith("error")

    assert client_for(admin).get(url).status_code == 200
    assert client_for(manager).get(url).status_code == 404
    assert client_for(rep).get(url).status_code == 403


def test_report_of_an_import_without_one_is_not_found(client_for, marketer):
    client = client_for(marketer)
    job = uploaded_job(client)
    assert client.get(reverse("import-report", args=[job.pk])).status_code == 404


def test_rejected_rows_are_escaped_on_the_job_page(
    client_for, marketer, django_capture_on_commit_callbacks
):
    client = client_for(marketer)
    text = "E-mail,Notatki\n,<script>alert(1)</script>\nok@przyklad.pl,fine\n"
    job = dry_run_job(
        client,
        django_capture_on_commit_callbacks,
        text,
        {"E-mail": "email", "Notatki": "description"},
    )
    page = client.get(reverse("import-job", args=[job.pk])).content.decode()
    assert 'data-count="rejected">1<' in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_mapping_of_a_started_import_cannot_change(
    client_for, marketer, django_capture_on_commit_callbacks
):
    client = client_for(marketer)
    job = dry_run_job(client, django_capture_on_commit_callbacks)
    response = client.get(reverse("import-mapping", args=[job.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("import-job", args=[job.pk])


def test_list_shows_counts_status_and_report_link(
    client_for, marketer, django_capture_on_commit_callbacks
):
    client = client_for(marketer)
    job = dry_run_job(client, django_capture_on_commit_callbacks)
    page = client.get(reverse("import-list")).content.decode()
    assert "leads.csv" in page
    assert "dry run" in page
    assert "Finished" in page
    assert reverse("import-report", args=[job.pk]) in page
    assert reverse("import-job", args=[job.pk]) in page


def test_list_query_count_does_not_grow_with_imports(
    client_for, marketer, admin, django_assert_max_num_queries
):
    client = client_for(admin)
    for n in range(6):
        uploaded_job(client_for(marketer), name=f"file-{n}.csv")
    with django_assert_max_num_queries(8):
        response = client.get(reverse("import-list"))
    assert response.content.decode().count("file-") == 6


# Event attendee lists -----------------------------------------------------------------------


def test_event_list_needs_a_campaign(client_for, marketer):
    response = upload(client_for(marketer), event_list="on", campaign="")
    assert response.status_code == 400
    assert "Name the event&#x27;s campaign." in response.content.decode()


def test_event_list_is_for_leads_only(client_for, marketer):
    response = upload(
        client_for(marketer), "Nazwa\nFirma\n", kind="company", event_list="on", campaign="Targi"
    )
    assert response.status_code == 400
    assert "Event attendee lists are imported as leads." in response.content.decode()


def test_event_list_stamps_the_event_source_and_campaign_on_every_lead(
    client_for, marketer, django_capture_on_commit_callbacks
):
    client = client_for(marketer)
    job = uploaded_job(client, event_list="on", campaign="Targi Poznań 2026")
    page = client.get(reverse("import-mapping", args=[job.pk])).content.decode()
    assert "Event attendee list: every lead gets the campaign “Targi Poznań 2026”" in page

    response = run_dry(client, job, LEAD_FIELDS, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    dry = ImportJob.objects.get(pk=job.pk)
    assert dry.defaults == {"event": "Targi Poznań 2026"}
    assert not Campaign.objects.exists()  # a dry run creates nothing, not even the campaign
    assert "Targi Poznań 2026" in client.get(reverse("import-job", args=[dry.pk])).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import-run", args=[dry.pk]))
    campaign = Campaign.objects.get(name="Targi Poznań 2026")
    assert campaign.source.kind == Source.Kind.EVENT
    leads = Lead.objects.select_related("source")
    assert leads.count() == 3
    assert {lead.campaign_id for lead in leads} == {campaign.pk}
    assert {lead.source.kind for lead in leads} == {Source.Kind.EVENT}
    page = client.get(response["Location"]).content.decode()
    assert f'href="{reverse("lead-list")}?campaign={campaign.pk}"' in page


def test_event_list_joins_an_existing_campaign(
    client_for, marketer, django_capture_on_commit_callbacks
):
    client = client_for(marketer)
    existing = campaign_create(actor=marketer, name="Targi 2026")
    job = uploaded_job(client, event_list="on", campaign="targi 2026")
    run_dry(client, job, LEAD_FIELDS, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import-run", args=[job.pk]))
    assert Campaign.objects.count() == 1
    assert set(Lead.objects.values_list("campaign", flat=True)) == {existing.pk}


def test_event_choice_is_forgotten_once_the_dry_run_starts(
    client_for, marketer, django_capture_on_commit_callbacks
):
    client = client_for(marketer)
    job = uploaded_job(client, event_list="on", campaign="Targi 2026")
    run_dry(client, job, LEAD_FIELDS, django_capture_on_commit_callbacks)
    assert f"import-event-{job.pk}" not in client.session
