"""Decision search speed: candidate plans evaluated per second, on the example and on the
1,000-task synthetic portfolio, against a full ``simulate_portfolio`` run of the same
iterations in the same process (what each evaluation would cost if every candidate were
sampled afresh). Prints a markdown table.

Run (not part of the default test run)::

    .venv/bin/python tests/benchmarks/bench_search.py
    .venv/bin/python -m pytest -m benchmark tests/benchmarks/bench_search.py -s
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from simulator.analysis.search import explore
from simulator.montecarlo import simulate_portfolio
from simulator.scenario import load_scenario

sys.path.insert(0, str(Path(__file__).parent))
from synthetic import synthetic_scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "portfolio-2027.yaml"


def synthetic_with_search(folder: Path) -> Path:
    """The 1,000-task benchmark portfolio (20 projects, 5 pools, 20 risks) with levers:
    postpone three projects 0-40 days, cancel two, hire 0-2 on two pools."""
    data = synthetic_scenario(projects=20, tasks=1000)
    data["search"] = {
        "postpone": {f"p{j}": {"max": 40, "step": 20} for j in (3, 7, 11)},
        "cancel": ["p5", "p9"],
        "capacity": {p: {"max": 2, "from": 0} for p in ("pool0", "pool1")},
        "objective": "on_time",
    }
    path = folder / "synthetic-search.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def measure(path: Path, iterations: int, budget: int) -> dict[str, float]:
    pf = load_scenario(path)
    explore(pf, iterations, 1, budget=2)  # compile and warm up
    t0 = time.perf_counter()
    explored = explore(pf, iterations, 1, budget=budget)
    seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    simulate_portfolio(pf, iterations, 1)
    full = time.perf_counter() - t0
    evals = len(explored.candidates)
    return {
        "tasks": len(pf.tasks),
        "iterations": iterations,
        "evaluations": evals,
        "per_second": evals / seconds,
        "seconds_each": seconds / evals,
        "full_run": full,
    }


def table(rows: list[tuple[str, dict[str, float]]]) -> str:
    lines = [
        "| portfolio | tasks | iterations a plan | plans | plans per second | s a plan "
        "| s a full run | a plan / a full run |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['tasks']:,.0f} | {r['iterations']:,.0f} | {r['evaluations']:.0f} "
            f"| {r['per_second']:.2f} | {r['seconds_each']:.3f} | {r['full_run']:.3f} "
            f"| {r['seconds_each'] / r['full_run']:.2f} |"
        )
    return "\n".join(lines)


def run_all() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            ("example", measure(EXAMPLE, 2000, 40)),
            ("synthetic", measure(synthetic_with_search(Path(tmp)), 500, 20)),
        ]
    return table(rows)


@pytest.mark.benchmark
def test_search_speed() -> None:
    print("\n" + run_all())


if __name__ == "__main__":
    print(run_all())
