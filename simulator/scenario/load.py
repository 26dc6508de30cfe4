"""Load a scenario file: read safely, validate everything, build the :class:`Portfolio`.

:func:`load_scenario` reports every problem of a file in one :class:`ScenarioError`: first
the schema (types, unknown and missing keys, distribution parameters), then, once the file
is well-formed, the references between its parts (tasks, projects, pools), dependency
cycles, capacity that can never fit, and dates.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import gc
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import Problem, ScenarioError
from ..model import Portfolio
from ..plans import PLAN_SUFFIXES, read_plan
from . import schema as S
from .build import build_portfolio
from .imported import merge_plans
from .problems import problems_from
from .yamlfile import Located, load_yaml

__all__ = ["load_plan", "load_scenario"]


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused: reading a file builds millions of small objects,
    none of them garbage, and each full collection walks them all (half the load time of a
    10,000-task file). Cyclic garbage made meanwhile is collected once it resumes."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_scenario(path: Path | str, *, display: str | None = None) -> Portfolio:
    """Read and validate a scenario file.

    Raises:
        ScenarioError: with every problem found, each located as ``file:line:col``.
    """
    with _no_cycle_collection():
        return _load(Path(path), display)


def _load(path: Path, display: str | None) -> Portfolio:
    if path.suffix.lower() in PLAN_SUFFIXES:
        return load_plan(path, display=display)
    located = load_yaml(path, display=display)
    if not isinstance(located.data, dict):
        raise ScenarioError(
            [
                Problem(
                    located.file,
                    1,
                    1,
                    "",
                    "expected a mapping of keys (scenario, resources, projects, ...) at the top",
                )
            ]
        )
    located, plans = merge_plans(located, path.parent)
    digest = hashlib.sha256(
        b"".join(p.read_bytes() for p in [path, *plans, *_calibration(located.data, path)])
    ).hexdigest()
    try:
        spec = S.ScenarioFile.model_validate(located.data)
    except ValidationError as e:
        problems = problems_from(e, located, S.ScenarioFile)
        raise ScenarioError(problems + _cross_check(located, e, digest, path.parent)) from None
    return build_portfolio(located, spec, path.parent, digest)


def _calibration(data: dict[str, object], path: Path) -> list[Path]:
    """The calibration file the scenario cites, when there is one: its bytes are part of
    the scenario's SHA-256 (a re-calibration is a new forecast, and a checkpoint of the old
    one must not be resumed). A missing or misplaced one is reported by the build."""
    name = data.get("calibration")
    if not isinstance(name, str):
        return []
    cal = path.parent / name
    return [cal] if cal.is_file() else []


def load_plan(path: Path, *, display: str | None = None) -> Portfolio:
    """A plan file (see :mod:`simulator.plans`) as a scenario: read onto the scenario
    structure, then validated and built like a scenario file; the reader's notes become the
    portfolio's warnings."""
    plan = read_plan(path, display=display)
    located = Located(plan.data, display or str(path))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        spec = S.ScenarioFile.model_validate(plan.data)
    except ValidationError as e:
        raise ScenarioError(problems_from(e, located, S.ScenarioFile)) from None
    pf = build_portfolio(located, spec, path.parent, digest)
    return dataclasses.replace(
        pf, warnings=(*(f"{located.file}: {n}" for n in plan.notes), *pf.warnings)
    )


def _cross_check(
    located: Located, error: ValidationError, digest: str, folder: Path
) -> list[Problem]:
    """Reference, cycle and capacity problems of a file that failed the schema, so that one
    pass reports them too. Possible when every schema error is local: an unknown key
    (ignored here) or a bad distribution (read as 0 here). Otherwise, nothing."""
    data = copy.deepcopy(located.data)
    for err in error.errors(include_url=False):
        loc = err["loc"]
        tags = [k for k, part in enumerate(loc) if part in S.DIST_TAGS]
        if err["type"] == "extra_forbidden":
            parent, key = _at(data, loc[:-1]), loc[-1]
        elif tags:
            parent, key = _at(data, loc[: tags[0] - 1]), loc[tags[0] - 1]
        else:
            return []
        if isinstance(parent, dict) and key in parent:
            if err["type"] == "extra_forbidden":
                del parent[key]
            else:
                parent[key] = "0"
    try:
        spec = S.ScenarioFile.model_validate(data)
        build_portfolio(located, spec, folder, digest)
    except (ValidationError, ScenarioError) as e:
        return e.problems if isinstance(e, ScenarioError) else []
    return []


def _at(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        in_dict = isinstance(data, dict) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and part < len(data)
        if in_dict or in_list:
            data = data[part]
        elif part not in S.UNION_TAGS:
            return None
    return data
