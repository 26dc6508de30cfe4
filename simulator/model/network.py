"""The static arrays an engine works from, and the orders derived from the task network."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .entities import Pool, Project, Task

__all__ = [
    "Network",
    "build_network",
    "first_targets",
    "latest_finish",
    "priority_ranks",
    "topological_order",
]


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


def _csr(
    lists: list[list[tuple[int, float]]],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    ptr = np.zeros(len(lists) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    idx = np.array([j for x in lists for j, _ in x], dtype=np.int64)
    lag = np.array([g for x in lists for _, g in x], dtype=np.float64)
    return ptr, idx, lag


def build_network(
    pools: Sequence[Pool], projects: Sequence[Project], tasks: Sequence[Task], rule: str
) -> Network:
    """The engine's arrays for these parts, tasks ranked by ``rule`` (see
    :func:`priority_ranks`)."""
    n, n_pools = len(tasks), len(pools)
    demand = np.zeros((n, n_pools))
    succs: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for i, task in enumerate(tasks):
        for p, units in task.demand:
            demand[i, p] = units
        for j, lag in task.preds:
            succs[j].append((i, lag))
    release = np.array([projects[t.project].release for t in tasks])
    pred_ptr, pred_idx, pred_lag = _csr([list(t.preds) for t in tasks])
    succ_ptr, succ_idx, succ_lag = _csr(succs)
    return Network(
        demand,
        priority_ranks(projects, tasks, rule),
        release,
        pred_ptr,
        pred_idx,
        pred_lag,
        succ_ptr,
        succ_idx,
        succ_lag,
        np.array([p.capacity for p in pools]),
    )


def latest_finish(projects: Sequence[Project], tasks: Sequence[Task]) -> NDArray[np.float64]:
    """Latest finish times from a backward pass with mean durations, ignoring resources.

    A forward pass (releases, lags, dependencies across projects) gives each project's
    earliest finish; every task's latest finish is bounded by its project's earliest finish
    and by its successors' latest starts minus lags.
    """
    n = len(tasks)
    mean = np.array([t.mean_duration for t in tasks])
    order = topological_order(tasks)
    early = np.zeros(n)
    for i in order:
        task = tasks[i]
        early[i] = max(
            [projects[task.project].release, *(early[j] + mean[j] + lag for j, lag in task.preds)]
        )
    finish = early + mean
    project_end = [max(finish[list(p.tasks)]) for p in projects]
    lft = np.array([project_end[t.project] for t in tasks])
    for i in reversed(order):
        for j, lag in tasks[i].preds:
            lft[j] = min(lft[j], lft[i] - mean[i] - lag)
    return lft


def topological_order(tasks: Sequence[Task]) -> list[int]:
    """Task indices with every predecessor before its successors (file order on ties)."""
    n = len(tasks)
    indeg = [len(t.preds) for t in tasks]
    succs: list[list[int]] = [[] for _ in range(n)]
    for i, t in enumerate(tasks):
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


def priority_ranks(
    projects: Sequence[Project], tasks: Sequence[Task], rule: str
) -> NDArray[np.int64]:
    """Dispatch order: project priority, then the task rule (``lft`` or ``order``), then file
    order. Returns each task's position."""
    n = len(tasks)
    prio = [projects[t.project].priority for t in tasks]
    key = latest_finish(projects, tasks) if rule == "lft" else np.zeros(n)
    order = sorted(range(n), key=lambda i: (prio[i], key[i], i))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return rank


def first_targets(tasks: Sequence[Task], targets: Sequence[int]) -> tuple[int, ...]:
    """The ``targets`` that no other target precedes, directly or through other tasks (in
    the order given): a risk applied ``once`` delays these, so that every dependency chain
    through its targets is delayed once."""
    chosen = set(targets)
    reached: set[int] = set()  # tasks that some target precedes
    for i in topological_order(tasks):
        if any(j in chosen or j in reached for j, _ in tasks[i].preds):
            reached.add(i)
    return tuple(i for i in targets if i not in reached)
