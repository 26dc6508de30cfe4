"""The compiled engine against the reference engine: the same start, finish and ready times,
bit for bit, and the same errors, on PSPLIB, on Hypothesis-generated portfolios and on the
example scenario's sampled iterations.

Times are drawn as tenths (0.1, 0.2, 0.3, ...) and arbitrary floats, units as tenths, so
sums depend on the order of additions: an engine that adds in another order, or processes
events in another order, gives different bits somewhere.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numba.core.registry import CPUDispatcher
from numpy.typing import NDArray
from psplib import PSPLIB, optima, read_sm

from simulator import kernels as _kernels
from simulator.engine import (
    Forks,
    Schedule,
    duration_readers,
    pack_capacity,
    simulate,
    simulate_batch,
    simulate_fast,
    simulate_forks,
)
from simulator.engine.clock import FF
from simulator.errors import SimulationError
from simulator.model import (
    Calendar,
    Fixed,
    Link,
    Network,
    Pool,
    Portfolio,
    Progress,
    Project,
    Task,
    WorkCalendar,
)
from simulator.sampling import capacity_events, sample_block
from simulator.scenario import load_scenario

Array = NDArray[np.float64]
Events = list[tuple[float, int, float]]
EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "portfolio-2027.yaml"

PROPERTY = settings(max_examples=300, deadline=None)

TENTHS = st.integers(0, 40).map(lambda k: k / 10)  # 0, 0.1, ..., 4: inexact, with ties
TIMES = st.one_of(
    st.integers(0, 3).map(float),  # many ties
    TENTHS,
    st.sampled_from([1 / 3, 2 / 3, 0.1 + 0.2, 1e-12]),
    st.floats(0, 10, allow_nan=False),
)
LAGS = st.one_of(st.just(0.0), TIMES)
CAPACITIES = [0.3, 0.6, 0.7, 1.0, 1.5, 2.0, 3.0]


def same(a: Array, b: Array) -> bool:
    """Bit for bit (``-0.0`` differs from ``0.0``; NaNs must match)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def assert_same(ref: Schedule, got: Schedule | tuple[Array, Array, Array]) -> None:
    got = got if isinstance(got, tuple) else (got.start, got.finish, got.ready)
    for name, x, y in zip(
        ("start", "finish", "ready"), (ref.start, ref.finish, ref.ready), got, strict=True
    ):
        assert same(x, y), (name, np.flatnonzero(x != y), x, y)


def outcome(run: Callable[[], Any]) -> tuple[Any, ...]:
    """What a run gives: its arrays, or its error's type and message."""
    try:
        result = run()
    except (SimulationError, ValueError, IndexError) as e:
        return type(e).__name__, str(e)
    arrays = result if isinstance(result, tuple) else (result.start, result.finish, result.ready)
    return tuple(np.asarray(a).tobytes() for a in arrays)


def batch(
    net: Network, durations: Array, events: Sequence[Events], **kw: Any
) -> tuple[Array, Array, Array]:
    return simulate_batch(net, durations, *pack_capacity(events), **kw)


# --- PSPLIB J30 ---------------------------------------------------------------------------


@pytest.mark.skipif(
    not (PSPLIB / "j30opt.sm").exists(), reason="../shared/data/psplib is not beside the checkout"
)
def test_j30_schedules_are_identical_and_keep_the_published_figures() -> None:
    best = optima()
    assert len(best) == 480
    gaps, equal = [], 0
    rng = np.random.default_rng(30)
    for k, (name, opt) in enumerate(sorted(best.items())):
        pf = read_sm(PSPLIB / "j30" / f"{name}.sm")
        net = pf.network
        d = np.array([t.size.mean for t in pf.tasks])
        fast = simulate_fast(net, d)
        assert_same(simulate(net, d), fast)
        makespan = fast.finish.max()
        assert makespan >= opt, name
        equal += makespan == opt
        gaps.append(100 * (makespan - opt) / opt)
        if k % 8 == 0:  # and with durations that are not integers
            rows = d * rng.choice([0.1, 0.3, 0.7, 1.1, 1 / 3], size=(3, len(d)))
            start, finish, ready = batch(net, rows, [[]] * 3)
            for it in range(3):
                assert_same(simulate(net, rows[it]), (start[it], finish[it], ready[it]))
    assert equal == 206
    assert round(float(np.mean(gaps)), 2) == 4.39


# --- Hypothesis portfolios ----------------------------------------------------------------


@st.composite
def portfolios(draw: st.DrawFn) -> Portfolio:
    """Several projects with priorities and releases, 1-4 pools whose capacity changes and
    ends at or above every demand, a random DAG with lags, fixed base durations."""
    n_pools = draw(st.integers(1, 4))
    final = [draw(st.sampled_from(CAPACITIES)) for _ in range(n_pools)]
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))
    tasks: list[Task] = []
    for k, size in enumerate(sizes):
        for _ in range(size):
            i = len(tasks)
            used = draw(st.sets(st.integers(0, n_pools - 1), max_size=n_pools))
            demand = tuple(
                (p, draw(st.integers(1, round(10 * final[p]))) / 10) for p in sorted(used)
            )
            before = draw(st.sets(st.integers(0, i - 1), max_size=3)) if i else set()
            preds = tuple((j, draw(LAGS)) for j in sorted(before))
            tasks.append(
                Task(
                    key=f"p{k}.t{i}",
                    project=k,
                    id=f"t{i}",
                    name=f"t{i}",
                    size=Fixed(draw(TENTHS)),
                    demand=demand,
                    preds=preds,
                )
            )
    pools = []
    for p in range(n_pools):
        times = sorted(draw(st.lists(TIMES, max_size=3, unique=True)))
        values = [draw(st.sampled_from([0.0, *CAPACITIES])) for _ in times]
        if values:
            values[-1] = max(values[-1], final[p])
        initial = draw(st.sampled_from([0.0, *CAPACITIES])) if times else final[p]
        pools.append(Pool(f"r{p}", initial, changes=tuple(zip(times, values, strict=True))))
    first = np.cumsum([0, *sizes])
    projects = tuple(
        Project(
            id=f"p{k}",
            name=f"p{k}",
            priority=draw(st.integers(1, 3)),
            release=draw(st.one_of(st.just(0.0), TIMES)),
            tasks=tuple(range(first[k], first[k + 1])),
        )
        for k in range(len(sizes))
    )
    return Portfolio(
        name="random",
        calendar=WorkCalendar(),
        pools=tuple(pools),
        projects=projects,
        tasks=tuple(tasks),
        priority_rule=draw(st.sampled_from(["lft", "order"])),
    )


def durations(data: st.DataObject, n: int, rows: int) -> Array:
    return np.array(
        data.draw(
            st.lists(st.lists(TIMES, min_size=n, max_size=n), min_size=rows, max_size=rows),
            label="durations",
        )
    )


def losses(data: st.DataObject, pf: Portfolio) -> Events:
    """The base capacity schedule or, like a sampled risk, units lost and recovered."""
    lost = data.draw(
        st.lists(
            st.tuples(
                st.integers(0, len(pf.pools) - 1),
                st.sampled_from([0.1, 0.3, 0.5, 1.0, 2.0]),
                TIMES,
                TIMES.map(lambda x: x + 0.1),
            ),
            max_size=3,
        ),
        label="losses",
    )
    return (
        capacity_events(pf, [(p, u, a, a + b) for p, u, a, b in lost])
        if lost
        else pf.base_capacity_events()
    )


@PROPERTY
@given(portfolios(), st.data())
def test_fast_engine_matches_simpy_on_random_portfolios(pf: Portfolio, data: st.DataObject) -> None:
    d = durations(data, len(pf.tasks), 1)[0]
    events = losses(data, pf)
    ref = simulate(pf.network, d, events)
    assert np.isfinite(ref.finish).all()
    assert_same(ref, simulate_fast(pf.network, d, events))


@PROPERTY
@given(portfolios(), st.data())
def test_batch_matches_simpy_iteration_by_iteration(pf: Portfolio, data: st.DataObject) -> None:
    rows = data.draw(st.integers(1, 6), label="iterations")
    d = durations(data, len(pf.tasks), rows)
    events = [losses(data, pf) for _ in range(rows)]
    start, finish, ready = batch(pf.network, d, events)
    for it in range(rows):
        assert_same(simulate(pf.network, d[it], events[it]), (start[it], finish[it], ready[it]))


# times on every scale an event queue could treat apart: powers of two of a day and their
# neighbours, months to centuries, beyond 2^53 sixty-fourths of a day, infinite (a calendar
# queue of 1/64-day buckets, tried, hung on a capacity change at infinity)
WIDE = st.one_of(
    TIMES,
    TIMES.map(lambda x: 37.0 * x),
    st.floats(0, 1e5, allow_nan=False),
    st.sampled_from([1 / 64, 127.984375, 128.0, 128.015625, 256.0, 384.0, 1e6, 1e17, 2e18]),
    st.just(math.inf),
)


@PROPERTY
@given(portfolios(), st.data())
def test_batch_matches_simpy_on_times_from_an_instant_to_infinity(
    pf: Portfolio, data: st.DataObject
) -> None:
    """Durations and capacity changes on any scale: the compiled engine's event queue
    keeps simpy's order, and its errors, whether events are an instant or centuries apart,
    or at infinity."""
    rows = data.draw(st.integers(1, 4), label="iterations")
    n = len(pf.tasks)
    d = np.array(
        data.draw(
            st.lists(st.lists(WIDE, min_size=n, max_size=n), min_size=rows, max_size=rows),
            label="durations",
        )
    )
    events = [
        sorted(
            data.draw(
                st.lists(
                    st.tuples(WIDE, st.integers(0, len(pf.pools) - 1), st.sampled_from(CAPACITIES)),
                    max_size=4,
                ),
                label="changes",
            )
        )
        for _ in range(rows)
    ]
    runs = [(d[it], events[it]) for it in range(rows)]
    refs = [outcome(lambda x=x, ev=ev: simulate(pf.network, x, ev)) for x, ev in runs]
    for (x, ev), ref in zip(runs, refs, strict=True):  # the same schedule, or the same error
        assert outcome(lambda x=x, ev=ev: simulate_fast(pf.network, x, ev)) == ref
    if not any(isinstance(ref[0], str) for ref in refs):  # every row in one batch, in turn
        start, finish, ready = batch(pf.network, d, events)
        for it, ref in enumerate(refs):
            assert ref == tuple(a[it].tobytes() for a in (start, finish, ready))


# a dated time base with three calendars: Mon-Fri with a holiday and a half day, every day,
# weekends only; times are days from Monday 4 January 2027
REAL = WorkCalendar(
    dt.date(2027, 1, 4),
    (
        Calendar("office", "1111100", (dt.date(2027, 1, 8),), 8.0, ((dt.date(2027, 1, 13), 4.0),)),
        Calendar("seven", "1111111"),
        Calendar("weekends", "0000011"),
    ),
)
REAL_LAGS = st.sampled_from([0.0, 0.0, 0.5, 1.0, 2.0, -0.5, -1.5, -3.0])


@st.composite
def progress_of(draw: st.DrawFn, cal: WorkCalendar, c: int) -> Progress | None:
    """Nothing, or done (start and finish before the status date), or in progress."""
    status = cal.status
    kind = draw(st.sampled_from(["none", "none", "done", "running"]))
    if status is None or kind == "none":
        return None
    start = draw(st.sampled_from([0.0, 1.0, 2.5])) * status / 3
    if kind == "running":
        return Progress(start, None, cal.work(c, status) - cal.work(c, start))
    finish = start + draw(st.sampled_from([0.0, 0.5, 1.0])) * (status - start)
    return Progress(start, finish, cal.work(c, finish) - cal.work(c, start))


@st.composite
def real_portfolios(draw: st.DrawFn) -> Portfolio:
    """The random portfolios with real-schedule features: calendars per task, every link
    type with lags, leads and lag calendars, start constraints, and progress at a status
    date (complete, in progress, out of sequence)."""
    pf = draw(portfolios())
    cal = replace(REAL, status=draw(st.sampled_from([None, 3.0, 7.0, 9.5])))
    tasks = []
    for t in pf.tasks:
        c = draw(st.integers(0, 2))
        preds = tuple(
            Link(x.pred, draw(REAL_LAGS), draw(st.integers(0, 3)), draw(st.integers(-1, 2)))
            for x in t.preds
        )
        tasks.append(
            replace(
                t,
                calendar=c,
                preds=preds,
                earliest=draw(st.sampled_from([0.0, 0.0, 2.0, 5.5, 12.0])),
                progress=draw(progress_of(cal, c)),
            )
        )
    return replace(pf, calendar=cal, tasks=tuple(tasks))


@PROPERTY
@given(real_portfolios(), st.data())
def test_engines_agree_on_real_schedules(pf: Portfolio, data: st.DataObject) -> None:
    rows = data.draw(st.integers(1, 4), label="iterations")
    d = durations(data, len(pf.tasks), rows)
    events = [losses(data, pf) for _ in range(rows)]
    start, finish, ready = batch(pf.network, d, events)
    for it in range(rows):
        ref = simulate(pf.network, d[it], events[it])
        assert np.isfinite(ref.finish).all()
        assert_same(ref, (start[it], finish[it], ready[it]))


@st.composite
def raw_networks(draw: st.DrawFn) -> Network:
    """Networks as arrays, beyond what a scenario produces: tied ranks, edges in any
    direction (cycles included), negative lags and releases, zero-unit pools."""
    n = draw(st.integers(1, 8))
    n_pools = draw(st.integers(0, 3))
    demand = np.array(
        draw(
            st.lists(
                st.lists(
                    st.sampled_from([0.0, 0.1, 0.2, 0.3, 1.0]), min_size=n_pools, max_size=n_pools
                ),
                min_size=n,
                max_size=n,
            )
        )
    ).reshape(n, n_pools)
    edges = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.one_of(LAGS, st.just(-1.0))),
            max_size=2 * n,
        )
    )
    preds: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    succs: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for a, b, lag in edges:
        preds[b].append((a, lag))
        succs[a].append((b, lag))

    def csr(lists: list[list[tuple[int, float]]]) -> tuple[Any, Any, Any]:
        ptr = np.cumsum([0, *(len(x) for x in lists)]).astype(np.int64)
        flat = [e for x in lists for e in x]
        return (
            ptr,
            np.array([j for j, _ in flat], dtype=np.int64),
            np.array([g for _, g in flat], dtype=np.float64),
        )

    rank = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.int64)
    release = np.array(draw(st.lists(st.one_of(TIMES, st.just(-2.0)), min_size=n, max_size=n)))
    capacity = np.array(
        draw(st.lists(st.sampled_from([0.0, 0.3, 1.0]), min_size=n_pools, max_size=n_pools)),
        dtype=np.float64,
    )
    return Network(demand, rank, release, *csr(preds), *csr(succs), capacity)


@PROPERTY
@given(raw_networks(), st.data())
def test_same_outcome_on_any_network_including_tasks_that_never_start(
    net: Network, data: st.DataObject
) -> None:
    n_pools = len(net.capacity)
    d = durations(data, net.n_tasks, 1)[0]
    events: Events = data.draw(
        st.lists(
            st.tuples(
                TIMES,
                st.integers(-n_pools, n_pools - 1),
                st.sampled_from([0.0, 0.2, 0.3, 1.0, 2.0]),
            ),
            max_size=4,
        )
        if n_pools
        else st.just([]),
        label="events (any order)",
    )
    names = ([f"task{i}" for i in range(net.n_tasks)], [f"pool{p}" for p in range(n_pools)])
    ref = outcome(lambda: simulate(net, d, events, names=names))
    assert outcome(lambda: simulate_fast(net, d, events, names=names)) == ref
    got = outcome(lambda: batch(net, d[None, :], [events], names=names, first_iteration=4))
    if ref[0] == "SimulationError":
        ref = (ref[0], f"iteration 4: {ref[1]}")
    assert got == ref


def crowded_network(seed: int, n: int = 300, n_pools: int = 4) -> Network:
    """A large random DAG whose pools are scarce: long queues of ready tasks, a third of the
    tasks on two or three pools, fractional demands, tied ranks."""
    rng = np.random.default_rng(seed)
    demand = np.zeros((n, n_pools))
    for i in range(n):
        pools = rng.choice(n_pools, size=rng.choice([1, 2, 3], p=[0.65, 0.25, 0.1]), replace=False)
        demand[i, pools] = rng.choice([0.5, 1.0, 1.5, 2.0, 0.1], size=len(pools))
    demand[rng.random(n) < 0.05] = 0.0  # some tasks need nobody
    preds: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    succs: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for b in range(1, n):
        for a in rng.choice(b, size=min(b, int(rng.integers(0, 3))), replace=False):
            lag = float(rng.choice([0.0, 0.0, 0.0, 1.0, 0.5]))
            preds[b].append((int(a), lag))
            succs[int(a)].append((b, lag))

    def csr(lists: list[list[tuple[int, float]]]) -> tuple[Any, Any, Any]:
        ptr = np.cumsum([0, *(len(x) for x in lists)]).astype(np.int64)
        flat = [e for x in lists for e in x]
        return (
            ptr,
            np.array([j for j, _ in flat], dtype=np.int64),
            np.array([g for _, g in flat], dtype=np.float64),
        )

    release = np.where(rng.random(n) < 0.1, rng.integers(0, 20, n).astype(float), 0.0)
    return Network(
        demand,
        rng.integers(0, 5, n),
        release,
        *csr(preds),
        *csr(succs),
        rng.choice([2.0, 3.0, 3.5], size=n_pools),
    )


@pytest.mark.parametrize("seed", range(12))
def test_crowded_networks_long_queues_identical(seed: int) -> None:
    """Hundreds of tasks queue on scarce pools, so a dispatch skips most of them: the
    starts must still be the reference engine's, task by task."""
    net = crowded_network(seed)
    rng = np.random.default_rng(100 + seed)
    n_pools = len(net.capacity)
    d = rng.integers(0, 8, size=(3, net.n_tasks)).astype(float)  # integer days: many ties
    d[:, rng.random(net.n_tasks) < 0.3] += 0.25
    events: list[Events] = []
    for _ in range(len(d)):
        times = np.sort(rng.choice(np.arange(1.0, 60.0), size=4, replace=False))
        pools = rng.integers(0, n_pools, size=4)
        dips = [
            (float(t), int(p), float(v))
            for t, p, v in zip(
                times, pools, rng.choice([1.0, 1.5, 2.0, 4.0, 6.0], size=4), strict=True
            )
        ]
        # ... and every pool back to 3 units at day 80, so that every task can start
        events.append(dips + [(80.0, p, 3.0) for p in range(n_pools)])
    start, finish, ready = batch(net, d, events)
    waited = 0
    for it in range(len(d)):
        ref = simulate(net, d[it], events[it])
        np.testing.assert_array_equal(start[it], ref.start)
        np.testing.assert_array_equal(finish[it], ref.finish)
        np.testing.assert_array_equal(ready[it], ref.ready)
        waited = max(
            waited,
            int(
                np.max(
                    np.sum(
                        (ref.ready[None, :] <= ref.start[:, None])
                        & (ref.start[None, :] > ref.start[:, None]),
                        axis=1,
                    )
                )
            ),
        )
    assert waited > 30  # the queues really were long


def one_pool(
    spec: list[tuple[str, float, float, tuple[tuple[int, float], ...]]],
    capacity: float = 1.0,
    changes: tuple[tuple[float, float], ...] = (),
) -> Portfolio:
    """Tasks ``(name, duration, units of the pool, preds)`` served in file order."""
    tasks = tuple(
        Task(
            f"p.{name}",
            0,
            name,
            name,
            Fixed(dur),
            demand=((0, units),) if units else (),
            preds=preds,
        )
        for name, dur, units, preds in spec
    )
    return Portfolio(
        name="instant",
        calendar=WorkCalendar(),
        pools=(Pool("R", capacity, changes=changes),),
        projects=(Project("p", "p", tasks=tuple(range(len(tasks)))),),
        tasks=tasks,
        priority_rule="order",
    )


@pytest.mark.parametrize(
    ("pf", "starts"),
    [
        # a and b finish together at 2; s (first in order) follows b with no lag, l follows a:
        # both are ready for the one dispatch at 2, so s gets the unit
        (
            one_pool(
                [
                    ("s", 2, 1, ((3, 0.0),)),
                    ("l", 2, 1, ((2, 0.0),)),
                    ("a", 2, 0, ()),
                    ("b", 2, 0, ()),
                ]
            ),
            [2, 4, 0, 0],
        ),
        # with a lag of 0.5 on b's edge, l takes the unit at 2 and s waits
        (
            one_pool(
                [
                    ("s", 2, 1, ((3, 0.5),)),
                    ("l", 2, 1, ((2, 0.0),)),
                    ("a", 2, 0, ()),
                    ("b", 2, 0, ()),
                ]
            ),
            [4, 2, 0, 0],
        ),
        # c frees the unit at 1: m (zero duration) and d start; n, ready when m completes at 1,
        # comes after that dispatch and waits for d
        (
            one_pool(
                [
                    ("c", 1, 1, ()),
                    ("m", 0, 0, ((0, 0.0),)),
                    ("n", 0, 1, ((1, 0.0),)),
                    ("d", 1, 1, ()),
                ]
            ),
            [0, 1, 2, 1],
        ),
        # capacity drops to 0 at 2 while a completes at 2, and comes back at 3
        (
            one_pool([("a", 2, 1, ()), ("b", 1, 1, ((0, 0.0),))], changes=((2.0, 0.0), (3.0, 1.0))),
            [0, 3],
        ),
    ],
)
def test_events_at_one_instant_are_ordered_alike(pf: Portfolio, starts: list[float]) -> None:
    d = np.array([t.size.mean for t in pf.tasks])
    ref = simulate(pf.network, d, pf.base_capacity_events())
    np.testing.assert_array_equal(ref.start, starts)
    assert_same(ref, simulate_fast(pf.network, d, pf.base_capacity_events()))


def test_demands_on_the_fit_tolerance_boundary_decide_alike() -> None:
    """``a`` holds ``u`` units; ``b`` asks for one ulp below, at or above what fits,
    ``(capacity - u) + FIT_TOLERANCE``: only that exact order of operations agrees."""
    started = set()
    for c in [0.3, 0.7, 0.9, 1.1, 1.3, 2.3, 3.7, 5.1, 7.7]:
        for u in [x for x in (0.1, 0.2, 0.3) if x < c]:
            edge = (c - u) + 1e-9
            for d in (np.nextafter(edge, -np.inf), edge, np.nextafter(edge, np.inf)):
                net = Network(
                    np.array([[u], [d]]),
                    np.array([0, 1]),
                    np.zeros(2),
                    np.zeros(3, dtype=np.int64),
                    np.zeros(0, dtype=np.int64),
                    np.zeros(0),
                    np.zeros(3, dtype=np.int64),
                    np.zeros(0, dtype=np.int64),
                    np.zeros(0),
                    np.array([c]),
                )
                ref = simulate(net, np.ones(2))
                assert_same(ref, simulate_fast(net, np.ones(2)))
                started.add(float(ref.start[1]))
    assert started == {0.0, 1.0}


# --- tasks that can never start, bad inputs -----------------------------------------------


def stuck_portfolio() -> Portfolio:
    """``b`` needs R, which is gone for good at 1; ``c`` (listed first) waits for ``b``."""
    tasks = (
        Task("p.c", 0, "c", "c", Fixed(1.0), preds=((2, 0.0),)),
        Task("p.a", 0, "a", "a", Fixed(2.0)),
        Task("p.b", 0, "b", "b", Fixed(1.0), demand=((0, 1.0),), preds=((1, 0.0),)),
    )
    return Portfolio(
        name="stuck",
        calendar=WorkCalendar(),
        pools=(Pool("R", 1.0, changes=((1.0, 0.0),)),),
        projects=(Project("p", "p", tasks=(0, 1, 2)),),
        tasks=tasks,
    )


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        ("c", "task p.c never became ready (a predecessor could not start)"),
        (
            "b",
            "task p.b, ready at working day 2, can never start: it needs 1 units of R "
            "(capacity now 0 for good)",
        ),
    ],
)
def test_a_stuck_task_raises_the_same_error_in_both_engines(first: str, expected: str) -> None:
    pf = stuck_portfolio()
    net = pf.network
    if first == "b":  # without c, b is the first unfinished task
        net = Network(
            net.demand[1:],
            net.rank[1:],
            net.release[1:],
            np.array([0, 0, 1]),
            np.array([0]),
            np.array([0.0]),
            np.array([0, 1, 1]),
            np.array([1]),
            np.array([0.0]),
            net.capacity,
        )
    n = net.n_tasks
    names = ([t.key for t in pf.tasks][-n:], ["R"])
    d = np.array([t.size.mean for t in pf.tasks])[-n:]
    events = pf.base_capacity_events()
    with pytest.raises(SimulationError) as ref:
        simulate(net, d, events, names=names)
    with pytest.raises(SimulationError) as fast:
        simulate_fast(net, d, events, names=names)
    assert str(ref.value) == str(fast.value) == expected
    # in a batch: the first failing iteration, numbered as montecarlo numbers it
    with pytest.raises(SimulationError) as many:
        batch(net, np.stack([d, d, d]), [[], events, []], names=names, first_iteration=500)
    assert str(many.value) == f"iteration 501: {expected}"


def test_negative_durations_and_times_raise_simpys_error() -> None:
    pf = stuck_portfolio()
    d = np.array([1.0, -0.5, 1.0])
    for events in ([], [(-1.0, 0, 2.0)]):
        with pytest.raises(ValueError, match="Negative delay") as ref:
            simulate(pf.network, d, events)
        with pytest.raises(ValueError, match="Negative delay") as fast:
            simulate_fast(pf.network, d, events)
        assert str(ref.value) == str(fast.value)


def test_nan_inputs_and_malformed_arrays_are_rejected() -> None:
    pf = stuck_portfolio()
    net, d = pf.network, np.array([1.0, 2.0, 1.0])
    with pytest.raises(ValueError, match=r"task p\.a: duration nan is not a number"):
        simulate_fast(net, np.array([1.0, np.nan, 1.0]), names=(["p.c", "p.a", "p.b"], ["R"]))
    with pytest.raises(ValueError, match="time nan is not a number"):
        simulate_fast(net, d, [(np.nan, 0, 1.0)])
    with pytest.raises(IndexError, match="pool 1: there are 1 pools"):
        simulate_fast(net, d, [(1.0, 1, 1.0)])
    with pytest.raises(ValueError, match=r"durations must be \(iterations, 3\)"):
        simulate_batch(net, d, *pack_capacity([[]]))
    with pytest.raises(ValueError, match="capacity_ptr"):
        simulate_batch(net, d[None, :], *pack_capacity([[], []]))
    broken = Network(
        net.demand,
        net.rank,
        net.release,
        net.pred_ptr,
        net.pred_idx,
        net.pred_lag,
        net.succ_ptr,
        np.array([0, 7]),
        net.succ_lag,
        net.capacity,
    )
    with pytest.raises(ValueError, match="inconsistent Network arrays"):
        simulate_fast(broken, d)
    for bad in (-1.0, np.nan, np.inf):
        odd = Network(
            np.where(net.demand > 0, bad, 0.0),
            net.rank,
            net.release,
            net.pred_ptr,
            net.pred_idx,
            net.pred_lag,
            net.succ_ptr,
            net.succ_idx,
            net.succ_lag,
            net.capacity,
        )
        with pytest.raises(ValueError, match="demands must be finite non-negative numbers"):
            simulate_fast(odd, d)


def test_pack_capacity_builds_compressed_rows() -> None:
    base = [(0.0, 1, 2.0), (3.5, 0, 1.0)]
    packed = pack_capacity([base, [], [(1.0, 0, 0.0)], base])
    np.testing.assert_array_equal(packed.ptr, [0, 2, 2, 3, 5])
    np.testing.assert_array_equal(packed.times, [0.0, 3.5, 1.0, 0.0, 3.5])
    np.testing.assert_array_equal(packed.pools, [1, 0, 0, 1, 0])
    np.testing.assert_array_equal(packed.values, [2.0, 1.0, 0.0, 2.0, 1.0])
    assert packed.pools.dtype == np.int64
    empty = pack_capacity([])
    assert empty.times.size == 0
    np.testing.assert_array_equal(empty.ptr, [0])


def test_kernel_compiles_without_a_disk_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only install with no writable cache directory still gets a compiled kernel."""
    njit = numba.njit

    def no_cache(*args: Any, **kw: Any) -> Any:
        if kw.get("cache"):
            raise RuntimeError("cannot cache function: no locator available")
        return njit(*args, **kw)

    monkeypatch.setattr(_kernels, "njit", no_cache)

    def twice(x: float) -> float:
        return 2 * x

    compiled = _kernels.jit(twice, refcounts=False)
    assert compiled(1.5) == 3.0
    assert isinstance(compiled, CPUDispatcher)
    assert compiled.targetoptions["nogil"]  # threads still run it in parallel


# --- the example scenario, through sampling ---------------------------------------------------


def test_example_scenario_sampled_iterations_are_identical() -> None:
    pf = load_scenario(EXAMPLE)
    assert pf.seed is not None
    sample = sample_block(pf, pf.seed, 0, 200)
    base = pf.base_capacity_events()
    assert sum(ev != base for ev in sample.capacity) > 20  # capacity losses occurred
    names = ([t.key for t in pf.tasks], [p.id for p in pf.pools])
    start, finish, ready = batch(pf.network, sample.duration, sample.capacity, names=names)
    for it in range(200):
        ref = simulate(pf.network, sample.duration[it], sample.capacity[it], names=names)
        assert_same(
            ref, simulate_fast(pf.network, sample.duration[it], sample.capacity[it], names=names)
        )
        assert_same(ref, (start[it], finish[it], ready[it]))


@pytest.mark.parametrize("users", [1, 7, 8, 9, 63, 64, 65, 500, 4097])
def test_pool_tree_finds_the_first_leaf_that_fits(users: int) -> None:
    """The pools' 8-way min-trees against a plain scan: after random leaf updates, the first
    leaf at or after ``lo`` whose demand is at most ``room``, for every kind of ``lo`` (the
    first leaf, inside a group, at a group's end, past the last user)."""
    from simulator.engine import fast

    none, no_links = np.zeros(0), np.zeros(users + 1, dtype=np.int64)
    net = Network(
        np.ones((users, 1)), np.arange(users), np.zeros(users), no_links, none.astype(np.int64),
        none, no_links, none.astype(np.int64), none, np.array([2.0]),
    )  # fmt: skip
    kernel = fast._prepare(net)
    tree = np.full(int(kernel.tree_ptr[-1]), np.inf)
    leaves = np.full(users, np.inf)
    rng = np.random.default_rng(users)
    set_leaf, first_fit = fast._set_leaf, fast._first_fit
    for _ in range(300):
        leaf, value = int(rng.integers(users)), float(rng.choice([np.inf, *range(6)]))
        set_leaf(tree, kernel.tree_ptr, kernel.tree_first, 0, leaf, value)
        leaves[leaf] = value
        for lo in {0, leaf, leaf + 1, int(rng.integers(users + 1)), users}:
            room = float(rng.integers(6))
            fit = np.flatnonzero(leaves[lo:] <= room)
            expected = lo + int(fit[0]) if fit.size else fast._NO_LEAF
            assert first_fit(tree, kernel.tree_ptr, kernel.tree_first, 0, lo, room) == expected


@pytest.mark.parametrize("seed", range(3))
def test_event_queue_buckets_fit_the_run_and_keep_the_order(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event queue's buckets narrow when many events share one, and widen when events
    are far apart (between iterations, as the run goes): schedules stay the reference
    engine's, iteration by iteration, when the scale of the durations changes mid-batch."""
    from simulator.engine import fast

    crowded = crowded_network(seed, n=200)
    no_lag = np.zeros_like(crowded.succ_lag)  # events only at starts and finishes
    net = replace(
        crowded, release=np.zeros(crowded.n_tasks), pred_lag=no_lag, succ_lag=no_lag.copy()
    )
    rng = np.random.default_rng(200 + seed)
    base = rng.integers(0, 8, size=(6, net.n_tasks)).astype(float)
    base[:, rng.random(net.n_tasks) < 0.3] += 0.25
    scales = {"dense": 1e-4, "sparse": 10.0}
    kept: list[Any] = []
    made = fast._work
    monkeypatch.setattr(fast, "_work", lambda *a: kept.append(made(*a)) or kept[-1])

    def run(order: list[str]) -> float:
        """Buckets per day after a batch of iterations at these scales, checked row by row."""
        d = np.concatenate([base * scales[s] for s in order])
        events: list[Events] = [[(1e3 * 80.0, p, 3.0) for p in range(4)] for _ in d]
        start, finish, ready = batch(net, d, events)
        for it in range(len(d)):
            assert_same(simulate(net, d[it], events[it]), (start[it], finish[it], ready[it]))
        return float(kept[-1].heap_time[-2])

    first = float(made(fast._prepare(net), 1).heap_time[-2])
    assert run(["sparse"]) < first  # wider buckets: fewer per day
    assert run(["dense"]) > first
    run(["sparse", "dense", "sparse"])  # the widths change within one batch


# --- variants run from their base's state (simulate_forks) ----------------------------------


def forked(
    net: Network, d: Array, events: Sequence[Events], variants: list[tuple[int, dict[int, float]]]
) -> tuple[Array, Array, Array]:
    """Each variant ``(base, {task: duration})`` forked at the earliest start, in its base's
    run, of the tasks that read the durations it changes; and the forked schedules."""
    start = batch(net, d, events)[0]
    fork = [
        float(start[b, duration_readers(net, np.array(sorted(ch)))].min(initial=np.inf))
        for b, ch in variants
    ]
    ptr = np.cumsum([0, *(len(ch) for _, ch in variants)])
    forks = Forks(
        np.array([b for b, _ in variants], dtype=np.int64),
        np.array(fork),
        ptr,
        np.array([t for _, ch in variants for t in sorted(ch)], dtype=np.int64),
        np.array([ch[t] for _, ch in variants for t in sorted(ch)]),
    )
    return simulate_forks(net, d, pack_capacity(events), forks)


@PROPERTY
@given(real_portfolios(), st.data())
def test_a_variant_run_from_its_base_state_is_the_whole_run_of_it(
    pf: Portfolio, data: st.DataObject
) -> None:
    """A variant that changes some durations, run from its base's state at its fork (the
    first start, in the base, that reads one of them), gives the reference engine's
    schedule of the variant run whole: every link type, calendars, capacity changes, several
    variants per base, in any order, some with the same fork."""
    net, n = pf.network, len(pf.tasks)
    rows = data.draw(st.integers(1, 3), label="iterations")
    times = data.draw(st.sampled_from([TIMES, WIDE]), label="scale")  # WIDE: up to infinity
    d = np.array(
        data.draw(st.lists(st.lists(times, min_size=n, max_size=n), min_size=rows, max_size=rows))
    )
    events = [losses(data, pf) for _ in range(rows)]
    variants = data.draw(
        st.lists(
            st.tuples(
                st.integers(0, rows - 1),
                st.dictionaries(st.integers(0, n - 1), times, max_size=3),
            ),
            max_size=6,
        ),
        label="variants",
    )
    inputs = [(d[b], events[b]) for b in range(rows)]
    for b, changes in variants:
        row = d[b].copy()
        row[list(changes)] = list(changes.values())
        inputs.append((row, events[b]))
    try:  # every base and variant can be scheduled (failures: the next test; the working
        # time of a calendar with weekends overflows at infinity)
        whole = [simulate(net, row, ev) for row, ev in inputs][rows:]
    except (SimulationError, ValueError, OverflowError):
        assume(False)
    got = forked(net, d, events, variants)
    for k, ref in enumerate(whole):
        assert_same(ref, tuple(x[k] for x in got))
    assert all(len(x) == len(variants) for x in got)


def test_a_fork_after_a_predecessor_read_the_changed_duration_would_be_wrong() -> None:
    """Why a fork comes before the predecessors linked finish-to-finish start: B may not
    finish before A does, so B's start waits for A's end less B's own duration, read when
    A starts. Forked at B's start instead, the variant keeps the base's wait."""
    a = Task("p.a", 0, "a", "a", Fixed(5.0))
    b = Task("p.b", 0, "b", "b", Fixed(1.0), preds=(Link(0, 0.0, FF),))
    pf = Portfolio(
        name="ff",
        calendar=WorkCalendar(),
        pools=(),
        projects=(Project(id="p", name="p", tasks=(0, 1)),),
        tasks=(a, b),
    )
    net, d = pf.network, np.array([[5.0, 1.0]])
    assert duration_readers(net, np.array([1])).tolist() == [0, 1]
    right = simulate(net, np.array([5.0, 3.0]), [])
    got = forked(net, d, [[]], [(0, {1: 3.0})])
    assert_same(right, tuple(x[0] for x in got))
    assert right.start[1] == 2.0
    late = Forks(np.array([0]), np.array([4.0]), np.array([0, 1]), np.array([1]), np.array([3.0]))
    wrong = simulate_forks(net, d, pack_capacity([[]]), late)
    assert wrong[0][0, 1] == 4.0  # the base's start of B: its duration was read at 0


@pytest.mark.parametrize(
    ("a", "error"),
    [(2.0, "iteration 1: task #0 never became ready"), (-1.0, "Negative delay -1.0")],
)
def test_a_variant_that_fails_raises_the_error_of_its_whole_run(a: float, error: str) -> None:
    """``b`` needs R, gone at 1: it starts at 0.5 in the bases, never once ``a`` takes 2
    days; a negative duration is refused as simpy refuses it."""
    net = stuck_portfolio().network
    d = np.array([[1.0, 0.5, 1.0]] * 2)
    events = [[(1.0, 0, 0.0)]] * 2
    assert np.isfinite(batch(net, d, events)[1]).all()
    row = d[1].copy()
    row[1] = a
    with pytest.raises((SimulationError, ValueError)) as whole:
        simulate_batch(net, row[None], *pack_capacity(events[1:]), first_iteration=1)
    assert error in str(whole.value)
    forks = Forks(np.array([1]), np.array([0.0]), np.array([0, 1]), np.array([1]), np.array([a]))
    with pytest.raises(type(whole.value)) as got:
        simulate_forks(net, d, pack_capacity(events), forks)
    assert str(got.value) == str(whole.value)
