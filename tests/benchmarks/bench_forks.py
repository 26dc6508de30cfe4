"""The risk contributions' re-runs: each iteration in which a risk that only delays occurred,
run again without it, whole (from the start) against forked (from the base run's state at
the first start that reads a duration the risk delays; ``simulate_forks``). The same
variants both ways, as the risk phase builds them, alternately in one process, checked byte
for byte; on the 200-project benchmark portfolio and on the example. Prints a markdown
table.

Run (not part of the default test run)::

    .venv/bin/python tests/benchmarks/bench_forks.py [--iterations N] [--repeat K]
    .venv/bin/python -m pytest -m benchmark tests/benchmarks/bench_forks.py -s
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from simulator.engine import CapacityArrays, Forks, pack_capacity, simulate_batch, simulate_forks
from simulator.model import Portfolio
from simulator.montecarlo import fork_times
from simulator.sampling import block_sizes, delays_left, draw_block, risk_amounts, with_risks
from simulator.scenario import load_scenario

sys.path.insert(0, str(Path(__file__).parent))
from synthetic import example_and_enterprise

Array = NDArray[np.float64]


def _variants(
    pf: Portfolio, n: int
) -> tuple[tuple[Array, CapacityArrays, Forks], tuple[Array, CapacityArrays]]:
    """Block 0's first ``n`` iterations, and each iteration without each risk that only
    delays and occurred in it: forked (the base's durations and capacity, and the forks),
    and whole (each variant's durations and capacity)."""
    draws = draw_block(pf, 1, 0)
    size = block_sizes(pf, draws, n, consume=True)
    amounts = risk_amounts(pf, draws, n)
    variants = []
    for r, risk in enumerate(pf.risks):
        tasks = np.array(delays_left(pf, r), dtype=np.int64)
        rows = np.flatnonzero(amounts.occurred[r][:n])
        if risk.loss is None and tasks.size and rows.size:
            v = with_risks(pf, size[rows], draws, rows, off=r, amounts=amounts)
            variants += [(r, int(row), tasks, v.duration[j]) for j, row in enumerate(rows)]
    base = with_risks(pf, size, draws, np.arange(n), amounts=amounts)
    packed = pack_capacity(base.capacity)
    fork = fork_times(pf, simulate_batch(pf.network, base.duration, *packed)[0])
    forks = Forks(
        np.array([row for _, row, _, _ in variants], dtype=np.int64),
        np.array([fork[row, r] for r, row, _, _ in variants]),
        np.cumsum([0, *(t.size for _, _, t, _ in variants)]),
        np.concatenate([t for _, _, t, _ in variants]),
        np.concatenate([d[t] for _, _, t, d in variants]),
    )
    whole = np.array([d for _, _, _, d in variants])
    return (base.duration, packed, forks), (
        whole,
        pack_capacity([base.capacity[b] for b in forks.base]),
    )


def _times(pf: Portfolio, n: int, repeat: int) -> tuple[int, list[float], list[float]]:
    """How many variants; the whole and the forked runs' seconds, ``repeat`` times each,
    alternately (after one of each, untimed); asserts the same schedules."""
    (d, packed, forks), (whole, events) = _variants(pf, n)
    runs: tuple[list[float], list[float]] = ([], [])
    for k in range(repeat + 1):
        t = time.perf_counter()
        a = simulate_batch(pf.network, whole, *events)
        t1 = time.perf_counter()
        b = simulate_forks(pf.network, d, packed, forks)
        t2 = time.perf_counter()
        assert all(x.tobytes() == y.tobytes() for x, y in zip(a, b, strict=True))
        if k:
            runs[0].append(t1 - t)
            runs[1].append(t2 - t1)
    return len(whole), runs[0], runs[1]


def report(iterations: int, repeat: int, out: Callable[[str], None] = print) -> None:
    out(
        f"### Risk contributions' re-runs, {iterations:,} iterations: whole against forked "
        f"({repeat} runs each, alternately; the same schedules)\n"
    )
    out("| portfolio | re-runs | whole: s | forked: s | ratio (median) |")
    out("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in example_and_enterprise(Path(tmp)):
            count, whole, forked = _times(load_scenario(path), iterations, repeat)
            ratio = statistics.median(forked) / statistics.median(whole)
            out(
                f"| {name} | {count:,} | {min(whole):.2f}-{max(whole):.2f} | "
                f"{min(forked):.2f}-{max(forked):.2f} | {ratio:.2f} |"
            )


@pytest.mark.benchmark
def test_benchmark_forks() -> None:
    report(100, 2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=500, help="at most 500: one block")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    report(min(args.iterations, 500), args.repeat)
