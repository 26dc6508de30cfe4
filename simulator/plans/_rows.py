"""The rows of a task list read into items: ids, names, sizes, dates, states, links as
written, resources and codes, each problem located at its row and column."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import Problem, ScenarioError
from .cells import is_missing, parse_dates, parse_number, show
from .columns import ColumnMap, Resolved
from .links import LinkRef, parse_links, parse_span
from .states import DONE, REMOVED, STARTED, TODO, classify, working_days
from .tables import Table

__all__ = ["Item", "Rows", "project_id"]

_DATE_ROLES = ("start", "finish", "actual_start", "actual_finish", "created")
_CONTAINERS = ("Epic", "Feature", "Initiative")
_SECONDS = ("original estimate", "remaining estimate", "time spent")  # Jira's, in seconds
_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_TRUE = {"yes", "true", "1", "y", "x"}
_DMY = re.compile(r"\s*(\d{1,2})([./-])(\d{1,2})\2(\d{2,4})\b.*")
_RESOURCE = re.compile(r"\s*([^\[<]+?)\s*(?:<[^>]*>)?\s*(?:\[\s*([\d.,]+)\s*%?\s*\])?\s*")


def project_id(text: str) -> str:
    """An id from a name: runs of other characters than letters, digits, ``_``, ``-``
    become one dash."""
    return re.sub(r"[^\w-]+", "-", text).strip("-") or "plan"


@dataclass
class Item:
    """One row of the list, read."""

    k: int
    line: int
    id: str
    name: str = ""
    kind: str = TODO
    type: str = ""
    project: str = ""
    parent: str = ""
    container: bool = False
    milestone: bool = False
    outline: int | None = None
    duration: float | None = None
    remaining: float | None = None
    percent: float | None = None
    start: dt.date | None = None
    finish: dt.date | None = None
    actual_start: dt.date | None = None
    actual_finish: dt.date | None = None
    created: dt.date | None = None
    predecessors: list[tuple[int, LinkRef]] = field(default_factory=list)
    successors: list[tuple[int, LinkRef]] = field(default_factory=list)
    resources: dict[str, float] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)


class Rows:
    """A task list's table, its mapped columns and options, and what reading it found."""

    def __init__(self, table: Table, resolved: Resolved, m: ColumnMap, stem: str) -> None:
        self.table, self.cols, self.m, self.stem = table, resolved.columns, m, stem
        self.graph: dict[str, list[str]] = {}  # task -> the tasks it waits for
        self.notes: list[str] = []
        self.problems: list[Problem] = []
        self._noted: set[str] = set()
        self.hours_per_day = self.number_option("hours_per_day", 8.0)
        self.capacity = self.number_option("capacity", 1.0)
        self.start: dt.date = dt.date(1970, 1, 1)
        self.status: dt.date | None = None
        self.workweek, self.week = "Mon-Fri", "1111100"
        self.by_other: dict[str, str] = {}
        self.pool_names: dict[str, str] = {}
        self.items: list[Item] = []
        self.bad_rows: set[int] = set()  # rows with a problem: no knock-on problems there
        if resolved.unread:
            self.notes.append(f"columns not read: {', '.join(resolved.unread)}")

    # --- cells, problems, notes --------------------------------------------------------------

    def cell(self, role: str, k: int) -> str:
        cols = self.cols.get(role)
        return self.table.rows[k][cols[0]].strip() if cols else ""

    def col(self, role: str) -> int:
        return self.cols[role][0] + 1 if role in self.cols else 0

    def problem(self, it: Item, role: str, message: str, col: int = 0) -> None:
        header = self.table.header[self.cols[role][0]] if role in self.cols else role
        where = col or self.col(role)
        self.problems.append(Problem(self.table.file, it.line, where, header, message))
        self.bad_rows.add(it.line)

    def note_once(self, key: str, text: str) -> None:
        if key not in self._noted:
            self._noted.add(key)
            self.notes.append(text)

    def raise_problems(self) -> None:
        if self.problems:
            raise ScenarioError(self.problems)

    def option(self, key: str) -> Any:
        return self.m.options.get(key)

    def option_problem(self, key: str, message: str) -> None:
        self.problems.append(self.m.problem(key, message, (self.table.file, 0, 0)))

    def number_option(self, key: str, default: float) -> float:
        text = self.option(key)
        value = default if text is None else parse_number(str(text))
        if value is None or not 0 < value <= (24 if key == "hours_per_day" else 1e6):
            self.option_problem(key, f"{key} must be a positive number, not {text!r}")
            return default
        return value

    def date_option(self, key: str) -> dt.date | None:
        text = self.option(key)
        if text is None:
            return None
        try:
            return dt.date.fromisoformat(str(text).strip())
        except ValueError:
            self.option_problem(key, f"{key} must be a date YYYY-MM-DD, not {text!r}")
            return None

    # --- reading -----------------------------------------------------------------------------

    def read(self) -> list[Item]:
        """Every row as an item (removed ones included, marked), containers marked, the
        scenario's start, status date and working week decided."""
        ids = self._ids()
        dates = self._dates()
        items = [self._item(k, ident, dates) for k, ident in enumerate(ids)]
        self._containers(items)
        for it in items:
            self._progress(it)
        self._calendar(items)
        self.items = items
        return items

    def _ids(self) -> list[str]:
        n = len(self.table.rows)
        if "id" not in self.cols:
            self.notes.append("no ID column: the tasks are numbered 1, 2, ... in row order")
            return [str(k + 1) for k in range(n)]
        ids: list[str] = []
        seen: dict[str, int] = {}
        for k in range(n):
            ident = self.cell("id", k)
            line = self.table.row_numbers[k]
            if not ident:
                self.problems.append(
                    Problem(self.table.file, line, self.col("id"), "id", "the id is empty")
                )
            elif ident in seen:
                message = f"id {show(ident)} repeats row {seen[ident]}; ids must be unique"
                self.problems.append(Problem(self.table.file, line, self.col("id"), "id", message))
            seen.setdefault(ident, line)
            ids.append(ident or f"row-{line}")
            other = self.cell("other_id", k)
            if other:
                self.by_other[other] = ident
        return ids

    def _dates(self) -> dict[str, list[dt.date | None]]:
        """Every date column, read together: one day/month order for the whole file."""
        roles = [r for r in _DATE_ROLES if r in self.cols]
        n = len(self.table.rows)
        cells = [self.cell(r, k) for r in roles for k in range(n)]
        fmt = self.option("date_format")
        parsed = parse_dates(cells, fmt)
        where = [(r, k) for r in roles for k in range(n)]
        for i in parsed.bad:
            self._date_problem(
                *where[i], f"{show(cells[i])} is not a date" + self._format_hint(fmt)
            )
        if parsed.mixed is not None:
            a, b = parsed.mixed
            message = f"{show(cells[b])} reads month-first but {show(cells[a])} day-first"
            self._date_problem(*where[b], message + self._format_hint(fmt))
        elif parsed.ambiguous is not None:
            i = parsed.ambiguous
            message = (
                f"{show(cells[i])} could be day-first or month-first "
                "and no date in the file tells which"
            )
            self._date_problem(
                *where[i], message + "; give date_format in the mapping" + _formats(cells[i])
            )
        elif fmt is None:
            self._note_order(cells, where)
        out: dict[str, list[dt.date | None]] = {r: [None] * n for r in _DATE_ROLES}
        for (role, k), value in zip(where, parsed.dates, strict=True):
            out[role][k] = value.date() if value is not None else None
        return out

    def _format_hint(self, fmt: str | None) -> str:
        return f" in the format {fmt!r}" if fmt else ""

    def _date_problem(self, role: str, k: int, message: str) -> None:
        header = self.table.header[self.cols[role][0]]
        line = self.table.row_numbers[k]
        self.problems.append(Problem(self.table.file, line, self.col(role), header, message))

    def _note_order(self, cells: list[str], where: list[tuple[str, int]]) -> None:
        for text, (role, k) in zip(cells, where, strict=True):
            m = _DMY.fullmatch(text)
            if m and (int(m.group(1)) > 12 or int(m.group(3)) > 12):
                order = "day-first" if int(m.group(1)) > 12 else "month-first"
                header = self.table.header[self.cols[role][0]]
                self.notes.append(
                    f"dates read {order}: {show(text)} (row {self.table.row_numbers[k]}, "
                    f"{header}) can be read no other way"
                )
                return

    def _item(self, k: int, ident: str, dates: dict[str, list[dt.date | None]]) -> Item:
        it = Item(k, self.table.row_numbers[k], ident, self.cell("name", k))
        for role in _DATE_ROLES:
            setattr(it, role, dates[role][k])
        it.type, it.parent = self.cell("type", k), self.cell("parent", k)
        it.project = project_id(self.cell("project", k)) if self.cell("project", k) else ""
        it.milestone = self.cell("milestone", k).casefold() in _TRUE
        it.outline = self._outline(it)
        it.duration = self._span(it, "duration", self.option("duration_units") or "days")
        estimate = self._span(it, "estimate", self._estimate_unit("estimate"))
        it.duration = it.duration if it.duration is not None else estimate
        it.remaining = self._span(it, "remaining", self._estimate_unit("remaining"))
        it.percent = self._percent(it)
        it.predecessors = self._links(it, "predecessors")
        it.successors = self._links(it, "successors")
        it.resources = self._resources(it)
        it.codes = self._codes(it)
        return it

    def _outline(self, it: Item) -> int | None:
        text = self.cell("outline", it.k)
        if not text:
            return None
        value = parse_number(text)
        if value is None or value < 0 or value != int(value):
            self.problem(it, "outline", f"outline level {show(text)} is not a whole number")
            return None
        return int(value)

    def _estimate_unit(self, role: str) -> str:
        given = self.option("estimate_units")
        if given:
            return str(given)
        header = self.table.header[self.cols[role][0]].casefold() if role in self.cols else ""
        unit = "seconds" if header in _SECONDS else "hours"
        if role in self.cols:
            self.note_once(
                f"unit {role}",
                f"{self.table.header[self.cols[role][0]]} in {unit} (working days of "
                f"{self.hours_per_day:g} h)",
            )
        return unit

    def _span(self, it: Item, role: str, unit: str) -> float | None:
        text = self.cell(role, it.k)
        if role not in self.cols or is_missing(text):
            return None
        if unit not in ("days", "hours", "minutes", "weeks", "months", "seconds"):
            self.option_problem(f"{role.split('_')[0]}_units", f"unknown units {unit!r}")
            return None
        try:
            days = parse_span(text, unit=unit, hours_per_day=self.hours_per_day)
        except ValueError as e:
            self.problem(it, role, str(e))
            return None
        if days < 0:
            self.problem(it, role, f"{show(text)} is negative; a {role} is at least 0")
            return None
        return round(days, 9)

    def _percent(self, it: Item) -> float | None:
        text = self.cell("percent_complete", it.k).rstrip("%").strip()
        if is_missing(text):
            return None
        value = parse_number(text)
        if value is None or not 0 <= value <= 100:
            self.problem(it, "percent_complete", f"{show(text)} is not a percentage from 0 to 100")
            return None
        return value

    def _links(self, it: Item, role: str) -> list[tuple[int, LinkRef]]:
        known = self._known()
        out = []
        for c in self.cols.get(role, ()):
            text = self.table.rows[it.k][c]
            try:
                out += [
                    (c + 1, ref)
                    for ref in parse_links(text, known, hours_per_day=self.hours_per_day)
                ]
            except ValueError as e:
                self.problem(it, role, f"{e}; write e.g. 12FS+2d;14SS", c + 1)
        return out

    def _known(self) -> set[str]:
        if not hasattr(self, "_known_ids"):
            col = self.cols.get("id")
            cells = [r[col[0]].strip() for r in self.table.rows] if col else []
            self._known_ids = set(cells) | set(self.by_other)
        return self._known_ids

    def _resources(self, it: Item) -> dict[str, float]:
        out: dict[str, float] = {}
        for c in self.cols.get("resources", ()):
            for part in re.split(r"[;,]", self.table.rows[it.k][c]):
                m = _RESOURCE.fullmatch(part)
                if not part.strip() or is_missing(part) or m is None:
                    continue
                share = parse_number(m.group(2)) if m.group(2) else 100.0
                units = share / 100 if share is not None else None
                if units is None or units <= 0:
                    self.problem(
                        it, "resources", f"{show(part)}: units must be like Alice[50%]", c + 1
                    )
                    continue
                pid = project_id(m.group(1))
                self.pool_names.setdefault(pid, m.group(1))
                out[pid] = out.get(pid, 0.0) + units
        return out

    def _codes(self, it: Item) -> dict[str, str]:
        codes = {"type": it.type, "state": self.cell("state", it.k), "parent": it.parent}
        tags = [self.table.rows[it.k][c].strip() for c in self.cols.get("tags", ())]
        codes["tags"] = "; ".join(t for t in tags if t)
        points = self.cell("points", it.k)
        if points:
            codes["points"] = points
            self.note_once("points", "story points kept as a code, not as time")
        return {key: value for key, value in codes.items() if value}

    # --- containers, progress, calendar ------------------------------------------------------

    def _containers(self, items: list[Item]) -> None:
        """Summary rows of an outline, and container types with children in the file."""
        kinds = tuple(self.option("containers") or _CONTAINERS)
        parents = {it.parent for it in items if it.parent}
        for a, b in itertools.pairwise(items):
            if a.outline is not None and b.outline is not None and b.outline > a.outline:
                a.container = True
                self.notes.append(
                    f"row {a.line} ({a.id}): summary task left out, its links on the tasks below it"
                )
        for it in items:
            if it.id in parents and it.type in kinds:
                it.container = True
                self.notes.append(
                    f"row {it.line} ({it.id}): {it.type} with items below it, left out"
                )
        ids = {it.id for it in items}
        missing = sorted({it.parent for it in items if it.parent and it.parent not in ids})
        if missing:
            self.notes.append(
                f"parents not in the file, kept as the items' parent code: {', '.join(missing)}"
            )

    def _progress(self, it: Item) -> None:
        state = self.cell("state", it.k)
        kind = classify(state) if state else None
        if state and kind is None:
            self.note_once(
                f"state {state}",
                f"state {show(state)} unknown: such items are read from their dates",
            )
        if kind is None and it.percent is not None:
            kind = DONE if it.percent == 100 else STARTED if it.percent > 0 else None
        if kind is None:
            kind = DONE if it.actual_finish else STARTED if it.actual_start else TODO
        if kind == REMOVED:
            self.notes.append(f"row {it.line} ({it.id}): state {show(state)}, left out")
        if kind in (DONE, STARTED) and it.actual_start is None:
            kind = self._without_start(it, kind)
        if kind == DONE and it.actual_finish is None:
            kind = self._without_finish(it, state)
        if (
            kind == DONE
            and it.actual_start
            and it.actual_finish
            and it.actual_finish < it.actual_start
        ):
            self.problem(
                it,
                "actual_finish",
                f"finished {it.actual_finish} before it started {it.actual_start}",
            )
        it.kind = kind

    def _without_start(self, it: Item, kind: str) -> str:
        if it.created is not None and "actual_start" not in self.cols:
            it.actual_start = it.created
            self.note_once("created", "no start column: the Created date stands for the start")
            return kind
        if kind == DONE and it.actual_finish is not None:
            it.actual_start = it.actual_finish
            self.notes.append(
                f"row {it.line} ({it.id}): complete with no start date: started the day it finished"
            )
            return kind
        self.notes.append(
            f"row {it.line} ({it.id}): started but no start date: read as not started"
        )
        return TODO

    def _without_finish(self, it: Item, state: str) -> str:
        if it.finish is not None and it.percent == 100:
            it.actual_finish = it.finish
            self.note_once(
                "finish", "a complete task without Actual Finish: its Finish stands for it"
            )
            return DONE
        what = f"state {show(state)}" if state else "complete"
        self.notes.append(
            f"row {it.line} ({it.id}): {what} but no finish date: read as in progress"
        )
        return STARTED

    def _calendar(self, items: list[Item]) -> None:
        """The working week, the scenario's start and its status date."""
        kept = [it for it in items if it.kind != REMOVED and not it.container]
        actual = [d for it in kept for d in (it.actual_start, it.actual_finish) if d]
        self._workweek(actual)
        planned = [d for it in kept for d in (it.start, it.actual_start, it.actual_finish) if d]
        status = self.date_option("status_date")
        if status is None and actual:
            status = max(actual) + dt.timedelta(days=1)
            self.notes.append(
                f"status date {status}: the day after the latest actual date ({max(actual)})"
            )
        start = self.date_option("plan_start")
        if start is None and (planned or status):
            start = min(planned) if planned else status
            start = start and dt.date.fromordinal(start.toordinal())  # no YAML alias
            self.notes.append(f"start {start}: the earliest date in the file")
        if start is None:
            self.option_problem(
                "plan_start", "the file has no dates: give plan_start (YYYY-MM-DD) in the mapping"
            )
        self.start, self.status = start or self.start, status
        if status is not None:
            for it in kept:
                if it.actual_start and it.actual_start > status:
                    self.problem(
                        it, "actual_start", f"{it.actual_start} is after the status date {status}"
                    )
                if it.actual_finish and it.actual_finish >= status:
                    self.problem(
                        it,
                        "actual_finish",
                        f"{it.actual_finish} is not before the status date {status}",
                    )

    def _workweek(self, actual: list[dt.date]) -> None:
        given = self.option("workweek")
        if given is None:
            weekend = sum(d.weekday() >= 5 for d in actual)
            if actual and weekend >= 0.1 * len(actual):
                given = "Mon-Sun"
                self.notes.append(
                    f"work week Mon-Sun: {weekend} of the {len(actual)} actual dates "
                    "fall on a weekend"
                )
        if given is None:
            return
        mask = _weekmask(str(given))
        if mask is None:
            self.option_problem("workweek", f"workweek {given!r}: write e.g. Mon-Fri or Mon-Sun")
            return
        self.workweek, self.week = str(given), mask

    # --- history, pools ----------------------------------------------------------------------

    def history(self) -> dict[str, list[float]]:
        """Cycle times (working days) of complete items: per type, and over all types
        (containers excepted) under ""."""
        out: dict[str, list[float]] = {}
        for it in self.items:
            if it.kind != DONE or it.actual_start is None or it.actual_finish is None:
                continue
            days = float(working_days(it.actual_start, it.actual_finish, self.week))
            out.setdefault(it.type, []).append(days)
            if not it.container:
                out.setdefault("", []).append(days)
        return {k: sorted(v) for k, v in out.items()}

    def no_size_message(self) -> str:
        return (
            "no duration or estimate, and no closed item with start and finish dates "
            "to take a cycle time from; map a duration column"
        )

    def default_project(self) -> str:
        return project_id(str(self.option("project_id") or self.stem))

    def pools(self, kept: list[Item], specs: dict[str, dict[str, Any]]) -> dict[str, Any]:
        used = sorted({p for it in kept for p in specs[it.id].get("resources", {})})
        out: dict[str, Any] = {}
        for pid in used:
            out[pid] = {"capacity": self.capacity}
            if self.pool_names.get(pid, pid) != pid:
                out[pid] = {"name": self.pool_names[pid], "capacity": self.capacity}
        if used:
            self.notes.append(
                f"{len(used)} resource pools of {self.capacity:g} unit(s) each, one per name"
            )
        return out


def _weekmask(text: str) -> str | None:
    names = [d.casefold() for d in _DAYS]
    days: set[int] = set()
    for part in re.split(r"[,\s]+", text.strip()):
        ends = [p.strip().casefold()[:3] for p in part.split("-")]
        if not part or any(e not in names for e in ends) or len(ends) > 2:
            return None
        a, b = names.index(ends[0]), names.index(ends[-1])
        days |= {(a + i) % 7 for i in range((b - a) % 7 + 1)}
    return "".join("1" if d in days else "0" for d in range(7))


def _formats(text: str) -> str:
    m = _DMY.fullmatch(text)
    if m is None:
        return ""
    sep, year = m.group(2), "%Y" if len(m.group(4)) == 4 else "%y"
    tail = " %H:%M:%S" if text.count(":") == 2 else " %H:%M" if ":" in text else ""
    day, month = f"%d{sep}%m{sep}{year}{tail}", f"%m{sep}%d{sep}{year}{tail}"
    return f": '{day}' if the day comes first, '{month}' if the month does"
