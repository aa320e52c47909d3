"""Shared helpers for the import tests, and the tests of reading files (formats, encodings)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.files import File

from lejek.imports.models import ImportJob
from lejek.imports.reading import ImportFileError, open_table
from lejek.imports.services import (
    import_job_create,
    import_job_run_now,
    import_job_set_mapping,
)

FIXTURES = Path(__file__).parent / "fixtures" / "import"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded files and error reports go to a throwaway folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def write_csv(
    folder: Path,
    rows: list[list[str]],
    *,
    name: str = "file.csv",
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path = folder / name
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def upload(actor, kind: str, path: Path, mapping: dict | None = None) -> ImportJob:
    with path.open("rb") as handle:
        job = import_job_create(actor=actor, kind=kind, uploaded=File(handle), name=path.name)
    if mapping is not None:
        job = import_job_set_mapping(actor=actor, job=job, mapping=mapping)
    return job


def run_file(
    actor, kind: str, path: Path, *, mapping: dict | None = None, dry_run: bool = False
) -> ImportJob:
    """Create a job from `path`, map it (guessed, or `mapping` on top of the guess), run it."""
    job = upload(actor, kind, path)
    if mapping is not None:
        merged = dict(job.mapping)
        merged.update({k: v for k, v in mapping.items() if k != "columns"})
        columns = dict(job.mapping["columns"])
        columns.update(mapping.get("columns") or {})
        merged["columns"] = columns
        job = import_job_set_mapping(actor=actor, job=job, mapping=merged)
    job = import_job_run_now(actor=actor, job=job, dry_run=dry_run)
    job.refresh_from_db()
    return job


def report_rows(job: ImportJob) -> list[dict[str, str]]:
    """The error report's rows, read back the way Excel would (BOM, delimiter)."""
    raw = Path(job.error_report.path).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
    return list(csv.DictReader(io.StringIO(text), dialect=dialect))


# Reading -----------------------------------------------------------------------------------


def test_utf8_with_bom_and_semicolons_is_read(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes("\ufeffImię;Nazwisko;E-mail\r\nŁucja;Żak;l@example.pl\r\n".encode())
    with open_table(path, "leads.csv") as table:
        assert table.headers == ["Imię", "Nazwisko", "E-mail"]
        assert table.delimiter == ";"
        assert list(table.rows()) == [["Łucja", "Żak", "l@example.pl"]]
        assert table.count_rows() == 1


def test_windows_1250_file_is_detected(tmp_path):
    path = write_csv(
        tmp_path,
        [["Imię", "Miasto"], ["Józef", "Łódź"], ["Ślązak", "Świętochłowice"]],
        encoding="cp1250",
    )
    with open_table(path, "x.csv") as table:
        assert table.encoding == "cp1250"
        assert list(table.rows())[1] == ["Ślązak", "Świętochłowice"]


def test_iso_8859_2_file_is_detected(tmp_path):
    path = write_csv(tmp_path, [["Imię"], ["Ślązak ąś źż"]], encoding="iso-8859-2")
    with open_table(path, "x.csv") as table:
        assert table.encoding == "iso-8859-2"
        assert list(table.rows()) == [["Ślązak ąś źż"]]


def test_tab_separated_file_is_sniffed(tmp_path):
    path = write_csv(tmp_path, [["Name", "E-mail"], ["A, B", "a@example.com"]], delimiter="\t")
    with open_table(path, "x.txt") as table:
        assert table.delimiter == "\t"
        assert list(table.rows()) == [["A, B", "a@example.com"]]


def test_undecodable_text_is_refused(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"Name,City\r\nAla,\x81\x83\x90\x98\r\n")
    with pytest.raises(ImportFileError, match="characters cannot be read"):
        open_table(path, "bad.csv")


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ImportFileError, match="empty"):
        open_table(path, "empty.csv")
    path.write_bytes(b"\xef\xbb\xbf\r\n\r\n")
    with pytest.raises(ImportFileError, match="empty"):
        open_table(path, "empty.csv")


def test_png_renamed_to_csv_is_refused(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(ImportFileError, match="not a CSV or XLSX"):
        open_table(path, "photo.csv")


def test_pdf_renamed_to_xlsx_is_refused(tmp_path):
    path = tmp_path / "offer.xlsx"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    with pytest.raises(ImportFileError, match="not a CSV or XLSX"):
        open_table(path, "offer.xlsx")


def test_blank_and_repeated_headers_get_names(tmp_path):
    path = write_csv(tmp_path, [["E-mail", "", "E-mail"], ["a@example.com", "x", "b@example.com"]])
    with open_table(path, "x.csv") as table:
        assert table.headers == ["E-mail", "Column 2", "E-mail (2)"]


def test_rows_keep_spreadsheet_numbers_and_skip_blank_lines(tmp_path):
    path = write_csv(tmp_path, [["Name"], ["A"], [""], ["B"]])
    with open_table(path, "x.csv") as table:
        assert list(table.numbered_rows()) == [(2, ["A"]), (4, ["B"])]


def test_excel_unicode_text_utf16_is_read(tmp_path):
    path = tmp_path / "unicode.txt"
    path.write_bytes("Imię\tE-mail\r\nŻaneta\tz@example.pl\r\n".encode("utf-16"))
    with open_table(path, "unicode.txt") as table:
        assert table.headers == ["Imię", "E-mail"]
        assert list(table.rows()) == [["Żaneta", "z@example.pl"]]


def test_xlsx_without_rows_has_no_header(tmp_path):
    import openpyxl

    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(ImportFileError, match="no header row"):
        open_table(path, "empty.xlsx")
