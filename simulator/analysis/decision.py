"""``pmosim search`` as one function: explore the plans on common random numbers
(:mod:`simulator.analysis.search`), then choose among the best few on fresh random numbers
(:mod:`simulator.analysis.selection`); and each plan as the variant changes it makes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..model import Portfolio
from ..model.levers import Plan, SearchSpace
from ..montecarlo.candidates import presample
from ..sampling import BLOCK_SIZE
from .plan_scores import PlanScores
from .search import Candidate, Explored, explore, pareto_front, plan_runner
from .selection import ROUND, Selected, select

__all__ = ["DecisionSearch", "plan_changes", "plan_label", "search_plans"]

Progress = Callable[[int], None] | None


@dataclass(frozen=True)
class DecisionSearch:
    """A finished search: the explored candidates (best first), the selection among the
    finalists, and the Pareto front of value, P(all on time) and cost."""

    scenario: str
    objective: str
    explored: Explored
    selected: Selected
    pareto: tuple[Candidate, ...]

    @property
    def winner(self) -> Plan:
        return self.selected.finalists[0].plan


def _fresh_seed(seed: int) -> int:
    """The selection's root seed: independent of the search's (a spawned sequence)."""
    return int(np.random.SeedSequence(seed, spawn_key=(0x73656C,)).generate_state(1)[0])


def default_delta(space: SearchSpace, best: float) -> float:
    """The indifference zone when the file gives none: 0.01 of probability, else 1 % of the
    best objective's size."""
    if space.objective == "on_time":
        return 0.01
    return max(0.01 * abs(best), 1.0)


def search_plans(
    pf: Portfolio,
    iterations: int,
    seed: int,
    *,
    budget: int = 200,
    engine: str = "auto",
    jobs: int = 1,
    progress: Progress = None,
) -> DecisionSearch:
    """Search ``pf.search``'s plans, then select the best of the finalists."""
    explored = explore(
        pf, iterations, seed, budget=budget, engine=engine, jobs=jobs, progress=progress
    )
    space = pf.search
    assert space is not None  # explore checked it
    finalists = [c.plan for c in explored.candidates[: space.selection.finalists]]
    fresh = _fresh_seed(seed)
    delta = space.selection.delta or default_delta(space, explored.candidates[0].objective)

    def run_round(plans: list[Plan], k: int) -> list[PlanScores]:
        pre = presample(pf, ROUND, fresh, first=k * ROUND // BLOCK_SIZE, jobs=jobs)
        run = plan_runner(pf, space, pre, engine, jobs)
        return [run(p) for p in plans]

    selected = select(finalists, space, run_round, delta=delta, seed=fresh)
    return DecisionSearch(
        pf.name, space.objective, explored, selected, pareto_front(explored.candidates)
    )


def plan_changes(pf: Portfolio, space: SearchSpace, plan: Plan) -> dict[str, Any]:
    """The variant keys (as a scenario file writes them) of ``plan``'s own changes, with
    ``include`` first; ``hire_cost_per_day``: what the search charged for each pool's
    hires (a variant has no such key)."""
    out: dict[str, Any] = {}
    if plan.include >= 0:
        out["include"] = [pf.variants[space.include[plan.include]].name]
    ids = [p.id for p in pf.projects]
    postpone = {ids[pk]: d for (pk, _), d in zip(space.postpone, plan.postpone, strict=True) if d}
    cancel = [ids[pk] for pk, c in zip(space.cancel, plan.cancel, strict=True) if c]
    priority = {
        ids[pk]: v
        for (pk, _), v in zip(space.priority, plan.priority, strict=True)
        if v != pf.projects[pk].priority
    }
    capacity, costs = {}, {}
    for h, units in zip(space.hire, plan.hire, strict=True):
        if units:
            pool = pf.pools[h.pool].id
            when = pf.calendar.date_of(h.start) if pf.calendar.start else h.start
            capacity[pool] = {"delta": units, "from": when}
            costs[pool] = h.cost_per_day
    for key, value in (
        ("postpone", postpone),
        ("cancel", cancel),
        ("priority", priority),
        ("capacity", capacity),
        ("hire_cost_per_day", costs),
    ):
        if value:
            out[key] = value
    return out


def plan_label(pf: Portfolio, space: SearchSpace, plan: Plan) -> str:
    """A short description: ``postpone erp 20d, cancel website, qa +1, from hire-qa``."""
    ch = plan_changes(pf, space, plan)
    parts = [f"postpone {p} {d:g}d" for p, d in ch.get("postpone", {}).items()]
    parts += [f"cancel {p}" for p in ch.get("cancel", [])]
    parts += [f"{p} priority {v}" for p, v in ch.get("priority", {}).items()]
    parts += [f"{p} +{c['delta']}" for p, c in ch.get("capacity", {}).items()]
    parts += [f"from {v}" for v in ch.get("include", [])]
    return ", ".join(parts) or "(base: no change)"
