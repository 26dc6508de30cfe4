"""Plans named in a scenario's ``plans`` section, merged into its data before validation:
their calendars, projects and tasks join the file's own, and uncertainty rules give the
imported durations their ranges (multipliers of the planned and remaining durations)."""

from __future__ import annotations

import copy
import datetime as dt
import fnmatch
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import Problem, ScenarioError
from ..plans import read_plan
from . import schema as S
from .problems import problems_from
from .yamlfile import Located, display_path

__all__ = ["merge_plans", "scaled"]


def scaled(spec: Any, factor: float) -> Any:
    """A distribution spec (plain data) multiplied by ``factor``: every family is a scale
    family (a PERT's shape is not a scale)."""
    if isinstance(spec, int | float):
        return spec * factor
    ((family, params),) = spec.items()
    if isinstance(params, list):
        return {family: [v * factor for v in params]}
    if not isinstance(params, dict):
        return {family: params * factor}
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key == "shape":
            out[key] = value
        elif isinstance(value, list):
            out[key] = [v * factor for v in value]
        else:
            out[key] = value * factor
    return {family: out}


def _fields(task: dict[str, Any], default: str | None) -> dict[str, list[str]]:
    """What rules match and classes are read from: each field's values for one task."""
    one = {
        "id": task.get("id"),
        "name": task.get("name"),
        "calendar": task.get("calendar", default),
        "wbs": task.get("wbs"),
    }
    out = {k: [str(v)] for k, v in one.items() if v is not None}
    out["resource"] = [str(r) for r in task.get("resources") or {}]
    for code, value in (task.get("codes") or {}).items():
        out[f"code.{code}"] = [str(value)]
    return out


def _matches(rule: S.RuleSpec, fields: dict[str, list[str]]) -> bool:
    m = rule.match
    wanted = {"id": m.id, "name": m.name, "calendar": m.calendar, "wbs": m.wbs}
    wanted["resource"] = m.resource
    wanted.update({f"code.{k}": v for k, v in m.code.items()})
    return all(
        pattern is None or any(fnmatch.fnmatchcase(value, pattern) for value in fields.get(key, []))
        for key, pattern in wanted.items()
    )


def _law(rule: S.RuleSpec) -> Any:
    """The rule's multiplier as plain data (a number, or ``{family: {parameters}}``)."""
    d = rule.duration
    if isinstance(d, S.DistSpec):
        return d.model_dump(exclude_none=True)
    return float(d)  # type: ignore[arg-type]


def _class_of(rule: S.RuleSpec, fields: dict[str, list[str]]) -> str | None:
    """The reference class a class rule gives a task (None: the task has no such field)."""
    if rule.klass is not None:
        return rule.klass
    source = str(rule.class_from)
    key = "code." + source.partition(".")[2] if "." in source else source
    values = fields.get(key)
    return values[0] if values else None


def _calibrate(task: dict[str, Any], klass: str) -> None:
    """The task's planned duration becomes an estimate of ``klass``; a task in progress
    loses its stored remaining duration, so that its remaining work is the calibrated law
    conditioned on the time it has already taken."""
    task["estimate"] = task.pop("duration")
    task["class"] = klass
    task.pop("remaining", None)


def _apply(rules: list[S.RuleSpec], tasks: list[dict[str, Any]], default: str | None) -> list[int]:
    """Give each task the first rule that matches it; returns how many each rule took.
    Milestones and complete tasks keep what they have."""
    used = [0] * len(rules)
    for task in tasks:
        fields = _fields(task, default)
        k = next((k for k, r in enumerate(rules) if _matches(r, fields)), None)
        if k is None:
            continue
        used[k] += 1
        rule = rules[k]
        if not isinstance(task.get("duration"), int | float) or "actual_finish" in task:
            continue
        if rule.duration is None:
            klass = _class_of(rule, fields)
            if klass is not None:
                _calibrate(task, klass)
            continue
        law = _law(rule)
        for key in ("duration", "remaining"):
            if isinstance(task.get(key), int | float):
                task[key] = scaled(law, float(task[key]))
    return used


def _problem(located: Located, loc: tuple[Any, ...], message: str) -> Problem:
    line, col = located.where(loc)
    return Problem(located.file, line, col, display_path(located.data, loc), message)


def _column_problem(located: Located, k: int, spec: S.PlanSpec, p: Problem) -> Problem:
    """A task list's problem with the mapping, at the scenario's ``columns`` entry."""
    if not (p.path.startswith("mapping") or not p.file):
        return p
    key = p.path.partition(".")[2]
    where = ("plans", k, "columns", key) if key in spec.columns else ("plans", k, "columns")
    return _problem(located, where, p.message)


def _one_plan(located: Located, folder: Path, k: int, spec: S.PlanSpec) -> dict[str, Any]:
    """Plan ``k``'s data, filtered to its ``projects`` and with its rules applied."""
    path = folder / spec.file
    if not path.is_file():
        raise ScenarioError([_problem(located, ("plans", k, "file"), f"no such plan file {path}")])
    try:
        data = read_plan(path, display=str(path), columns=spec.columns or None).data
    except ScenarioError as e:  # the mapping's problems are the scenario's columns'
        if not spec.columns:
            raise
        raise ScenarioError([_column_problem(located, k, spec, p) for p in e.problems]) from None
    if spec.projects:
        known = [p["id"] for p in data["projects"]]
        missing = [p for p in spec.projects if p not in known]
        if missing:
            raise ScenarioError(
                [
                    _problem(
                        located,
                        ("plans", k, "projects"),
                        f"no project {missing[0]!r} in {spec.file}; it has {', '.join(known)}",
                    )
                ]
            )
        data["projects"] = [p for p in data["projects"] if p["id"] in spec.projects]
    tasks = [t for p in data["projects"] for t in p["tasks"]]
    used = _apply(spec.uncertainty, tasks, data.get("calendar"))
    idle = [r for r, n in enumerate(used) if n == 0]
    if idle:
        raise ScenarioError(
            [
                _problem(
                    located,
                    ("plans", k, "uncertainty", r, "match"),
                    "this rule matches no imported task",
                )
                for r in idle
            ]
        )
    return data


def _earlier(start: dt.date, mine: Any) -> bool:
    """Whether a plan's start comes before the scenario's own (a date, or the text of one
    as the YAML file holds it; a malformed one is left for validation to report)."""
    if mine is None:
        return True
    try:
        return start < dt.date.fromisoformat(str(mine))
    except ValueError:
        return False


def _merge_projects(own: Any, imported: list[dict[str, Any]]) -> Any:
    """The scenario's projects, then the plan's. A scenario project without ``tasks`` whose
    id is a plan project's adds to it (deadline, priority, budget, value...; its own fields
    win) and keeps its place in the file, so that its mistakes are located there."""
    if not isinstance(own, list):
        return own  # not a list: validation says so
    by_id = {p.get("id"): p for p in own if isinstance(p, dict) and "tasks" not in p}
    out = list(own)
    for project in imported:
        mine = by_id.pop(project["id"], None)
        if mine is None:
            out.append(project)
            continue
        for key, value in project.items():
            mine.setdefault(key, value)
    return out


def merge_plans(located: Located, folder: Path) -> tuple[Located, list[Path]]:
    """The file's data with its ``plans`` merged in (positions kept for its own parts), and
    the plan files read.

    Raises:
        ScenarioError: a bad ``plans`` section, a plan file that cannot be read, a filter or
            a rule that selects nothing.
    """
    data = located.data
    if not isinstance(data, dict) or "plans" not in data:
        return located, []
    try:
        part = S.PlansPart.model_validate({"plans": data["plans"]})
    except ValidationError as e:
        raise ScenarioError(problems_from(e, located, S.PlansPart)) from None
    merged = {k: copy.deepcopy(v) for k, v in data.items() if k != "plans"}
    for k, spec in enumerate(part.plans):
        plan = _one_plan(located, folder, k, spec)
        for section in ("calendars", "resources"):  # the scenario's own win (an override)
            mine = merged.setdefault(section, {})
            for name, item in plan.get(section, {}).items():
                mine.setdefault(name, item)
        if "calendar" not in merged and "calendar" in plan:
            merged["calendar"] = plan["calendar"]
        if "start" in plan and _earlier(plan["start"], merged.get("start")):
            merged["start"] = plan["start"]
        if "status_date" in plan and "status_date" not in merged:
            merged["status_date"] = plan["status_date"]
        merged.setdefault("scenario", plan.get("scenario"))
        merged["projects"] = _merge_projects(merged.get("projects", []), plan["projects"])
    files = [folder / spec.file for spec in part.plans]
    return Located(merged, located.file, located.values, located.keys), files
