"""Reading an uploaded CSV or XLSX file as a header row and a stream of data rows.

Files arrive from spreadsheets of every age: UTF-8 with or without a byte-order mark, Windows
-1250 or ISO-8859-2 from older Polish software, commas, semicolons or tabs. The encoding is
decided once over the whole file (a fast pass over bytes), so a stray byte on row 90,000 does
not break an import half-way. Rows are then streamed: memory stays flat however big the file.
"""

from __future__ import annotations

import codecs
import csv
import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from django.utils.translation import gettext as _

CHUNK = 1 << 20
CSV_EXTENSIONS = (".csv", ".txt", ".tsv")
XLSX_EXTENSIONS = (".xlsx", ".xlsm")
DELIMITERS = (",", ";", "\t", "|")

# Byte signatures of files people rename to .csv by mistake.
BINARY_SIGNATURES = (
    b"\x89PNG",
    b"%PDF",
    b"GIF8",
    b"\xff\xd8\xff",
    b"\xd0\xcf\x11\xe0",  # old .xls and .doc
    b"\x1f\x8b",  # gzip
    b"Rar!",
    b"7z\xbc\xaf",
)
ZIP_SIGNATURE = b"PK\x03\x04"

# Bytes where the two Polish 8-bit encodings disagree on a Polish letter:
# Windows-1250 puts ą ś ź Ą Ś Ź here...
CP1250_LETTERS = b"\xb9\x9c\x9f\xa5\x8c\x8f"
# ...and ISO-8859-2 here.
ISO_LETTERS = b"\xb1\xb6\xbc\xa1\xa6\xac"
# Undefined in Windows-1250; C1 control characters in ISO-8859-2: no text has them.
CP1250_HOLES = b"\x81\x83\x88\x90\x98"
csv.field_size_limit(10 * 1024 * 1024)


class ImportFileError(Exception):
    """The file cannot be imported; the message says why, for the person who uploaded it."""


class Table:
    """A file's header row and its data rows. Subclasses read one format."""

    headers: list[str]
    encoding: str = ""
    delimiter: str = ","

    def numbered_rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number as a spreadsheet shows it, cells) for every non-empty data row."""
        raise NotImplementedError

    def rows(self) -> Iterator[list[str]]:
        for _number, cells in self.numbered_rows():
            yield cells

    def count_rows(self) -> int | None:
        return sum(1 for _row in self.numbered_rows())

    def close(self) -> None:
        pass

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_table(path: str | Path, name: str) -> Table:
    """Open `path` as a table; `name` (the uploaded file's name) picks the format.

    Raises ImportFileError for an empty file, a file that is neither CSV nor XLSX, text in an
    unknown encoding, or a file without a header row.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise ImportFileError(_("The file cannot be read: %(error)s") % {"error": exc}) from exc
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise ImportFileError(_("The file is empty."))
    suffix = Path(name or path.name).suffix.lower()
    if head.startswith(ZIP_SIGNATURE) or suffix in XLSX_EXTENSIONS:
        return XlsxTable(path)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            _("Old Excel files (.xls) cannot be read. Save the sheet as .xlsx or CSV.")
        )
    if any(head.startswith(sig) for sig in BINARY_SIGNATURES):
        raise ImportFileError(not_a_table_message())
    return CsvTable(path)


def not_a_table_message() -> str:
    return _("This is not a CSV or XLSX file. Save the sheet as CSV or XLSX and try again.")


# CSV ----------------------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """The file's text encoding: UTF-8 (BOM or not), UTF-16 with a BOM, or a Polish 8-bit one."""
    with path.open("rb") as handle:
        start = handle.read(4)
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        if _is_utf8(handle):
            return "utf-8-sig"
        handle.seek(0)
        counts = _byte_counts(handle)
    if counts["nul"]:
        raise ImportFileError(not_a_table_message())
    if not counts["holes"]:
        # Bytes 0x80-0x9F are letters in Windows-1250 and control codes in ISO-8859-2.
        if counts["c1"] or counts["cp1250"] >= counts["iso"]:
            return "cp1250"
        return "iso-8859-2"
    raise ImportFileError(
        _(
            "The file's characters cannot be read. Save it as CSV in UTF-8 (or Windows-1250) "
            "and try again."
        )
    )


def _is_utf8(handle: IO[bytes]) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := handle.read(CHUNK):
            if b"\x00" in chunk:
                raise ImportFileError(not_a_table_message())
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _byte_counts(handle: IO[bytes]) -> dict[str, int]:
    counts = {"cp1250": 0, "iso": 0, "holes": 0, "c1": 0, "nul": 0}
    while chunk := handle.read(CHUNK):
        counts["cp1250"] += sum(chunk.count(bytes([b])) for b in CP1250_LETTERS)
        counts["iso"] += sum(chunk.count(bytes([b])) for b in ISO_LETTERS)
        counts["holes"] += sum(chunk.count(bytes([b])) for b in CP1250_HOLES)
        counts["c1"] += sum(chunk.count(bytes([b])) for b in range(0x80, 0xA0))
        counts["nul"] += chunk.count(b"\x00")
    return counts


def sniff_delimiter(sample: str) -> str:
    """The delimiter used in the header line: the candidate that occurs most, comma on a tie."""
    line = next((line for line in sample.splitlines() if line.strip()), "")
    counts = {d: _count_outside_quotes(line, d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def unique_headers(raw: list[str]) -> list[str]:
    """Headers trimmed; blanks named by position and repeats numbered, so each is a key."""
    headers: list[str] = []
    for position, text in enumerate(raw, start=1):
        header = (text or "").strip() or _("Column %(n)s") % {"n": position}
        candidate, n = header, 2
        while candidate in headers:
            candidate = f"{header} ({n})"
            n += 1
        headers.append(candidate)
    return headers


def fit(cells: list[str], width: int) -> list[str]:
    """Cells padded or cut to the header's width (trailing cells beyond it are dropped)."""
    if len(cells) < width:
        return cells + [""] * (width - len(cells))
    return cells[:width]


def is_blank(cells: list) -> bool:
    return all(cell is None or str(cell).strip() == "" for cell in cells)


class CsvTable(Table):
    def __init__(self, path: Path):
        self.path = path
        self.encoding = detect_encoding(path)
        self._handle: IO[str] | None = None
        with self._open() as handle:
            sample = handle.read(65536)
        if not sample.strip():
            raise ImportFileError(_("The file is empty."))
        self.delimiter = sniff_delimiter(sample)
        number, header = self._header()
        self.header_row = number
        self.headers = unique_headers(header)

    def _open(self) -> IO[str]:
        return self.path.open(encoding=self.encoding, newline="")

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        with self._open() as handle:
            try:
                yield from enumerate(csv.reader(handle, delimiter=self.delimiter), 1)
            except csv.Error as exc:
                raise ImportFileError(
                    _("The CSV file is malformed: %(error)s") % {"error": exc}
                ) from exc

    def _header(self) -> tuple[int, list[str]]:
        for number, cells in self._records():
            if not is_blank(cells):
                return number, cells
        raise ImportFileError(_("The file has no header row."))

    def numbered_rows(self) -> Iterator[tuple[int, list[str]]]:
        width = len(self.headers)
        for number, cells in self._records():
            if number <= self.header_row:
                continue
            cells = [cell.strip() for cell in cells]
            # is_blank on what the csv module gives (strings only), after the strip.
            if not any(cells):
                continue
            yield number, fit(cells, width)


# XLSX ---------------------------------------------------------------------------------------


def cell_text(value) -> str:
    """A spreadsheet cell as text; dates in ISO form, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, "f").rstrip("0").rstrip(".")
    return str(value).strip()


class XlsxTable(Table):
    """The first worksheet of a workbook, read in openpyxl's streaming mode.

    Formulas give the value the spreadsheet last computed (what the person saw on screen).
    """

    def __init__(self, path: Path):
        self.path = path
        self.encoding = "xlsx"
        self._workbook = self._load()
        try:
            number, header = self._header()
        except ImportFileError:
            self._workbook.close()
            raise
        self.header_row = number
        self.headers = unique_headers([cell_text(v) for v in header])

    def _load(self):
        from openpyxl import load_workbook

        try:
            return load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:
            # openpyxl raises zip, XML and key errors alike for a file that is not a workbook.
            raise ImportFileError(not_a_table_message()) from exc

    def _records(self) -> Iterator[tuple[int, tuple]]:
        sheet = self._workbook.worksheets[0]
        yield from enumerate(sheet.iter_rows(values_only=True), 1)

    def _header(self) -> tuple[int, tuple]:
        for number, row in self._records():
            if not is_blank(list(row)):
                # Trailing empty cells are formatting, not columns.
                cells = list(row)
                while cells and (cells[-1] is None or str(cells[-1]).strip() == ""):
                    cells.pop()
                return number, tuple(cells)
        raise ImportFileError(_("The file has no header row."))

    def numbered_rows(self) -> Iterator[tuple[int, list[str]]]:
        width = len(self.headers)
        for number, row in self._records():
            if number <= self.header_row:
                continue
            cells = [cell_text(value) for value in row[:width]]
            if is_blank(cells):
                continue
            yield number, fit(cells, width)

    def close(self) -> None:
        self._workbook.close()
