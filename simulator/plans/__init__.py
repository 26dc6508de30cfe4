"""Plan files from scheduling tools, read onto the scenario file's structure: a reader turns
a plan into the same plain data a scenario YAML file holds (calendars, projects, tasks,
links, constraints, progress), with every mapping decision noted, and the scenario stage
validates and builds it like any scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import Problem, ScenarioError
from . import mspdi, pmxml
from ._xml import MSPDI_ROOT, PMXML_ROOT, local, parse_xml
from .cells import DateColumn, is_missing, parse_dates, parse_number, show
from .columns import suggest
from .mpp import read_mpp
from .mspdi import Plan
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
    "suggest",
]

PLAN_SUFFIXES = (".xml", ".xer", ".mpp", ".pmxml", *TASKLIST_SUFFIXES)


def read_plan(
    path: Path | str, *, display: str | None = None, columns: dict[str, Any] | None = None
) -> Plan:
    """The plan in ``path``: Primavera P6 XER (``.xer``), MS Project (``.mpp``), a task list or
    tracker export (``.csv``, ``.xlsx``, whose column mapping ``columns`` may give), else XML
    (``.xml``, ``.pmxml``) read by its root element: MS Project XML (MSPDI) or Primavera P6
    XML (PMXML)."""
    path = Path(path)
    if columns and path.suffix.lower() not in TASKLIST_SUFFIXES:
        where = display or str(path)
        message = "columns: a column mapping is for task lists (.csv, .xlsx) only"
        raise ScenarioError([Problem(where, 0, 0, "", message)])
    if path.suffix.lower() == ".xer":
        return read_xer(path, display=display)
    if path.suffix.lower() == ".mpp":
        return read_mpp(path, display=display)
    if path.suffix.lower() in TASKLIST_SUFFIXES:  # a task list or tracker export
        return read_tasklist(path, display=display, columns=columns)
    return _read_xml(path, display or str(path))


def _read_xml(path: Path, name: str) -> Plan:
    """An XML plan, MSPDI (a ``<Project>`` root) or PMXML (``<APIBusinessObjects>``)."""
    root = parse_xml(path, name)
    if local(root.tag) == PMXML_ROOT:
        return pmxml.plan_from(root, path, name)
    if local(root.tag) != MSPDI_ROOT:
        message = (
            f"not an MS Project XML file (MSPDI, a <{MSPDI_ROOT}> root) nor a P6 XML file"
            f" (PMXML, an <{PMXML_ROOT}> root): <{local(root.tag)}>"
        )
        raise ScenarioError([Problem(name, 1, 1, "", message)])
    return mspdi.plan_from(root, path, name)
