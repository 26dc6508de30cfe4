"""Drivers: the chain that drove each finish, criticality indices, duration-finish
correlations and risk contributions, against hand computation and theory."""

from __future__ import annotations

import math
import sys
import textwrap
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simulator.analysis import correlation, risk_effects
from simulator.analysis import criticality as criticality_of
from simulator.cli import cli
from simulator.engine import (
    CAPACITY,
    RELEASE,
    ChainCounts,
    chain_counts,
    chains,
    pack_capacity,
    simulate_batch,
)
from simulator.model import Mitigate, Portfolio, Variant, apply_variant
from simulator.montecarlo import Backend, DriverSums, simulate_portfolio, without_each_risk
from simulator.output import drivers_frame
from simulator.sampling import sample_block
from simulator.scenario import load_scenario

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "portfolio-2027.yaml"
sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
from synthetic import write_synthetic  # noqa: E402


def load(tmp_path: Path, text: str) -> Portfolio:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text))
    return load_scenario(path)


def criticality(pf: Portfolio, n: int, seed: int = 1) -> dict[tuple[str, str], float]:
    """Every (project, task) pair's criticality; a pair the run did not keep is 0."""
    sums = simulate_portfolio(pf, n, seed).drivers
    kept = dict(zip(sums.key.tolist(), criticality_of(sums).tolist(), strict=True))
    return {
        (p.id, t.key): kept.get(k * len(pf.tasks) + i, 0.0)
        for k, p in enumerate(pf.projects)
        for i, t in enumerate(pf.tasks)
    }


def pair_correlation(sums: DriverSums, project: int, task: int) -> float:
    (at,) = np.nonzero(sums.key == project * sums.tasks + task)[0]
    return float(correlation(sums)[at])


def test_a_resource_wait_puts_the_holder_on_the_chain(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        """
        resources: {R: {capacity: 1}}
        projects:
          - {id: a, priority: 1, tasks: [{id: x, duration: 4, resources: {R: 1}}]}
          - id: b
            priority: 2
            tasks:
              - {id: y, duration: 2, resources: {R: 1}}
              - {id: z, duration: 1, after: [y]}
    """,
    )
    c = criticality(pf, 10)
    # b.z <- b.y (ready at 0, started at 4 when a.x released R) <- a.x (started at release)
    assert c[("b", "b.z")] == c[("b", "b.y")] == c[("b", "a.x")] == 1.0
    assert c[("a", "a.x")] == 1.0
    assert c[("a", "b.y")] == 0.0


def test_the_last_firing_predecessor_drives_a_merge(tmp_path: Path) -> None:
    """c follows a ~ U(0, 10) and b = 5: a drives c exactly when a > 5, probability 1/2."""
    pf = load(
        tmp_path,
        """
        projects:
          - id: p
            tasks:
              - {id: a, duration: {uniform: {low: 0, high: 10}}}
              - {id: b, duration: 5}
              - {id: c, duration: 1, after: [a, b]}
    """,
    )
    n = 4000
    c = criticality(pf, n)
    assert abs(c[("p", "p.a")] - 0.5) < 4 * np.sqrt(0.25 / n)
    assert c[("p", "p.a")] + c[("p", "p.b")] == 1.0
    assert c[("p", "p.c")] == 1.0


def test_engines_agree_on_the_drivers() -> None:
    pf = load_scenario(EXAMPLE)
    fast = simulate_portfolio(pf, 40, 9, engine="fast").drivers
    ref = simulate_portfolio(pf, 40, 9, engine="simpy").drivers
    assert np.array_equal(fast.key, ref.key)
    assert np.array_equal(fast.critical, ref.critical)
    assert np.array_equal(fast.sum_df, ref.sum_df)


def test_correlation_of_a_task_with_its_project_finish(tmp_path: Path) -> None:
    """finish = a + b with a ~ U(0, 10), b ~ U(0, 20) independent: corr(a, finish) is
    sd_a / sqrt(sd_a^2 + sd_b^2) = 1/sqrt(5); the estimate's s.e. is about (1 - r^2)/sqrt(n)."""
    pf = load(
        tmp_path,
        """
        projects:
          - id: p
            tasks:
              - {id: a, duration: {uniform: {low: 0, high: 10}}}
              - {id: b, duration: {uniform: {low: 0, high: 20}}, after: [a]}
    """,
    )
    n = 5000
    sums = simulate_portfolio(pf, n, 4).drivers
    r = 1 / np.sqrt(5)
    assert abs(pair_correlation(sums, 0, 0) - r) < 4 * (1 - r * r) / np.sqrt(n)
    assert abs(pair_correlation(sums, 0, 1) - 2 * r) < 4 * (1 - 4 * r * r) / np.sqrt(n)
    # the same sums, independently: numpy's correlation of the traced durations
    out = simulate_portfolio(pf, 1000, 4, trace=1000)
    tr = out.trace
    a = tr[tr[:, 1] == 0][:, 3] - tr[tr[:, 1] == 0][:, 2]
    expected = np.corrcoef(a, out.finish[:, 0])[0, 1]
    assert abs(pair_correlation(out.drivers, 0, 0) - expected) < 1e-9


def test_risk_contribution_is_the_change_with_the_risk_switched_off(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        """
        projects:
          - {id: p, tasks: [{id: a, duration: 10}]}
        risks:
          - {id: r, probability: 0.5, affects: [p.a], delay: 5, cost: 1000}
    """,
    )
    base = simulate_portfolio(pf, 1000, 2)
    (effect,) = risk_effects(pf, base, 2)
    assert effect["p80_finish_change"] == -5.0  # P80 of {10, 15} w.p. 1/2 each is 15
    assert effect["mean_cost_change"] == -1000 * float(np.mean(base.occurred[:, 0]))


@pytest.mark.parametrize(
    "scenario", ["portfolio-2027.yaml", "portfolio-2027-status.yaml", "plant-upgrade.yaml"]
)
def test_each_risk_switched_off_equals_a_full_run_of_the_variant_without_it(
    scenario: str,
) -> None:
    """The contributions re-simulate only the iterations where a risk occurred, from
    draws shared by all risks; a full run of each variant that mitigates one risk's
    probability to 0 (an independent path: its own sampling, every iteration) must give
    the same finishes and costs, bit for bit: delay, percent-delay, cost and capacity-loss
    risks, work in progress, several blocks and a partial one."""
    pf = load_scenario(EXAMPLE.parent / scenario)
    seed, n = 5, 1_100
    base = simulate_portfolio(pf, n, seed)
    without = list(without_each_risk(pf, base, seed, backend=Backend(jobs=2)))
    assert len(without) == len(pf.risks) >= 2
    for k, (finish, cost) in enumerate(without):
        off = apply_variant(pf, Variant("off", mitigate={k: Mitigate(0.0, None, 0.0, ())}))
        full = simulate_portfolio(off, n, seed)
        assert np.array_equal(finish, full.finish), pf.risks[k].id
        assert np.array_equal(cost, full.cost), pf.risks[k].id
        assert not base.occurred[:, k].all()  # some iterations are not simulated again
        assert np.array_equal(finish[~base.occurred[:, k]], base.finish[~base.occurred[:, k]])


def test_a_risk_that_only_costs_money_is_not_simulated_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A risk with a cost and no delay (or a delay only on work already complete) runs the
    base's schedule when switched off: no iteration is simulated again, and the finishes
    and costs are still those of a full run of the variant without it (an independent
    path), overhead over each project's span included."""
    from simulator.montecarlo import switched_off

    pf = load(
        tmp_path,
        """
        start: 2027-01-04
        resources: {dev: {capacity: 1, cost_per_day: 400}}
        projects:
          - id: p
            overhead_per_day: 150
            tasks:
              - {id: a, duration: {uniform: {low: 2, high: 9}}, resources: {dev: 1}}
              - {id: b, duration: {triangular: {low: 1, mode: 3, high: 8}}, after: [a]}
          - id: q
            start: 2027-01-11
            tasks:
              - {id: c, duration: {uniform: {low: 1, high: 6}}, resources: {dev: 1}}
        risks:
          - {id: fee, probability: 0.4, affects: [p.a], cost: {uniform: {low: 500, high: 900}}}
          - {id: late, probability: 0.3, affects: [q.c], delay: 2}
    """,
    )
    seed, n = 8, 700
    base = simulate_portfolio(pf, n, seed)
    simulated: list[int] = []
    real, forked = switched_off.schedules, switched_off.simulate_forks
    monkeypatch.setattr(
        switched_off,
        "schedules",
        lambda pf, s, *a: simulated.append(len(s.duration)) or real(pf, s, *a),
    )
    monkeypatch.setattr(  # the delay's iterations run from the base's state at its fork
        switched_off,
        "simulate_forks",
        lambda net, d, e, f, **k: simulated.append(len(f.base)) or forked(net, d, e, f, **k),
    )
    without = list(without_each_risk(pf, base, seed))
    assert sum(simulated) == int(base.occurred[:, 1].sum())  # only the delay's iterations
    for k, (finish, cost) in enumerate(without):
        off = apply_variant(pf, Variant("off", mitigate={k: Mitigate(0.0, None, 0.0, ())}))
        full = simulate_portfolio(off, n, seed)
        assert np.array_equal(finish, full.finish), pf.risks[k].id
        assert np.array_equal(cost, full.cost), pf.risks[k].id
    assert np.array_equal(without[0][0], base.finish)
    assert (without[0][1][:, 0] < base.cost[:, 0])[base.occurred[:, 0]].all()


def test_a_risk_that_did_not_occur_in_the_measured_iterations_changes_nothing() -> None:
    """--risk-iterations smaller than a block: a risk that occurred in none of the first
    iterations is not simulated again (it used to fail the run) and its run without it is
    the base, while every other risk's equals a full run of its mitigated variant."""
    pf = load_scenario(EXAMPLE)
    seed, n = 11, 50
    base = simulate_portfolio(pf, n, seed)
    m = next(m for m in range(1, n + 1) if not base.occurred[:m].any(axis=0).all())
    absent = np.flatnonzero(~base.occurred[:m].any(axis=0))
    assert 0 < len(absent) < len(pf.risks)
    without = list(without_each_risk(pf, base, seed, iterations=m))
    for k, (finish, cost) in enumerate(without):
        off = apply_variant(pf, Variant("off", mitigate={k: Mitigate(0.0, None, 0.0, ())}))
        full = simulate_portfolio(off, n, seed)
        assert np.array_equal(finish, full.finish[:m]), pf.risks[k].id
        assert np.array_equal(cost, full.cost[:m]), pf.risks[k].id
        if k in absent:
            assert np.array_equal(finish, base.finish[:m])


def test_risk_contributions_on_the_first_iterations_match_full_runs_cut_there() -> None:
    """--risk-iterations: the P80 and mean-cost changes over the run's first 600 iterations
    (one whole block and part of the next) are those of full runs of each mitigated
    variant cut at 600, against the base cut at 600."""
    pf = load_scenario(EXAMPLE)
    seed, n, m = 3, 1_100, 600
    base = simulate_portfolio(pf, n, seed)
    effects = risk_effects(pf, base, seed, iterations=m)
    assert len(effects) == len(pf.risks) * len(pf.projects)
    for k, risk in enumerate(pf.risks):
        off = apply_variant(pf, Variant("off", mitigate={k: Mitigate(0.0, None, 0.0, ())}))
        full = simulate_portfolio(off, n, seed)
        cost = full.cost[:m].mean(axis=0) - base.cost[:m].mean(axis=0)
        # the README's P80: the smallest simulated value with 80 % at or below it
        p80_base = np.sort(base.finish[:m], axis=0)[math.ceil(0.8 * m) - 1]
        p80_off = np.sort(full.finish[:m], axis=0)[math.ceil(0.8 * m) - 1]
        for pk, p in enumerate(pf.projects):
            (row,) = [e for e in effects if e["risk"] == risk.id and e["project"] == p.id]
            assert row["mean_cost_change"] == cost[pk]
            # undated p80s are working days already; dated ones go through the calendar
            if pf.calendar.start is None:
                assert row["p80_finish_change"] == p80_off[pk] - p80_base[pk]
            else:
                assert np.sign(row["p80_finish_change"]) == np.sign(p80_off[pk] - p80_base[pk])


def test_run_writes_drivers_and_prints_the_top_ones(tmp_path: Path) -> None:
    out = tmp_path / "r"
    result = CliRunner().invoke(cli, ["run", str(EXAMPLE), "-n", "500", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Top drivers" in result.output
    frame = pd.read_csv(out / "drivers.csv")
    assert set(frame["kind"]) == {"task", "risk"}
    pf = load_scenario(EXAMPLE)
    assert set(frame.loc[frame["kind"] == "risk", "driver"]) == {r.id for r in pf.risks}
    crm = frame[(frame["project"] == "crm") & (frame["kind"] == "task")]
    assert crm["criticality"].is_monotonic_decreasing
    assert (crm["criticality"].between(0, 1)).all()


def test_drivers_frame_lists_exactly_the_tasks_ever_on_a_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """drivers.csv is sparse: a row per (project, task) on that project's chain in at least
    one iteration, with the definition's share of iterations, and no other task row (here
    with room for every other project's task: the cap has its own test)."""
    monkeypatch.setattr(chains, "OTHERS", 10**6)
    pf = load_scenario(EXAMPLE)
    n = 200  # one block: the run's schedules are block 0's, recomputed here independently
    frame = drivers_frame(pf, simulate_portfolio(pf, n, 1).drivers)
    sample = sample_block(pf, 1, 0, n)
    start, finish, ready = simulate_batch(
        pf.network, sample.duration, *pack_capacity(sample.capacity)
    )
    counts = chains_by_definition(pf, start, finish, ready)
    expected = {
        (p.id, pf.tasks[i].key): counts[k, i] / n
        for k, p in enumerate(pf.projects)
        for i in np.flatnonzero(counts[k])
    }
    tasks = frame[frame["kind"] == "task"]
    pairs = zip(tasks["project"], tasks["driver"], strict=True)
    listed = dict(zip(pairs, tasks["criticality"], strict=True))
    assert listed == expected
    assert len(expected) < len(pf.projects) * len(pf.tasks)  # some pairs are never on a chain


def dense(counts: ChainCounts, pf: Portfolio) -> np.ndarray:
    """Sparse chain counts as a (projects, tasks) table."""
    out = np.zeros((len(pf.projects), len(pf.tasks)), dtype=np.int64)
    out.ravel()[counts.key] = counts.hits
    return out


def chains_by_definition(
    pf: Portfolio, start: np.ndarray, finish: np.ndarray, ready: np.ndarray
) -> np.ndarray:
    """The module docstring's driving chains, written the plain way: every driver looked up
    by scanning all tasks."""
    net = pf.network
    pools = [set(np.flatnonzero(net.demand[i] > 0)) for i in range(net.n_tasks)]
    counts = np.zeros((len(pf.projects), net.n_tasks), dtype=np.int64)
    for s, f, r in zip(start, finish, ready, strict=True):

        def driver(i: int, s: np.ndarray = s, f: np.ndarray = f, r: np.ndarray = r) -> int:
            if s[i] > r[i]:
                freed = [
                    k for k in range(net.n_tasks) if k != i and f[k] == s[i] and pools[k] & pools[i]
                ]
                return min(freed) if freed else CAPACITY
            best, when = RELEASE, net.release[i]
            for e in range(net.pred_ptr[i], net.pred_ptr[i + 1]):
                j, fired = int(net.pred_idx[e]), f[net.pred_idx[e]] + net.pred_lag[e]
                if fired > when or (fired == when and (best < 0 or j < best)):
                    best, when = j, fired
            return best

        for k, project in enumerate(pf.projects):
            i = min(project.tasks, key=lambda t: (-f[t], t))  # last to finish, lowest number
            chain: set[int] = set()
            while i >= 0 and i not in chain:
                chain.add(i)
                i = driver(i)
            counts[k, sorted(chain)] += 1
    return counts


def crowded(tmp_path: Path) -> tuple[Portfolio, np.ndarray, tuple[np.ndarray, ...]]:
    """A 120-task portfolio of 6 projects on pools a third of what is asked, with whole-day
    durations and a tenth of them zero: its durations and schedules of 40 iterations."""
    pf = load_scenario(
        write_synthetic(tmp_path / "s.yaml", projects=6, tasks=120, pools=3, risks=4, load=3)
    )
    sample = sample_block(pf, 5, 0, 40)
    rng = np.random.default_rng(9)
    d = np.round(sample.duration)
    d[rng.random(d.shape) < 0.1] = 0.0
    return pf, d, simulate_batch(pf.network, d, *pack_capacity(sample.capacity))


@pytest.mark.parametrize("group_cells", [chains.GROUP_CELLS, 1, 500, 1000])
def test_driving_chains_match_their_definition_on_crowded_schedules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, group_cells: int
) -> None:
    """Whole days and a tenth of zero durations make many tasks finish at the same instant
    (ties between releasers, a zero-length task released by itself): the compiled chains
    must still be the definition's (with room for every other project's task), whether
    the other projects' tasks on the chains are listed for all projects at once, or each
    project's are counted walk by walk, or both (the projects pass 185-747 such tasks in
    all: with room for 1,000 they go in groups of one or two, with room for 500 some go
    alone, with room for one all do)."""
    monkeypatch.setattr(chains, "OTHERS", 10**6)
    monkeypatch.setattr(chains, "GROUP_CELLS", group_cells)
    pf, d, (start, finish, ready) = crowded(tmp_path)
    assert (start > ready).mean() > 0.2  # many tasks waited for units
    expected = chains_by_definition(pf, start, finish, ready)
    np.testing.assert_array_equal(
        dense(chain_counts(pf.network, pf, start, finish, ready, d), pf), expected
    )
    example = load_scenario(EXAMPLE)
    sample = sample_block(example, 3, 0, 60)
    start, finish, ready = simulate_batch(
        example.network, sample.duration, *pack_capacity(sample.capacity)
    )
    np.testing.assert_array_equal(
        dense(
            chain_counts(example.network, example, start, finish, ready, sample.duration), example
        ),
        chains_by_definition(example, start, finish, ready),
    )


@pytest.mark.parametrize("group_cells", [chains.GROUP_CELLS, 1])  # listed, or walk by walk
def test_chains_keep_own_tasks_and_the_other_tasks_most_often_on_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, group_cells: int
) -> None:
    """With room for three other projects' tasks per project: every own task that was ever
    on the project's chain, and the three other tasks most often on it (the lowest-numbered
    on a tie, which here decides for two projects), with the definition's counts, the
    projects listed at once or counted walk by walk."""
    monkeypatch.setattr(chains, "OTHERS", 3)
    monkeypatch.setattr(chains, "GROUP_CELLS", group_cells)
    pf, d, (start, finish, ready) = crowded(tmp_path)
    counts = chains_by_definition(pf, start, finish, ready)
    expected = np.zeros_like(counts)
    ties = 0
    for k, project in enumerate(pf.projects):
        own = sorted(project.tasks)
        expected[k, own] = counts[k, own]
        others = sorted(
            (i for i in np.flatnonzero(counts[k]) if i not in set(own)),
            key=lambda i: (-counts[k, i], i),
        )
        expected[k, others[:3]] = counts[k, others[:3]]
        assert len(others) > 3  # the cap applies: each project passes others' tasks
        ties += counts[k, others[2]] == counts[k, others[3]]
    assert ties == 2  # the third and fourth most often tie: the task's number decides
    got = dense(chain_counts(pf.network, pf, start, finish, ready, d), pf)
    np.testing.assert_array_equal(got, expected)


def test_ten_thousand_one_task_projects_run_in_bounded_memory(tmp_path: Path) -> None:
    """10,000 one-task projects queueing on one pool put thousands of other projects' tasks
    on every chain: driver statistics must stay sparse (a dense projects x tasks table is
    800 MB), and drivers.csv lists a bounded number of tasks per project."""
    lines = ["scenario: many", "resources: {dev: {capacity: 50}}", "projects:"]
    lines += [
        f"  - {{id: p{k}, deadline: 30, tasks: [{{id: t, duration: "
        "{triangular: {low: 2, mode: 4, high: 9}}, resources: {dev: 1}}]}"
        for k in range(10_000)
    ]
    path = tmp_path / "many.yaml"
    path.write_text("\n".join(lines) + "\n")
    pf = load_scenario(path)
    tracemalloc.start()
    try:
        out = simulate_portfolio(pf, 10, 1)
        frame = drivers_frame(pf, out.drivers)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 150 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    per_project = frame[frame["kind"] == "task"].groupby("project").size()
    assert per_project.max() <= 1 + chains.OTHERS
    assert per_project.min() >= 1  # its own task is on its chain


def test_a_risk_s_p80_change_uses_the_run_s_percentile(tmp_path: Path) -> None:
    """The days a risk adds at P80 are a difference of P80s as every table reports them
    (the smallest simulated value with 80 % at or below it), not of numpy's interpolated
    quantile: undated, so the change is in the finish's own units."""
    pf = load(
        tmp_path,
        """
        projects:
          - id: p
            tasks: [{id: a, duration: {uniform: {low: 10, high: 20}}}]
        risks:
          - {id: r, probability: 0.5, affects: [p.a], delay: 5}
        """,
    )
    n = 50  # 0.8 n = 40: the two definitions differ between the 40th and 41st values
    base = simulate_portfolio(pf, n, 9)
    (row,) = risk_effects(pf, base, 9)
    off = apply_variant(pf, Variant("off", mitigate={0: Mitigate(0.0, None, 0.0, ())}))
    full = simulate_portfolio(off, n, 9)
    k = math.ceil(0.8 * n) - 1
    expected = np.sort(full.finish[:, 0])[k] - np.sort(base.finish[:, 0])[k]
    assert row["p80_finish_change"] == pytest.approx(expected, abs=1e-9)
    linear = np.quantile(full.finish[:, 0], 0.8) - np.quantile(base.finish[:, 0], 0.8)
    assert abs(linear - expected) > 1e-6  # the case tells the two apart
