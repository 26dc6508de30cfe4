"""Plan files from scheduling tools, read onto the scenario file's structure: a reader turns
a plan into the same plain data a scenario YAML file holds (calendars, projects, tasks,
links, constraints, progress), with every mapping decision noted, and the scenario stage
validates and builds it like any scenario."""

from __future__ import annotations

from pathlib import Path

from .cells import DateColumn, is_missing, parse_dates, parse_number, show
from .mspdi import Plan, read_mspdi
from .tables import Table, read_table, split_sheet
from .tasklist import TASKLIST_SUFFIXES, read_tasklist
from .xer import read_xer

__all__ = [
    "PLAN_SUFFIXES",
    "DateColumn",
    "Plan",
    "Table",
    "is_missing",
    "parse_dates",
    "parse_number",
    "read_plan",
    "read_table",
    "show",
    "split_sheet",
]

PLAN_SUFFIXES = (".xml", ".xer", *TASKLIST_SUFFIXES)


def read_plan(path: Path | str, *, display: str | None = None) -> Plan:
    """The plan in ``path``: MS Project XML (MSPDI, ``.xml``) or Primavera P6 XER (``.xer``)."""
    path = Path(path)
    if path.suffix.lower() == ".xer":
        return read_xer(path, display=display)
    if path.suffix.lower() in TASKLIST_SUFFIXES:  # a task list or tracker export
        return read_tasklist(path, display=display)
    return read_mspdi(path, display=display)
