"""Driving chains, read from the schedules an engine produced (compiled, every iteration of a
block at once); :mod:`simulator.analysis.drivers` defines what drove a start and turns the
counts into criticality indices."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..kernels import inline, jit, offsets
from ..model import Network, Portfolio
from .clock import link_wait

__all__ = ["CAPACITY", "RELEASE", "ChainCounts", "chain_counts", "chain_steps", "count_chains"]

Array = NDArray[np.float64]
RELEASE, CAPACITY = -1, -2
# per project and block, the other projects' tasks kept: the most often on its chain
OTHERS = 20
# count_chains lists at most this many steps to other projects' tasks at a time (32 MB)
GROUP_CELLS = 1 << 23
# columns of _pool_table's rows
_KEY, _TIME, _FIRST, _SECOND = 0, 1, 2, 3


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
    table: Array,
    n_pools: int,
    stamp: int,
) -> int:
    if start[i] > ready[i]:
        t = start[i]
        mask = table.shape[0] - 1
        best = -1
        for e in range(pool_ptr[i], pool_ptr[i + 1]):
            p = pool_idx[e]
            s = _slot(p, t, mask)
            key = stamp * n_pools + p
            while table[s, _KEY] >= stamp * n_pools:  # a slot of this iteration
                if table[s, _KEY] == key and table[s, _TIME] == t:
                    k = int(table[s, _FIRST] if table[s, _FIRST] != i else table[s, _SECOND])
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


@inline
def _pool_table(
    finish: Array, pool_ptr: Any, pool_idx: Any, table: Array, n_pools: int, it: int
) -> None:
    """``(pool, finish time)`` -> the two lowest-numbered tasks using that pool that finish
    then, for iteration ``it``. One row per slot (a probe reads one cache line): its key
    ``it * pools + pool`` (below ``it * pools``: a slot of an earlier iteration, free), the
    time, the first and second task (-1: none)."""
    mask = table.shape[0] - 1
    for k in range(finish.size):  # ascending, so the first two in are the lowest-numbered
        f = finish[k]
        for e in range(pool_ptr[k], pool_ptr[k + 1]):
            p = pool_idx[e]
            s = _slot(p, f, mask)
            key = it * n_pools + p
            while table[s, _KEY] >= it * n_pools and not (
                table[s, _KEY] == key and table[s, _TIME] == f
            ):
                s = (s + 1) & mask
            if table[s, _KEY] < it * n_pools:
                table[s, _KEY], table[s, _TIME] = key, f
                table[s, _FIRST], table[s, _SECOND] = k, -1
            elif table[s, _SECOND] < 0:
                table[s, _SECOND] = k


@jit(refcounts=False)
def _drivers(
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
    drv: Any,
    last: Any,
    table: Array,
    n_pools: int,
) -> None:
    """Fill ``drv`` (``(iterations, tasks)``: what drove each start) and ``last``
    (``(iterations, projects)``: each project's task that finished last, the lowest-numbered
    on a tie). An open-addressing table of ``(pool, finish time)``, rebuilt per iteration
    (see _pool_table; keys all -1 at first), finds what a waiting task's start followed."""
    n_it, n = start.shape
    for it in range(n_it):
        _pool_table(finish[it], pool_ptr, pool_idx, table, n_pools, it)
        for i in range(n):
            drv[it, i] = _driver(
                i,
                start[it],
                finish[it],
                ready[it],
                duration[it],
                release,
                links,
                pool_ptr,
                pool_idx,
                table,
                n_pools,
                it,
            )
        for pk in range(len(proj_ptr) - 1):
            best, when = -1, -np.inf
            for q in range(proj_ptr[pk], proj_ptr[pk + 1]):
                i = proj_idx[q]
                if finish[it, i] > when:
                    best, when = i, finish[it, i]
            last[it, pk] = best


@inline
def _walk(
    row: Any,
    i: int,
    seen: Any,
    stamp: int,
    project_of: Any,
    pk: int,
    own: Any,
    listed: Any,
    at: int,
    first: bool,
) -> int:
    """Project ``pk``'s chain from task ``i`` back along ``row`` (one iteration's drivers),
    each task once (``seen`` holds ``stamp`` for the tasks passed on this walk). The
    ``first`` pass counts the project's own tasks in ``own``, and returns ``at`` plus the
    other projects' tasks passed; the second writes those to ``listed`` from ``at`` on, and
    returns where it stopped."""
    steps = 0
    while i >= 0 and seen[i] != stamp and steps <= row.size:
        seen[i] = stamp
        if project_of[i] == pk:
            if first:
                own[i] += 1
        else:
            if not first:
                listed[at] = i
            at += 1
        i = row[i]
        steps += 1
    return at


@inline
def _tally(listed: Any, count: Any, got: Any, d: int) -> int:
    """Count the tasks ``listed`` in ``count``; those counted for the first time go to
    ``got`` from ``got[d]`` on; returns how many ``got`` holds."""
    for i in listed:
        if count[i] == 0:
            got[d] = i
            d += 1
        count[i] += 1
    return d


@inline
def _kept(
    pk: int,
    got: Any,
    own: Any,
    mine: Any,
    others: int,
    n_it: int,
    count: Any,
    out_key: Any,
    out_count: Any,
) -> int:
    """Write project ``pk``'s pairs kept (every own task of ``mine``, ascending, that was on
    its chain, and of the other projects' tasks ``got``, each on it in ``count`` iterations,
    the ``others`` most often, the lowest-numbered on a tie) from ``out_key[0]`` on,
    ascending; returns how many, and leaves ``count`` zero."""
    n, d = count.size, got.size
    if d > others:  # the most counted first, then the lowest-numbered: the least keys
        keys = (n_it + 1 - count[got]).astype(np.int64) * (n + 1) + got
        cut = np.partition(keys, others - 1)[others - 1] if others > 0 else -1
        for q in range(d):
            if keys[q] > cut:
                count[got[q]] = 0
    kept = np.sort(got[count[got] > 0])
    out, a, b = 0, 0, 0
    while a < mine.size or b < kept.size:  # own tasks and those kept, merged in task order
        if b == kept.size or (a < mine.size and mine[a] < kept[b]):
            i, hits = mine[a], own[mine[a]]
            a += 1
        else:
            i, hits = kept[b], count[kept[b]]
            b += 1
        if hits > 0:
            out_key[out], out_count[out] = pk * n + i, hits
            out += 1
    for i in got:
        count[i] = 0
    return out


@jit
def _count(
    drv: Any,
    last: Any,
    project_of: Any,
    mine: Any,
    mine_ptr: Any,
    others: int,
    cells: int,
    out_key: Any,
    out_count: Any,
) -> int:
    """Per project, walk its chain in every iteration, and write the pairs kept (see _kept)
    to ``out_key`` (ascending) / ``out_count``; returns how many. ``mine``: each project's
    own tasks, ascending, as compressed rows ``mine_ptr``.

    Walks go iteration by iteration, every project of a group in turn, so that an
    iteration's drivers are read from memory once per group and then from the cache (at
    50,000 tasks, 83 % of a chain's steps lead to other projects' tasks, anywhere in the
    row). A first pass counts the own tasks (``own``: one count per task) and numbers the
    other projects' tasks each project passes. Projects then go in groups whose lists of
    those hold at most ``cells`` entries, and a second pass lists them, to be counted per
    project; a project whose list alone would hold more (it grows with iterations x chain
    length) goes alone, its walks counted one at a time. Memory: ``cells`` entries plus a
    few arrays of one entry per task."""
    n_it, n = drv.shape
    n_proj = last.shape[1]
    seen = np.full(n, -1, dtype=np.int64)
    own = np.zeros(n, dtype=np.int32)
    size = np.zeros(n_proj, dtype=np.int64)
    none = np.zeros(0, dtype=np.int32)
    for it in range(n_it):
        for pk in range(n_proj):
            stamp = it * n_proj + pk
            size[pk] = _walk(
                drv[it], last[it, pk], seen, stamp, project_of, pk, own, none, size[pk], True
            )
    listed = np.empty(max(min(cells, size.sum()), n), dtype=np.int32)
    at = np.zeros(n_proj + 1, dtype=np.int64)  # each project's list, in its group's
    count = np.zeros(n, dtype=np.int32)
    got = np.empty(n, dtype=np.int64)
    out = lo = 0
    while lo < n_proj:
        alone = size[lo] > cells  # its list would outgrow the bound: each walk counted at once
        at[lo], hi = 0, lo + 1
        while not alone and hi < n_proj and at[hi - 1] + size[hi - 1] + size[hi] <= cells:
            at[hi] = at[hi - 1] + size[hi - 1]
            hi += 1
        fill = at[lo:hi].copy()
        d = 0
        for it in range(n_it):  # stamps after the first pass's
            for pk in range(lo, hi):
                stamp = (n_it + it) * n_proj + pk
                fill[pk - lo] = _walk(
                    drv[it], last[it, pk], seen, stamp, project_of, pk, own, listed,
                    fill[pk - lo], False,
                )  # fmt: skip
            if alone:
                d = _tally(listed[: fill[0]], count, got, d)
                fill[0] = 0
        for pk in range(lo, hi):
            if not alone:
                d = _tally(listed[at[pk] : at[pk] + size[pk]], count, got, 0)
            out += _kept(
                pk, got[:d], own, mine[mine_ptr[pk] : mine_ptr[pk + 1]], others, n_it, count,
                out_key[out:], out_count[out:],
            )  # fmt: skip
        lo = hi
    return out


class ChainCounts(NamedTuple):
    """The pairs found on driving chains, sparse: ``key = project * tasks + task`` in
    ascending order, and in how many iterations each pair was on the chain."""

    key: NDArray[np.int64]
    hits: NDArray[np.int64]


def chain_steps(
    net: Network,
    pf: Portfolio,
    start: Array,
    finish: Array,
    ready: Array,
    duration: Array,
    drv: NDArray[np.int32],
    last: NDArray[np.int64],
) -> None:
    """Fill ``drv`` (``(iterations, tasks)``, int32: what drove each task's start) and ``last``
    (``(iterations, projects)``: each project's task that finished last) for these
    iterations; :func:`count_chains` then walks the chains. A block may be filled a few
    iterations at a time, so that its schedules never have to be held all at once."""
    proj_ptr, proj_idx = pf.member_rows
    pool_ptr, pool_idx, _ = net.pool_pairs
    size = 2  # the table: at least twice the (task, pool) pairs, a power of two
    while size < 2 * pool_ptr[-1]:
        size <<= 1
    _drivers(
        *(np.ascontiguousarray(a) for a in (start, finish, ready, duration)),
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
        drv,
        last,
        np.full((size, 4), -1.0),  # _pool_table's, empty
        max(int(np.size(net.capacity)), 1),
    )


def count_chains(pf: Portfolio, drv: NDArray[np.int32], last: NDArray[np.int64]) -> ChainCounts:
    """The pairs on the driving chains that :func:`chain_steps` found (see
    :func:`chain_counts`)."""
    n, n_proj = drv.shape[1], last.shape[1]
    most = n + n_proj * OTHERS
    key, count = np.empty(most, dtype=np.int64), np.empty(most, dtype=np.int64)
    project_of = pf.task_project
    mine = np.argsort(project_of, kind="stable")  # each project's own tasks, ascending
    mine_ptr = offsets(np.bincount(project_of, minlength=n_proj))
    kept = _count(drv, last, project_of, mine, mine_ptr, OTHERS, GROUP_CELLS, key, count)
    return ChainCounts(key[:kept].copy(), count[:kept].copy())


def chain_counts(
    net: Network, pf: Portfolio, start: Array, finish: Array, ready: Array, duration: Array
) -> ChainCounts:
    """In how many of these iterations each task lay on each project's driving chain
    (``duration``: the engine's input, which finish-to-finish and start-to-finish links
    depend on). Kept: every task of the project itself that ever was, and the
    :data:`OTHERS` tasks of other projects that were most often (so that memory grows with
    the block's iterations and the tasks, never with projects x tasks)."""
    drv = np.empty((len(start), net.n_tasks), dtype=np.int32)
    last = np.empty((len(start), len(pf.projects)), dtype=np.int64)
    chain_steps(net, pf, start, finish, ready, duration, drv, last)
    return count_chains(pf, drv, last)
