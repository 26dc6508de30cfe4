"""The run report's speed: drawn by this process alone, against drawn with a second process
(``--jobs 2`` or more), which a run starts with the simulation so that its imports are done
by the time the report needs it. Both in one process, alternately, on the example and on the
200-project benchmark portfolio; the two reports are checked byte for byte. Prints a
markdown table.

Run (not part of the default test run)::

    .venv/bin/python tests/benchmarks/bench_report.py [--iterations N] [--repeat K]
    .venv/bin/python -m pytest -m benchmark tests/benchmarks/bench_report.py -s
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from simulator.analysis import risk_effects, summarise
from simulator.montecarlo import Backend, simulate_portfolio
from simulator.output import drivers_frame, second_process
from simulator.output.report import write_run_report
from simulator.scenario import load_scenario

sys.path.insert(0, str(Path(__file__).parent))
from synthetic import example_and_enterprise

WARM_UP = 5.0  # seconds given to the second process's imports, as a run's simulation does


def _cpu() -> float:
    """CPU seconds of this process and of its ended children."""
    own, ended = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + ended.ru_utime + ended.ru_stime


def _times(path: Path, iterations: int, repeat: int) -> dict[int, list[tuple[float, float]]]:
    """Per worker count (1, 2): the report's wall seconds and CPU seconds, ``repeat`` times
    each, alternately; asserts the two reports are the same bytes."""
    pf = load_scenario(path)
    out = simulate_portfolio(pf, iterations, 1, backend=Backend("local", 2))
    effects = risk_effects(pf, out, 1, None, min(iterations, 500), backend=Backend("local", 2))
    summary = summarise(pf, out, seed=1)
    drivers = drivers_frame(pf, out.drivers, effects)
    runs: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    written: dict[int, list[tuple[str, bytes]]] = {}
    for _ in range(repeat):
        for workers in (1, 2):
            folder = Path(tempfile.mkdtemp())
            cpu = _cpu()
            with second_process(workers, warm="simulator.output.charts") as pool:
                time.sleep(WARM_UP if pool is not None else 0.0)
                t0 = time.perf_counter()
                write_run_report(folder, pf, out, summary, drivers, pool=pool)
                wall = time.perf_counter() - t0
            runs[workers].append((wall, _cpu() - cpu))  # the process's CPU once it ended
            written[workers] = sorted((p.name, p.read_bytes()) for p in folder.iterdir())
    assert written[1] == written[2], "the two reports differ"
    return runs


def report(iterations: int, repeat: int, out: Callable[[str], None] = print) -> None:
    out(
        f"### The run report, {iterations:,} iterations: one process against two "
        f"({repeat} runs each, alternately; the same bytes)\n"
    )
    out("| portfolio | one process: s | two: s | ratio (median) | CPU s: one | two |")
    out("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in example_and_enterprise(Path(tmp)):
            runs = _times(path, iterations, repeat)
            one, two = ([w for w, _ in runs[k]] for k in (1, 2))
            cpu1, cpu2 = (statistics.median(c for _, c in runs[k]) for k in (1, 2))
            ratio = statistics.median(two) / statistics.median(one)
            out(
                f"| {name} | {min(one):.2f}-{max(one):.2f} | {min(two):.2f}-{max(two):.2f} | "
                f"{ratio:.2f} | {cpu1:.1f} | {cpu2:.1f} |"
            )


@pytest.mark.benchmark
def test_benchmark_report() -> None:
    report(2_000, 2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    report(args.iterations, args.repeat)
