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

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from simulator.cli import cli
from simulator.engine import Schedule, simulate
from simulator.model import Fixed, Pool, Portfolio, Project, Task, WorkCalendar
from simulator.montecarlo import simulate_portfolio
from simulator.sampling import BLOCK_SIZE
from simulator.scenario import load_scenario

Array = NDArray[np.float64]

PROPERTY = settings(max_examples=150, deadline=None)
SCENARIO_IO = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

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
            tasks.append(
                Task(
                    key=f"p{k}.t{i}",
                    project=k,
                    id=f"t{i}",
                    name=f"t{i}",
                    size=Fixed(draw(HALVES)),
                    demand=demand,
                    preds=preds,
                )
            )
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
        Project(
            id=f"p{k}",
            name=f"p{k}",
            priority=draw(st.integers(1, 3)),
            release=draw(st.one_of(st.just(0.0), HALVES)),
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
        start = max(
            [pf.projects[task.project].release, *(finish[j] + lag for j, lag, *_ in task.preds)]
        )
        finish[i] = start + duration[i]
    return finish


# --- 1-5: one iteration of the engine ------------------------------------------------------


@PROPERTY
@given(portfolios())
def test_ready_follows_release_and_predecessors_and_finish_is_start_plus_duration(
    pf: Portfolio,
) -> None:
    d = durations(pf)
    s = run(pf)
    assert np.isfinite(s.finish).all()
    for i, task in enumerate(pf.tasks):
        release = pf.projects[task.project].release
        assert s.ready[i] == max([release, *(s.finish[j] + lag for j, lag, *_ in task.preds)]), i
        assert s.start[i] >= s.ready[i], i
        assert s.finish[i] == s.start[i] + d[i], i


@PROPERTY
@given(portfolios())
def test_units_in_use_never_exceed_capacity_where_a_task_starts(pf: Portfolio) -> None:
    """At each start instant, on each pool the starting task uses, the units held by tasks
    running over ``[start, finish)`` fit the capacity in force then (capacity may drop below
    the units of tasks already running, so only pools someone started on are checked)."""
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
    pf: Portfolio,
) -> None:
    s = run(pf)
    np.testing.assert_array_equal(s.start, s.ready)
    np.testing.assert_array_equal(s.finish, earliest_finish(pf, durations(pf)))


@PROPERTY
@given(portfolios(unlimited=True), st.data())
def test_without_resource_limits_a_longer_task_delays_nothing_earlier(
    pf: Portfolio, data: st.DataObject
) -> None:
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
    spec = [
        ("a", 1.0, 1.0, ()),
        ("b", 2.0, 0.0, ()),
        ("c", 1.0, 1.0, (1,)),
        ("e", 3.0, 0.0, (2,)),
        ("x", 3.0, 1.0, ()),
    ]
    tasks = tuple(
        Task(
            key=f"p.{name}",
            project=0,
            id=name,
            name=name,
            size=Fixed(dur),
            demand=((0, units),) if units else (),
            preds=tuple((j, 0.0) for j in preds),
        )
        for name, dur, units, preds in spec
    )
    pf = Portfolio(
        name="anomaly",
        calendar=WorkCalendar(),
        pools=(Pool("r", 1.0),),
        projects=(Project("p", "p", tasks=tuple(range(len(tasks)))),),
        tasks=tasks,
        priority_rule="order",
    )
    d = durations(pf)
    longer = d.copy()
    longer[0] = 2.0
    before, after = run(pf, d), run(pf, longer)
    np.testing.assert_array_equal(before.finish, [1, 2, 5, 8, 4])
    np.testing.assert_array_equal(after.finish, [2, 2, 3, 6, 6])


# --- 6: names are labels only ---------------------------------------------------------------

# ids a YAML 1.1 reader would turn into something else, then arbitrary text
TRICKY = [
    "null",
    "~",
    "yes",
    "NO",
    "on",
    "0012",
    "1e3",
    "0x1F",
    "12:30",
    "2027-01-04",
    "-",
    "#x",
    "a: b",
    "'q'",
    '"',
    "&a",
    "!t",
    "@",
    "%",
    "|",
    ">",
    " lead",
    "trail ",
    "ü",
]
NAME = st.one_of(
    st.sampled_from(TRICKY),
    st.text(
        st.characters(exclude_characters=".*?[]", exclude_categories=["C", "Z"]),
        min_size=1,
        max_size=6,
    ),
)


def scenario_dict(
    pf: Portfolio, projects: list[str], tasks: list[str], pools: list[str]
) -> dict[str, Any]:
    """``pf`` (fixed durations) as a scenario file with the given ids, in the same order."""

    def ref(i: int, k: int) -> str:
        j = pf.tasks[i].project
        return tasks[i] if j == k else f"{projects[j]}.{tasks[i]}"

    return {
        "scenario": "renamed",
        "priority_rule": pf.priority_rule,
        "resources": {
            pools[p]: {
                "capacity": pool.capacity,
                "changes": [{"at": t, "capacity": c} for t, c in pool.changes],
            }
            for p, pool in enumerate(pf.pools)
        },
        "projects": [
            {
                "id": projects[k],
                "priority": proj.priority,
                "start": proj.release,
                "tasks": [
                    {
                        "id": tasks[i],
                        "duration": pf.tasks[i].size.mean,
                        "resources": {pools[p]: u for p, u in pf.tasks[i].demand},
                        "after": [
                            {"id": ref(j, k), "lag": lag} for j, lag, *_ in pf.tasks[i].preds
                        ],
                    }
                    for i in proj.tasks
                ],
            }
            for k, proj in enumerate(pf.projects)
        ],
    }


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@SCENARIO_IO
@given(portfolios(), st.data())
def test_renaming_tasks_projects_and_pools_changes_nothing(
    tmp_path: Path, pf: Portfolio, data: st.DataObject
) -> None:
    def names(n: int, label: str) -> list[str]:
        return data.draw(st.lists(NAME, min_size=n, max_size=n, unique=True), label=label)

    plain = scenario_dict(
        pf, [p.id for p in pf.projects], [t.id for t in pf.tasks], [p.id for p in pf.pools]
    )
    renamed = scenario_dict(
        pf,
        names(len(pf.projects), "projects"),
        names(len(pf.tasks), "tasks"),
        names(len(pf.pools), "pools"),
    )
    outcomes = [
        simulate_portfolio(
            load_scenario(write_yaml(tmp_path / f"{k}.yaml", d)), 2, seed=11, trace=1
        )
        for k, d in enumerate([plain, renamed])
    ]
    for field in ("finish", "first_start", "trace"):
        np.testing.assert_array_equal(
            getattr(outcomes[0], field), getattr(outcomes[1], field), err_msg=field
        )
    # and the file says what the dataclasses say
    s = run(pf)
    np.testing.assert_array_equal(outcomes[1].trace[:, 2], s.start)
    np.testing.assert_array_equal(outcomes[1].trace[:, 3], s.finish)


# --- 7-9: seeded Monte Carlo runs -----------------------------------------------------------

STOCHASTIC = {
    "scenario": "stochastic",
    "start": "2027-01-04",
    "resources": {
        "dev": {"capacity": 3, "cost_per_day": 500, "changes": [{"at": 30, "capacity": 4}]},
        "qa": {"capacity": 2, "cost_per_day": 400},
    },
    "projects": [
        {
            "id": "crm",
            "priority": 1,
            "deadline": 40,
            "budget": 90000,
            "tasks": [
                {
                    "id": "design",
                    "duration": {"pert": {"low": 3, "mode": 5, "high": 9}},
                    "resources": {"dev": 1},
                },
                {
                    "id": "build",
                    "effort": {"triangular": {"low": 20, "mode": 30, "high": 50}},
                    "resources": {"dev": 2},
                    "after": ["design"],
                },
                {
                    "id": "test",
                    "duration": {"lognormal": {"p10": 3, "p90": 8}},
                    "resources": {"qa": 2},
                    "after": [{"id": "build", "lag": 1}],
                },
            ],
        },
        {
            "id": "web",
            "priority": 2,
            "start": 4,
            "deadline": 35,
            "tasks": [
                {"id": "ux", "duration": {"uniform": {"low": 2, "high": 6}}},
                {
                    "id": "ui",
                    "duration": {"normal": {"mean": 10, "sd": 2}},
                    "resources": {"dev": 2},
                    "after": ["ux"],
                },
                {
                    "id": "check",
                    "duration": {"exponential": {"mean": 2}},
                    "resources": {"qa": 1},
                    "after": ["ui", "crm.design"],
                },
                {"id": "launch", "duration": 1, "after": ["check"]},
            ],
        },
    ],
    "risks": [
        {
            "id": "vendor",
            "probability": 0.3,
            "affects": ["crm.build"],
            "delay": {"triangular": {"low": 2, "mode": 4, "high": 9}},
            "cost": {"uniform": {"low": 1000, "high": 5000}},
        },
        {
            "id": "flu",
            "probability": 0.4,
            "capacity_loss": {
                "pool": "qa",
                "units": 1,
                "at": 5,
                "days": {"uniform": {"low": 2, "high": 6}},
            },
        },
        {
            "id": "scope",
            "probability": 0.5,
            "affects": ["web.*"],
            "delay_percent": {"uniform": {"low": 5, "high": 20}},
        },
    ],
    "correlations": [{"id": "team", "rho": 0.6, "tasks": ["crm.build", "web.ui", "web.ux"]}],
}


@pytest.fixture
def stochastic(tmp_path: Path) -> Path:
    return write_yaml(tmp_path / "stochastic.yaml", STOCHASTIC)


def cli_run(scenario: Path, out: Path, seed: int, jobs: int) -> dict[str, bytes]:
    args = [
        "run",
        str(scenario),
        "--out",
        str(out),
        "--seed",
        str(seed),
        "-n",
        "1200",
        "--trace",
        "3",
        "--jobs",
        str(jobs),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_same_seed_gives_the_same_bytes_whatever_the_number_of_workers(
    stochastic: Path, tmp_path: Path
) -> None:
    first = cli_run(stochastic, tmp_path / "a", 7, jobs=1)
    assert {
        "summary.json",
        "projects.csv",
        "capacity.csv",
        "trace.csv",
        "drivers.csv",
        "report.html",
        "finish-s-curves.png",
    } <= set(first)  # charts included
    assert cli_run(stochastic, tmp_path / "b", 7, jobs=1) == first
    assert cli_run(stochastic, tmp_path / "c", 7, jobs=2) == first
    other = cli_run(stochastic, tmp_path / "d", 8, jobs=1)
    assert other["summary.json"] != first["summary.json"]
    assert other["trace.csv"] != first["trace.csv"]


@pytest.mark.parametrize("seed", [0, 7, 2**63 + 5])
def test_a_shorter_run_is_a_prefix_of_a_longer_one(stochastic: Path, seed: int) -> None:
    pf = load_scenario(stochastic)
    short = simulate_portfolio(pf, 700, seed, trace=3)
    long = simulate_portfolio(pf, 1200, seed, trace=3)
    for field in ("finish", "first_start", "cost", "occurred"):
        np.testing.assert_array_equal(
            getattr(short, field), getattr(long, field)[:700], err_msg=field
        )
    np.testing.assert_array_equal(short.trace, long.trace)
    assert len(np.unique(long.finish[:, 0])) > 100  # really random, across blocks


def _three_point(family: str) -> st.SearchStrategy[dict[str, Any]]:
    points = st.lists(st.integers(0, 20), min_size=3, max_size=3).map(sorted)
    return points.filter(lambda x: x[0] < x[2]).map(
        lambda x: {family: {"low": x[0], "mode": x[1], "high": x[2]}}
    )


DISTRIBUTIONS = st.one_of(
    HALVES,
    st.tuples(HALVES, st.integers(1, 10)).map(
        lambda x: {"uniform": {"low": x[0], "high": x[0] + x[1]}}
    ),
    _three_point("triangular"),
    _three_point("pert"),
    st.tuples(st.integers(1, 5), st.integers(1, 10)).map(
        lambda x: {"lognormal": {"p10": x[0], "p90": x[0] + x[1]}}
    ),
    st.integers(1, 8).map(lambda m: {"exponential": {"mean": m}}),
)


@st.composite
def free_networks(draw: st.DrawFn) -> dict[str, Any]:
    """A scenario without pools: random durations, links, a risk and a correlation group."""
    keys: list[str] = []
    projects = []
    for k in range(draw(st.integers(1, 3))):
        tasks = []
        for i in range(draw(st.integers(1, 4))):
            after = draw(st.lists(st.sampled_from(keys), max_size=2, unique=True)) if keys else []
            tasks.append({"id": f"t{i}", "duration": draw(DISTRIBUTIONS), "after": after})
            keys.append(f"p{k}.t{i}")
        projects.append({"id": f"p{k}", "start": draw(st.integers(0, 5)), "tasks": tasks})
    group = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=4, unique=True))
    return {
        "scenario": "free",
        "projects": projects,
        "risks": [
            {
                "id": "late",
                "probability": draw(st.sampled_from([0.2, 0.5, 1.0])),
                "affects": [draw(st.sampled_from(keys))],
                "delay": {"uniform": {"low": 1, "high": 9}},
            }
        ],
        "correlations": [{"id": "g", "rho": draw(st.sampled_from([0.3, 0.9])), "tasks": group}],
    }


@settings(SCENARIO_IO, max_examples=15)
@given(free_networks(), st.data())
def test_an_added_task_changes_no_other_task_sample(
    tmp_path: Path, spec: dict[str, Any], data: st.DataObject
) -> None:
    """Common random numbers: a new task anywhere in the file (a new project or an existing
    one, possibly after existing tasks) leaves every existing task's draws, and so its
    schedule, as they were, in both the first and the second block of iterations."""
    keys = [f"{p['id']}.{t['id']}" for p in spec["projects"] for t in p["tasks"]]
    extra = {
        "id": "extra",
        "duration": data.draw(DISTRIBUTIONS, label="extra"),
        "after": data.draw(st.lists(st.sampled_from(keys), max_size=2), label="after"),
    }
    bigger = yaml.safe_load(yaml.safe_dump(spec))
    where = data.draw(st.integers(0, len(bigger["projects"])), label="project")
    if data.draw(st.booleans(), label="new project") or where == len(bigger["projects"]):
        bigger["projects"].insert(where, {"id": "new", "tasks": [extra]})
    else:
        tasks = bigger["projects"][where]["tasks"]
        tasks.insert(data.draw(st.integers(0, len(tasks)), label="position"), extra)
    n = BLOCK_SIZE + 5
    runs = []
    for name, s in (("base", spec), ("bigger", bigger)):
        pf = load_scenario(write_yaml(tmp_path / f"{name}.yaml", s))
        out = simulate_portfolio(pf, n, seed=3, trace=n)
        index = {t.key: i for i, t in enumerate(pf.tasks)}
        rows = out.trace.reshape(n, len(pf.tasks), 4)
        runs.append((rows[:, [index[k] for k in keys], 2:], out.occurred))
    (before, hit_before), (after, hit_after) = runs
    np.testing.assert_array_equal(hit_before, hit_after)
    np.testing.assert_array_equal(after, before)
