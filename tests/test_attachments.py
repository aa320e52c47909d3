"""Files on records: what may be attached, who may download them, and how they are named."""

from __future__ import annotations

import io
import zipfile
from urllib.parse import quote

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from lejek.activities.attachments import attachment_add, attachment_delete, check_file, sniff
from lejek.activities.models import Attachment
from lejek.core.models import Event
from tests.factories import make_company, make_contact, make_deal, make_lead

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20
GIF = b"GIF89a" + b"\x01\x00\x01\x00" + b"\x00" * 10
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 20
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 50
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 50


def zipped(files: dict[str, bytes], first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if first:
            archive.writestr(first, files.pop(first))
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX = zipped({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
XLSX = zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
PPTX = zipped({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"})
DOCM = zipped(
    {
        "[Content_Types].xml": b"<Types/>",
        "word/document.xml": b"<w:document/>",
        "word/vbaProject.bin": b"\x00macro",
    }
)
ODT = zipped(
    {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"},
    first="mimetype",
)
ODS = zipped(
    {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"},
    first="mimetype",
)
PLAIN_ZIP = zipped({"notes.txt": b"hello"})


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(name: str, content: bytes, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


# What may be attached ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "served_as"),
    [
        ("oferta.pdf", PDF, "application/pdf"),
        ("zdjęcie.PNG", PNG, "image/png"),
        ("photo.jpg", JPEG, "image/jpeg"),
        ("photo.jpeg", JPEG, "image/jpeg"),
        ("anim.gif", GIF, "image/gif"),
        ("pic.webp", WEBP, "image/webp"),
        (
            "umowa.docx",
            DOCX,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("budget.xlsx", XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (
            "deck.pptx",
            PPTX,
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        ("umowa.odt", ODT, "application/vnd.oasis.opendocument.text"),
        ("arkusz.ods", ODS, "application/vnd.oasis.opendocument.spreadsheet"),
        ("notatka.txt", "Zażółć gęślą jaźń\n".encode(), "text/plain"),
        ("lista.csv", "imię;nazwisko\nŁucja;Wójcik\n".encode("cp1250"), "text/csv"),
    ],
)
def test_allowed_files_are_recognised_by_their_content(name, content, served_as):
    checked = check_file(name, content)
    assert checked.content_type == served_as
    assert checked.name == name


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("faktura.pdf", EXE, "is a program"),
        ("photo.jpg", ELF, "is a program"),
        ("setup.exe", EXE, "is a program"),
        ("notes.txt", EXE, "is a program"),
        ("umowa.docx", DOCM, "contains macros"),
        ("oferta.pdf", PNG, "is not a .pdf file"),
        ("umowa.docx", XLSX, "is not a .docx file"),
        ("umowa.docx", PLAIN_ZIP, "is not a .docx file"),
        ("archive.zip", PLAIN_ZIP, "this type of file cannot be attached"),
        ("script.sh", b"#!/bin/sh\nrm -rf /\n", "this type of file cannot be attached"),
        ("page.html", b"<html><script>alert(1)</script>", "this type of file cannot be attached"),
        ("noextension", PDF, "this type of file cannot be attached"),
        ("data.csv", b"\x00\x01\x02binary", "is not a .csv file"),
        ("empty.pdf", b"", "is empty"),
    ],
)
def test_refused_files_say_why(name, content, message):
    with pytest.raises(ValidationError) as caught:
        check_file(name, content)
    assert message in caught.value.messages[0]


def test_sniffing_ignores_the_name_entirely():
    assert sniff(PDF) == "pdf"
    assert sniff(EXE) == "program"
    assert sniff(DOCX) == "docx"
    assert sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 30) is None  # old .doc


def test_a_path_in_the_uploaded_name_is_dropped():
    assert check_file("..\\..\\windows\\oferta.pdf", PDF).name == "oferta.pdf"
    assert check_file("../../etc/oferta.pdf", PDF).name == "oferta.pdf"


@pytest.mark.django_db
def test_size_limit_comes_from_the_setting(settings, rep):
    settings.LEJEK_MAX_ATTACHMENT_MB = 1
    lead = make_lead(rep)
    just_right = PDF + b"0" * (1024 * 1024 - len(PDF))
    attachment_add(actor=rep, subject=lead, upload=upload("ok.pdf", just_right))
    with pytest.raises(ValidationError) as caught:
        attachment_add(actor=rep, subject=lead, upload=upload("big.pdf", just_right + b"0"))
    assert "at most 1 MB" in caught.value.messages[0]
    assert Attachment.objects.count() == 1


# The services ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_upload_keeps_file_metadata_and_logs_an_event(settings, rep, pipeline):
    deal = make_deal(rep, pipeline)
    attachment = attachment_add(
        actor=rep, subject=deal, upload=upload("oferta_żółć.pdf", PDF, "text/html")
    )
    assert attachment.deal == deal
    assert attachment.original_name == "oferta_żółć.pdf"
    assert attachment.size == len(PDF)
    # The browser's claim (text/html) is ignored: the content decides.
    assert attachment.content_type == "application/pdf"
    assert attachment.uploaded_by == rep
    assert attachment.file.name.startswith("attachments/")
    assert attachment.file.name.endswith(".pdf")
    assert "żółć" not in attachment.file.name  # stored under a random name
    assert (settings.MEDIA_ROOT / attachment.file.name).read_bytes() == PDF
    event = Event.objects.get(verb="attachment.added")
    assert event.object_id == deal.pk
    assert event.after["name"] == "oferta_żółć.pdf"


@pytest.mark.django_db
def test_delete_removes_row_and_file_and_logs_an_event(
    settings, rep, django_capture_on_commit_callbacks
):
    contact = make_contact(rep)
    attachment = attachment_add(actor=rep, subject=contact, upload=upload("a.pdf", PDF))
    path = settings.MEDIA_ROOT / attachment.file.name
    with django_capture_on_commit_callbacks(execute=True):
        attachment_delete(actor=rep, attachment=attachment)
    assert not Attachment.objects.exists()
    assert not path.exists()
    assert Event.objects.filter(verb="attachment.deleted", object_id=contact.pk).exists()


@pytest.mark.django_db
def test_only_people_who_may_edit_the_record_attach_or_delete(rep, other_rep, marketer, pipeline):
    deal = make_deal(rep, pipeline)
    for stranger in (other_rep, marketer):
        with pytest.raises(PermissionDenied):
            attachment_add(actor=stranger, subject=deal, upload=upload("a.pdf", PDF))
    attachment = attachment_add(actor=rep, subject=deal, upload=upload("a.pdf", PDF))
    with pytest.raises(PermissionDenied):
        attachment_delete(actor=other_rep, attachment=attachment)
    assert Attachment.objects.count() == 1


@pytest.mark.django_db
def test_refused_upload_stores_no_file(settings, rep):
    with pytest.raises(ValidationError):
        attachment_add(actor=rep, subject=make_lead(rep), upload=upload("x.pdf", EXE))
    assert not Attachment.objects.exists()
    assert not (settings.MEDIA_ROOT / "attachments").exists()


# Download ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("rep", 200),
        ("teammate", 404),
        ("manager", 200),
        ("admin", 200),
        ("marketer", 200),
        ("other_rep", 404),
    ],
)
@pytest.mark.django_db
def test_download_follows_who_can_see_the_deal(request, client_for, rep, pipeline, persona, status):
    deal = make_deal(rep, pipeline)
    attachment = attachment_add(actor=rep, subject=deal, upload=upload("a.pdf", PDF))
    user = request.getfixturevalue(persona)
    response = client_for(user).get(reverse("attachment-download", args=[attachment.pk]))
    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == PDF


@pytest.mark.django_db
def test_download_needs_a_login(client, rep):
    attachment = attachment_add(actor=rep, subject=make_lead(rep), upload=upload("a.pdf", PDF))
    response = client.get(reverse("attachment-download", args=[attachment.pk]))
    assert response.status_code == 302
    assert "/login" in response["Location"]


@pytest.mark.django_db
def test_download_is_an_attachment_with_the_original_non_ascii_name(client_for, rep):
    company = make_company(rep)
    attachment = attachment_add(actor=rep, subject=company, upload=upload("oferta_żółć.pdf", PDF))
    response = client_for(rep).get(reverse("attachment-download", args=[attachment.pk]))
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=utf-8''{quote('oferta_żółć.pdf')}" in disposition
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_media_files_are_not_published_under_media_url(client_for, settings, rep):
    attachment = attachment_add(actor=rep, subject=make_lead(rep), upload=upload("a.pdf", PDF))
    response = client_for(rep).get(f"/{settings.MEDIA_URL}{attachment.file.name}")
    assert response.status_code == 404


# Pages -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_upload_page_attaches_several_files_to_a_deal(client_for, rep, pipeline):
    deal = make_deal(rep, pipeline)
    url = f"{reverse('attachment-create')}?deal={deal.pk}"
    client = client_for(rep)
    assert client.get(url).status_code == 200
    response = client.post(url, {"files": [upload("a.pdf", PDF), upload("b.png", PNG)]})
    assert response.status_code == 302
    assert response["Location"] == deal.get_absolute_url()
    assert sorted(Attachment.objects.values_list("original_name", flat=True)) == ["a.pdf", "b.png"]


@pytest.mark.django_db
def test_one_bad_file_refuses_the_whole_upload_with_a_message(client_for, rep, pipeline):
    deal = make_deal(rep, pipeline)
    url = f"{reverse('attachment-create')}?deal={deal.pk}"
    response = client_for(rep).post(
        url, {"files": [upload("a.pdf", PDF), upload("invoice.pdf", EXE)]}
    )
    assert response.status_code == 400
    assert "“invoice.pdf” is a program" in response.content.decode()
    assert not Attachment.objects.exists()


@pytest.mark.django_db
def test_upload_page_is_closed_to_people_who_cannot_edit(
    client_for, rep, other_rep, marketer, pipeline
):
    deal = make_deal(rep, pipeline)
    url = f"{reverse('attachment-create')}?deal={deal.pk}"
    assert client_for(other_rep).get(url).status_code == 404
    assert client_for(marketer).get(url).status_code == 403
    assert client_for(rep).get(f"{reverse('attachment-create')}?deal=abc").status_code == 404


@pytest.mark.django_db
def test_panel_lists_files_and_offers_upload_only_to_editors(rep, marketer, pipeline):
    deal = make_deal(rep, pipeline)
    attachment_add(actor=rep, subject=deal, upload=upload("oferta.pdf", PDF))
    template = Template("{% load attachments %}{% attachments_panel deal %}")

    def panel_for(user) -> str:
        request = RequestFactory().get("/")
        request.user = user
        return template.render(Context({"request": request, "deal": deal}))

    html = panel_for(rep)
    assert "oferta.pdf" in html
    assert "Attach files" in html
    assert "Delete" in html
    html = panel_for(marketer)
    assert "oferta.pdf" in html
    assert "Attach files" not in html
    assert "Delete" not in html


@pytest.mark.django_db
def test_list_fragment_and_delete_over_htmx(client_for, rep):
    lead = make_lead(rep)
    attachment = attachment_add(actor=rep, subject=lead, upload=upload("oferta.pdf", PDF))
    client = client_for(rep)
    fragment = client.get(f"{reverse('attachment-list')}?lead={lead.pk}", HTTP_HX_REQUEST="true")
    assert "oferta.pdf" in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    response = client.post(
        reverse("attachment-delete", args=[attachment.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "No files yet" in response.content.decode()
    assert not Attachment.objects.exists()


@pytest.mark.django_db
def test_empty_panel_says_what_belongs_there(client_for, rep):
    company = make_company(rep)
    page = client_for(rep).get(f"{reverse('attachment-list')}?company={company.pk}")
    assert page.status_code == 200
    assert "No files yet" in page.content.decode()


@pytest.mark.django_db
def test_panel_query_count_does_not_grow_with_the_number_of_files(
    rep, pipeline, django_assert_num_queries
):
    deal = make_deal(rep, pipeline)
    template = Template("{% load attachments %}{% attachments_panel deal %}")
    request = RequestFactory().get("/")
    request.user = rep

    def render() -> str:
        return template.render(Context({"request": request, "deal": deal}))

    attachment_add(actor=rep, subject=deal, upload=upload("a.pdf", PDF))
    with django_assert_num_queries(2) as one_file:
        render()
    for n in range(5):
        attachment_add(actor=rep, subject=deal, upload=upload(f"b{n}.pdf", PDF))
    with django_assert_num_queries(len(one_file.captured_queries)):
        html = render()
    assert html.count("/download/") == 6
