"""Driving chains, read from the schedules an engine produced (compiled, every iteration of a
block at once); :mod:`simulator.analysis.drivers` defines what drove a start and turns the
counts into criticality indices."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..model import Network, Portfolio
from .clock import link_wait
from .kernels import inline, jit, offsets, task_pools

__all__ = ["CAPACITY", "RELEASE", "chain_counts"]

Array = NDArray[np.float64]
RELEASE, CAPACITY = -1, -2


@inline
def _slot(pool: int, t: float, mask: int) -> int:
    """Where ``(pool, t)`` starts probing in a table of ``mask + 1`` slots."""
    key = int(t * 4096.0) if t < 1e12 else 0
    return ((key * 0x9E3779B1) ^ (pool * 0x85EBCA77)) & mask


@inline
def _driver(
    i: int,
    start: Array,
    finish: Array,
    ready: Array,
    duration: Array,
    release: Array,
    links: Any,
    pool_ptr: Any,
    pool_idx: Any,
    h_pool: Any,
    h_time: Array,
    h_first: Any,
    h_second: Any,
    h_stamp: Any,
    stamp: int,
) -> int:
    if start[i] > ready[i]:
        t = start[i]
        mask = h_pool.size - 1
        best = -1
        for e in range(pool_ptr[i], pool_ptr[i + 1]):
            p = pool_idx[e]
            s = _slot(p, t, mask)
            while h_stamp[s] == stamp:
                if h_pool[s] == p and h_time[s] == t:
                    k = h_first[s] if h_first[s] != i else h_second[s]
                    if k >= 0 and (best < 0 or k < best):
                        best = k
                    break
                s = (s + 1) & mask
        return best if best >= 0 else CAPACITY
    pred_ptr, pred_idx, pred_lag, pred_kind, pred_cal, calendar, flat, cum, week = links
    best, when = RELEASE, release[i]
    for e in range(pred_ptr[i], pred_ptr[i + 1]):
        j = pred_idx[e]
        fired = start[j] + link_wait(
            pred_kind[e],
            pred_lag[e],
            pred_cal[e],
            calendar[i],
            duration[i],
            start[j],
            calendar[j],
            duration[j],
            flat,
            cum,
            week,
        )
        if fired > when or (fired == when and (best < 0 or j < best)):
            best, when = j, fired
    return best


@jit(refcounts=False)
def _chains(
    start: Array,
    finish: Array,
    ready: Array,
    duration: Array,
    release: Array,
    links: Any,
    proj_ptr: Any,
    proj_idx: Any,
    pool_ptr: Any,
    pool_idx: Any,
    counts: Any,
    seen: Any,
    known: Any,
    drv: Any,
    h_pool: Any,
    h_time: Array,
    h_first: Any,
    h_second: Any,
    h_stamp: Any,
) -> None:
    """Add each iteration's driving chains to ``counts`` (``(projects, tasks)``, zeros).

    Per iteration, an open-addressing table of ``(pool, finish time)`` -> the two
    lowest-numbered tasks using that pool that finish then (its slots marked with the
    iteration in ``h_stamp``, all -1 at first) finds what a waiting task's start followed.
    ``seen``, ``known`` (-1 at first) and ``drv`` are scratch, one per task."""
    n_it, n = start.shape
    n_proj = len(proj_ptr) - 1
    mask = h_pool.size - 1
    for it in range(n_it):
        for k in range(n):  # ascending, so the first two in are the lowest-numbered
            f = finish[it, k]
            for e in range(pool_ptr[k], pool_ptr[k + 1]):
                p = pool_idx[e]
                s = _slot(p, f, mask)
                while h_stamp[s] == it and not (h_pool[s] == p and h_time[s] == f):
                    s = (s + 1) & mask
                if h_stamp[s] != it:
                    h_stamp[s], h_pool[s], h_time[s] = it, p, f
                    h_first[s], h_second[s] = k, -1
                elif h_second[s] < 0:
                    h_second[s] = k
        for pk in range(n_proj):
            last, when = -1, -np.inf
            for q in range(proj_ptr[pk], proj_ptr[pk + 1]):
                i = proj_idx[q]
                if finish[it, i] > when:
                    last, when = i, finish[it, i]
            stamp = it * n_proj + pk
            i = last
            steps = 0
            while i >= 0 and seen[i] != stamp and steps <= n:
                seen[i] = stamp
                counts[pk, i] += 1
                if known[i] != it:
                    drv[i] = _driver(
                        i,
                        start[it],
                        finish[it],
                        ready[it],
                        duration[it],
                        release,
                        links,
                        pool_ptr,
                        pool_idx,
                        h_pool,
                        h_time,
                        h_first,
                        h_second,
                        h_stamp,
                        it,
                    )
                    known[i] = it
                i = drv[i]
                steps += 1


def chain_counts(
    net: Network, pf: Portfolio, start: Array, finish: Array, ready: Array, duration: Array
) -> NDArray[np.int64]:
    """``(projects, tasks)``: in how many of these iterations each task lay on each
    project's driving chain (``duration``: the engine's input, which finish-to-finish and
    start-to-finish links depend on)."""
    proj_ptr = offsets([len(p.tasks) for p in pf.projects])
    proj_idx = np.array([i for p in pf.projects for i in p.tasks], dtype=np.int64)
    pool_ptr, pool_idx = task_pools(net.demand)
    n = net.n_tasks
    size = 2  # the table: at least twice the (task, pool) pairs, a power of two
    while size < 2 * pool_ptr[-1]:
        size <<= 1
    counts = np.zeros((len(pf.projects), n), dtype=np.int64)
    _chains(
        np.ascontiguousarray(start),
        np.ascontiguousarray(finish),
        np.ascontiguousarray(ready),
        np.ascontiguousarray(duration),
        net.release,
        (
            net.pred_ptr,
            net.pred_idx,
            net.pred_lag,
            net.pred_kind,
            net.pred_cal,
            net.calendar,
            *net.clock,
        ),
        proj_ptr,
        proj_idx,
        pool_ptr,
        pool_idx,
        counts,
        np.full(n, -1, dtype=np.int64),
        np.full(n, -1, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.zeros(size, dtype=np.int64),
        np.zeros(size),
        np.zeros(size, dtype=np.int64),
        np.zeros(size, dtype=np.int64),
        np.full(size, -1, dtype=np.int64),
    )
    return counts
