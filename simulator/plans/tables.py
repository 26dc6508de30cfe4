"""Read a table (CSV or Excel .xlsx: a delivery history, a task list, a tracker export) into
strings, keeping file row numbers.

Everything is read as text so that the caller can convert each cell itself and report a bad
one as ``file:row:column``. CSV files may be UTF-8 (with or without BOM), UTF-16/UTF-32 with a
BOM (UTF-16 without one is recognised by its zero bytes), cp1252, or, as a last resort,
latin-1; the delimiter is sniffed among ``,`` ``;`` tab and ``|``. Excel cells become the text
a person would type: ``14`` for the number 14.0, ISO ``2012-01-03`` for a date cell.
Row numbers are the file's own: physical CSV line where the record starts, or the sheet row;
blank rows are skipped but keep their numbers.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import math
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Problem, ScenarioError

__all__ = ["Table", "read_table", "split_sheet"]

DELIMITERS = (",", ";", "\t", "|")
_EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SNIFF_LINES = 200


@dataclass(frozen=True)
class Table:
    """A table read as text.

    Attributes:
        file: the file as named in messages.
        header: column names, stripped.
        header_row: file row of the header.
        rows: data rows (blank rows left out), each padded with "" to at least the header's width.
        row_numbers: file row of each data row.
        widths: number of cells each data row really had (to find rows with extra cells).
        decimal_comma: the file is ``;``-separated, so ``3,5`` may be a decimal comma.
        sha256: of the file's bytes.
        encoding: how the bytes were decoded ("xlsx" for Excel files).
    """

    file: str
    header: tuple[str, ...]
    header_row: int
    rows: tuple[tuple[str, ...], ...]
    row_numbers: tuple[int, ...]
    widths: tuple[int, ...]
    decimal_comma: bool
    sha256: str
    encoding: str


def split_sheet(path: Path | str) -> tuple[Path, str | None]:
    """``book.xlsx#Tasks`` -> (``book.xlsx``, ``"Tasks"``) unless a file of the full name exists."""
    text = str(path)
    full = Path(text)
    if "#" in text and not full.exists():
        base, sheet = text.rsplit("#", 1)
        if Path(base).suffix.lower() in _EXCEL_SUFFIXES:
            return Path(base), sheet
    return full, None


def _fail(file: str, message: str, line: int = 0, col: int = 0, path: str = "") -> ScenarioError:
    return ScenarioError([Problem(file, line, col, path, message)])


def read_table(path: Path | str, display: str | None = None) -> Table:
    """Read a CSV or .xlsx file (``book.xlsx#Sheet`` picks a sheet) as text.

    Raises:
        ScenarioError: missing or unreadable file, undecodable text, broken CSV or workbook,
            no header, no data rows.
    """
    name = display or str(path)
    real, sheet = split_sheet(path)
    try:
        raw = real.read_bytes()
    except FileNotFoundError as e:
        raise _fail(name, "file not found") from e
    except IsADirectoryError as e:
        raise _fail(name, "is a folder, not a file") from e
    except OSError as e:
        raise _fail(name, f"cannot read file: {e.strerror or e}") from e
    digest = hashlib.sha256(raw).hexdigest()
    if not raw.strip():
        raise _fail(name, "file is empty; expected a header row and one row per task")
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise _fail(name, "this is an old Excel .xls workbook; save it as .xlsx or CSV")
    if raw.startswith(b"PK\x03\x04"):
        cells, encoding, comma = _xlsx_rows(raw, name, sheet), "xlsx", False
    else:
        if sheet is not None:
            raise _fail(name, f"'#{sheet}' picks a sheet, but the file is not an .xlsx workbook")
        text, encoding = _decode(raw, name)
        delimiter = _sniff(text)
        cells, comma = _csv_rows(text, delimiter, name), delimiter == ";"
    return _table(name, cells, digest, encoding, comma)


def _table(
    name: str, cells: list[tuple[int, list[str]]], digest: str, encoding: str, comma: bool
) -> Table:
    filled = [(n, row) for n, row in cells if any(c.strip() for c in row)]
    if not filled:
        raise _fail(name, "file has no header row (only blank rows)")
    header_row, header_cells = filled[0]
    header = tuple(c.strip() for c in header_cells)
    while header and not header[-1]:  # trailing empty header cells (Excel, stray delimiters)
        header = header[:-1]
    if not filled[1:]:
        raise _fail(
            name, "file has a header but no data rows; expected one row per task", header_row
        )
    width = len(header)
    rows = tuple(tuple(row) + ("",) * (width - len(row)) for _, row in filled[1:])
    widths = tuple(_width(row) for _, row in filled[1:])
    return Table(
        name,
        header,
        header_row,
        rows,
        tuple(n for n, _ in filled[1:]),
        widths,
        comma,
        digest,
        encoding,
    )


def _width(row: list[str]) -> int:
    """Cells up to the last non-empty one (trailing empty cells do not count)."""
    n = len(row)
    while n and not row[n - 1].strip():
        n -= 1
    return n


# --- CSV ------------------------------------------------------------------------------------


def _decode(raw: bytes, name: str) -> tuple[str, str]:
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return _strict(raw, encoding, name), encoding
    head = raw[:1000]
    if head.count(0) > len(head) // 4:  # UTF-16 without a BOM: every other byte is zero
        odd_zeros = head[1::2].count(0) > head[0::2].count(0)
        encoding = "utf-16-le" if odd_zeros else "utf-16-be"
        return _strict(raw, encoding, name), encoding
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"


def _strict(raw: bytes, encoding: str, name: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise _fail(
            name,
            f"cannot decode as {encoding} (bad bytes at offset {e.start}): save the file as UTF-8",
            line,
        ) from e


def _sniff(text: str) -> str:
    """The delimiter that splits the header into the most columns, with the most rows agreeing.

    A delimiter scores (rows with as many cells as the header, header cells); one that leaves
    the header whole scores nothing. Ties go to the order of :data:`DELIMITERS`.
    """
    lines = [ln for ln in text[:200_000].splitlines()[:_SNIFF_LINES] if ln.strip()]
    best, best_score = ",", (-1, 1)
    for delimiter in DELIMITERS:
        try:
            parsed = list(csv.reader(lines, delimiter=delimiter))
        except csv.Error:
            continue
        width = len(parsed[0]) if parsed else 0
        if width < 2:
            continue
        score = (sum(len(row) == width for row in parsed), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_rows(text: str, delimiter: str, name: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            out.append((start, row))
            start = reader.line_num + 1
    except csv.Error as e:
        raise _fail(name, f"cannot read the CSV at this row: {e}", start) from e
    return out


# --- Excel ----------------------------------------------------------------------------------


def _xlsx_rows(raw: bytes, name: str, sheet: str | None) -> list[tuple[int, list[str]]]:
    try:
        import openpyxl  # imported here: only Excel users pay for it
    except ImportError as e:
        raise _fail(
            name,
            "reading .xlsx files needs the 'excel' extra: pip install "
            "'pmosim[excel]', or save the sheet as CSV",
        ) from e

    with warnings.catch_warnings():  # openpyxl warns about every feature it skips
        warnings.simplefilter("ignore")
        try:
            book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as e:
            raise _fail(
                name,
                f"cannot read the Excel workbook ({type(e).__name__}: {e}); "
                "is it a valid .xlsx file?",
            ) from e
        return _sheet_rows(book, name, sheet)


def _sheet_rows(book: Any, name: str, sheet: str | None) -> list[tuple[int, list[str]]]:
    try:
        if sheet is None:
            ws = book.worksheets[0]
        elif sheet in book.sheetnames:
            ws = book[sheet]
        else:
            raise _fail(
                name,
                f"no sheet '{sheet}' in the workbook; its sheets are: {', '.join(book.sheetnames)}",
            )
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()  # some writers record wrong sheet dimensions
        return [
            (n, [_cell_text(v) for v in row])
            for n, row in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1)
        ]
    except ScenarioError:
        raise
    except Exception as e:  # openpyxl raises many types on damaged sheets
        raise _fail(name, f"cannot read the Excel sheet ({type(e).__name__}: {e})") from e
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    """The text a person would have typed for an Excel cell value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)
