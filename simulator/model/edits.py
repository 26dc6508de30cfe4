"""Variants: named changes to a portfolio (postpone, cancel, re-prioritise, add capacity, cut
scope, move deadlines and budgets, mitigate risks), applied to the validated base.

A variant never touches the random streams: each task, risk and correlation group keeps its
own stream (keyed by its id), so a variant run with the base's seed sees the *same* sampled
durations and risk draws for everything it did not change. That is what makes the paired
comparison in :mod:`simulator.analysis.compare` precise.

Semantics, applied in this order:

1. ``include``: the named variants' changes first, in order; this variant's own changes
   override theirs for the same project, pool or risk.
2. ``postpone``: a project's release moves ``N`` working days later, or to a date.
3. ``priority``, ``deadline``, ``budget``: replaced.
4. ``capacity``: ``+N``/``-N`` adds units from the scenario start (``{delta: N, from: D}``
   from a date or working day on); a bare number (or ``{set: N, from: D}``) sets the
   capacity. Later capacity changes of the base keep applying after ``from`` (a delta is
   added to them; ``set`` replaces them). Capacity never goes below zero.
5. ``mitigate``: a risk's probability is replaced and its delay, cost and capacity-loss
   length are multiplied by ``impact``; the same uniform draw decides occurrence, so a lower
   probability only ever removes occurrences. The mitigation ``cost`` is charged to
   ``charge_to``, or split equally among the projects the risk affects.
6. ``cancel``: the projects and their tasks are removed, with every dependency on them
   (their work is no longer needed) and their risk targets.
7. ``remove_tasks`` (scope cut): the tasks are removed; a successor of a removed task
   inherits the removed task's predecessors (with the successor's own lag), so the order of
   the remaining work is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from .distributions import Distribution, FloatArray
from .entities import CorrelationGroup, Link, Pool, Risk, Task
from .portfolio import Portfolio
from .variants import CapacityEdit, Mitigate, Variant

__all__ = ["Scaled", "apply_variant", "edited_pool"]


@dataclass(frozen=True, eq=False)
class Scaled(Distribution):
    """``factor`` times another distribution (a mitigated impact)."""

    base: Distribution
    factor: float
    kind: ClassVar[str] = "scaled"

    @property
    def is_constant(self) -> bool:  # type: ignore[override]
        return self.base.is_constant or self.factor == 0

    def ppf(self, u: FloatArray) -> FloatArray:
        return np.asarray(self.base.ppf(u), dtype=float) * self.factor

    def draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        return np.asarray(self.base.draw(rng, size), dtype=float) * self.factor

    @property
    def mean(self) -> float:
        return self.base.mean * self.factor

    @property
    def variance(self) -> float:
        return self.base.variance * self.factor**2


def edited_pool(pool: Pool, edit: CapacityEdit) -> Pool:
    """The pool with ``edit`` applied to its capacity over time."""
    times = sorted({0.0, edit.start, *(t for t, _ in pool.changes)})

    def new_at(t: float) -> float:
        value = pool.capacity_at(t)
        if t >= edit.start:
            value = edit.set if edit.set is not None else value + (edit.delta or 0.0)
        return max(0.0, value)

    capacity = new_at(0.0)
    changes: list[tuple[float, float]] = []
    last = capacity
    for t in times:
        if t == 0.0:
            continue
        value = new_at(t)
        if value != last:
            changes.append((t, value))
            last = value
    return replace(pool, capacity=capacity, changes=tuple(changes))


def _mitigated(risk: Risk, m: Mitigate) -> Risk:
    out = risk if m.probability is None else replace(risk, probability=m.probability)
    if m.factor is None or m.factor == 1:
        return out
    f = m.factor
    loss = out.loss
    if loss is not None:
        loss = (loss[0], loss[1], loss[2], Scaled(loss[3], f))
    return replace(
        out,
        delay=None if out.delay is None else Scaled(out.delay, f),
        cost=None if out.cost is None else Scaled(out.cost, f),
        loss=loss,
    )


def apply_variant(pf: Portfolio, v: Variant) -> Portfolio:
    """The portfolio with variant ``v`` applied (see the module docstring)."""
    extra_cost = [0.0] * len(pf.projects)
    for m in v.mitigate.values():
        for k in m.charge:
            extra_cost[k] += m.cost / len(m.charge)
    projects = []
    for k, p in enumerate(pf.projects):
        projects.append(
            replace(
                p,
                release=v.release.get(k, p.release),
                priority=v.priority.get(k, p.priority),
                deadline=v.deadline.get(k, p.deadline),
                deadline_date=None if k in v.deadline else p.deadline_date,
                budget=v.budget.get(k, p.budget),
                cost=p.cost + extra_cost[k],
            )
        )
    pools = tuple(
        edited_pool(pool, v.capacity[k]) if k in v.capacity else pool
        for k, pool in enumerate(pf.pools)
    )
    risks = tuple(
        _mitigated(r, v.mitigate[k]) if k in v.mitigate else r for k, r in enumerate(pf.risks)
    )
    out = replace(
        pf, name=f"{pf.name} [{v.name}]", projects=tuple(projects), pools=pools, risks=risks
    )
    cancelled = {i for k in v.cancel for i in pf.projects[k].tasks}
    return _without(out, v.cancel, cancelled, v.remove - cancelled)


def _without(
    pf: Portfolio, gone_projects: frozenset[int], dropped: set[int], bridged: frozenset[int]
) -> Portfolio:
    """``pf`` without the projects ``gone_projects``, the tasks ``dropped`` (links to them
    removed) and the tasks ``bridged`` (successors inherit their predecessors)."""
    if not gone_projects and not dropped and not bridged:
        return pf
    removed = dropped | bridged
    keep_tasks = [i for i in range(len(pf.tasks)) if i not in removed]
    keep_projects = [k for k in range(len(pf.projects)) if k not in gone_projects]
    new_task = {old: new for new, old in enumerate(keep_tasks)}
    new_project = {old: new for new, old in enumerate(keep_projects)}
    through = _stand_ins(pf, dropped, bridged)
    tasks: list[Task] = []
    for i in keep_tasks:
        t = pf.tasks[i]
        preds: dict[tuple[int, int, int], float] = {}  # (pred, kind, calendar): longest lag
        for link in t.preds:
            for x in through(link.pred):
                key = (new_task[x], link.kind, link.calendar)
                preds[key] = max(link.lag, preds.get(key, link.lag))
        links = tuple(Link(j, lag, kind, cal) for (j, kind, cal), lag in preds.items())
        tasks.append(replace(t, project=new_project[t.project], preds=links))
    projects = [
        replace(p, tasks=tuple(new_task[i] for i in p.tasks if i in new_task))
        for p in (pf.projects[k] for k in keep_projects)
    ]
    risks = [
        replace(
            r,
            targets=tuple(new_task[i] for i in r.targets if i in new_task),
            cost_projects=tuple(new_project[k] for k in r.cost_projects if k in new_project),
        )
        for r in pf.risks
    ]
    groups = tuple(
        CorrelationGroup(g.id, g.rho, tuple(new_task[i] for i in g.tasks if i in new_task))
        for g in pf.groups
    )
    return replace(
        pf,
        projects=tuple(projects),
        tasks=tuple(tasks),
        risks=tuple(risks),
        groups=tuple(g for g in groups if g.tasks),
    )


def _stand_ins(
    pf: Portfolio, dropped: set[int], bridged: frozenset[int]
) -> Callable[[int], list[int]]:
    """``through(j)``: the remaining tasks that stand in for predecessor ``j`` (none for a
    dropped task, a bridged task's own predecessors, through chains of them)."""
    memo: dict[int, list[int]] = {}

    def through(j: int) -> list[int]:
        if j in dropped:
            return []
        if j not in bridged:
            return [j]
        if j not in memo:
            memo[j] = [x for link in pf.tasks[j].preds for x in through(link.pred)]
        return memo[j]

    return through
