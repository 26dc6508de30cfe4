"""Plan files from scheduling tools, read onto the scenario file's structure: a reader turns
a plan into the same plain data a scenario YAML file holds (calendars, projects, tasks,
links, constraints, progress), with every mapping decision noted, and the scenario stage
validates and builds it like any scenario."""

from __future__ import annotations

from .mspdi import Plan, read_mspdi

__all__ = ["PLAN_SUFFIXES", "Plan", "read_plan"]

PLAN_SUFFIXES = (".xml",)


def read_plan(path: object, *, display: str | None = None) -> Plan:
    """The plan in ``path`` (MS Project XML, MSPDI)."""
    from pathlib import Path

    return read_mspdi(Path(str(path)), display=display)
