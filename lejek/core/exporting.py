"""Streaming table writers: CSV, XLSX and JSON, for files, standard output and HTTP.

A table is its column names (JSON keys), its headers (what a person reads in CSV and XLSX)
and an iterator of row tuples. Writers take one row at a time, so memory stays flat however
many rows there are, as long as the rows come from `.values_list(...).iterator(...)`.

The formats:

- CSV: UTF-8 with a byte-order mark (so Excel shows Polish letters), comma-separated, quoted
  where needed (RFC 4180). Numbers use a dot (`1234.50`), dates ISO 8601, empty cells for
  missing values. Excel in a Polish locale expects `;`, but its "Data → From text" import and
  every other tool read commas; the BOM makes it pick UTF-8.
- XLSX: one sheet, the header row first; numbers are numbers, dates are dates (datetimes in
  local time, as Excel has no time zones). Written with openpyxl's write-only mode.
- JSON: one array of objects keyed by column name, one object per line. Money is a JSON
  number; dates are ISO 8601 strings; missing values are null.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import json
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

FORMATS = ("csv", "xlsx", "json")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
BOM = "\ufeff"
# Rows written between two yields of a streamed response: few enough to stay small in memory,
# many enough that the response is not a stream of tiny chunks.
ROWS_PER_CHUNK = 500
# Excel refuses longer sheet names.
MAX_SHEET_NAME = 31


@dataclass(frozen=True)
class Table:
    names: Sequence[str]
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    title: str = "export"


def _local(moment: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def text_value(value: Any) -> str:
    """A cell for CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return _local(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple):
        return ", ".join(text_value(item) for item in value)
    return str(value)


def json_value(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        # 14-digit money fits a double exactly enough to round-trip through its shortest repr.
        return float(value)
    if isinstance(value, datetime.datetime):
        return _local(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    return value


def sheet_value(value: Any, sheet) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, datetime.datetime):
        return _local(value).replace(tzinfo=None)
    if isinstance(value, list | tuple):
        return text_value(value)
    if isinstance(value, str) and value.startswith("="):
        # Text that looks like a formula stays text: a lead's name must never run as one.
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        return cell
    return value


class _Line:
    """A file-like sink for csv.writer that hands back what was written."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def iter_csv(table: Table) -> Iterator[str]:
    sink = _Line()
    writer = csv.writer(sink, lineterminator="\r\n")
    writer.writerow([str(header) for header in table.headers])
    yield BOM + sink.take()
    for count, row in enumerate(table.rows, start=1):
        writer.writerow([text_value(value) for value in row])
        if count % ROWS_PER_CHUNK == 0:
            yield sink.take()
    yield sink.take()


def iter_json(table: Table) -> Iterator[str]:
    names = list(table.names)
    yield "["
    separator = "\n"
    for row in table.rows:
        item = {name: json_value(value) for name, value in zip(names, row, strict=True)}
        yield separator + json.dumps(item, ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"


def write_xlsx(table: Table, target: str | IO[bytes]) -> None:
    """Write the table as an XLSX workbook to a path or a binary file."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(table.title)[:MAX_SHEET_NAME] or "export")
    sheet.append([str(header) for header in table.headers])
    for row in table.rows:
        sheet.append([sheet_value(value, sheet) for value in row])
    workbook.save(target)


def write_text(table: Table, fmt: str, stream: IO[str]) -> None:
    """Write CSV or JSON to a text stream (a file opened with newline="" or stdout)."""
    chunks = iter_csv(table) if fmt == "csv" else iter_json(table)
    for chunk in chunks:
        stream.write(chunk)


def filename(stem: str, fmt: str) -> str:
    today = timezone.localdate().isoformat()
    return f"{stem}-{today}.{fmt}"


def response(table: Table, fmt: str, stem: str) -> StreamingHttpResponse | FileResponse:
    """The table as a download: CSV and JSON streamed as they are written, XLSX from a
    temporary file (a workbook is a zip, finished only when its last row is in)."""
    name = filename(stem, fmt)
    if fmt == "xlsx":
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
        write_xlsx(table, spool)
        spool.seek(0)
        return FileResponse(
            spool, as_attachment=True, filename=name, content_type=CONTENT_TYPES["xlsx"]
        )
    chunks = iter_csv(table) if fmt == "csv" else iter_json(table)
    reply = StreamingHttpResponse(
        (chunk.encode("utf-8") for chunk in chunks), content_type=CONTENT_TYPES[fmt]
    )
    reply["Content-Disposition"] = f'attachment; filename="{name}"'
    return reply
