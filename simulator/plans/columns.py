"""Which column of a task list or tracker export holds what: the column mapping.

A mapping names, for each *role* (``id``, ``name``, ``duration``, ``predecessors``...), the
header of the column that holds it; a role left out is found among the usual headers of MS
Project, Smartsheet, Jira and Azure DevOps exports (:data:`ROLES`, compared without case
and spaces); a role set to nothing (``tags: null``) is not read. Options sit beside the
roles (:data:`OPTIONS`). The mapping comes from a small YAML file next to the plan,
``<plan>.mapping.yaml`` (``tasks.csv`` -> ``tasks.mapping.yaml``), or from the caller::

    id: Key
    name: Title
    predecessors: [Blocked by, Depends on]   # several columns: their links add up
    date_format: "%d.%m.%Y %H:%M:%S"
    status_date: 2025-09-01
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem, ScenarioError
from .cells import show_cells
from .tables import Table

__all__ = [
    "OPTIONS",
    "ROLES",
    "ColumnMap",
    "Resolved",
    "header_problem",
    "mapping_path",
    "read_mapping",
    "resolve",
    "suggest",
]

# role -> the headers recognised by default, most specific first
ROLES: dict[str, tuple[str, ...]] = {
    "id": ("ID", "Issue key", "Key", "Task ID", "Work Item ID", "Unique ID"),
    "other_id": ("Issue id",),  # a second id that links may use (Jira links carry it)
    "name": ("Task Name", "Name", "Summary", "Title", "Task", "Activity Name"),
    "duration": ("Duration", "Planned Duration", "Original Duration"),
    "estimate": ("Original Estimate", "Original Work", "Estimate", "Time Estimate"),
    "remaining": ("Remaining Estimate", "Remaining Work", "Remaining Duration"),
    "points": ("Story Points", "Story point estimate", "Effort"),
    "predecessors": ("Predecessors", "Predecessor", "Depends On", "Inward issue link (Blocks)"),
    "successors": ("Successors", "Outward issue link (Blocks)"),
    "start": ("Start", "Start Date", "Planned Start", "Baseline Start"),
    "finish": ("Finish", "Finish Date", "End", "End Date", "Planned Finish", "Due Date"),
    "actual_start": ("Actual Start", "Activated Date", "Started", "In Progress Date"),
    "actual_finish": ("Actual Finish", "Closed Date", "Resolved", "Resolved Date", "Done Date"),
    "created": ("Created", "Created Date"),
    "percent_complete": ("% Complete", "Percent Complete", "% Done"),
    "state": ("State", "Status"),
    "type": ("Work Item Type", "Issue Type", "Type"),
    "parent": ("Parent", "Parent ID", "Parent id"),
    "resources": ("Resource Names", "Resources", "Assigned To", "Assignee", "Team"),
    "project": ("Project", "Project name", "Area Path", "Team Project"),
    "milestone": ("Milestone",),
    "outline": ("Outline Level",),
    "tags": ("Tags", "Labels"),
}
MULTI = ("predecessors", "successors", "resources", "tags")  # roles whose columns add up
# option -> what it is, for messages
OPTIONS: dict[str, str] = {
    "date_format": "a strptime format of the dates, e.g. '%d.%m.%Y %H:%M:%S'",
    "status_date": "the date progress is measured at (YYYY-MM-DD)",
    "plan_start": "the scenario's start date (YYYY-MM-DD)",
    "project_id": "the project's id when there is no project column",
    "hours_per_day": "hours of a working day (default 8)",
    "duration_units": "units of a bare duration number: days, hours, weeks (default days)",
    "estimate_units": "units of estimate and remaining: seconds, minutes, hours, days",
    "containers": "work item types that only group others (default Epic, Feature, Initiative)",
    "capacity": "units of each resource pool (default 1: one person)",
    "workweek": "the working week, e.g. Mon-Fri or Mon-Sun (default Mon-Fri, Mon-Sun when a "
    "tenth of the actual dates fall on a weekend)",
}
_LISTS = ("containers",)


def suggest(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """``; did you mean 'X'?`` for a close match of ``name`` among ``choices``, else ""."""
    folded = {c.casefold(): c for c in choices}
    match = folded.get(name.casefold())
    if match is None:
        close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
        match = close[0] if close else None
    return f"; did you mean '{match}'?" if match is not None else ""


@dataclass(frozen=True)
class ColumnMap:
    """A column mapping.

    Attributes:
        roles: role -> the headers given for it (empty: the role is not read).
        options: option -> its text (or list of texts).
        file: where the mapping was read from ("" when given in code).
        where: key -> (line, col) of its value in ``file``.
    """

    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    file: str = ""
    where: dict[str, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: dict[str, Any], file: str = "") -> ColumnMap:
        """A mapping from plain data (what the YAML holds); raises ScenarioError on unknown
        keys and values of the wrong kind."""
        return _from_data(data, file, {})

    def problem(self, key: str, message: str, fallback: tuple[str, int, int]) -> Problem:
        """A problem located at ``key`` in the mapping file, else at ``fallback``."""
        if self.file:
            line, col = self.where.get(key, (1, 1))
            return Problem(self.file, line, col, key, message)
        return Problem(*fallback, f"mapping.{key}", message)


def mapping_path(plan: Path) -> Path:
    """The mapping file that goes with ``plan``: ``<stem>.mapping.yaml`` beside it."""
    return plan.with_name(f"{plan.stem}.mapping.yaml")


def read_mapping(path: Path, display: str | None = None) -> ColumnMap:
    """The mapping in the YAML file ``path`` (plain values only; nothing is constructed).

    Raises:
        ScenarioError: unreadable file, YAML syntax, unknown keys, values of the wrong kind.
    """
    name = display or str(path)
    try:
        node = yaml.compose(path.read_text(encoding="utf-8-sig"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError([Problem(name, 0, 0, "", f"cannot read the mapping: {e}")]) from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ScenarioError([Problem(name, line, col, "", f"YAML syntax error: {e}")]) from e
    if node is None:
        return ColumnMap(file=name)
    if not isinstance(node, yaml.MappingNode):
        raise ScenarioError([Problem(name, 1, 1, "", "expected a mapping of role: column")])
    data: dict[str, Any] = {}
    where: dict[str, tuple[int, int]] = {}
    for key, value in node.value:
        k = str(key.value)
        where[k] = (value.start_mark.line + 1, value.start_mark.column + 1)
        data[k] = _plain(value)
    return _from_data(data, name, where)


def _plain(node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return [_plain(n) for n in node.value]
    if isinstance(node, yaml.MappingNode):
        return {str(k.value): _plain(v) for k, v in node.value}
    text = str(node.value)
    return None if getattr(node, "style", None) is None and text in ("", "~", "null") else text


def _from_data(data: dict[str, Any], file: str, where: dict[str, tuple[int, int]]) -> ColumnMap:
    roles: dict[str, tuple[str, ...]] = {}
    options: dict[str, Any] = {}
    problems = []
    m = ColumnMap(roles, options, file, where)
    known = (*ROLES, *OPTIONS)
    for key, value in data.items():
        texts = _texts(value)
        if key not in known:
            message = f"unknown key '{key}'{suggest(key, known)}; roles: {', '.join(ROLES)}; "
            problems.append(
                m.problem(key, message + f"options: {', '.join(OPTIONS)}", (file, 1, 1))
            )
        elif texts is None or (key in OPTIONS and key not in _LISTS and len(texts) > 1):
            kind = "a column name or a list of them" if key in ROLES else OPTIONS[key]
            problems.append(m.problem(key, f"{key} must be {kind}, not {value!r}", (file, 1, 1)))
        elif key in ROLES:
            roles[key] = texts
        elif key in _LISTS:
            options[key] = texts
        elif texts:
            options[key] = texts[0]
    if problems:
        raise ScenarioError(problems)
    return m


def _texts(value: Any) -> tuple[str, ...] | None:
    """A value as a tuple of non-empty texts (None when it is not text or a list of text)."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(x, str | int | float) and not isinstance(x, bool) for x in items):
        return None
    return tuple(str(x).strip() for x in items if str(x).strip())


def _fold(header: str) -> str:
    return re.sub(r"\s+", " ", header).strip().casefold()


@dataclass(frozen=True)
class Resolved:
    """The columns found for each role (0-based positions, file order) and those unread."""

    columns: dict[str, tuple[int, ...]]
    unread: tuple[str, ...]


def resolve(table: Table, m: ColumnMap) -> Resolved:
    """The columns of ``table`` for every role: the mapping's, else the default headers.

    Raises:
        ScenarioError: a mapped column the table does not have (with a did-you-mean).
    """
    folded = [_fold(h) for h in table.header]
    found: dict[str, tuple[int, ...]] = {}
    problems = []
    for role, defaults in ROLES.items():
        given = m.roles.get(role)
        if given is not None:
            problems += [_missing(table, m, role, n) for n in given if _fold(n) not in folded]
            hits = [k for n in given for k, h in enumerate(folded) if h == _fold(n)]
        else:  # the first default header present (every column of it: Jira repeats them)
            taken = {k for cols in found.values() for k in cols}
            free = [k for k, h in enumerate(folded) if k not in taken]
            first = next(
                (_fold(n) for n in defaults if any(folded[k] == _fold(n) for k in free)), ""
            )
            hits = [k for k in free if folded[k] == first]
        if hits:
            found[role] = tuple(dict.fromkeys(hits)) if role in MULTI else (hits[0],)
    if problems:
        raise ScenarioError(problems)
    used = {k for cols in found.values() for k in cols}
    unread = tuple(h for k, h in enumerate(table.header) if k not in used and h)
    return Resolved(found, unread)


_LOOK_BELOW = 20  # data rows searched for the real header


def header_problem(table: Table, m: ColumnMap, side: str) -> Problem | None:
    """A problem when the table's header row does not look like one: none of its cells is a
    column the mapping or the default headers name, or a row below names more of them (a
    title above the header, merged across a sheet's columns). ``side`` names the mapping
    file, for the message."""
    known = {_fold(n) for names in (*ROLES.values(), *m.roles.values()) for n in names}

    def hits(cells: tuple[str, ...]) -> int:
        return len({_fold(c) for c in cells if c.strip()} & known)

    found = hits(table.header)
    rows = table.rows[:_LOOK_BELOW]
    best = max(range(len(rows)), key=lambda k: hits(rows[k]), default=None)
    better = best is not None and hits(rows[best]) >= 2 and hits(rows[best]) > found
    if found and not better:
        return None
    message = (
        f"row {table.header_row} ({show_cells(table.header)}) does not look like the header: it "
        f"names {found} of the columns a task list is read by"
    )
    if better and best is not None:
        message += (
            f"; row {table.row_numbers[best]} ({show_cells(rows[best])}) looks like the header: "
            "delete the rows above it, or save the table alone"
        )
    else:
        message += f" (such as {', '.join(_USUAL)}); name its columns in {side}"
    return Problem(table.file, table.header_row, 1, "header", message)


_USUAL = ("ID", "Task Name", "Duration", "Predecessors", "Summary", "Original Estimate")


def _missing(table: Table, m: ColumnMap, role: str, name: str) -> Problem:
    message = (
        f"no column '{name}' in {table.file}{suggest(name, table.header)}; "
        f"its columns are {', '.join(table.header)}"
    )
    return m.problem(role, message, (table.file, table.header_row, 1))
