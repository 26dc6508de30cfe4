"""Compiled loops of result processing (numba), and the one way pmosim compiles them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numba.core.cpu import CPUTargetOptions
from numpy.typing import NDArray

__all__ = ["NO_REFCOUNTS", "capacity_load", "inline", "jit", "njit", "offsets", "schedule_load",
           "task_pools"]

F = TypeVar("F", bound=Callable[..., Any])

# numba's switch for its runtime's reference counting. A kernel that allocates nothing does
# not need it, and in branchy loops the increments and decrements the pruning pass cannot
# remove are atomic operations on every array passed around (numba issue #2350, where the
# numba developers use this switch to show the cost). The switch is private: without it
# the kernels still compile, only slower.
NO_REFCOUNTS: dict[str, bool] = {"_nrt": False} if hasattr(CPUTargetOptions, "_nrt") else {}
njit: Any = numba.njit  # typed loosely: numba's stubs do not list the private switch


def jit(fn: F | None = None, *, refcounts: bool = True) -> Any:
    """``numba.njit(nogil=True)`` with an on-disk cache when some cache directory is
    writable; ``refcounts=False`` for kernels that allocate no arrays (see NO_REFCOUNTS).
    Used bare (``@jit``) or with options (``@jit(refcounts=False)``)."""
    if fn is None:
        return lambda f: jit(f, refcounts=refcounts)
    options: dict[str, bool] = {"nogil": True, **({} if refcounts else NO_REFCOUNTS)}
    try:
        return cast(F, njit(cache=True, **options)(fn))
    except RuntimeError:  # no writable cache location (read-only install, no home)
        return cast(F, njit(**options)(fn))


def inline(fn: F) -> F:
    """A kernel helper, inlined into its callers by numba (no call overhead, no reference
    counting of the arrays it is given)."""
    return cast(F, njit(inline="always", **NO_REFCOUNTS)(fn))


def offsets(counts: Any) -> NDArray[np.int64]:
    """Compressed-row offsets: ``ptr[k]:ptr[k + 1]`` holds the ``counts[k]`` entries of
    row ``k``."""
    ptr = np.zeros(len(counts) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(counts)
    return ptr


def task_pools(demand: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The pools each task needs (nonzero demand), as compressed rows ``(ptr, pool)``: by
    task, then pool."""
    nonzero = demand != 0
    return offsets(nonzero.sum(axis=1)), np.nonzero(nonzero)[1].astype(np.int64)


@jit
def _schedule_load(ready: NDArray[np.float64], start: NDArray[np.float64],
                   finish: NDArray[np.float64], ptr: NDArray[np.int64],
                   pool: NDArray[np.int64], units: NDArray[np.float64], n_pools: int,
                   edges: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
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


def schedule_load(ready: NDArray[np.float64], start: NDArray[np.float64],
                  finish: NDArray[np.float64], demand: NDArray[np.float64],
                  edges: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean units per period, ``(iterations, pools, periods)`` each: held by running tasks
    (``[start, finish)``) and demanded by ready tasks still waiting (``[ready, start)``);
    ``edges`` are the period boundaries."""
    ptr, pool = task_pools(demand)
    busy, waiting = _schedule_load(np.ascontiguousarray(ready), np.ascontiguousarray(start),
                                   np.ascontiguousarray(finish), ptr, pool,
                                   np.ascontiguousarray(demand[demand != 0], dtype=np.float64),
                                   demand.shape[1], np.ascontiguousarray(edges))
    width = np.diff(edges)
    return tuple(np.divide(x, width, out=np.zeros_like(x), where=width > 0)
                 for x in (busy, waiting))


@jit
def _capacity_load(cap0: NDArray[np.float64], times: NDArray[np.float64],
                   pools: NDArray[np.int64], values: NDArray[np.float64],
                   ptr: NDArray[np.int64], edges: NDArray[np.float64]
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


def capacity_load(cap0: NDArray[np.float64], times: NDArray[np.float64],
                  pools: NDArray[np.int64], values: NDArray[np.float64],
                  ptr: NDArray[np.int64], edges: NDArray[np.float64]
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean capacity per pool and period of every iteration, from its capacity events in
    compressed rows (iteration ``it`` owns ``ptr[it]:ptr[it + 1]``, sorted by time), and the
    capacity each pool ends with: ``((iterations, pools, periods), (iterations, pools))``."""
    total, final = _capacity_load(np.ascontiguousarray(cap0, dtype=np.float64), times,
                                  pools, values, ptr, np.ascontiguousarray(edges))
    width = np.diff(edges)
    return np.divide(total, width, out=np.zeros_like(total), where=width > 0), final
