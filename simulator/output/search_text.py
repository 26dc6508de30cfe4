"""A decision search as text: the winner and runners-up table, the winning plan as a variant
snippet to paste under ``variants:``, and the JSON record."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from ..analysis.decision import DecisionSearch, plan_changes, plan_label
from ..model import Portfolio
from .numbers import number

__all__ = ["search_record", "search_table", "variant_snippet"]


def _flow(value: Any) -> str:
    """A YAML flow value (ids, numbers, dates, lists and mappings of them)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def variant_snippet(pf: Portfolio, result: DecisionSearch, name: str = "search-best") -> str:
    """The winning plan as a variant (paste it under ``variants:`` and run compare)."""
    space = pf.search
    assert space is not None
    changes = plan_changes(pf, space, result.winner)
    costs = changes.pop("hire_cost_per_day", {})
    lines = [
        f"  - name: {name}",
        f"    description: found by pmosim search ({result.objective}, seed "
        f"{result.explored.seed})",
    ]
    lines += [f"    {key}: {_flow(value)}" for key, value in changes.items()]
    for pool, cost in costs.items():
        lines.append(f"    # the search also charged {cost:g} a unit-day for the {pool} hires")
    return "\n".join(lines) + "\n"


def _objective(result: DecisionSearch, x: float) -> str:
    if result.objective == "on_time":
        return f"{x:.3f}"
    return number(-x if result.objective == "cost_p80" else x)


def search_table(pf: Portfolio, result: DecisionSearch) -> str:
    """The finalists, winner first: objective, paired difference to the winner ± its
    standard error, constraints, and why each left the race."""
    space = pf.search
    assert space is not None
    rows = [("plan", result.objective, "vs winner", "constraints", "left")]
    for f in result.selected.finalists:
        diff = (
            ""
            if f is result.selected.finalists[0]
            else f"{_signed(result, f.diff)}±{_size(result, f.se)}"
        )
        left = f"{f.eliminated} at {f.iterations:,}" if f.eliminated else ""
        rows.append(
            (
                plan_label(pf, space, f.plan),
                _objective(result, f.objective),
                diff,
                ",".join(f.feasibility) or "-",
                left,
            )
        )
    widths = [max(len(r[k]) for r in rows) for k in range(5)]
    out = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def _signed(result: DecisionSearch, x: float) -> str:
    x = -x if result.objective == "cost_p80" else x
    return (
        f"{x:+.3f}" if result.objective == "on_time" else ("+" if x >= 0 else "-") + number(abs(x))
    )


def _size(result: DecisionSearch, x: float) -> str:
    return f"{x:.3f}" if result.objective == "on_time" else number(x)


def search_record(pf: Portfolio, result: DecisionSearch) -> dict[str, Any]:
    """Everything the search found, as JSON-ready data."""
    space = pf.search
    assert space is not None

    def plan(p: Any) -> dict[str, Any]:
        return {
            "label": plan_label(pf, space, p),
            "changes": _jsonable(plan_changes(pf, space, p)),
        }

    candidates = [
        {
            **plan(c.plan),
            "objective": c.objective,
            "value": c.value,
            "cost": c.cost,
            "p_all_on_time": c.p_all_on_time,
            "violations": list(c.violations),
            "feasible": c.feasible,
        }
        for c in result.explored.candidates
    ]
    ex = result.explored
    return {
        "scenario": result.scenario,
        "objective": result.objective,
        "method": ex.method,
        "space_size": ex.space_size,
        "iterations": ex.iterations,
        "seed": ex.seed,
        "candidates": candidates,
        "pareto": [plan_label(pf, space, c.plan) for c in result.pareto],
        "selection": _selection(result, plan),
    }


def _selection(result: DecisionSearch, plan: Any) -> dict[str, Any]:
    sel = result.selected
    finalists = [
        {
            **plan(f.plan),
            "objective": f.objective,
            "diff": f.diff,
            "se": f.se if math.isfinite(f.se) else None,
            "constraints": list(f.feasibility),
            "eliminated": f.eliminated,
            "iterations": f.iterations,
        }
        for f in sel.finalists
    ]
    return {
        "seed": sel.seed,
        "iterations": sel.iterations,
        "decided": sel.decided,
        "feasible": sel.feasible,
        "delta": sel.delta,
        "confidence": sel.confidence,
        "p_best": sel.p_best,
        "p_within_delta": sel.p_within,
        "finalists": finalists,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value
