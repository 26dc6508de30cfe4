"""What a plan of a decision search scores, iteration by iteration, and whether it meets the
search's constraints (see :class:`simulator.model.levers.SearchSpace`).

Per iteration: ``value`` (each project's value from its finish to the value horizon),
``cost`` (every project's cost plus the hires: units x cost a day x working days from the
hire until the portfolio's last finish), ``net`` (value less cost), ``all_on_time`` (every
project of the on-time set finished by its deadline; a cancelled one never is), and one
on-time indicator per probability constraint. The objective a plan is ranked by is always
"higher is better": the mean net value, P(all on time), or minus the cost P80.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..model import Portfolio
from ..model.levers import Plan, SearchSpace
from ..montecarlo.candidates import Evaluation
from .compare import _working_days

__all__ = ["PlanScores", "score_plan"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class PlanScores:
    """Per-iteration figures of one plan (see the module docstring)."""

    value: Array
    cost: Array
    all_on_time: Array
    on_time: tuple[Array, ...]
    cancelled: int

    @property
    def net(self) -> Array:
        return self.value - self.cost

    def observations(self, objective: str) -> Array:
        """The per-iteration quantity the objective is the mean of (for ``cost_p80``, minus
        the cost: the objective is then minus its P80)."""
        if objective == "net_value":
            return self.net
        if objective == "on_time":
            return self.all_on_time
        return -self.cost

    def objective(self, objective: str) -> float:
        """The plan's objective, higher is better."""
        if objective == "cost_p80":
            return -float(np.quantile(self.cost, 0.8))
        return float(np.mean(self.observations(objective)))

    def violations(self, space: SearchSpace) -> tuple[float, ...]:
        """One number per constraint, at most 0 when met (relative shortfalls otherwise)."""
        c = space.constraints
        out = [
            level - float(np.mean(hit))
            for (_, _, level), hit in zip(c.on_time, self.on_time, strict=True)
        ]
        if c.budget is not None:
            out.append((float(np.mean(self.cost)) - c.budget) / max(c.budget, 1.0))
        if c.cost_p80 is not None:
            out.append((float(np.quantile(self.cost, 0.8)) - c.cost_p80) / max(c.cost_p80, 1.0))
        if c.max_cancel is not None:
            out.append(float(self.cancelled - c.max_cancel))
        return tuple(out)


def score_plan(
    pf: Portfolio, space: SearchSpace, plan: Plan, variant: Portfolio, ev: Evaluation
) -> PlanScores:
    """The figures of ``plan`` (applied to ``pf`` as ``variant``) from its evaluation."""
    n = len(ev.finish)
    index = {p.id: k for k, p in enumerate(variant.projects)}
    at = [index.get(p.id) for p in pf.projects]  # each base project's column, None: cancelled
    value = np.zeros(n)
    horizon = pf.value_horizon
    for pk, k in enumerate(at):
        per_day = pf.projects[pk].value_per_day
        if k is not None and horizon is not None and per_day:
            value += per_day * _working_days(pf, ev.finish[:, k], np.full(n, horizon))
    cost = ev.cost.sum(axis=1) + _hire_cost(pf, space, plan, ev)
    all_on_time = np.ones(n, dtype=bool)
    for pk in space.on_time_set:
        all_on_time &= _hit(variant, ev, at[pk])
    on_time = tuple(
        _hit(variant, ev, at[i]).astype(float)
        if kind == "project"
        else _key_hit(pf, variant, ev, i)
        for kind, i, _ in space.constraints.on_time
    )
    cancelled = sum(k is None for k in at)
    return PlanScores(value, cost, all_on_time.astype(float), on_time, cancelled)


def _hit(variant: Portfolio, ev: Evaluation, k: int | None) -> NDArray[np.bool_]:
    if k is None:
        return np.zeros(len(ev.finish), dtype=bool)
    deadline = variant.projects[k].deadline
    return ev.finish[:, k] <= (math.inf if deadline is None else deadline)


def _key_hit(pf: Portfolio, variant: Portfolio, ev: Evaluation, m: int) -> Array:
    """Key date ``m`` of the base met (never, when its task was cancelled)."""
    key = pf.key_dates[m]
    task = pf.tasks[key.task].key
    for j, kd in enumerate(variant.key_dates):
        if variant.tasks[kd.task].key == task and kd.event == key.event:
            return (ev.keys[:, j] <= (kd.due if kd.due is not None else math.inf)).astype(float)
    return np.zeros(len(ev.finish))


def _hire_cost(pf: Portfolio, space: SearchSpace, plan: Plan, ev: Evaluation) -> Array:
    n = len(ev.finish)
    out = np.zeros(n)
    if not any(plan.hire):
        return out
    last = ev.finish.max(axis=1)
    for hire, units in zip(space.hire, plan.hire, strict=True):
        if units:
            days = _working_days(pf, np.full(n, hire.start), last)
            out += units * hire.cost_per_day * days
    return out
