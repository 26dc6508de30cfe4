"""Property tests: Hypothesis-generated portfolios against the engine contract.

The networks are random DAGs over several projects and one to four pools: fixed durations
(zeros and ties included), demands that fit the pool, edges only from lower to higher task
index (so acyclic), lags, project priorities and releases, and capacity changes whose last
value fits every demand (nothing can get stuck). Durations and capacities are multiples of
0.5, so every time the engine computes is exact and schedules can be compared with ``==``.

Each property is checked against quantities the test computes itself (capacity at a time,
units in use, the unconstrained forward pass), never against the package's own helpers.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from simulator.calendars import WorkCalendar
from simulator.distributions import Fixed
from simulator.engine import Schedule, simulate
from simulator.model import Pool, Portfolio, Project, Task

Array = NDArray[np.float64]

PROPERTY = settings(max_examples=150, deadline=None)
SCENARIO_IO = settings(max_examples=40, deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture])

HALVES = st.integers(0, 16).map(lambda k: k / 2)  # 0, 0.5, ..., 8: exact, with ties
LAGS = st.one_of(st.just(0.0), st.integers(1, 6).map(lambda k: k / 2))


# --- strategies ---------------------------------------------------------------------------

@st.composite
def portfolios(draw: st.DrawFn, *, unlimited: bool = False) -> Portfolio:
    """A random portfolio with fixed durations; ``unlimited`` pools hold every demand at once."""
    n_pools = draw(st.integers(1, 4))
    final = [draw(st.integers(1, 5)) for _ in range(n_pools)]  # capacity once changes are over
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    tasks: list[Task] = []
    for k, size in enumerate(sizes):
        for _ in range(size):
            i = len(tasks)
            used = draw(st.sets(st.integers(0, n_pools - 1), max_size=n_pools))
            demand = tuple((p, draw(st.integers(1, 2 * final[p])) / 2) for p in sorted(used))
            before = draw(st.sets(st.integers(0, i - 1), max_size=3)) if i else set()
            preds = tuple((j, draw(LAGS)) for j in sorted(before))
            tasks.append(Task(key=f"p{k}.t{i}", project=k, id=f"t{i}", name=f"t{i}",
                              size=Fixed(draw(HALVES)), demand=demand, preds=preds))
    pools = []
    for p in range(n_pools):
        if unlimited:
            total = sum(u for t in tasks for q, u in t.demand if q == p)
            pools.append(Pool(f"r{p}", total + draw(st.integers(0, 2))))
            continue
        times = draw(st.lists(st.integers(0, 24).map(lambda k: k / 2), max_size=3, unique=True))
        values = [draw(st.integers(0, 6)) for _ in times]
        if values:
            values[-1] = max(values[-1], final[p])
        changes = tuple((t, float(c)) for t, c in zip(sorted(times), values, strict=True))
        initial = draw(st.integers(0, 6)) if changes else final[p]
        pools.append(Pool(f"r{p}", float(initial), changes=changes))
    first = np.cumsum([0, *sizes])
    projects = tuple(
        Project(id=f"p{k}", name=f"p{k}", priority=draw(st.integers(1, 3)),
                release=draw(st.one_of(st.just(0.0), HALVES)),
                tasks=tuple(range(first[k], first[k + 1])))
        for k in range(len(sizes)))
    return Portfolio(name="random", calendar=WorkCalendar(), pools=tuple(pools),
                     projects=projects, tasks=tuple(tasks),
                     priority_rule=draw(st.sampled_from(["lft", "order"])))


# --- independent reference computations ---------------------------------------------------

def durations(pf: Portfolio) -> Array:
    return np.array([t.size.mean for t in pf.tasks])


def run(pf: Portfolio, duration: Array | None = None) -> Schedule:
    d = durations(pf) if duration is None else duration
    return simulate(pf.network, d, pf.base_capacity_events())


def capacity_at(pool: Pool, t: float) -> float:
    """Capacity after every change at or before ``t``."""
    cap = pool.capacity
    for when, value in pool.changes:
        if when <= t:
            cap = value
    return cap


def demand_matrix(pf: Portfolio) -> Array:
    out = np.zeros((len(pf.tasks), len(pf.pools)))
    for i, t in enumerate(pf.tasks):
        for p, u in t.demand:
            out[i, p] += u
    return out


def in_use(sched: Schedule, demand: Array, t: float) -> Array:
    """Units held at ``t`` by tasks running over ``[start, finish)``: after the completions
    at ``t`` and every start at ``t`` (an upper bound on what any dispatch at ``t`` saw)."""
    running = (sched.start <= t) & (t < sched.finish)
    return demand[running].sum(axis=0)


def earliest_finish(pf: Portfolio, duration: Array) -> Array:
    """Forward pass ignoring resources (releases, lags; predecessors have lower indices)."""
    finish = np.zeros(len(pf.tasks))
    for i, task in enumerate(pf.tasks):
        start = max([pf.projects[task.project].release,
                     *(finish[j] + lag for j, lag in task.preds)])
        finish[i] = start + duration[i]
    return finish


# --- 1-5: one iteration of the engine ------------------------------------------------------

@PROPERTY
@given(portfolios())
def test_ready_follows_release_and_predecessors_and_finish_is_start_plus_duration(
        pf: Portfolio) -> None:
    d = durations(pf)
    s = run(pf)
    assert np.isfinite(s.finish).all()
    for i, task in enumerate(pf.tasks):
        release = pf.projects[task.project].release
        assert s.ready[i] == max([release, *(s.finish[j] + lag for j, lag in task.preds)]), i
        assert s.start[i] >= s.ready[i], i
        assert s.finish[i] == s.start[i] + d[i], i


@PROPERTY
@given(portfolios())
def test_units_in_use_never_exceed_capacity_where_a_task_starts(pf: Portfolio) -> None:
    demand = demand_matrix(pf)
    s = run(pf)
    for i in range(len(pf.tasks)):
        t = s.start[i]
        used = in_use(s, demand, t)
        for p in np.flatnonzero(demand[i]):
            cap = capacity_at(pf.pools[p], t)
            assert used[p] <= cap + 1e-9, (i, t, pf.pools[p].id, used[p], cap)


@PROPERTY
@given(portfolios())
def test_finish_never_below_the_critical_path(pf: Portfolio) -> None:
    s = run(pf)
    bound = earliest_finish(pf, durations(pf))
    assert (s.finish >= bound).all(), np.flatnonzero(s.finish < bound)


@PROPERTY
@given(portfolios())
def test_a_task_waits_only_while_its_demand_does_not_fit(pf: Portfolio) -> None:
    """Non-delay: at every dispatch instant in ``[ready, start)`` (a completion, a capacity
    change, a task becoming ready) some pool lacked the units, even counting as free every
    unit not held at the end of that instant."""
    demand = demand_matrix(pf)
    s = run(pf)
    instants = {*s.finish, *s.ready, *(t for pool in pf.pools for t, _ in pool.changes)}
    for i in np.flatnonzero(s.start > s.ready):
        pools = np.flatnonzero(demand[i])
        assert len(pools), f"task {i} needs no units but waited"
        for t in sorted(x for x in instants if s.ready[i] <= x < s.start[i]):
            free = [capacity_at(pf.pools[p], t) - in_use(s, demand, t)[p] for p in pools]
            assert any(demand[i, p] > f for p, f in zip(pools, free, strict=True)), (i, t)


@PROPERTY
@given(portfolios(unlimited=True))
def test_without_resource_limits_every_task_starts_when_ready_on_the_critical_path(
        pf: Portfolio) -> None:
    s = run(pf)
    np.testing.assert_array_equal(s.start, s.ready)
    np.testing.assert_array_equal(s.finish, earliest_finish(pf, durations(pf)))


@PROPERTY
@given(portfolios(unlimited=True), st.data())
def test_without_resource_limits_a_longer_task_delays_nothing_earlier(
        pf: Portfolio, data: st.DataObject) -> None:
    d = durations(pf)
    k = data.draw(st.integers(0, len(d) - 1), label="task")
    longer = d.copy()
    longer[k] += data.draw(st.integers(1, 8).map(lambda x: x / 2), label="extra")
    before, after = run(pf, d), run(pf, longer)
    assert (after.finish >= before.finish).all(), np.flatnonzero(after.finish < before.finish)
    assert after.finish[k] > before.finish[k]


def test_with_resource_limits_a_longer_task_can_finish_the_portfolio_earlier() -> None:
    """Graham's anomaly: the parallel scheme is not monotone under resource limits, which is
    why the monotonicity property above is stated only for unlimited pools.

    One pool of 1 unit; ``a`` (1 day, 1 unit), ``b`` (2 days, no units) then ``c`` (1 day,
    1 unit) then ``e`` (3 days, no units), and ``x`` (3 days, 1 unit), rule ``order``.
    As given, ``x`` takes the pool when ``a`` ends at 1, so ``c`` (ready at 2) waits until 4
    and ``e`` ends at 8. With ``a`` taking 2 days, ``c`` and ``x`` are both waiting when the
    pool frees at 2, ``c`` goes first, and ``e`` ends at 6.
    """
    spec = [("a", 1.0, 1.0, ()), ("b", 2.0, 0.0, ()), ("c", 1.0, 1.0, (1,)),
            ("e", 3.0, 0.0, (2,)), ("x", 3.0, 1.0, ())]
    tasks = tuple(Task(key=f"p.{name}", project=0, id=name, name=name, size=Fixed(dur),
                       demand=((0, units),) if units else (),
                       preds=tuple((j, 0.0) for j in preds))
                  for name, dur, units, preds in spec)
    pf = Portfolio(name="anomaly", calendar=WorkCalendar(), pools=(Pool("r", 1.0),),
                   projects=(Project("p", "p", tasks=tuple(range(len(tasks)))),),
                   tasks=tasks, priority_rule="order")
    d = durations(pf)
    longer = d.copy()
    longer[0] = 2.0
    before, after = run(pf, d), run(pf, longer)
    np.testing.assert_array_equal(before.finish, [1, 2, 5, 8, 4])
    np.testing.assert_array_equal(after.finish, [2, 2, 3, 6, 6])
