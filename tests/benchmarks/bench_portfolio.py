"""pmosim's performance benchmark: engines against each other and against the floor, end to
end timing and memory, and scaling in tasks and iterations. Prints markdown tables.

Run (not part of the default test run)::

    .venv/bin/python tests/benchmarks/bench_portfolio.py            # the full set, ~2 minutes
    .venv/bin/python -m pytest -m benchmark tests/benchmarks -s

All figures are measured in the same run on the same machine, so the ratios compare like
with like. The portfolio is ``synthetic.py``'s: 20 projects, 5 pools, 20 risks (a quarter
of them capacity losses), cross-project dependencies, PERT durations, pools sized to a
90 % load.

* simpy: the reference engine, one iteration at a time (a few iterations suffice);
* fast: the compiled engine over whole blocks;
* floor: what no engine can beat: sampling the same inputs plus an unconstrained
  critical-path pass vectorised over iterations (resources ignored).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from simulator.engine import pack_capacity, simulate, simulate_batch
from simulator.model import Portfolio, topological_order
from simulator.montecarlo import simulate_portfolio
from simulator.sampling import BLOCK_SIZE, BlockSample, sample_block
from simulator.scenario import load_scenario

sys.path.insert(0, str(Path(__file__).parent))
from synthetic import write_synthetic

PMOSIM = Path(sys.executable).with_name("pmosim")


def _time(run: Callable[[], object], repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return float(best)


def critical_path(pf: Portfolio, sample: BlockSample) -> np.ndarray:
    """Unconstrained finish of every task in every iteration, vectorised over iterations."""
    d = sample.duration
    finish = np.empty_like(d)
    release = pf.network.release
    for i in topological_order(pf.tasks):
        start = np.full(len(d), release[i])
        for j, lag, *_ in pf.tasks[i].preds:  # finish-to-start links in working days
            np.maximum(start, finish[:, j] + lag, out=start)
        finish[:, i] = start + d[:, i]
    return finish


def engines(path: Path, simpy_iterations: int = 10) -> dict[str, float]:
    """Seconds per iteration: sampling, simpy, fast, critical-path pass; one block."""
    pf = load_scenario(path)
    net = pf.network
    sample = sample_block(pf, 1, 0, BLOCK_SIZE)
    packed = pack_capacity(sample.capacity)
    simulate_batch(net, sample.duration[:2], *pack_capacity(sample.capacity[:2]))  # compile
    t_sample = _time(lambda: sample_block(pf, 1, 0, BLOCK_SIZE)) / BLOCK_SIZE
    t_fast = _time(lambda: simulate_batch(net, sample.duration, *packed)) / BLOCK_SIZE
    t_cp = _time(lambda: critical_path(pf, sample)) / BLOCK_SIZE

    def reference() -> None:
        for it in range(simpy_iterations):
            simulate(net, sample.duration[it], sample.capacity[it])

    t_simpy = _time(reference, repeat=1) / simpy_iterations
    start, finish, _ = simulate_batch(
        net, sample.duration[:simpy_iterations], *pack_capacity(sample.capacity[:simpy_iterations])
    )
    for it in range(simpy_iterations):  # the speed is only worth reporting if they agree
        ref = simulate(net, sample.duration[it], sample.capacity[it])
        assert np.array_equal(ref.start, start[it])
        assert np.array_equal(ref.finish, finish[it])
    return {"sample": t_sample, "simpy": t_simpy, "fast": t_fast, "cp": t_cp}


def end_to_end(
    path: Path, iterations: int, jobs: int = 2, repeat: int = 3
) -> tuple[list[float], float]:
    """Wall seconds of ``repeat`` runs of ``pmosim run``, each in a fresh process, and the
    peak memory (MiB) of the largest child process so far."""
    walls = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            subprocess.run(
                [
                    str(PMOSIM),
                    "run",
                    str(path),
                    "-n",
                    str(iterations),
                    "--seed",
                    "1",
                    "--jobs",
                    str(jobs),
                    "--no-risk-drivers",
                    "--no-report",
                    "-q",
                    "--out",
                    str(Path(tmp) / "out"),
                ],
                check=True,
                capture_output=True,
            )
            walls.append(time.perf_counter() - t0)
    return walls, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def in_process(path: Path, iterations: int, jobs: int = 2) -> float:
    pf = load_scenario(path)
    simulate_portfolio(pf, BLOCK_SIZE, 1, jobs=1)  # compile and warm up
    return _time(lambda: simulate_portfolio(pf, iterations, 1, jobs=jobs), repeat=1)


def report(out: Callable[[str], None] = print) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = write_synthetic(folder / "p20x1000.yaml", projects=20, tasks=1000)
        e = engines(base)
        floor = e["sample"] + e["cp"]
        out("### Engines, 20 projects x 1,000 tasks, 5 pools, 20 risks (ms per iteration)\n")
        out("| stage | ms/iteration | ratio |")
        out("|---|---:|---:|")
        out(f"| sampling | {e['sample'] * 1e3:.3f} | |")
        out(
            f"| simpy engine | {e['simpy'] * 1e3:.2f} | {e['simpy'] / e['fast']:.0f}x the "
            "fast engine |"
        )
        out(f"| fast engine | {e['fast'] * 1e3:.3f} | 1 |")
        out(f"| critical-path pass | {e['cp'] * 1e3:.3f} | |")
        out(f"| floor (sampling + critical path) | {floor * 1e3:.3f} | 1 |")
        out(
            f"| sampling + fast engine | {(e['sample'] + e['fast']) * 1e3:.3f} | "
            f"{(e['sample'] + e['fast']) / floor:.1f}x the floor |"
        )
        walls, peak = end_to_end(base, 10_000)
        out(
            "\n### End to end: `pmosim run --no-risk-drivers --no-report` (start-up, load, "
            "sample, simulate, summarise, criticality, checkpoint, write), 10,000 "
            "iterations, --jobs 2, three runs\n"
        )
        out(
            f"{np.median(walls):.2f} s wall (median; {min(walls):.2f}-{max(walls):.2f} s), "
            f"peak memory {peak:.0f} MiB\n"
        )
        out("### Scaling (in-process `simulate_portfolio`, --jobs 2)\n")
        out("| tasks | iterations | seconds | ms per 1,000 task-iterations |")
        out("|---:|---:|---:|---:|")
        for tasks in (250, 1000, 4000):
            path = write_synthetic(folder / f"s{tasks}.yaml", projects=20, tasks=tasks)
            t = in_process(path, 2000)
            out(f"| {tasks:,} | 2,000 | {t:.2f} | {t / (tasks * 2000) * 1e6:.3f} |")
        for iterations in (2500, 5000, 10_000):
            t = in_process(base, iterations)
            out(f"| 1,000 | {iterations:,} | {t:.2f} | {t / (1000 * iterations) * 1e6:.3f} |")


@pytest.mark.benchmark
def test_benchmark() -> None:
    report()


if __name__ == "__main__":
    report()
