"""Units per reporting period from a block's schedules: held by running tasks, demanded by
ready tasks still waiting, and available (compiled loops over every iteration)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..kernels import jit, offsets
from ..model import Network

__all__ = ["capacity_load", "overload", "schedule_load"]


def _per_time(total: NDArray[np.float64], edges: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unit-days per period (last axis) divided by the period's length: mean units."""
    width = np.diff(edges)
    return np.divide(total, width, out=np.zeros_like(total), where=width > 0)


def _period_by_day(edges: NDArray[np.float64]) -> NDArray[np.int64]:
    """For each whole day ``d`` up to the last edge, the last period starting at or before
    it (0 before the first)."""
    last = float(edges[-1]) if edges.size and np.isfinite(edges[-1]) else 0.0
    days = np.arange(int(min(max(last, 0.0), 1e7)) + 1, dtype=np.float64)
    return np.maximum(np.searchsorted(edges, days, side="right") - 1, 0).astype(np.int64)


# The loops write into zeroed arrays they are given, without reference counting
# (kernels.NO_REFCOUNTS: with it, each call they inline costs atomic operations).
@jit(refcounts=False)
def _schedule_load(
    ready: NDArray[np.float64],
    start: NDArray[np.float64],
    finish: NDArray[np.float64],
    ptr: NDArray[np.int64],
    pool: NDArray[np.int64],
    units: NDArray[np.float64],
    edges: NDArray[np.float64],
    by_day: NDArray[np.int64],
    busy: NDArray[np.float64],
    waiting: NDArray[np.float64],
) -> None:
    iters, tasks = start.shape
    periods = len(edges) - 1
    for it in range(iters):
        for i in range(tasks):
            r, s, f = ready[it, i], start[it, i], finish[it, i]
            if not f > r or ptr[i] == ptr[i + 1]:
                continue
            # the last period starting at or before r: by its day, then the few edges after
            m = by_day[min(max(int(r), 0), by_day.size - 1)] if r > 0 else 0
            while m < periods and edges[m + 1] <= r:
                m += 1
            while m < periods and edges[m] < f:
                lo, hi = edges[m], edges[m + 1]
                # overlaps of [r, s) and [s, f) with the period, 0 when none: adding 0.0 to
                # these non-negative sums changes no bit, and costs less than a branch
                wait = max(min(s, hi) - max(r, lo), 0.0)
                held = max(min(f, hi) - max(s, lo), 0.0)
                for k in range(ptr[i], ptr[i + 1]):
                    waiting[it, pool[k], m] += wait * units[k]
                    busy[it, pool[k], m] += held * units[k]
                m += 1


def schedule_load(
    ready: NDArray[np.float64],
    start: NDArray[np.float64],
    finish: NDArray[np.float64],
    net: Network,
    edges: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean units per period, ``(iterations, pools, periods)`` each: held by running tasks
    (``[start, finish)``) and demanded by ready tasks still waiting (``[ready, start)``)
    of ``net``'s pools; ``edges`` are the period boundaries."""
    ptr, pool, units = net.pool_pairs
    shape = (len(start), np.size(net.capacity), len(edges) - 1)
    busy, waiting = np.zeros(shape), np.zeros(shape)
    edges = np.ascontiguousarray(edges, dtype=np.float64)
    _schedule_load(
        np.ascontiguousarray(ready),
        np.ascontiguousarray(start),
        np.ascontiguousarray(finish),
        ptr,
        pool,
        units,
        edges,
        _period_by_day(edges),
        busy,
        waiting,
    )
    return _per_time(busy, edges), _per_time(waiting, edges)


@jit(refcounts=False)
def _capacity_load(
    cap0: NDArray[np.float64],
    times: NDArray[np.float64],
    pools: NDArray[np.int64],
    values: NDArray[np.float64],
    ptr: NDArray[np.int64],
    edges: NDArray[np.float64],
    out: NDArray[np.float64],
    final: NDArray[np.float64],
) -> None:
    iters, n_pools, periods = len(ptr) - 1, len(cap0), len(edges) - 1
    for it in range(iters):
        for p in range(n_pools):
            level, since = cap0[p], 0.0
            for e in range(ptr[it], ptr[it + 1] + 1):
                last = e == ptr[it + 1]
                if not last and pools[e] != p:
                    continue
                until = np.inf if last else times[e]
                for m in range(periods):
                    overlap = min(until, edges[m + 1]) - max(since, edges[m])
                    if overlap > 0:
                        out[it, p, m] += level * overlap
                if not last:
                    level, since = values[e], times[e]
            final[it, p] = level


def capacity_load(
    cap0: NDArray[np.float64],
    times: NDArray[np.float64],
    pools: NDArray[np.int64],
    values: NDArray[np.float64],
    ptr: NDArray[np.int64],
    edges: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean capacity per pool and period of every iteration, from its capacity events in
    compressed rows (iteration ``it`` owns ``ptr[it]:ptr[it + 1]``, sorted by time), and the
    capacity each pool ends with: ``((iterations, pools, periods), (iterations, pools))``."""
    cap0 = np.ascontiguousarray(cap0, dtype=np.float64)
    total = np.zeros((len(ptr) - 1, cap0.size, len(edges) - 1))
    final = np.empty((len(ptr) - 1, cap0.size))
    _capacity_load(cap0, times, pools, values, ptr, np.ascontiguousarray(edges), total, final)
    return _per_time(total, edges), final


@jit
def _overload(
    start: NDArray[np.float64],
    finish: NDArray[np.float64],
    ptr: NDArray[np.int64],
    task: NDArray[np.int64],
    units: NDArray[np.float64],
    cap0: NDArray[np.float64],
    times: NDArray[np.float64],
    pools: NDArray[np.int64],
    values: NDArray[np.float64],
    cptr: NDArray[np.int64],
    edges: NDArray[np.float64],
) -> NDArray[np.float64]:
    """``ptr``, ``task``, ``units``: each pool's (task, units) pairs, in task order, as
    compressed rows; ``cap0`` ... ``cptr``: the capacity events (see overload)."""
    iters = start.shape[0]
    n_pools, periods = len(cap0), len(edges) - 1
    out = np.zeros((iters, n_pools, periods))
    for it in range(iters):
        for p in range(n_pools):
            # a dispatch never starts more than the free units: only a fall in capacity
            # under running tasks can overload a pool
            level, falls, n_cap = cap0[p], False, 0
            for e in range(cptr[it], cptr[it + 1]):
                if pools[e] == p:
                    falls = falls or values[e] < level
                    level = values[e]
                    n_cap += 1
            if not falls:
                continue
            size = 2 * (ptr[p + 1] - ptr[p]) + n_cap
            t = np.empty(size)
            d_busy = np.zeros(size)
            new_cap = np.full(size, np.nan)
            m = 0
            for k in range(ptr[p], ptr[p + 1]):  # the pool's tasks, in task order
                i = task[k]
                if finish[it, i] > start[it, i]:
                    t[m], d_busy[m] = start[it, i], units[k]
                    t[m + 1], d_busy[m + 1] = finish[it, i], -units[k]
                    m += 2
            for e in range(cptr[it], cptr[it + 1]):
                if pools[e] == p:
                    t[m], new_cap[m] = times[e], values[e]
                    m += 1
            order = np.argsort(t[:m], kind="mergesort")  # capacity changes keep their order
            busy, cap = 0.0, cap0[p]
            for q in range(len(order)):
                j = order[q]
                busy += d_busy[j]
                if not np.isnan(new_cap[j]):
                    cap = new_cap[j]
                lo = t[j]
                hi = t[order[q + 1]] if q + 1 < len(order) else lo
                excess = busy - cap
                if excess > 1e-9 and hi > lo:
                    for b in range(periods):
                        overlap = min(hi, edges[b + 1]) - max(lo, edges[b])
                        if overlap > 0:
                            out[it, p, b] += excess * overlap
    return out


def overload(
    start: NDArray[np.float64],
    finish: NDArray[np.float64],
    net: Network,
    times: NDArray[np.float64],
    pools: NDArray[np.int64],
    values: NDArray[np.float64],
    ptr: NDArray[np.int64],
    edges: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Mean units in use beyond capacity per period, ``(iterations, pools, periods)``: a
    capacity loss (or a planned fall) does not stop the tasks already holding the units, so
    until enough of them finish the pool runs over its capacity by this much. Capacity
    events (from ``net``'s capacities at time 0) are in compressed rows as for
    :func:`capacity_load`."""
    task_ptr, task_pool, units = net.pool_pairs
    # the (task, pool) pairs by pool, each pool's in task order
    by_pool = np.argsort(task_pool, kind="stable")
    tasks = np.repeat(np.arange(len(task_ptr) - 1, dtype=np.int64), np.diff(task_ptr))
    counts = np.bincount(task_pool, minlength=np.size(net.capacity))
    total = _overload(
        np.ascontiguousarray(start),
        np.ascontiguousarray(finish),
        offsets(counts),
        tasks[by_pool],
        np.ascontiguousarray(units[by_pool]),
        np.ascontiguousarray(net.capacity, dtype=np.float64),
        times,
        pools,
        values,
        ptr,
        np.ascontiguousarray(edges),
    )
    return _per_time(total, edges)
