"""Primavera P6 XER exports: tab-separated tables (``%T`` name, ``%F`` fields, ``%R`` rows),
durations in hours, read onto the scenario structure (the mapping, shared with P6 XML, is
in :mod:`._p6`).

What is read: every project in the file (one scenario project each, links between them
kept), calendars (``clndr_data``: the week's working times and the exception dates),
activities (tasks, start and finish milestones; WBS summaries and level-of-effort
activities are noted and left out), their WBS paths, activity codes and user fields,
relationships with their lags (in the predecessor's calendar, P6's default), date
constraints, actual dates and remaining durations at the data date, resources and
assignments. Text is UTF-8 when it decodes as such, else Windows-1252 (or Windows-1251 when
the file's text is Cyrillic).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from ..errors import Problem, ScenarioError
from ._p6 import P6, Row, calendar_spec
from .mspdi import Plan

__all__ = ["read_xer"]

# the fields a table's rows are keyed by: each must be declared by the table's %F line
_KEYS = {"PROJECT": ["proj_id"], "CALENDAR": ["clndr_id"], "TASK": ["task_id", "proj_id"]}
_EPOCH = dt.date(1899, 12, 30)  # clndr_data day numbers count from here
_TIMES = re.compile(r"([sf])\|(\d{1,2}):(\d{2})\|([sf])\|(\d{1,2}):(\d{2})")


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    latin, cyrillic = raw.decode("cp1252", errors="replace"), raw.decode("cp1251", errors="replace")
    letters = sum(1 for ch in cyrillic if "\u0400" <= ch <= "\u04ff")
    return cyrillic if letters > 0.5 * sum(ch.isalpha() for ch in latin if ord(ch) > 127) else latin


def _tables(text: str, name: str, lines_of: dict[int, int]) -> dict[str, list[Row]]:
    """Every table's rows as field -> value, each row's line in ``lines_of`` (by the row's
    id). The file must end with ``%E`` and each row have the fields its ``%F`` line
    declares: a file cut short loses rows, and its last row the fields after the cut,
    without either being visible otherwise."""
    lines = [ln.rstrip("\r") for ln in text.split("\n")]  # not splitlines(): \x1c, \u2028...
    end = next((k for k, ln in enumerate(lines) if ln == "%E"), None)
    if end is None:
        raise _fail(name, len(lines) - (lines[-1] == ""), "ends without %E: truncated?")
    tables: dict[str, list[Row]] = {}
    fields: list[str] = []
    current, heads = None, {}  # heads: each table's %T (then %F) line and its fields
    for number, line in enumerate(lines[:end], start=1):
        parts = line.split("\t")
        if parts[0] == "%T" and len(parts) > 1:
            current, fields = parts[1], []
            tables[current], heads[current] = [], (number, fields)
        elif parts[0] == "%F" and current is not None:
            fields = parts[1:]
            heads[current] = (number, fields)
        elif parts[0] == "%R":
            if current is None or not fields:
                raise _fail(name, number, "a %R row before its %T and %F")
            if len(parts) - 1 != len(fields):
                message = f"{len(parts) - 1} fields where %F declares {len(fields)}"
                raise _fail(name, number, f"{current} row: {message}")
            row = dict(zip(fields, parts[1:], strict=True))
            lines_of[id(row)] = number
            tables[current].append(row)
    if "TASK" not in tables or "PROJECT" not in tables:
        raise _fail(name, 1, "not a P6 XER file: no PROJECT or TASK table")
    for table, keys in _KEYS.items():
        number, fields = heads.get(table, (0, keys))
        missing = [k for k in keys if k not in fields]
        if missing:
            raise _fail(name, number, f"table {table}: %F declares no {', '.join(missing)}")
    return tables


def _fail(name: str, line: int, message: str) -> ScenarioError:
    return ScenarioError([Problem(name, max(line, 1), 1, "", message)])


def _hours(pairs: list[tuple[str, ...]]) -> float:
    total = 0.0
    for a, h1, m1, _b, h2, m2 in pairs:
        t1, t2 = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
        start, finish = (t1, t2) if a == "s" else (t2, t1)
        span = finish - start
        total += (span if span > 0 else span + 1440) / 60
    return total


class _Xer(P6):
    """One XER file being read: its tables, and what has been mapped so far."""

    def calendar(self, row: Row) -> dict[str, Any]:
        """A CALENDAR row's ``clndr_data`` as a scenario calendar."""
        data = row.get("clndr_data", "")
        week_part, _, exc_part = data.partition("Exceptions()")
        days = re.split(r"\(0\|\|(\d)\(\)", week_part.partition("DaysOfWeek()")[2])
        hours = {
            int(days[k]): _hours(_TIMES.findall(days[k + 1])) for k in range(1, len(days) - 1, 2)
        }
        pieces = re.split(r"\(0\|\|\d+\(d\|(\d+)\)", exc_part)
        dates = [
            (_EPOCH + dt.timedelta(days=int(pieces[k])), _hours(_TIMES.findall(pieces[k + 1])))
            for k in range(1, len(pieces) - 1, 2)
        ]
        full = self.day_hours[row.get("clndr_id", "")]
        return calendar_spec(row.get("clndr_name", ""), full, hours, dates, self.notes)


def read_xer(path: Path, *, display: str | None = None) -> Plan:
    """The P6 XER plan in ``path``, on the scenario structure.

    Raises:
        ScenarioError: unreadable or malformed files, located.
    """
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ScenarioError([Problem(name, 0, 0, "", f"cannot read it: {e.strerror}")]) from None
    if b"\0" in raw[:4096]:
        raise ScenarioError([Problem(name, 1, 1, "", "binary data: not a P6 XER text file")])
    lines: dict[int, int] = {}
    xer = _Xer(_tables(_decode(raw), name, lines), name)
    xer.lines = lines
    xer.read_calendars()
    xer.read_activities()
    xer.read_codes()
    xer.read_relationships()
    return xer.finish(path.stem)
