"""Turn table cells (text) into numbers and dates, the way spreadsheets write them.

Numbers: ``3.5``, ``1,234.5``, ``1e3``; in ``;``-separated files (and for a lone comma
elsewhere, e.g. ``12,5``) a comma is the decimal mark, and ``1.234,5`` has thousands dots.
``inf``, ``nan`` and units such as ``8h`` are not numbers.

Dates, without an explicit format: ISO (``2012-01-03``, ``2012-01-03T10:00``, ``20120103``),
``2012/01/03``, Excel serial numbers (``40909`` is 2012-01-01), month names (``02-Nov-04``,
``2 Nov 2004``, ``Nov 2, 2004``), and day/month numbers (``03/04/2012``, ``3.4.12``) when the
column itself shows the order: a value such as ``13/04/2012`` makes it day-first, ``04/13/2012``
month-first. A column whose day/month values could be read both ways is *ambiguous* and needs
an explicit format. With a format (``strptime`` codes), ISO dates and Excel serial numbers are
still accepted, since they cannot be misread.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

__all__ = [
    "MISSING",
    "DateColumn",
    "is_missing",
    "parse_dates",
    "parse_number",
    "show",
    "show_cells",
]

MISSING = frozenset({"", "n/a", "na", "-", "null", "none", "nan", "#n/a"})
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_COMMA_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_COMMA_DECIMAL = re.compile(r"[+-]?\d*,\d+")
_DOT_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+,\d*|[+-]?\d{1,3}(?:\.\d{3}){2,}")
_SERIAL = re.compile(r"\d{1,7}(?:\.\d+)?")
_DMY = re.compile(
    r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?"
)
_YMD_SLASH = re.compile(r"(\d{4})([/.\-])(\d{1,2})\2(\d{1,2})")
_NAMED = (
    "%d-%b-%y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d %b %y",
    "%d %B %Y",
    "%d-%B-%Y",
    "%d/%b/%Y",
    "%d/%b/%y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d-%b-%Y %H:%M",
    "%d-%b-%Y %H:%M:%S",
)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # serial 1 = 1900-01-01 past Excel's 1900 leap bug
YEARS = (1800, 2200)


def show(text: str, limit: int = 40, *, quote: bool = True) -> str:
    """A cell for a message: stripped, control characters escaped, long text shortened."""
    t = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text.strip())
    t = t if len(t) <= limit else t[: limit - 3] + "..."
    return f"'{t}'" if quote else t


def show_cells(cells: tuple[str, ...] | list[str], limit: int = 12) -> str:
    """The non-empty cells of a row for a message, each shown, the first ``limit`` of them."""
    shown = [show(c) for c in cells if c.strip()]
    more = f", ... ({len(shown)} in all)" if len(shown) > limit else ""
    return ", ".join(shown[:limit]) + more


def is_missing(text: str) -> bool:
    """Empty, ``N/A``, ``NA``, ``-``, ``null``, ``none``, ``nan``, ``#N/A`` (any case)."""
    return text.strip().lower() in MISSING


def parse_number(text: str, *, decimal_comma: bool = False) -> float | None:
    """The number written in ``text``, or ``None`` when it is not a plain finite number."""
    t = _SPACES.sub("", text)
    if decimal_comma and _DOT_THOUSANDS.fullmatch(t):
        t = t.replace(".", "")
    if _COMMA_THOUSANDS.fullmatch(t) and not decimal_comma:
        t = t.replace(",", "")
    elif _COMMA_DECIMAL.fullmatch(t):
        t = t.replace(",", ".")
    if not _FLOAT.fullmatch(t):
        return None
    value = float(t)
    return value if math.isfinite(value) else None


@dataclass
class DateColumn:
    """Dates read from one column.

    Attributes:
        dates: one per cell: the date, or ``None`` when missing or unparseable.
        bad: indexes of non-missing cells that could not be read.
        ambiguous: index of the first cell readable both day-first and month-first, when
            nothing in the column tells which (``None`` otherwise, or with a format).
        mixed: indexes of a day-first-only and a month-first-only cell, when both occur.
    """

    dates: list[dt.datetime | None] = field(default_factory=list)
    bad: list[int] = field(default_factory=list)
    ambiguous: int | None = None
    mixed: tuple[int, int] | None = None


def parse_dates(cells: list[str], fmt: str | None) -> DateColumn:
    """Read a column of date cells (see the module docstring for the forms accepted)."""
    out = DateColumn()
    cache: dict[str, dt.datetime | tuple[int, int, int, dt.time] | None] = {}
    parsed = []
    for text in cells:
        t = text.strip()
        if t not in cache:
            cache[t] = None if is_missing(t) else _parse_one(t, fmt)
        parsed.append(cache[t])
    day_first = next(
        (
            k
            for k, p in enumerate(parsed)
            if isinstance(p, tuple) and _valid(p, day_first=True) and not _valid(p, day_first=False)
        ),
        None,
    )
    month_first = next(
        (
            k
            for k, p in enumerate(parsed)
            if isinstance(p, tuple) and _valid(p, day_first=False) and not _valid(p, day_first=True)
        ),
        None,
    )
    if day_first is not None and month_first is not None:
        out.mixed = (day_first, month_first)
    elif day_first is None and month_first is None:
        out.ambiguous = next(
            (
                k
                for k, p in enumerate(parsed)
                if isinstance(p, tuple)
                and p[0] != p[1]
                and _valid(p, day_first=True)
                and _valid(p, day_first=False)
            ),
            None,
        )
    for k, (text, p) in enumerate(zip(cells, parsed, strict=True)):
        value = _resolve(p, day_first=month_first is None) if isinstance(p, tuple) else p
        if value is not None and not YEARS[0] <= value.year <= YEARS[1]:
            value = None
        if value is None and not is_missing(text):
            out.bad.append(k)
        out.dates.append(value)
    return out


def _parse_one(t: str, fmt: str | None) -> dt.datetime | tuple[int, int, int, dt.time] | None:
    """A date; a (first, second, year, time) day/month tuple still to be ordered; or None."""
    if fmt is not None:
        try:
            return dt.datetime.strptime(t, fmt)
        except ValueError:
            return _iso(t) or _serial(t)
    found = _iso(t) or _serial(t) or _named(t)
    if found is not None:
        return found
    m = _DMY.fullmatch(t)
    if m is None:
        return None
    hour, minute, second = (int(x) if x else 0 for x in m.group(5, 6, 7))
    if m.group(8):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m.group(8).lower() == "pm" else 0)
    try:
        when = dt.time(hour, minute, second)
    except ValueError:
        return None
    year = int(m.group(4))
    if len(m.group(4)) == 2:  # strptime's %y rule
        year += 2000 if year < 69 else 1900
    return (int(m.group(1)), int(m.group(3)), year, when)


def _iso(t: str) -> dt.datetime | None:
    m = _YMD_SLASH.fullmatch(t)
    try:
        if m:
            return dt.datetime(int(m.group(1)), int(m.group(3)), int(m.group(4)))
        value = dt.datetime.fromisoformat(t)
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _serial(t: str) -> dt.datetime | None:
    if not _SERIAL.fullmatch(t) or len(t.split(".")[0]) == 8:
        return None
    days = float(t)
    return _EXCEL_EPOCH + dt.timedelta(days=days) if days >= 1 else None


def _named(t: str) -> dt.datetime | None:
    if not any(c.isalpha() for c in t):
        return None
    for fmt in _NAMED:
        try:
            return dt.datetime.strptime(t, fmt)
        except ValueError:
            continue
    return None


def _valid(p: tuple[int, int, int, dt.time], *, day_first: bool) -> bool:
    return _resolve(p, day_first=day_first) is not None


def _resolve(p: tuple[int, int, int, dt.time], *, day_first: bool) -> dt.datetime | None:
    first, second, year, when = p
    day, month = (first, second) if day_first else (second, first)
    try:
        return dt.datetime.combine(dt.date(year, month, day), when)
    except ValueError:
        return None
