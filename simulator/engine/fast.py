"""The compiled engine: the reference engine's event loop, replayed exactly, in numba.

:func:`simulate_fast` gives the same :class:`~simulator.engine.reference.Schedule` as
:func:`simulator.engine.reference.simulate`, bit for bit, and :func:`simulate_batch` runs many
iterations in one compiled loop. Exact equality comes from replaying what simpy does:

* Every event of the reference engine is a ``timeout(delay)`` created at ``now``. simpy keeps
  them in a binary heap keyed by ``(now + delay, creation number)``; here a calendar queue
  holds the same keys, computed with the same float additions, and gives the least of them
  each time, so events pop in the same order and every instant has the same value (events
  in buckets of a fraction of a day, fitted to the run between iterations, the least found
  in the first bucket that holds one; events further ahead in a heap: see _push).
* Events are created in the same order: at setup one per capacity change, then per task
  either its release edge (``release > 0``) or the edge fired at once; a dispatch is
  requested (a zero-delay event) only when none is pending; a dispatch walks the ready tasks
  in ``(rank, task)`` order and schedules each started task's completion, then its edges to
  its successors, in successor order (:func:`simulator.engine.clock.link_wait`).
* A dispatch looks only at the tasks that could start: those that became ready since the
  last dispatch, and those waiting on a pool whose free units rose since then (a completion
  or a capacity change). Every other waiting task did not fit at its turn last time, and
  its pools' free units have only fallen since, so the reference engine would pass it by
  too. Waiting tasks are kept per pool in a min-tree of their demands, leaves in dispatch
  order, so the next task that could fit a pool's free units is found in log time; the
  candidates are merged in dispatch order, so tasks start, and their completions are
  created, in the same order.
* Units in use change by the same per-pool additions and subtractions, and a demand fits
  when ``demand <= (capacity - used) + FIT_TOLERANCE``, as in the reference engine.

Errors match the reference engine's: tasks that can never start raise
:class:`~simulator.errors.SimulationError` with its message; a negative delay (a duration or
a capacity-change time) raises ``ValueError`` as simpy does. Unlike simpy, NaN durations and
capacity-change times are rejected (simpy would order such events arbitrarily).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..errors import SimulationError
from ..kernels import inline, jit, offsets
from ..model import Network
from .clock import FF, SF, delay, link_wait
from .reference import FIT_TOLERANCE, Schedule
from .stuck import Names, stuck_message

__all__ = [
    "CapacityArrays",
    "Forks",
    "duration_readers",
    "pack_capacity",
    "simulate_batch",
    "simulate_fast",
    "simulate_forks",
]

Array = NDArray[np.float64]
# indices: uint32 where the kernel reads them at random (half the cache lines of int64, and
# unsigned: numba fixes up a negative index, a shift, a mask and an add per read, only for a
# signed one), else int64
IntArray = NDArray[np.integer[Any]]
Index = int | np.integer[Any]  # a task or an event: a Python int, or read from an IntArray

# event kinds, packed with their subject as ``subject * 4 + kind``
_CAPACITY, _EDGE, _DONE = 0, 1, 2
# slots of the integer state vector
_SIZE, _SEQ, _NEW, _ASKED, _DSEQ, _DIRTIED = 0, 1, 2, 3, 4, 5
_CAP, _DAY, _FREE, _NEAR, _FAR, _MIN, _MIN_PREV, _MIN_DAY = 6, 7, 8, 9, 10, 11, 12, 13
_PASSED, _READ, _POPS, _HIGH, _TOP = 14, 15, 16, 17, 18
# a pool's state between dispatches (CLEAN, DIRTY: its free units rose) and during one
# (CLEAN: not searched, DRAWN: its waiting tasks are searched)
_CLEAN, _DIRTY, _DRAWN = 0, 1, 2
_EMPTY = np.inf  # a tree leaf with no waiting task
_MAX_ROOM = float(np.finfo(np.float64).max)  # free units above this fit every finite demand
# the pool trees: _FAN children per node (one cache line of float64)
_FAN_BITS = 3
_FAN = 1 << _FAN_BITS
_NO_LEAF = 1 << 62  # no leaf fits
# queue keys: creation number << _ITEM_BITS | item
_ITEM_BITS = 26
_ITEM_MASK = (1 << _ITEM_BITS) - 1
# the event queue (see _push): a calendar of _DAYS buckets, _PER_DAY a day at first, events
# further ahead in a four-ary heap; _FAR_BUCKET for times too large to number
_PER_DAY = 64.0  # at first: then halved or doubled between iterations (see _fit_buckets)
_DAYS = 8192
_FAR_BUCKET = 1 << 52  # days as floats are exact below this
# run status
_OK, _STUCK, _BAD_DURATION, _BAD_TIME = 0, 1, 2, 3


class _Net(NamedTuple):
    """The network as the kernel reads it.

    Attributes:
        demand: the units of each (task, pool) pair of ``pool_idx``, in its order (the
            dense ``(tasks, pools)`` matrix would be read at random: 8 MB at 50,000 tasks).
        pool_ptr, pool_idx: the pools each task needs (nonzero demand), compressed rows;
            ``slot`` is, for each of these entries, the task's leaf in that pool's tree.
        tree_ptr, tree_first: where each pool's tree lives in ``_Work.tree``, and where its
            leaf level starts in it (:func:`_first_fit`: the tree's layout).
        leaf_ptr, leaf_pos: the tasks behind each pool's leaves, as positions in dispatch
            order (``leaf_pos[leaf_ptr[p] + leaf]``).
        order: tasks in dispatch order ``(rank, task)``; ``pos`` is each task's place in it.
            Every other per-task and per-link array is in the kernel's numbering: its task
            ``i`` is the network's task ``order[i]`` (links keep their order per task).
        edges: edges each task waits for (predecessors plus the release edge).
        release, succ_ptr, succ_idx, succ_lag, capacity, calendar, succ_kind, succ_cal: as
            in :class:`Network`; flat, cum, week: its clock table.
    """

    demand: Array
    pool_ptr: IntArray
    pool_idx: IntArray
    slot: IntArray
    tree_ptr: IntArray
    tree_first: IntArray
    leaf_ptr: IntArray
    leaf_pos: IntArray
    order: IntArray
    pos: IntArray
    edges: IntArray
    release: Array
    succ_ptr: IntArray
    succ_idx: IntArray
    succ_lag: Array
    capacity: Array
    calendar: IntArray
    succ_kind: IntArray
    succ_cal: IntArray
    flat: IntArray
    cum: Array
    week: Array


class _Work(NamedTuple):
    """Scratch arrays of one run, reused across iterations.

    Attributes:
        start, finish, ready: the schedule being built.
        capacity, used: units per pool now.
        pending: edges still to fire per task.
        new: tasks that became ready since the last dispatch, as positions in dispatch
            order, sorted.
        tree: per pool, a min-tree over its tasks' demands on it: a leaf holds the demand
            of a task that waits (and became ready before the last dispatch), else
            ``_EMPTY``; a node holds the smallest leaf below it.
        status, cur, nxt, active: per pool, its state (``_CLEAN`` ...); while it is
            searched, ``cur`` is the first leaf not yet passed and ``nxt`` the first leaf
            from there whose demand fitted the free units when last searched; ``active``
            lists the dirty pools between dispatches, the pools searched during one.
        heap_time, heap_key: the event queue (see _push), ``cap`` entries: times ``[0,
            cap)`` and keys (creation number << _ITEM_BITS | item, where an item is
            ``subject * 4 + kind``) of the calendar's entries, then those of the far heap
            ``[cap, 2 cap)``; the last two time slots hold the buckets per day and the
            pending dispatch's time; the keys go on with each entry's next in its bucket
            (or in the free list) ``[2 cap, 3 cap)`` and each bucket's first entry
            (``_DAYS``; -1: none).
        state: queue size, next creation number, new tasks, dispatch pending, the pending
            dispatch's creation number, dirty pools; ``cap``, the queue's day: the bucket
            of the time now (a number: bucket ``b`` holds times ``t`` with ``floor(t *
            per_day) == b``, in slot ``b % _DAYS``), the free list, entries in the calendar
            and in the far heap, the calendar's earliest entry when known (-1), the entry
            before it in its list and its bucket; the buckets passed, entries read and
            events taken in this iteration (for _fit_buckets); the highest entry ever used,
            plus one, and the latest bucket an entry went to in this run (what a fork
            copies, and what _clear empties).
        deferred: per link, 1 when it fires at its predecessor's completion instant: it
            then fires with the completion, with no event of its own (the same instant,
            before the same dispatch, so the same schedule as an event of its own).
        dur: the iteration's durations, in the kernel's numbering.
    """

    start: Array
    finish: Array
    ready: Array
    capacity: Array
    used: Array
    pending: IntArray
    new: IntArray
    tree: Array
    status: IntArray
    cur: IntArray
    nxt: IntArray
    active: IntArray
    heap_time: Array
    heap_key: IntArray
    state: IntArray
    deferred: IntArray
    dur: Array


class CapacityArrays(NamedTuple):
    """Capacity events of many iterations, compressed rows: iteration ``it`` owns rows
    ``ptr[it]:ptr[it + 1]`` of ``times``, ``pools`` and ``values``."""

    times: Array
    pools: NDArray[np.int64]
    values: Array
    ptr: NDArray[np.int64]


# --- the compiled kernel ------------------------------------------------------------------
# The kernel takes arrays, not the named tuples (numba compiles those far more slowly); its
# argument lists follow the fields of _Net and _Work.


@inline
def _far_push(ht: Array, hk: IntArray, cap: int, n: int, time: float, key: int) -> None:
    """Add ``(time, key)`` to the far heap of ``n`` entries (four children a node)."""
    pos = n
    while pos > 0:
        parent = (pos - 1) >> 2
        pt, pk = ht[cap + parent], hk[cap + parent]
        if pt < time or (pt == time and pk < key):
            break
        ht[cap + pos], hk[cap + pos] = pt, pk
        pos = parent
    ht[cap + pos], hk[cap + pos] = time, key


@inline
def _far_pop(ht: Array, hk: IntArray, cap: int, n: int) -> tuple[float, int]:
    """The far heap's earliest entry (of ``n``), removed (as heapq.heappop)."""
    time, key0 = ht[cap], hk[cap]
    n -= 1
    t, key = ht[cap + n], hk[cap + n]
    pos = 0
    while True:
        first = 4 * pos + 1
        if first >= n:
            break
        # the smallest child, kept in registers: selects, not branches the CPU must guess
        best, bt, bk = first, ht[cap + first], hk[cap + first]
        for c in range(first + 1, min(first + 4, n)):
            ct, ck = ht[cap + c], hk[cap + c]
            less = (ct < bt) | ((ct == bt) & (ck < bk))
            best = c if less else best
            bt = ct if less else bt
            bk = ck if less else bk
        if not ((bt < t) | ((bt == t) & (bk < key))):
            break
        ht[cap + pos], hk[cap + pos] = bt, bk
        pos = best
    if n > 0:
        ht[cap + pos], hk[cap + pos] = t, key
    return time, key0


@inline
def _bucket(ht: Array, time: float) -> int:
    """The calendar bucket of ``time`` (times are never negative); buckets per day are in
    ``ht[-2]``."""
    x = time * ht[ht.size - 2]  # exact: a power of two
    return math.floor(x) if x < _FAR_BUCKET else _FAR_BUCKET


@inline
def _near_add(ht: Array, hk: IntArray, st: IntArray, time: float, key: int, day: int) -> int:
    """Put ``(time, key)`` first in bucket ``day``'s list; returns its entry."""
    cap = st[_CAP]
    e = st[_FREE]
    st[_FREE] = hk[2 * cap + e]
    if e >= st[_HIGH]:
        st[_HIGH] = e + 1
    if day > st[_TOP]:
        st[_TOP] = day
    ht[e], hk[e] = time, key
    head = 3 * cap + (day & (_DAYS - 1))
    hk[2 * cap + e] = hk[head]
    hk[head] = e
    st[_NEAR] += 1
    return e


@inline
def _push(ht: Array, hk: IntArray, st: IntArray, time: float, item: Index) -> None:
    """Queue ``(time, next creation number)``, ordered as simpy orders its events (by time,
    then creation). The queue's day (``st[_DAY]``) is the bucket of the time now, and no
    event is queued before now: an event within ``_DAYS`` buckets of it goes to the
    calendar, one list per bucket (so a bucket's list holds one bucket's events), a later
    one to the far heap. The earliest entry, when known, stays known."""
    key = (st[_SEQ] << _ITEM_BITS) | item
    st[_SEQ] += 1
    st[_SIZE] += 1
    day = _bucket(ht, time)
    if day >= st[_DAY] + _DAYS:
        _far_push(ht, hk, st[_CAP], st[_FAR], time, key)
        st[_FAR] += 1
        return
    e = _near_add(ht, hk, st, time, key, day)
    m = st[_MIN]
    if m >= 0:  # the known earliest: this entry, or the one it now comes before
        if time < ht[m] or (time == ht[m] and key < hk[m]):
            st[_MIN], st[_MIN_PREV], st[_MIN_DAY] = e, -1, day
        elif st[_MIN_PREV] == -1 and day == st[_MIN_DAY]:
            st[_MIN_PREV] = e


@inline
def _nearer(ht: Array, hk: IntArray, st: IntArray) -> None:
    """Move the far heap's entries that the calendar now spans into it."""
    cap = st[_CAP]
    while st[_FAR] > 0 and _bucket(ht, ht[cap]) < st[_DAY] + _DAYS:
        time, key = _far_pop(ht, hk, cap, st[_FAR])
        st[_FAR] -= 1
        _near_add(ht, hk, st, time, key, _bucket(ht, time))


@inline
def _earliest(ht: Array, hk: IntArray, st: IntArray) -> int:
    """The calendar's earliest entry (it holds one): in the first bucket from the queue's
    day that holds any, the least ``(time, key)``; kept in ``st[_MIN]`` (with the entry
    before it in its list and its bucket). The queue's day does not move: events may still
    be queued before that entry."""
    if st[_MIN] >= 0:
        return st[_MIN]
    cap = st[_CAP]
    day = st[_DAY]
    while True:
        e = hk[3 * cap + (day & (_DAYS - 1))]
        if e != -1:
            break
        day += 1
        st[_PASSED] += 1
    best, best_prev, prev = e, -1, e
    bt, bk = ht[e], hk[e]
    e = hk[2 * cap + e]
    while e != -1:  # e is an entry: unsigned, no negative-index fix-up
        u = np.uint64(e)
        t, k = ht[u], hk[u]
        if t < bt or (t == bt and k < bk):
            best, best_prev, bt, bk = e, prev, t, k
        prev = e
        e = hk[np.uint64(2 * cap) + u]
        st[_READ] += 1
    st[_MIN], st[_MIN_PREV], st[_MIN_DAY] = best, best_prev, day
    return best


@inline
def _sooner(ht: Array, hk: IntArray, st: IntArray, time: float, seq: int) -> bool:
    """Whether an event ``(time, creation number seq)`` comes before every queued one."""
    if st[_SIZE] == 0:
        return True
    if st[_NEAR] > 0:
        e = _earliest(ht, hk, st)
        t, k = ht[e], hk[e]
    else:  # the far heap's first: all of the calendar's entries are earlier
        t, k = ht[st[_CAP]], hk[st[_CAP]]
    return time < t or (time == t and seq < (k >> _ITEM_BITS))


@inline
def _fit_buckets(ht: Array, st: IntArray) -> None:
    """Between iterations (the queue is empty): buckets twice as wide when the last
    iteration passed more than two empty buckets an event, half as wide when it read more
    than three entries an event. The order of events does not depend on it."""
    pops, scale = st[_POPS], ht[ht.size - 2]
    if pops > 0:
        if st[_PASSED] > 2 * pops and scale > 1.0 / 1024:
            ht[ht.size - 2] = scale / 2
        elif st[_READ] > 3 * pops and scale < 4096.0:
            ht[ht.size - 2] = scale * 2
    st[_PASSED] = st[_READ] = st[_POPS] = 0


@inline
def _pop(ht: Array, hk: IntArray, st: IntArray) -> tuple[float, int]:
    """The earliest entry's time and item, removed: the queue's day moves on to its bucket,
    and the calendar to span the days from there."""
    cap = st[_CAP]
    if st[_NEAR] == 0:  # on to the far heap's first
        st[_DAY] = _bucket(ht, ht[cap])
        _nearer(ht, hk, st)
    e = _earliest(ht, hk, st)
    time, item = ht[e], hk[e] & _ITEM_MASK
    prev, after = st[_MIN_PREV], hk[2 * cap + e]
    st[_DAY] = st[_MIN_DAY]
    if prev == -1:
        hk[3 * cap + (st[_DAY] & (_DAYS - 1))] = after
    else:
        hk[2 * cap + prev] = after
    hk[2 * cap + e] = st[_FREE]
    st[_FREE] = e
    st[_NEAR] -= 1
    st[_SIZE] -= 1
    st[_MIN] = -1
    st[_POPS] += 1
    _nearer(ht, hk, st)  # after the entry is read: its slot is free
    return time, item


@inline
def _request_dispatch(ht: Array, hk: IntArray, st: IntArray, now: float) -> None:
    """Queue the one pending dispatch as simpy would (``timeout(0)``: time ``now``, the next
    creation number). It is kept beside the heap, in ``st[_DSEQ]`` and ``ht[-1]``, and runs
    before any heap entry that sorts after it."""
    if st[_ASKED] == 0:
        st[_ASKED] = 1
        st[_DSEQ] = st[_SEQ]
        st[_SEQ] += 1
        ht[ht.size - 1] = now + 0.0


@inline
def _edge_fired(
    i: Index,
    now: float,
    pending: IntArray,
    ready: Array,
    new: IntArray,
    ht: Array,
    hk: IntArray,
    st: IntArray,
) -> None:
    """One edge into task ``i`` fired; the last one makes it ready: it joins the new tasks
    (bisect.insort) and a dispatch is requested."""
    pending[i] -= 1
    if pending[i] == 0:
        ready[i] = now
        j = st[_NEW]
        st[_NEW] = j + 1
        while j > 0 and new[j - 1] > i:
            new[j] = new[j - 1]
            j -= 1
        new[j] = i
        _request_dispatch(ht, hk, st, now)


@inline
def _complete(
    i: Index,
    now: float,
    demand: Array,
    pool_ptr: IntArray,
    pool_idx: IntArray,
    succ_ptr: IntArray,
    succ_idx: IntArray,
    deferred: IntArray,
    finish: Array,
    ready: Array,
    used: Array,
    pending: IntArray,
    new: IntArray,
    status: IntArray,
    active: IntArray,
    ht: Array,
    hk: IntArray,
    st: IntArray,
) -> None:
    """Task ``i`` finishes: release its units (its pools are now dirty), fire the links
    deferred to this instant."""
    finish[i] = now
    for k in range(pool_ptr[i], pool_ptr[i + 1]):
        p = pool_idx[k]
        used[p] -= demand[k]
        _dirty(p, status, active, st)
    for k in range(succ_ptr[i], succ_ptr[i + 1]):
        if deferred[k] == 1:
            _edge_fired(succ_idx[k], now, pending, ready, new, ht, hk, st)
    _request_dispatch(ht, hk, st, now)


@inline
def _dirty(p: int, status: IntArray, active: IntArray, st: IntArray) -> None:
    """Pool ``p``'s free units rose: it is searched at the next dispatch (``active`` lists
    the dirty pools until then)."""
    if status[p] == _CLEAN:
        status[p] = _DIRTY
        active[st[_DIRTIED]] = p
        st[_DIRTIED] += 1


@inline
def _fits(
    i: Index, demand: Array, pool_ptr: IntArray, pool_idx: IntArray, capacity: Array, used: Array
) -> bool:
    for k in range(pool_ptr[i], pool_ptr[i + 1]):
        p = pool_idx[k]
        if not demand[k] <= (capacity[p] - used[p]) + FIT_TOLERANCE:
            return False
    return True


@inline
def _room(p: int, capacity: Array, used: Array) -> float:
    """The largest demand on pool ``p`` that fits now (as in _fits), at most _MAX_ROOM so
    that an empty leaf never fits."""
    room = (capacity[p] - used[p]) + FIT_TOLERANCE
    return _MAX_ROOM if room > _MAX_ROOM else room


@inline
def _set_leaf(
    tree: Array, tree_ptr: IntArray, tree_first: IntArray, p: int, leaf: int, value: float
) -> None:
    """Set pool ``p``'s leaf ``leaf`` to ``value``, and the minima above it."""
    base = tree_ptr[p]
    m = tree_first[p] + leaf
    tree[base + m] = value
    while True:  # the minimum of m's group goes to its parent, or to the root
        g = np.uint64(base + (m & ~(_FAN - 1)))  # unsigned: no negative-index fix-up
        lo = tree[g]
        for c in range(np.uint64(1), np.uint64(_FAN)):
            v = tree[g + c]
            lo = v if v < lo else lo
        if m < _FAN:  # the top level
            tree[tree_ptr[p + 1] - 1] = lo
            return
        m = (m >> _FAN_BITS) - 1
        tree[base + m] = lo


@inline
def _first_fit(
    tree: Array, tree_ptr: IntArray, tree_first: IntArray, p: int, lo: int, room: float
) -> int:
    """The first leaf of pool ``p``'s tree at or after ``lo`` whose demand is at most
    ``room``; ``_NO_LEAF`` if none."""
    base, first = tree_ptr[p], tree_first[p]
    end = tree_ptr[p + 1] - 1 - base  # the end of the leaf level
    if first + lo >= end or not tree[base + end] <= room:  # past the end, or no leaf fits
        return _NO_LEAF
    m = first + lo
    at = np.uint64(base)  # indices from it unsigned: no negative-index fix-up
    while True:  # rightwards from m in its group; else up, from the parent's right neighbour
        stop = (m | (_FAN - 1)) + 1
        while m < stop and not tree[at + np.uint64(m)] <= room:
            m += 1
        if m < stop:
            break
        if stop == end:  # the level's last group: nothing further right
            return _NO_LEAF
        end = (end >> _FAN_BITS) - 1
        m = (m - 1) >> _FAN_BITS  # the parent of the group's last node, plus one
    while m < first:  # down to the leftmost leaf that fits: a child holds the node's minimum
        g = (m + 1) << _FAN_BITS
        j = _FAN - 1
        for c in range(_FAN - 2, -1, -1):  # selects, not branches the CPU must guess
            j = c if tree[at + np.uint64(g + c)] <= room else j
        m = g + j
    return m - first


@inline
def _dispatch(
    now: float,
    dur: Array,
    demand: Array,
    pool_ptr: IntArray,
    pool_idx: IntArray,
    slot: IntArray,
    tree_ptr: IntArray,
    tree_first: IntArray,
    leaf_ptr: IntArray,
    leaf_pos: IntArray,
    calendar: IntArray,
    links: tuple[IntArray, IntArray, Array, IntArray, IntArray],
    clock: tuple[IntArray, Array, Array],
    start: Array,
    capacity: Array,
    used: Array,
    new: IntArray,
    tree: Array,
    status: IntArray,
    cur: IntArray,
    nxt: IntArray,
    active: IntArray,
    ht: Array,
    hk: IntArray,
    st: IntArray,
    deferred: IntArray,
) -> Index:
    """Start every waiting task that fits, in dispatch order; returns a task with a bad
    duration (negative or NaN) or -1.

    Only candidates are looked at, merged in dispatch order: the new tasks, and in each
    dirty pool the waiting tasks whose demand on it fits its free units now (found in its
    tree from the last task passed). ``links`` are the successor arrays (``succ_ptr``,
    ``succ_idx``, ``succ_lag``, ``succ_kind``, ``succ_cal``), ``clock`` the clock table
    (tuples: CPython passes more than 30 arguments as ``*args``, which numba cannot inline)."""
    succ_ptr, succ_idx, succ_lag, succ_kind, succ_cal = links
    flat, cum, week = clock
    st[_ASKED] = 0
    n_active = st[_DIRTIED]
    st[_DIRTIED] = 0
    for a in range(n_active):
        p = active[a]
        status[p] = _DRAWN
        cur[p] = 0
        nxt[p] = _first_fit(tree, tree_ptr, tree_first, p, 0, _room(p, capacity, used))
    n_new = st[_NEW]
    r = 0  # the next new task
    n_stay = 0  # new tasks that did not start, compacted at the front of ``new``
    none = np.uint32(start.size)  # unsigned, as the tasks it is compared with (see Index)
    while True:
        best = new[r] if r < n_new else none
        for a in range(n_active):
            p = active[a]
            if nxt[p] < leaf_ptr[p + 1] - leaf_ptr[p]:
                q = leaf_pos[leaf_ptr[p] + nxt[p]]
                if q < best:
                    best = q
        if best == none:
            break
        is_new = r < n_new and new[r] == best
        if is_new:
            r += 1
        i = best  # tasks are numbered in dispatch order
        fits = _fits(i, demand, pool_ptr, pool_idx, capacity, used)
        if fits:
            for k in range(pool_ptr[i], pool_ptr[i + 1]):
                p = pool_idx[k]
                used[p] += demand[k]
                if not is_new:
                    _set_leaf(tree, tree_ptr, tree_first, p, slot[k], _EMPTY)
            start[i] = now
            d = dur[i]
            if not d >= 0:
                return i
            cal = calendar[i]
            done = now + delay(flat, cum, week, cal, now, d)
            _push(ht, hk, st, done, i * 4 + _DONE)
            for k in range(succ_ptr[i], succ_ptr[i + 1]):  # its links, resolved now
                j = succ_idx[k]
                wait = link_wait(
                    succ_kind[k],
                    succ_lag[k],
                    succ_cal[k],
                    calendar[j],
                    dur[j],
                    now,
                    cal,
                    d,
                    flat,
                    cum,
                    week,
                )
                if now + wait == done:
                    deferred[k] = 1
                else:
                    deferred[k] = 0
                    _push(ht, hk, st, now + wait, j * 4 + _EDGE)
        elif is_new:
            new[n_stay] = best
            n_stay += 1
        # the searched pools of this task move past it, and search again where it was their
        # next candidate (a candidate found before a start took units may no longer fit: it
        # is then looked at and passed; free units only fall, so none is missed)
        for k in range(pool_ptr[i], pool_ptr[i + 1]):
            p = pool_idx[k]
            if status[p] == _DRAWN:
                cur[p] = slot[k] + 1
                if nxt[p] < cur[p]:
                    nxt[p] = _first_fit(
                        tree, tree_ptr, tree_first, p, cur[p], _room(p, capacity, used)
                    )
    for a in range(n_active):
        status[active[a]] = _CLEAN
    # new tasks that did not start wait in the trees of their pools
    for q in range(n_stay):
        i = new[q]
        for k in range(pool_ptr[i], pool_ptr[i + 1]):
            p = pool_idx[k]
            _set_leaf(tree, tree_ptr, tree_first, p, slot[k], demand[k])
    st[_NEW] = 0
    return -1


@inline
def _next_time(ht: Array, hk: IntArray, st: IntArray) -> float:
    """The time of the earliest queued event (the queue holds one)."""
    if st[_NEAR] > 0:
        return ht[_earliest(ht, hk, st)]
    return ht[st[_CAP]]  # the far heap's first: the calendar is empty


@inline
def _copy(dst: Any, src: Any, lo: int, hi: int) -> None:
    for i in range(lo, hi):
        dst[i] = src[i]


@inline
def _last_day(st: IntArray) -> int:
    """The last day whose bucket may hold entries: from the queue's day to the latest day an
    entry went to, at most ``_DAYS`` of them (then every bucket)."""
    return min(st[_TOP], st[_DAY] + _DAYS - 1)


@inline
def _clear(tree: Array, hk: IntArray, st: IntArray) -> None:
    """Empty the pool trees and the event queue (as _work makes them: what an iteration's
    setup expects), after a run stopped before its end: past the highest entry used the
    free list is still in order, and only the buckets of the days the run reached hold
    entries."""
    for i in range(tree.size):
        tree[i] = _EMPTY
    cap = st[_CAP]
    for e in range(st[_HIGH]):
        hk[2 * cap + e] = e + 1
    for day in range(st[_DAY], _last_day(st) + 1):
        hk[3 * cap + (day & (_DAYS - 1))] = -1
    st[_FREE] = st[_NEAR] = st[_FAR] = 0


@inline
def _copy_queue(
    vht: Array, vhk: IntArray, ht: Array, hk: IntArray, st: IntArray, high: int
) -> None:
    """The queue ``ht``, ``hk`` into ``vht``, ``vhk`` (which holds a run that ended: every
    bucket empty), but for its entries past ``high`` (as _work made them), its far heap
    past its size and the heads of the buckets past the latest day an entry went to."""
    cap = st[_CAP]
    _copy(vht, ht, 0, high)
    _copy(vht, ht, cap, cap + st[_FAR])
    _copy(vht, ht, ht.size - 2, ht.size)
    _copy(vhk, hk, 0, high)
    _copy(vhk, hk, cap, cap + st[_FAR])
    _copy(vhk, hk, 2 * cap, 2 * cap + high)
    for day in range(st[_DAY], _last_day(st) + 1):
        vhk[3 * cap + (day & (_DAYS - 1))] = hk[3 * cap + (day & (_DAYS - 1))]


@jit(refcounts=False)
def _run_batch(
    demand: Array,
    pool_ptr: IntArray,
    pool_idx: IntArray,
    slot: IntArray,
    tree_ptr: IntArray,
    tree_first: IntArray,
    leaf_ptr: IntArray,
    leaf_pos: IntArray,
    order: IntArray,
    pos: IntArray,
    edges: IntArray,
    release: Array,
    succ_ptr: IntArray,
    succ_idx: IntArray,
    succ_lag: Array,
    capacity0: Array,
    calendar: IntArray,
    succ_kind: IntArray,
    succ_cal: IntArray,
    flat: IntArray,
    cum: Array,
    week: Array,
    w_start: Array,
    w_finish: Array,
    w_ready: Array,
    w_capacity: Array,
    w_used: Array,
    w_pending: IntArray,
    w_new: IntArray,
    w_tree: Array,
    w_status: IntArray,
    w_cur: IntArray,
    w_nxt: IntArray,
    w_active: IntArray,
    w_ht: Array,
    w_hk: IntArray,
    w_st: IntArray,
    w_deferred: IntArray,
    w_dur: Array,
    v_start: Array,
    v_finish: Array,
    v_ready: Array,
    v_capacity: Array,
    v_used: Array,
    v_pending: IntArray,
    v_new: IntArray,
    v_tree: Array,
    v_status: IntArray,
    v_cur: IntArray,
    v_nxt: IntArray,
    v_active: IntArray,
    v_ht: Array,
    v_hk: IntArray,
    v_st: IntArray,
    v_deferred: IntArray,
    v_dur: Array,
    durations: Array,
    ev_time: Array,
    ev_pool: IntArray,
    ev_value: Array,
    ev_ptr: IntArray,
    taken: IntArray,
    base: IntArray,
    fork: Array,
    ptr: IntArray,
    task: IntArray,
    value: Array,
    out_start: Array,
    out_finish: Array,
    out_ready: Array,
) -> tuple[int, int, int]:
    """Runs ``k`` in the order ``taken``, stopping at the first that fails: returns ``(place
    in taken, status, task or event index)``; the work arrays then hold that run's state.
    Run ``k`` is iteration ``base[k]`` (a row of ``durations``, and its capacity events)
    with the durations ``ptr[k]:ptr[k + 1]`` of ``task`` (tasks' own numbers) set to
    ``value``, written to row ``k`` of the outputs. With ``fork[k]`` NaN it runs whole in
    the work arrays ``w_*``; else its base runs there as far as ``fork[k]`` (runs of a base
    come together, by fork time), and the run goes on from a copy of that state in
    ``v_*`` (see simulate_forks). A batch is runs ``k`` of iterations ``k``, NaN forks
    and no changes (``v_*`` unused)."""
    links = (succ_ptr, succ_idx, succ_lag, succ_kind, succ_cal)
    clock = (flat, cum, week)
    at = -1  # the iteration whose base w_* holds, stopped at a fork (-1: none)
    for j in range(taken.size):
        k = taken[j]
        it = base[k]
        forked = fork[k] == fork[k]
        if not (forked and at == it):  # set the base up, as simulate does
            if at >= 0:  # it stopped before its end
                _clear(w_tree, w_hk, w_st)
            at = it if forked else -1
            for i in range(release.size):  # loops: slice assignments cost compile time
                w_start[i] = w_finish[i] = w_ready[i] = np.nan
                w_pending[i] = edges[i]
                w_dur[i] = durations[it, order[i]]
            for p in range(w_used.size):
                w_capacity[p], w_used[p], w_status[p] = capacity0[p], 0.0, _CLEAN
            # the trees and the queue are empty: from _work, after _clear, and at the end of
            # a run every task started and every event was taken
            w_st[_SIZE] = w_st[_SEQ] = w_st[_NEW] = w_st[_ASKED] = w_st[_DIRTIED] = 0
            w_st[_DAY] = w_st[_TOP] = 0
            w_st[_MIN] = -1
            _fit_buckets(w_ht, w_st)
            for e in range(ev_ptr[it], ev_ptr[it + 1]):
                if not ev_time[e] >= 0:
                    return j, _BAD_TIME, e
                _push(w_ht, w_hk, w_st, 0.0 + ev_time[e], e * 4 + _CAPACITY)
            for t in range(release.size):
                i = pos[t]
                if release[i] > 0:
                    _push(w_ht, w_hk, w_st, 0.0 + release[i], i * 4 + _EDGE)
                else:
                    _edge_fired(i, 0.0, w_pending, w_ready, w_new, w_ht, w_hk, w_st)
        for phase in range(2):  # the base on to the fork, then the run itself
            if phase == 0 and not forked:
                continue
            until = fork[k] if phase == 0 else np.nan  # NaN: to the end
            into = phase == 1 and forked
            if into:  # from a copy of the base's state, but for what no run reads (one call
                # per array: numba types each apart; a loop over a tuple of them compiles slowly)
                _copy(v_start, w_start, 0, w_start.size)
                _copy(v_finish, w_finish, 0, w_finish.size)
                _copy(v_ready, w_ready, 0, w_ready.size)
                _copy(v_dur, w_dur, 0, w_dur.size)
                _copy(v_capacity, w_capacity, 0, w_capacity.size)
                _copy(v_used, w_used, 0, w_used.size)
                _copy(v_pending, w_pending, 0, w_pending.size)
                _copy(v_status, w_status, 0, w_status.size)
                _copy(v_cur, w_cur, 0, w_cur.size)
                _copy(v_nxt, w_nxt, 0, w_nxt.size)
                _copy(v_active, w_active, 0, w_active.size)
                _copy(v_deferred, w_deferred, 0, w_deferred.size)
                _copy(v_new, w_new, 0, w_st[_NEW])
                for q in range(leaf_ptr.size - 1):  # each tree but its leaves past its users
                    lo, root = tree_ptr[q], tree_ptr[q + 1] - 1
                    _copy(v_tree, w_tree, lo, lo + tree_first[q] + leaf_ptr[q + 1] - leaf_ptr[q])
                    v_tree[root] = w_tree[root]
                _copy_queue(v_ht, v_hk, w_ht, w_hk, w_st, max(w_st[_HIGH], v_st[_HIGH]))
                _copy(v_st, w_st, 0, w_st.size)
            dur = v_dur if into else w_dur
            if phase == 1:  # the run's own durations
                for q in range(ptr[k], ptr[k + 1]):
                    dur[pos[task[q]]] = value[q]
            start = v_start if into else w_start
            finish = v_finish if into else w_finish
            ready = v_ready if into else w_ready
            capacity = v_capacity if into else w_capacity
            used = v_used if into else w_used
            pending = v_pending if into else w_pending
            new = v_new if into else w_new
            tree = v_tree if into else w_tree
            status = v_status if into else w_status
            cur = v_cur if into else w_cur
            nxt = v_nxt if into else w_nxt
            active = v_active if into else w_active
            ht = v_ht if into else w_ht
            hk = v_hk if into else w_hk
            st = v_st if into else w_st
            deferred = v_deferred if into else w_deferred
            bounded = until == until
            # the event loop (simpy's Environment.run), until nothing is left to do or the
            # next thing to do (an event, or the pending dispatch) comes at or after ``until``
            while True:
                if st[_ASKED] == 1:
                    when = ht[ht.size - 1]
                    if _sooner(ht, hk, st, when, st[_DSEQ]):
                        if bounded and when >= until:
                            break
                        bad = _dispatch(
                            when,
                            dur,
                            demand,
                            pool_ptr,
                            pool_idx,
                            slot,
                            tree_ptr,
                            tree_first,
                            leaf_ptr,
                            leaf_pos,
                            calendar,
                            links,
                            clock,
                            start,
                            capacity,
                            used,
                            new,
                            tree,
                            status,
                            cur,
                            nxt,
                            active,
                            ht,
                            hk,
                            st,
                            deferred,
                        )
                        if bad >= 0:
                            return j, _BAD_DURATION, order[bad]
                        continue
                if st[_SIZE] == 0 or (bounded and _next_time(ht, hk, st) >= until):
                    break
                now, item = _pop(ht, hk, st)
                kind, x = item & 3, np.uint32(item >> 2)  # a subject is an index (see Index)
                if kind == _CAPACITY:
                    capacity[ev_pool[x]] = ev_value[x]
                    _dirty(ev_pool[x], status, active, st)
                    _request_dispatch(ht, hk, st, now)
                elif kind == _EDGE:
                    _edge_fired(x, now, pending, ready, new, ht, hk, st)
                elif kind == _DONE:
                    _complete(
                        x,
                        now,
                        demand,
                        pool_ptr,
                        pool_idx,
                        succ_ptr,
                        succ_idx,
                        deferred,
                        finish,
                        ready,
                        used,
                        pending,
                        new,
                        status,
                        active,
                        ht,
                        hk,
                        st,
                    )
            if phase == 1:  # the run's schedule, in the tasks' own numbers
                for t in range(release.size):
                    i = pos[t]
                    out_start[k, t], out_finish[k, t] = start[i], finish[i]
                    out_ready[k, t] = ready[i]
                for t in range(release.size):
                    if out_finish[k, t] != out_finish[k, t]:  # NaN: never finished
                        return j, _STUCK, t
    return taken.size, _OK, -1


# --- Python side ----------------------------------------------------------------------------

_prepared: list[tuple[Network, _Net]] = []  # the last network seen (one block uses one)


def _prepare(net: Network) -> _Net:
    """The kernel's view of ``net``, checked (the kernel does not check indices)."""
    if _prepared and _prepared[0][0] is net:
        return _prepared[0][1]
    n = len(net.rank)
    if np.shape(net.demand) != (n, np.size(net.capacity)):
        raise ValueError("inconsistent Network arrays")
    pool_ptr, pool_idx, units = net.pool_pairs
    order = np.lexsort((np.arange(n), np.asarray(net.rank).astype(np.int64))).astype(np.int64)
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    none = np.zeros(0, dtype=np.int64)
    raw = _Net(
        units,
        pool_ptr,
        pool_idx,
        none,  # slot ... leaf_pos: the trees, built in the kernel's numbering
        none,
        none,
        none,
        none,
        order,
        pos,
        np.diff(np.asarray(net.pred_ptr)).astype(np.int64) + 1,
        np.ascontiguousarray(net.release, dtype=np.float64),
        np.ascontiguousarray(net.succ_ptr, dtype=np.int64),
        np.ascontiguousarray(net.succ_idx, dtype=np.int64),
        np.ascontiguousarray(net.succ_lag, dtype=np.float64),
        np.ascontiguousarray(net.capacity, dtype=np.float64),
        np.ascontiguousarray(net.calendar, dtype=np.int64),
        np.ascontiguousarray(net.succ_kind, dtype=np.int64),
        np.ascontiguousarray(net.succ_cal, dtype=np.int64),
        np.ascontiguousarray(net.clock.flat, dtype=np.int64),
        np.ascontiguousarray(net.clock.cum, dtype=np.float64),
        np.ascontiguousarray(net.clock.week, dtype=np.float64),
    )
    _check(raw)
    if 4 * max(n, 1) >= 1 << _ITEM_BITS:
        raise ValueError(f"{n} tasks: the compiled engine handles fewer than {1 << 24}")
    if max(raw.succ_ptr[-1], raw.pool_ptr[-1]) >= 1 << 31:  # 32-bit indices
        raise ValueError("the compiled engine handles fewer than 2**31 links")
    prepared = _in_dispatch_order(raw)
    _prepared[:] = [(net, prepared)]
    return prepared


def _in_dispatch_order(raw: _Net) -> _Net:
    """``raw`` (the tasks' own numbering) with tasks numbered in dispatch order, and the
    pools' trees. Tasks that run at the same time are mostly near each other in that order,
    and so are their rows of every array the kernel reads."""
    order, pos = raw.order, raw.pos
    pool_ptr, pool_src = _renumbered(raw.pool_ptr, order)
    succ_ptr, succ_src = _renumbered(raw.succ_ptr, order)
    pool_idx = raw.pool_idx[pool_src]
    # each pool's tree: one leaf per task that needs it, in dispatch order
    rows = np.repeat(np.arange(order.size), np.diff(pool_ptr))  # the (task, pool) pairs
    by_pool = np.lexsort((rows, pool_idx))
    users = np.bincount(pool_idx, minlength=raw.capacity.size)
    leaf_ptr = offsets(users)
    slot = np.empty(rows.size, dtype=np.int64)
    slot[by_pool] = np.arange(rows.size) - leaf_ptr[pool_idx[by_pool]]
    # levels below the top one: the fewest, at least one, whose leaves hold the pool's users
    levels = [max(1, -(-(int(m) - 1).bit_length() // _FAN_BITS)) for m in users]
    firsts = [(_FAN**k - _FAN) // (_FAN - 1) for k in levels]  # where the leaf level starts
    tree_ptr = offsets([f + _FAN**k + 1 for f, k in zip(firsts, levels, strict=True)])
    return raw._replace(
        demand=raw.demand[pool_src],
        pool_ptr=pool_ptr.astype(np.uint32),
        pool_idx=pool_idx.astype(np.uint32),
        slot=slot.astype(np.uint32),
        tree_ptr=tree_ptr,
        tree_first=np.array(firsts, dtype=np.int64),
        leaf_ptr=leaf_ptr,
        leaf_pos=rows[by_pool].astype(np.uint32),
        edges=raw.edges[order].astype(np.uint32),
        release=raw.release[order],
        succ_ptr=succ_ptr.astype(np.uint32),
        succ_idx=pos[raw.succ_idx[succ_src]].astype(np.uint32),
        succ_lag=raw.succ_lag[succ_src],
        calendar=raw.calendar[order].astype(np.uint32),
        succ_kind=raw.succ_kind[succ_src].astype(np.uint32),
        succ_cal=raw.succ_cal[succ_src].astype(np.uint32),
    )


def _renumbered(ptr: IntArray, order: IntArray) -> tuple[IntArray, IntArray]:
    """Compressed rows ``ptr`` with row ``order[i]`` as row ``i``: the new offsets, and where
    each new entry comes from."""
    counts = np.diff(ptr)[order]
    new = offsets(counts)
    return new, np.repeat(ptr[:-1][order] - new[:-1], counts) + np.arange(new[-1])


def _check(net: _Net) -> None:
    n = net.order.size
    ptr = net.succ_ptr
    if (
        net.demand.shape != net.pool_idx.shape
        or net.pool_ptr.shape != (n + 1,)
        or net.pool_ptr[-1] != net.pool_idx.size
        or np.any((net.pool_idx < 0) | (net.pool_idx >= net.capacity.size))
        or net.edges.size != n
        or net.release.size != n
        or ptr.size != n + 1
        or ptr[0] != 0
        or np.any(np.diff(ptr) < 0)
        or ptr[-1] > min(net.succ_idx.size, net.succ_lag.size, net.succ_kind.size)
        or ptr[-1] > net.succ_cal.size
        or net.calendar.size != n
        or np.any((net.succ_idx[: ptr[-1]] < 0) | (net.succ_idx[: ptr[-1]] >= n))
    ):
        raise ValueError("inconsistent Network arrays")
    n_cal = net.flat.size
    links = ptr[-1]
    if (
        np.any((net.calendar < 0) | (net.calendar >= n_cal))
        or np.any((net.succ_cal[:links] < 0) | (net.succ_cal[:links] >= n_cal))
        or np.any((net.succ_kind[:links] < 0) | (net.succ_kind[:links] > 3))
        or net.cum.shape[0] != n_cal
        or net.week.shape != (n_cal, 8)
    ):
        raise ValueError("inconsistent calendar or link arrays")
    # the dispatch's search relies on starts never freeing units and on finite demands
    if not np.all(np.isfinite(net.demand) & (net.demand >= 0)):
        raise ValueError("demands must be finite non-negative numbers")


def _work(net: _Net, n_events: int) -> _Work:
    n, n_pools = net.order.size, net.capacity.size
    heap = n_events + 2 * n + net.succ_idx.size + 1  # events queued at once, + dispatch time

    def ints(size: int) -> IntArray:
        return np.zeros(size, dtype=np.int64)

    return _Work(
        np.zeros(n),
        np.zeros(n),
        np.zeros(n),
        np.zeros(n_pools),
        np.zeros(n_pools),
        np.zeros(n, dtype=np.int32),
        np.zeros(n, dtype=np.uint32),
        np.full(int(net.tree_ptr[-1]), _EMPTY),
        ints(n_pools),
        ints(n_pools),
        ints(n_pools),
        np.zeros(n_pools, dtype=np.uint32),
        np.concatenate([np.zeros(2 * heap), [_PER_DAY, 0.0]]),
        _empty_queue(heap),
        _empty_state(heap),
        np.zeros(max(int(net.succ_idx.size), 1), dtype=np.int32),
        np.zeros(n),
    )


def _empty_state(cap: int) -> IntArray:
    """The state vector (see _Work.state) of an empty queue of ``cap`` entries: every count
    0, the earliest entry not known."""
    state = np.zeros(_TOP + 1, dtype=np.int64)
    state[_CAP] = cap
    state[_MIN] = state[_MIN_PREV] = -1
    return state


def _empty_queue(cap: int) -> IntArray:
    """The queue's keys (see _Work.heap_key) with no entry: every entry free, listed in
    order, and every bucket empty."""
    keys = np.zeros(3 * cap + _DAYS, dtype=np.int64)
    keys[2 * cap : 3 * cap] = np.arange(1, cap + 1)
    keys[3 * cap :] = -1
    return keys


def pack_capacity(events: Sequence[Sequence[tuple[float, int, float]]]) -> CapacityArrays:
    """Pack per-iteration ``(time, pool, capacity)`` lists (``BlockSample.capacity``) into
    the compressed rows :func:`simulate_batch` takes."""
    ptr = offsets([len(x) for x in events])
    flat = [e for x in events for e in x]
    return CapacityArrays(
        np.array([float(t) for t, _, _ in flat], dtype=np.float64),
        np.array([int(p) for _, p, _ in flat], dtype=np.int64),
        np.array([float(v) for _, _, v in flat], dtype=np.float64),
        ptr,
    )


def _pool_indices(pools: IntArray, n_pools: int) -> IntArray:
    """Python indexing: negative pools count from the end; out of range is an IndexError."""
    pools = np.asarray(pools, dtype=np.int64)
    bad = (pools < -n_pools) | (pools >= n_pools)
    if bad.any():
        raise IndexError(f"capacity event for pool {pools[bad][0]}: there are {n_pools} pools")
    return np.where(pools < 0, pools + n_pools, pools)


def _failure(
    net: Network,
    status: int,
    index: int,
    duration: Array,
    times: Array,
    work: _Work,
    names: Names | None,
) -> Exception:
    """The error the reference engine raises for a failed run (NaN times: our own)."""
    if status == _BAD_TIME:
        t = float(times[index])
        return ValueError(
            f"Negative delay {t}" if t < 0 else f"capacity change {index}: time {t} is not a number"
        )
    if status == _BAD_DURATION:
        d = float(duration[index])
        task = names[0][index] if names else f"#{index}"
        return ValueError(
            f"Negative delay {d}" if d < 0 else f"task {task}: duration {d} is not a number"
        )
    return SimulationError(stuck_message(net, index, work.ready, work.capacity, names))


def simulate_fast(
    net: Network,
    duration: Array,
    capacity_events: Sequence[tuple[float, int, float]] = (),
    *,
    names: Names | None = None,
) -> Schedule:
    """Schedule one iteration; the same arguments, result and errors as
    :func:`simulator.engine.reference.simulate`."""
    d = np.asarray(duration, dtype=np.float64).reshape(1, -1)
    try:
        start, finish, ready = _batch(net, d, pack_capacity([capacity_events]), names)
    except _IterationError as e:
        raise e.cause from None
    return Schedule(start[0], finish[0], ready[0])


def simulate_batch(
    net: Network,
    durations: Array,
    capacity_times: Array,
    capacity_pools: NDArray[np.int64],
    capacity_values: Array,
    capacity_ptr: NDArray[np.int64],
    *,
    names: Names | None = None,
    first_iteration: int = 0,
) -> tuple[Array, Array, Array]:
    """Schedule every row of ``durations`` (``(iterations, tasks)``) in one compiled loop.

    Iteration ``it`` applies capacity events ``capacity_ptr[it]:capacity_ptr[it + 1]`` of
    ``capacity_times``, ``capacity_pools`` and ``capacity_values`` (see :func:`pack_capacity`).

    Returns:
        ``(start, finish, ready)``, each ``(iterations, tasks)``; row ``it`` equals
        ``simulate(net, durations[it], events of it)``.

    Raises:
        SimulationError: at the first iteration with tasks that can never start, as
            ``iteration {first_iteration + it}: {the reference engine's message}``.
        ValueError: a negative duration or capacity-change time (as simpy), or a NaN one.
    """
    d = np.asarray(durations, dtype=np.float64)
    events = CapacityArrays(capacity_times, capacity_pools, capacity_values, capacity_ptr)
    try:
        return _batch(net, d, events, names)
    except _IterationError as e:
        raise SimulationError(f"iteration {first_iteration + e.iteration}: {e.cause}") from None


class Forks(NamedTuple):
    """Variants of a batch's iterations, each differing from its base in a few durations.

    Attributes:
        base: per variant, its base: a row of the batch.
        fork: per variant, a time up to which its run is its base's: at most the base's
            start of every task in ``duration_readers`` of the tasks it changes.
        ptr, task, value: the durations each variant changes (tasks in their own numbers),
            compressed rows: variant ``k``'s are ``ptr[k]:ptr[k + 1]``.
    """

    base: NDArray[np.int64]
    fork: Array
    ptr: NDArray[np.int64]
    task: NDArray[np.int64]
    value: Array


def duration_readers(net: Network, tasks: IntArray) -> NDArray[np.int64]:
    """The tasks whose start reads a duration of ``tasks`` (a dispatch reads a task's
    duration when it starts, and when a predecessor linked to it finish-to-finish or
    start-to-finish starts): the tasks themselves and those predecessors, sorted."""
    tasks = np.asarray(tasks, dtype=np.int64)
    ptr, idx, kind = (np.asarray(a) for a in (net.pred_ptr, net.pred_idx, net.pred_kind))
    links = [np.arange(ptr[i], ptr[i + 1], dtype=np.int64) for i in tasks]
    into = np.concatenate(links) if links else np.zeros(0, dtype=np.int64)
    preds = idx[into][np.isin(kind[into], (FF, SF))]
    return np.unique(np.concatenate([tasks, preds]).astype(np.int64))


def simulate_forks(
    net: Network,
    durations: Array,
    events: CapacityArrays,
    forks: Forks,
    *,
    names: Names | None = None,
    first_iteration: int = 0,
) -> tuple[Array, Array, Array]:
    """Schedule variants of the iterations of a batch (``durations`` and ``events`` as for
    :func:`simulate_batch`): row ``k`` of the result is what :func:`simulate_batch` gives
    for base ``forks.base[k]``'s durations with variant ``k``'s changes, under that base's
    capacity events. Each base runs once, as far as its latest fork; each variant then
    goes on from a copy of its base's state at its fork, instead of from the start.

    Raises:
        SimulationError, ValueError: as :func:`simulate_batch` for the first variant that
            fails (its iteration: its base's, plus ``first_iteration``).
    """
    prepared = _prepare(net)
    d, events = _inputs(prepared, durations, events)
    forks = _checked(prepared, d, forks)
    taken = np.lexsort((forks.fork, forks.base))  # by base, then fork time
    out = tuple(np.empty((forks.base.size, d.shape[1])) for _ in range(3))
    size = int(np.diff(events.ptr).max(initial=0))
    k, status, _ = _run_batch(
        *prepared, *_work(prepared, size), *_work(prepared, size), d, *events, taken, *forks, *out
    )
    if status != _OK:  # that variant again, whole: the error simulate_batch gives
        k, b = int(taken[k]), int(forks.base[taken[k]])
        row = d[b].copy()
        changed = slice(forks.ptr[k], forks.ptr[k + 1])
        row[forks.task[changed]] = forks.value[changed]
        lo, hi = events.ptr[b], events.ptr[b + 1]
        one = CapacityArrays(
            events.times[lo:hi], events.pools[lo:hi], events.values[lo:hi], np.array([0, hi - lo])
        )
        simulate_batch(net, row[None], *one, names=names, first_iteration=first_iteration + b)
        raise AssertionError("a variant failed from its fork but not whole")  # pragma: no cover
    return out[0], out[1], out[2]


def _inputs(
    prepared: _Net, durations: Array, events: CapacityArrays
) -> tuple[Array, CapacityArrays]:
    """A batch's durations and capacity events as the kernel reads them, checked (the kernel
    does not check indices)."""
    d = np.ascontiguousarray(durations, dtype=np.float64)
    if d.ndim != 2 or d.shape[1] != prepared.order.size:
        raise ValueError(f"durations must be (iterations, {prepared.order.size}), not {d.shape}")
    ptr = np.ascontiguousarray(events.ptr, dtype=np.int64)
    if ptr.shape != (d.shape[0] + 1,) or ptr[0] != 0 or np.any(np.diff(ptr) < 0):
        raise ValueError("capacity_ptr must rise from 0 and have one entry per iteration + 1")
    times = np.ascontiguousarray(events.times, dtype=np.float64)
    values = np.ascontiguousarray(events.values, dtype=np.float64)
    pools = _pool_indices(events.pools, prepared.capacity.size).astype(np.int64)
    if not times.size == pools.size == values.size >= ptr[-1]:
        raise ValueError("capacity arrays are shorter than capacity_ptr says")
    return d, CapacityArrays(times, pools, values, ptr)


def _checked(prepared: _Net, d: Array, forks: Forks) -> Forks:
    """simulate_forks's variants as the kernel reads them, checked against the batch ``d``
    (the kernel does not check indices)."""
    f = Forks(
        np.ascontiguousarray(forks.base, dtype=np.int64),
        np.ascontiguousarray(forks.fork, dtype=np.float64),
        np.ascontiguousarray(forks.ptr, dtype=np.int64),
        np.ascontiguousarray(forks.task, dtype=np.int64),
        np.ascontiguousarray(forks.value, dtype=np.float64),
    )
    n, m, ptr = d.shape[1], f.base.size, f.ptr
    if (
        f.fork.shape != (m,)
        or ptr.shape != (m + 1,)
        or ptr[0] != 0
        or np.any((f.base < 0) | (f.base >= len(d)))
        or np.any(np.diff(ptr) < 0)
        or not f.task.size == f.value.size >= ptr[-1]
        or np.any((f.task[: ptr[-1]] < 0) | (f.task[: ptr[-1]] >= n))
        or np.any(np.isnan(f.fork))
    ):
        raise ValueError("inconsistent fork arrays")
    return f


class _IterationError(Exception):
    def __init__(self, iteration: int, cause: SimulationError) -> None:
        super().__init__(iteration, cause)
        self.iteration, self.cause = iteration, cause


def _batch(
    net: Network, durations: Array, events: CapacityArrays, names: Names | None
) -> tuple[Array, Array, Array]:
    """simulate_batch's work; a stuck iteration raises :class:`_IterationError`."""
    prepared = _prepare(net)
    d, (times, pools, values, ptr) = _inputs(prepared, durations, events)
    start, finish, ready = (np.empty(d.shape) for _ in range(3))
    work = _work(prepared, int(np.diff(ptr).max(initial=0)))
    each = np.arange(len(d), dtype=np.int64)  # iteration k is run k, whole, as it is
    none = np.zeros(len(d) + 1, dtype=np.int64)
    it, status, index = _run_batch(
        *prepared,
        *work,
        *work,  # no run is forked: the second work arrays are not used
        d,
        times,
        pools,
        values,
        ptr,
        each,
        each,
        np.full(len(d), np.nan),
        none,
        none[:0],
        np.zeros(0),
        start,
        finish,
        ready,
    )
    if status == _OK:
        return start, finish, ready
    work = work._replace(ready=work.ready[prepared.pos])  # the tasks' own numbers
    error = _failure(net, status, index, d[it], times, work, names)
    if isinstance(error, SimulationError):
        raise _IterationError(it, error)
    raise error
