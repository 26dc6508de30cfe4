"""The deterministic schedule check: a critical-path pass over the plan, and a schedule-health
assessment in the spirit of the DCMA 14-point check.

The forward pass reads the plan as the engine does (the same calendars, links, constraints
and progress), with each duration at its most likely value: levelled, it is the engine
itself; otherwise a CPM pass that ignores resources and, as schedulers do, lets an FF or SF
successor start before its predecessor when its bound allows. The backward pass computes
late dates over the same links with the same calendar arithmetic: a task must finish by
its project's deadline (its early finish without one), by its own ``finish_no_later_than``
date, and by whatever its successors' late dates require.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..engine import simulate_fast, work_ends
from ..engine.clock import FF, FS, SF, SS, py_delay, py_work_end
from ..engine.clock import py_time_at as time_at
from ..engine.clock import py_work_at as work_at
from ..model import Portfolio, Task, topological_order

__all__ = ["Check", "ScheduleCheck", "check_schedule", "cpm"]

Array = NDArray[np.float64]
LONG = 44.0  # working days: DCMA's threshold for high float and long durations


@dataclass(frozen=True)
class ScheduleCheck:
    """A deterministic schedule: per task, early and late start and finish (times, the
    finishes where work ends) and total float (working days of the task's calendar)."""

    durations: Array
    early_start: Array
    early_finish: Array
    late_start: Array
    late_finish: Array
    total_float: Array


@dataclass(frozen=True)
class Check:
    """One schedule-health check: ``count`` of ``total`` items, against ``limit`` (a share,
    or a count when ``limit_is_count``); ``ok`` None when it does not apply."""

    name: str
    count: int
    total: int
    limit: float
    ok: bool | None
    note: str = ""
    limit_is_count: bool = False


def _forward(pf: Portfolio, durations: Array, levelled: bool) -> tuple[Array, Array]:
    """Early starts and finishes (where work ends): levelled, the engine with the pools;
    otherwise a CPM forward pass over the engine's links and calendars, which lets an FF or
    SF successor start before its predecessor when its bound says so, as schedulers do."""
    if levelled:
        net = pf.network
        sched = simulate_fast(net, durations, pf.base_capacity_events())
        start, finish = sched.start.copy(), sched.finish
    else:
        start, finish = _cpm_forward(pf, durations)
    for i, t in enumerate(pf.tasks):
        if t.running and t.progress is not None:
            start[i] = t.progress.start
    net = pf.network
    return start, work_ends(*net.clock, net.calendar, finish[None, :])[0]


def _cpm_forward(pf: Portfolio, durations: Array) -> tuple[Array, Array]:
    """Start and completion of every task, resources ignored, links as the engine reads
    them but not held back to the predecessor's start."""
    net, clock = pf.network, pf.network.clock
    n = len(pf.tasks)
    start, done, ended = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in topological_order(pf.tasks):
        c, d = int(net.calendar[i]), float(durations[i])
        at = float(net.release[i])
        for k in range(net.pred_ptr[i], net.pred_ptr[i + 1]):
            j, kind = int(net.pred_idx[k]), int(net.pred_kind[k])
            lag, lag_cal = float(net.pred_lag[k]), int(net.pred_cal[k])
            base = start[j] if kind in (SS, SF) else ended[j]
            bound = (
                base
                if lag == 0
                else float(time_at(*clock, lag_cal, work_at(*clock, lag_cal, base) + lag, False))
            )
            own = d if kind in (FF, SF) else 0.0
            at = max(at, float(time_at(*clock, c, work_at(*clock, c, bound) - own, True)))
        start[i] = at
        done[i] = at + float(py_delay(*clock, c, at, d))
        ended[i] = float(py_work_end(*clock, c, done[i]))
    return start, done


def _late_start(pf: Portfolio, i: int, finish: float, d: float) -> float:
    """The latest start of task ``i`` that finishes its ``d`` working days by ``finish``."""
    c = pf.tasks[i].calendar
    return float(time_at(*pf.network.clock, c, work_at(*pf.network.clock, c, finish) - d, True))


def _shift(pf: Portfolio, cal: int, t: float, lag: float) -> float:
    """``t`` moved back by ``lag`` working days of calendar ``cal``."""
    clock = pf.network.clock
    return float(time_at(*clock, cal, work_at(*clock, cal, t) - lag, False)) if lag else t


def _backward(pf: Portfolio, durations: Array, early_finish: Array) -> Array:
    """Late finishes over the engine's links (a started task's own links are history)."""
    net = pf.network
    ends = [max(early_finish[list(p.tasks)]) for p in pf.projects]
    late = np.array(
        [
            min(x for x in (pf.projects[t.project].deadline, t.deadline) if x is not None)
            if pf.projects[t.project].deadline is not None or t.deadline is not None
            else ends[t.project]
            for t in pf.tasks
        ]
    )
    for i in reversed(topological_order(pf.tasks)):
        ls = _late_start(pf, i, late[i], durations[i])
        for k in range(net.pred_ptr[i], net.pred_ptr[i + 1]):
            j, kind = int(net.pred_idx[k]), int(net.pred_kind[k])
            lag, cal = float(net.pred_lag[k]), int(net.pred_cal[k])
            bound = _shift(pf, cal, late[i] if kind in (FF, SF) else ls, lag)
            if kind in (SS, SF):  # bounds j's start: its finish is its duration later
                bound = pf.calendar.ends(pf.tasks[j].calendar, bound, durations[j])
            late[j] = min(late[j], bound)
    return late


def cpm(pf: Portfolio, *, levelled: bool = False) -> ScheduleCheck:
    """The deterministic schedule at most likely durations (resources ignored unless
    ``levelled``)."""
    durations = np.array([_duration(t) for t in pf.tasks])
    es, ef = _forward(pf, durations, levelled)
    lf = _backward(pf, durations, ef)
    ls = np.array([_late_start(pf, i, lf[i], durations[i]) for i in range(len(pf.tasks))])
    tf = np.array(
        [
            pf.calendar.work(t.calendar, lf[i]) - pf.calendar.work(t.calendar, ef[i])
            for i, t in enumerate(pf.tasks)
        ]
    )
    lf = work_ends(*pf.network.clock, pf.network.calendar, lf[None, :])[0]  # where work ends
    for i, t in enumerate(pf.tasks):
        if t.complete:  # history: no float
            ls[i], lf[i], tf[i] = es[i], ef[i], 0.0
        elif durations[i] == 0:  # no work (left): it starts late where it ends, lf = ls + 0
            ls[i] = lf[i]
    return ScheduleCheck(durations, es, ef, ls, lf, tf)


def _duration(task: Task) -> float:
    """Its most likely duration (remaining, for a task in progress; actual, when complete)."""
    p = task.progress
    if p is not None and p.finish is not None:  # its actual span (engine_calendars)
        return p.finish - p.start
    size = task.size.most_likely / task.units if task.per_unit else task.size.most_likely
    if p is None:
        return size
    if p.remaining is not None:
        return p.remaining.most_likely
    return size * (1 - p.done) if p.done is not None else max(size - p.elapsed, 0.0)


def _share_check(name: str, count: int, total: int, limit: float, note: str = "") -> Check:
    ok = None if total == 0 else bool(count <= limit * total)
    return Check(name, count, total, limit, ok, note)


def _count_check(name: str, count: int, total: int, note: str = "") -> Check:
    return Check(name, count, total, 0.0, None if total == 0 else count == 0, note, True)


def _links(pf: Portfolio) -> list[tuple[int, int, float]]:
    """Every link of the plan as ``(task, kind, lag)``, of tasks not yet complete."""
    return [(i, x.kind, x.lag) for i, t in enumerate(pf.tasks) if not t.complete for x in t.preds]


def _logic_check(pf: Portfolio, tasks: list[int]) -> Check:
    """Tasks without a predecessor or a successor, beyond one start and one finish per
    project."""
    has_succ = {x.pred for t in pf.tasks for x in t.preds}
    open_ends = set()
    for p in pf.projects:
        starts = [i for i in p.tasks if not pf.tasks[i].preds]
        finishes = [i for i in p.tasks if i not in has_succ]
        open_ends |= {("pred", starts[0])} if starts else set()
        open_ends |= {("succ", finishes[-1])} if finishes else set()
    no_pred = {i for i in tasks if not pf.tasks[i].preds and ("pred", i) not in open_ends}
    no_succ = {i for i in tasks if i not in has_succ and ("succ", i) not in open_ends}
    return _share_check(
        "logic: missing predecessors or successors",
        len(no_pred | no_succ),
        len(tasks),
        0.05,
        "beyond one start and one finish per project",
    )


def _link_checks(pf: Portfolio) -> list[Check]:
    links = _links(pf)
    return [
        _count_check("leads (negative lags)", sum(1 for _, _, g in links if g < 0), len(links)),
        _share_check("lags", sum(1 for _, _, g in links if g > 0), len(links), 0.05),
        _share_check(
            "relationship types: not finish-to-start",
            sum(1 for _, k, _ in links if k != FS),
            len(links),
            0.10,
        ),
    ]


def check_schedule(pf: Portfolio, sched: ScheduleCheck) -> list[Check]:
    """The schedule-health checks, on the tasks not complete (milestones count for logic
    and constraints, not for durations and resources)."""
    tasks = [i for i, t in enumerate(pf.tasks) if not t.complete]
    work = [i for i in tasks if not pf.tasks[i].milestone]
    fresh = [i for i in tasks if pf.tasks[i].progress is None]  # not started
    hard = [
        i for i in tasks if pf.tasks[i].deadline is not None or pf.tasks[i].start_by is not None
    ]
    status = pf.calendar.status
    tf = sched.total_float
    return [
        _logic_check(pf, tasks),
        *_link_checks(pf),
        _share_check("hard constraints", len(hard), len(tasks), 0.05),
        _share_check(
            f"high float (> {LONG:g} working days)", int(np.sum(tf[tasks] > LONG)), len(tasks), 0.05
        ),
        _count_check("negative float", int(np.sum(tf[tasks] < -1e-9)), len(tasks)),
        _share_check(
            f"high duration (> {LONG:g} working days)",
            int(np.sum(sched.durations[work] > LONG)),
            len(work),
            0.05,
        ),
        _count_check(
            "invalid dates: starts before the status date",
            0 if status is None else int(np.sum(sched.early_start[fresh] < status - 1e-9)),
            len(fresh),
        ),
        _count_check(
            "resources: tasks with none", sum(1 for i in work if not pf.tasks[i].demand), len(work)
        ),
        _critical_path_test(pf, sched),
    ]


def _critical_path_test(pf: Portfolio, sched: ScheduleCheck) -> Check:
    """DCMA's critical path test: lengthen the last-finishing project's critical task
    (least float) by 600 working days; its finish must move by as much."""
    open_ = [i for i, t in enumerate(pf.tasks) if t.progress is None and not t.milestone]
    if not open_:
        return Check("critical path test", 0, 0, 0.0, None, "no task to lengthen")
    k = max(
        range(len(pf.projects)), key=lambda p: max(sched.early_finish[list(pf.projects[p].tasks)])
    )
    lengthen = set(open_)
    mine = [i for i in pf.projects[k].tasks if i in lengthen]
    if not mine:
        return Check("critical path test", 0, 0, 0.0, None, "no task to lengthen")
    i = min(mine, key=lambda j: (sched.total_float[j], j))
    longer = sched.durations.copy()
    longer[i] += 600.0
    _, ef = _forward(pf, longer, False)
    cal = pf.tasks[i].calendar
    before = pf.calendar.work(cal, max(sched.early_finish[list(pf.projects[k].tasks)]))
    after = pf.calendar.work(cal, max(ef[list(pf.projects[k].tasks)]))
    moved = after - before
    ok = bool(abs(moved - 600.0) < 1.0 + 600.0 * 0.05)
    note = f"{pf.tasks[i].key} +600 working days moved {pf.projects[k].id}'s finish {moved:.0f}"
    return Check("critical path test", int(not ok), 1, 0.0, ok, note, True)
