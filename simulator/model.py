"""The validated portfolio: what the sampler and the engines work from.

Built by :func:`simulator.scenario.load_scenario`. Times are working days since the scenario
start; tasks are numbered globally in file order (project by project).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from .calendars import WorkCalendar
from .distributions import Distribution

if TYPE_CHECKING:
    from .variants import Variant

__all__ = ["CorrelationGroup", "Network", "Pool", "Portfolio", "Project", "Risk", "Task"]


@dataclass(frozen=True)
class Pool:
    """A resource pool.

    Attributes:
        id: the key under ``resources``.
        capacity: units available from time 0.
        cost_per_day: cost of one unit for one working day.
        changes: ``(time, capacity)`` from that time on, sorted by time.
    """

    id: str
    capacity: float
    cost_per_day: float = 0.0
    changes: tuple[tuple[float, float], ...] = ()

    @property
    def max_capacity(self) -> float:
        return max([self.capacity, *(c for _, c in self.changes)])


@dataclass(frozen=True)
class Task:
    """One task.

    Attributes:
        key: ``project.task``, unique in the portfolio and the seed of its random stream.
        project: index of its project.
        size: the duration (working days) or, when ``per_unit`` is true, the effort
            (person-days) distribution.
        per_unit: effort given: duration = effort / sum of units.
        demand: ``(pool index, units)`` held from start to finish.
        preds: ``(task index, lag)`` that must finish (plus lag) before it can start.
        cost: fixed cost.
    """

    key: str
    project: int
    id: str
    name: str
    size: Distribution
    per_unit: bool = False
    demand: tuple[tuple[int, float], ...] = ()
    preds: tuple[tuple[int, float], ...] = ()
    cost: float = 0.0

    @property
    def units(self) -> float:
        return sum(u for _, u in self.demand)

    @property
    def mean_duration(self) -> float:
        return self.size.mean / self.units if self.per_unit else self.size.mean


@dataclass(frozen=True)
class Project:
    """A project.

    Attributes:
        release: earliest start (working days).
        deadline: end of the deadline day as an offset, or None.
        budget: None when not given.
        cost: fixed cost; ``overhead_per_day`` accrues from its first task start to its finish.
        tasks: indices of its tasks.
        value_per_day: value delivered per working day once finished (``value_per_month``
            x 12 / working days a year).
    """

    id: str
    name: str
    priority: int = 1
    release: float = 0.0
    deadline: float | None = None
    budget: float | None = None
    cost: float = 0.0
    overhead_per_day: float = 0.0
    tasks: tuple[int, ...] = ()
    value_per_day: float = 0.0


@dataclass(frozen=True)
class Risk:
    """A risk event, drawn once per iteration.

    Attributes:
        targets: tasks delayed when it occurs (each by the same sampled ``delay`` in working
            days, or by ``delay`` percent of its own sampled duration when ``percent``).
        cost: extra cost charged to each project in ``cost_projects`` when it occurs.
        loss: ``(pool, units, at, days)``: units unavailable from ``at`` for ``days``.
    """

    id: str
    probability: float
    targets: tuple[int, ...] = ()
    delay: Distribution | None = None
    percent: bool = False
    cost: Distribution | None = None
    cost_projects: tuple[int, ...] = ()
    loss: tuple[int, float, float, Distribution] | None = None


@dataclass(frozen=True)
class CorrelationGroup:
    """Tasks whose size draws share a Gaussian-copula factor with correlation ``rho``."""

    id: str
    rho: float
    tasks: tuple[int, ...]


@dataclass(frozen=True)
class Network:
    """The static arrays an engine needs (compressed rows for predecessors/successors).

    Attributes:
        demand: ``(tasks, pools)`` units held while running.
        rank: dispatch position of each task (0 is served first).
        release: earliest start of each task (its project's release).
        pred_ptr, pred_idx, pred_lag: predecessors of task i are
            ``pred_idx[pred_ptr[i]:pred_ptr[i+1]]``; likewise ``succ_*``.
        capacity: pool capacities at time 0.
    """

    demand: NDArray[np.float64]
    rank: NDArray[np.int64]
    release: NDArray[np.float64]
    pred_ptr: NDArray[np.int64]
    pred_idx: NDArray[np.int64]
    pred_lag: NDArray[np.float64]
    succ_ptr: NDArray[np.int64]
    succ_idx: NDArray[np.int64]
    succ_lag: NDArray[np.float64]
    capacity: NDArray[np.float64]

    @property
    def n_tasks(self) -> int:
        return len(self.rank)


@dataclass(frozen=True)
class Portfolio:
    """A validated scenario, ready to sample and simulate."""

    name: str
    calendar: WorkCalendar
    pools: tuple[Pool, ...]
    projects: tuple[Project, ...]
    tasks: tuple[Task, ...]
    risks: tuple[Risk, ...] = ()
    groups: tuple[CorrelationGroup, ...] = ()
    priority_rule: str = "lft"
    iterations: int = 1000
    seed: int | None = None
    currency: str = ""
    source_hash: str = ""
    variants: tuple[Variant, ...] = ()
    value_horizon: float | None = None

    @cached_property
    def network(self) -> Network:
        return _network(self)

    def base_capacity_events(self) -> list[tuple[float, int, float]]:
        """Capacity changes of the base schedule as ``(time, pool, capacity)``, by time."""
        events = [(t, p, c) for p, pool in enumerate(self.pools) for t, c in pool.changes]
        return sorted(events, key=lambda e: (e[0], e[1]))


def _csr(lists: list[list[tuple[int, float]]]) -> tuple[NDArray[np.int64], NDArray[np.int64],
                                                         NDArray[np.float64]]:
    ptr = np.zeros(len(lists) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    idx = np.array([j for x in lists for j, _ in x], dtype=np.int64)
    lag = np.array([g for x in lists for _, g in x], dtype=np.float64)
    return ptr, idx, lag


def _network(pf: Portfolio) -> Network:
    n, n_pools = len(pf.tasks), len(pf.pools)
    demand = np.zeros((n, n_pools))
    succs: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for i, task in enumerate(pf.tasks):
        for p, units in task.demand:
            demand[i, p] = units
        for j, lag in task.preds:
            succs[j].append((i, lag))
    release = np.array([pf.projects[t.project].release for t in pf.tasks])
    pred_ptr, pred_idx, pred_lag = _csr([list(t.preds) for t in pf.tasks])
    succ_ptr, succ_idx, succ_lag = _csr(succs)
    return Network(demand, priority_ranks(pf), release, pred_ptr, pred_idx, pred_lag,
                   succ_ptr, succ_idx, succ_lag, np.array([p.capacity for p in pf.pools]))


def latest_finish(pf: Portfolio) -> NDArray[np.float64]:
    """Latest finish times from a backward pass with mean durations, ignoring resources.

    A forward pass (releases, lags, dependencies across projects) gives each project's
    earliest finish; every task's latest finish is bounded by its project's earliest finish
    and by its successors' latest starts minus lags.
    """
    n = len(pf.tasks)
    mean = np.array([t.mean_duration for t in pf.tasks])
    order = topological_order(pf)
    early = np.zeros(n)
    for i in order:
        task = pf.tasks[i]
        early[i] = max([pf.projects[task.project].release,
                        *(early[j] + mean[j] + lag for j, lag in task.preds)])
    finish = early + mean
    project_end = [max(finish[list(p.tasks)]) for p in pf.projects]
    lft = np.array([project_end[t.project] for t in pf.tasks])
    for i in reversed(order):
        for j, lag in pf.tasks[i].preds:
            lft[j] = min(lft[j], lft[i] - mean[i] - lag)
    return lft


def topological_order(pf: Portfolio) -> list[int]:
    """Task indices with every predecessor before its successors (file order on ties)."""
    n = len(pf.tasks)
    indeg = [len(t.preds) for t in pf.tasks]
    succs: list[list[int]] = [[] for _ in range(n)]
    for i, t in enumerate(pf.tasks):
        for j, _ in t.preds:
            succs[j].append(i)
    ready = deque(i for i in range(n) if indeg[i] == 0)
    order: list[int] = []
    while ready:
        i = ready.popleft()
        order.append(i)
        for k in succs[i]:
            indeg[k] -= 1
            if indeg[k] == 0:
                ready.append(k)
    if len(order) != n:
        raise ValueError("dependency cycle")  # validation reports cycles before this point
    return order


def priority_ranks(pf: Portfolio) -> NDArray[np.int64]:
    """Dispatch order: project priority, then the task rule (``lft`` or ``order``), then file
    order. Returns each task's position."""
    n = len(pf.tasks)
    prio = [pf.projects[t.project].priority for t in pf.tasks]
    rule = latest_finish(pf) if pf.priority_rule == "lft" else np.zeros(n)
    order = sorted(range(n), key=lambda i: (prio[i], rule[i], i))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return rank
