"""Units per reporting period from a block's schedules: held by running tasks, demanded by
ready tasks still waiting, and available (compiled loops over every iteration)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .kernels import jit, task_pools

__all__ = ["capacity_load", "schedule_load"]


@jit
def _schedule_load(
    ready: NDArray[np.float64],
    start: NDArray[np.float64],
    finish: NDArray[np.float64],
    ptr: NDArray[np.int64],
    pool: NDArray[np.int64],
    units: NDArray[np.float64],
    n_pools: int,
    edges: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    iters, tasks = start.shape
    periods = len(edges) - 1
    busy = np.zeros((iters, n_pools, periods))
    waiting = np.zeros((iters, n_pools, periods))
    for it in range(iters):
        for i in range(tasks):
            r, s, f = ready[it, i], start[it, i], finish[it, i]
            if not f > r:
                continue
            m = max(np.searchsorted(edges, r, side="right") - 1, 0)
            while m < periods and edges[m] < f:
                lo, hi = edges[m], edges[m + 1]
                wait = min(s, hi) - max(r, lo) if s > r else 0.0
                held = min(f, hi) - max(s, lo) if f > s else 0.0
                for k in range(ptr[i], ptr[i + 1]):
                    if wait > 0:
                        waiting[it, pool[k], m] += wait * units[k]
                    if held > 0:
                        busy[it, pool[k], m] += held * units[k]
                m += 1
    return busy, waiting


def schedule_load(
    ready: NDArray[np.float64],
    start: NDArray[np.float64],
    finish: NDArray[np.float64],
    demand: NDArray[np.float64],
    edges: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean units per period, ``(iterations, pools, periods)`` each: held by running tasks
    (``[start, finish)``) and demanded by ready tasks still waiting (``[ready, start)``);
    ``edges`` are the period boundaries."""
    ptr, pool = task_pools(demand)
    busy, waiting = _schedule_load(
        np.ascontiguousarray(ready),
        np.ascontiguousarray(start),
        np.ascontiguousarray(finish),
        ptr,
        pool,
        np.ascontiguousarray(demand[demand != 0], dtype=np.float64),
        demand.shape[1],
        np.ascontiguousarray(edges),
    )
    width = np.diff(edges)
    return tuple(
        np.divide(x, width, out=np.zeros_like(x), where=width > 0) for x in (busy, waiting)
    )


@jit
def _capacity_load(
    cap0: NDArray[np.float64],
    times: NDArray[np.float64],
    pools: NDArray[np.int64],
    values: NDArray[np.float64],
    ptr: NDArray[np.int64],
    edges: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    iters, n_pools, periods = len(ptr) - 1, len(cap0), len(edges) - 1
    out = np.zeros((iters, n_pools, periods))
    final = np.empty((iters, n_pools))
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
    return out, final


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
    total, final = _capacity_load(
        np.ascontiguousarray(cap0, dtype=np.float64),
        times,
        pools,
        values,
        ptr,
        np.ascontiguousarray(edges),
    )
    width = np.diff(edges)
    return np.divide(total, width, out=np.zeros_like(total), where=width > 0), final
