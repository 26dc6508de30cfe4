"""The static arrays an engine works from, and the orders derived from the task network."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from .calendar import ClockTable, WorkCalendar
from .entities import Link, Pool, Project, Task

__all__ = [
    "Network",
    "PoolPairs",
    "build_network",
    "earliest_start",
    "engine_calendars",
    "engine_links",
    "first_targets",
    "latest_finish",
    "priority_ranks",
    "topological_order",
]


_NONE: NDArray[np.int64] = np.zeros(0, dtype=np.int64)  # "not given" (see __post_init__)


class PoolPairs(NamedTuple):
    """The ``(task, pool)`` pairs with a nonzero demand, by task then pool, as compressed
    rows: task ``i`` needs ``pool[ptr[i]:ptr[i + 1]]``, ``units`` of each."""

    ptr: NDArray[np.int64]
    pool: NDArray[np.int64]
    units: NDArray[np.float64]


@dataclass(frozen=True)
class Network:
    """The static arrays an engine needs (compressed rows for predecessors/successors).

    Attributes:
        demand: ``(tasks, pools)`` units held while running.
        rank: dispatch position of each task (0 is served first).
        release: earliest start of each task (its project's release, its own
            constraint, the status date; a complete task's actual start).
        pred_ptr, pred_idx, pred_lag, pred_kind, pred_cal: predecessors of task i are
            ``pred_idx[pred_ptr[i]:pred_ptr[i+1]]``, with each link's lag, kind (index in
            ``LINK_KINDS``) and lag calendar; likewise ``succ_*``. Started tasks have none.
        capacity: pool capacities at time 0.
        calendar: each task's calendar.
        clock: the calendars' working-time tables.
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
    pred_kind: NDArray[np.int64] = field(default_factory=lambda: _NONE)
    pred_cal: NDArray[np.int64] = field(default_factory=lambda: _NONE)
    succ_kind: NDArray[np.int64] = field(default_factory=lambda: _NONE)
    succ_cal: NDArray[np.int64] = field(default_factory=lambda: _NONE)
    calendar: NDArray[np.int64] = field(default_factory=lambda: _NONE)
    clock: ClockTable = WorkCalendar().table

    def __post_init__(self) -> None:
        """Arrays left out mean plain finish-to-start links on one continuous calendar."""
        sizes = {
            "pred_kind": len(self.pred_idx),
            "pred_cal": len(self.pred_idx),
            "succ_kind": len(self.succ_idx),
            "succ_cal": len(self.succ_idx),
            "calendar": len(self.rank),
        }
        for name, size in sizes.items():
            if getattr(self, name) is _NONE:
                object.__setattr__(self, name, np.zeros(size, dtype=np.int64))

    @property
    def n_tasks(self) -> int:
        return len(self.rank)

    @cached_property
    def pool_pairs(self) -> PoolPairs:
        """The pools each task needs (see :class:`PoolPairs`), found once for every pass
        of the engine and of the reductions over its schedules."""
        demand = np.asarray(self.demand, dtype=np.float64)
        nonzero = demand != 0
        ptr = np.zeros(len(demand) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum(nonzero.sum(axis=1))
        rows, pool = np.nonzero(nonzero)
        return PoolPairs(ptr, pool.astype(np.int64), np.ascontiguousarray(demand[rows, pool]))


def _csr(
    lists: list[list[Link]],
) -> tuple[
    NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]
]:
    ptr = np.zeros(len(lists) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    flat = [link for x in lists for link in x]
    idx = np.array([x.pred for x in flat], dtype=np.int64)
    lag = np.array([x.lag for x in flat], dtype=np.float64)
    kind = np.array([x.kind for x in flat], dtype=np.int64)
    cal = np.array([x.calendar for x in flat], dtype=np.int64)
    return ptr, idx, lag, kind, cal


def engine_links(tasks: Sequence[Task], calendar: WorkCalendar) -> list[list[Link]]:
    """Each task's links as the engine uses them: lag calendars resolved (the successor's);
    none into a complete task, and into a task in progress only those that bound its finish
    (FF, SF: its start is history); a start-to-start or start-to-finish link from a task in
    progress counts its lag from the actual start."""
    out: list[list[Link]] = []
    for task in tasks:
        links = []
        kept = task.preds if task.progress is None else () if task.complete else task.preds
        for link in kept:
            if task.running and link.kind in (0, 1):
                continue
            cal = task.calendar if link.calendar < 0 else link.calendar
            lag, pred = link.lag, tasks[link.pred]
            if pred.running and link.kind in (1, 3):
                status, began = (
                    calendar.status or 0.0,
                    pred.progress.start if pred.progress else 0.0,
                )
                lag -= calendar.work(cal, status) - calendar.work(cal, began)
            links.append(Link(link.pred, lag, link.kind, cal))
        out.append(links)
    return out


def _releases(
    projects: Sequence[Project], tasks: Sequence[Task], calendar: WorkCalendar
) -> NDArray[np.float64]:
    """Complete tasks at their actual start, tasks in progress at the status date, the
    others no earlier than their project's release, their own constraint and the status;
    each from the start of its calendar's working period then."""
    status = calendar.status or 0.0
    out = []
    for t, cal in zip(tasks, engine_calendars(tasks, calendar), strict=True):
        if t.progress is not None:
            when = t.progress.start if t.complete else status
        else:
            when = max(projects[t.project].release, t.earliest, status)
        out.append(calendar.resume(cal, when))
    return np.array(out, dtype=np.float64)


def engine_calendars(tasks: Sequence[Task], calendar: WorkCalendar) -> NDArray[np.int64]:
    """Each task's calendar in the engine: its own, or for a complete task the continuous
    one (it ran from its actual start to its actual finish, as given, on any day)."""
    return np.array(
        [calendar.continuous if t.complete else t.calendar for t in tasks], dtype=np.int64
    )


def build_network(
    pools: Sequence[Pool],
    projects: Sequence[Project],
    tasks: Sequence[Task],
    rule: str,
    calendar: WorkCalendar | None = None,
) -> Network:
    """The engine's arrays for these parts, tasks ranked by ``rule`` (see
    :func:`priority_ranks`). A complete task holds no units (its work is past)."""
    calendar = calendar or WorkCalendar()
    n, n_pools = len(tasks), len(pools)
    demand = np.zeros((n, n_pools))
    links = engine_links(tasks, calendar)
    succs: list[list[Link]] = [[] for _ in range(n)]
    for i, task in enumerate(tasks):
        for p, units in task.demand if not task.complete else ():
            demand[i, p] = units
        for link in links[i]:
            succs[link.pred].append(link._replace(pred=i))
    pred_ptr, pred_idx, pred_lag, pred_kind, pred_cal = _csr(links)
    succ_ptr, succ_idx, succ_lag, succ_kind, succ_cal = _csr(succs)
    return Network(
        demand,
        priority_ranks(projects, tasks, rule),
        _releases(projects, tasks, calendar),
        pred_ptr,
        pred_idx,
        pred_lag,
        succ_ptr,
        succ_idx,
        succ_lag,
        np.array([p.capacity for p in pools]),
        pred_kind,
        pred_cal,
        succ_kind,
        succ_cal,
        engine_calendars(tasks, calendar),
        calendar.table,
    )


def earliest_start(link: Link, start: float, finish: float, own: float) -> float:
    """The earliest start a link allows a task of duration ``own`` (working days, calendars
    ignored) after a predecessor running from ``start`` to ``finish``."""
    kind = link.kind
    bound = (finish if kind in (0, 2) else start) + link.lag
    if kind in (2, 3):
        bound -= own
    return bound if kind == 0 and link.lag >= 0 else max(bound, start)


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
            [
                projects[task.project].release,
                task.earliest,
                *(
                    earliest_start(x, early[x.pred], early[x.pred] + mean[x.pred], mean[i])
                    for x in task.preds
                ),
            ]
        )
    finish = early + mean
    project_end = [max(finish[list(p.tasks)]) for p in projects]
    lft = np.array([project_end[t.project] for t in tasks])
    for i in reversed(order):
        for x in tasks[i].preds:
            j, lag = x.pred, x.lag
            # the latest finish of j that lets i finish by lft[i]
            bound = {
                0: lft[i] - mean[i] - lag,
                1: lft[i] - mean[i] - lag + mean[j],
                2: lft[i] - lag,
                3: lft[i] - lag + mean[j],
            }[x.kind]
            lft[j] = min(lft[j], bound)
    return lft


def topological_order(tasks: Sequence[Task]) -> list[int]:
    """Task indices with every predecessor before its successors (file order on ties)."""
    n = len(tasks)
    indeg = [len(t.preds) for t in tasks]
    succs: list[list[int]] = [[] for _ in range(n)]
    for i, t in enumerate(tasks):
        for link in t.preds:
            succs[link.pred].append(i)
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
    """Dispatch order: tasks in progress at the status date first (they are running), then
    project priority, then the task rule (``lft`` or ``order``), then file order. Returns each
    task's position."""
    n = len(tasks)
    prio = [(not t.running, projects[t.project].priority) for t in tasks]
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
        if any(x.pred in chosen or x.pred in reached for x in tasks[i].preds):
            reached.add(i)
    return tuple(i for i in targets if i not in reached)
