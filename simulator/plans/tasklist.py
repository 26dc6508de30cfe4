"""Task lists and tracker exports (CSV or Excel .xlsx) read onto the scenario structure.

A row is a task; its columns are found by the column mapping (:mod:`.columns`): the
defaults recognise MS Project / Smartsheet task lists, Jira and Azure DevOps exports. What is
read, and every decision noted:

- ids (else row numbers), names, durations (``5d``, ``16h``; a number is days) or tracker
  estimates (Jira's in seconds, Azure DevOps' in hours) as working days; a zero duration
  is a milestone; predecessors in MS Project's grammar (:mod:`.links`), Jira's "blocks"
  links both ways;
- progress: a workflow state (:mod:`.states`) or ``% Complete``, with the actual dates; a
  removed item is left out; the status date is the mapping's, else the day after the latest
  actual date;
- an item with no duration or estimate draws from the cycle times of the file's closed items
  (its own type's when it has at least :data:`MIN_HISTORY`, else all): an empirical law;
- containers (a summary row of an outline, an Epic or Feature with children in the file)
  are left out, their links passed to the items below them;
- resources (assignees, teams, ``Alice[50%];Bob``) become pools of one unit each (the
  mapping's ``capacity``), raised to the largest demand of one task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import Problem, ScenarioError
from ._network import check_cycles, link_tasks
from ._rows import Item, Rows
from .cells import show_cells
from .columns import ROLES, ColumnMap, header_problem, mapping_path, read_mapping, resolve
from .mspdi import Plan, _fit
from .states import DONE, REMOVED, STARTED, working_days
from .tables import read_table

__all__ = ["MIN_HISTORY", "TASKLIST_SUFFIXES", "read_tasklist"]

TASKLIST_SUFFIXES = (".csv", ".xlsx", ".xlsm")
MIN_HISTORY = 5


def read_tasklist(
    path: Path | str,
    *,
    display: str | None = None,
    columns: ColumnMap | dict[str, Any] | None = None,
) -> Plan:
    """The task list or tracker export in ``path`` (``book.xlsx#Sheet`` picks a sheet) on
    the scenario structure. ``columns`` is the mapping; without it, ``<plan>.mapping.yaml``
    beside the file when there is one, else the default headers.

    Raises:
        ScenarioError: every problem found, located as ``file:row:column``.
    """
    path = Path(path)
    name = display or str(path)
    m = _mapping(path, columns)
    table = read_table(path, name)
    side = m.file or mapping_path(path).name
    bad_header = header_problem(table, m, side)
    if bad_header is not None:
        raise ScenarioError([bad_header])
    rows = Rows(table, resolve(table, m), m, path.stem)
    items = rows.read()
    kept = [it for it in items if it.kind != REMOVED and not it.container]
    specs = {it.id: _spec(rows, it) for it in kept}
    _durations(rows, kept, specs, side)
    link_tasks(rows, items, specs)
    check_cycles(rows, kept, specs)
    rows.raise_problems()
    plan = Plan(_scenario(rows, kept, specs, path), rows.notes)
    return plan


def _mapping(path: Path, columns: ColumnMap | dict[str, Any] | None) -> ColumnMap:
    if isinstance(columns, ColumnMap):
        return columns
    if columns is not None:
        return ColumnMap.from_data(columns)
    side = mapping_path(path)
    return read_mapping(side, str(side)) if side.is_file() else ColumnMap()


def _spec(rows: Rows, it: Item) -> dict[str, Any]:
    """The task's id, name, progress, codes and resources (its size comes later)."""
    spec: dict[str, Any] = {"id": it.id, "name": it.name or it.id}
    if it.kind == DONE:
        spec["actual_start"], spec["actual_finish"] = it.actual_start, it.actual_finish
    elif it.kind == STARTED:
        spec["actual_start"] = it.actual_start
        if it.remaining is not None:
            spec["remaining"] = it.remaining
        elif it.percent is not None and 0 < it.percent < 100:
            spec["percent_complete"] = it.percent
    elif it.start is not None and not it.predecessors and it.start > rows.start:
        spec["start_no_earlier_than"] = it.start
        rows.note_once(
            "start", "a task not started, with no predecessor, starts no earlier than its Start"
        )
    if it.codes:
        spec["codes"] = it.codes
    if it.resources and not it.milestone:
        spec["resources"] = it.resources
    return spec


def _durations(rows: Rows, kept: list[Item], specs: dict[str, dict[str, Any]], side: str) -> None:
    """Each task's size: its duration or estimate; a complete item without one, its actual
    working days; any other, the empirical law of the closed items' cycle times. Without a
    duration or estimate column, and no cycle time to draw from, one problem for the file."""
    history = rows.history()
    sized = "duration" in rows.cols or "estimate" in rows.cols
    if not (history or sized or all(it.milestone for it in kept)):
        rows.problems.append(_no_size_column(rows, side))
        return
    for it in kept:
        spec = specs[it.id]
        if it.milestone or it.duration == 0:
            spec["milestone"] = True
            spec.pop("resources", None)
            spec.pop("remaining", None)
            spec.pop("percent_complete", None)
        elif it.duration is not None:
            spec["duration"] = it.duration
        elif it.kind == DONE:
            assert it.actual_start is not None
            assert it.actual_finish is not None
            spec["duration"] = float(working_days(it.actual_start, it.actual_finish, rows.week))
            rows.note_once("own", "a complete item without an estimate: its actual working days")
        else:
            values = history.get(it.type, [])
            pool = values if len(values) >= MIN_HISTORY else history.get("", [])
            if not pool:
                if it.line not in rows.bad_rows:
                    rows.problem(it, "duration", rows.no_size_message())
                continue
            spec["duration"] = {"empirical": list(pool)}  # a copy: no YAML aliases
            group = f"type '{it.type}'" if pool is values else "all types"
            rows.note_once(
                f"cycle {group}",
                f"items of {'type ' + repr(it.type) if it.type else 'the file'} without an "
                f"estimate: empirical law of the cycle times of {len(pool)} closed items of "
                f"{group} (working days from start to finish, both counted)",
            )


def _no_size_column(rows: Rows, side: str) -> Problem:
    table = rows.table
    message = (
        f"no column could be read as the duration: the header (row {table.header_row}) has "
        f"{show_cells(table.header)}, and a duration is read from a "
        f"column named {', '.join(ROLES['duration'])}, or an estimate from "
        f"{', '.join(ROLES['estimate'])}; no closed item has start and finish dates to take "
        f"a cycle time from either; map a duration column in {side} (duration: <column>)"
    )
    return Problem(table.file, table.header_row, 0, "duration", message)


def _scenario(
    rows: Rows, kept: list[Item], specs: dict[str, dict[str, Any]], path: Path
) -> dict[str, Any]:
    """The scenario's plain data: one project per project value (else the file's stem)."""
    projects: dict[str, list[dict[str, Any]]] = {}
    for it in kept:
        projects.setdefault(it.project or rows.default_project(), []).append(specs[it.id])
    if not projects:
        raise ScenarioError(
            [Problem(rows.table.file, 0, 0, "", "no task to schedule: every row was left out")]
        )
    data: dict[str, Any] = {"scenario": path.stem, "start": rows.start}
    if rows.status is not None:
        data["status_date"] = rows.status
    data["calendar"] = {"workweek": rows.workweek}
    data["projects"] = [{"id": pid, "tasks": tasks} for pid, tasks in projects.items()]
    pools = rows.pools(kept, specs)
    if pools:
        demand = {it.id: specs[it.id].get("resources", {}) for it in kept}
        _fit(rows.notes, pools, demand)
        data["resources"] = pools
    return data
