"""The reference (simpy) engine against the compiled one on the example scenario.

Not collected by the default test run (the file name does not match ``test_*.py``). Run::

    .venv/bin/python tests/benchmarks/bench_engine.py [iterations]
    .venv/bin/python -m pytest -m benchmark tests/benchmarks/bench_engine.py -s

It samples block 0 of ``scenarios/portfolio-2027.yaml`` (31 tasks) and of a synthetic
portfolio of 1000 tasks (``synthetic.py``), checks that both engines agree on every task, and
prints the time per iteration of ``simulate``, ``simulate_fast`` (one call per iteration)
and ``simulate_batch`` (one call per block), and the ratios.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from simulator.engine import pack_capacity, simulate, simulate_batch, simulate_fast
from simulator.model import Portfolio
from simulator.sampling import BLOCK_SIZE, sample_block
from simulator.scenario import load_scenario

sys.path.insert(0, str(Path(__file__).parent))
from synthetic import write_synthetic

EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "portfolio-2027.yaml"


def _best(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return min(times)


def measure(pf: Portfolio, iterations: int = BLOCK_SIZE, repeat: int = 3) -> dict[str, float]:
    """Seconds per iteration of each engine, plus the first call (compile or cache load)."""
    sample = sample_block(pf, pf.seed or 0, 0, iterations)
    net, names = pf.network, ([t.key for t in pf.tasks], [p.id for p in pf.pools])
    dur, events = sample.duration, sample.capacity

    t0 = time.perf_counter()
    simulate_fast(net, dur[0], events[0], names=names)
    first = time.perf_counter() - t0

    def reference() -> None:
        for it in range(iterations):
            simulate(net, dur[it], events[it], names=names)

    def fast() -> None:
        for it in range(iterations):
            simulate_fast(net, dur[it], events[it], names=names)

    def batch() -> None:
        simulate_batch(net, dur, *pack_capacity(events), names=names)

    start, finish, _ = simulate_batch(net, dur, *pack_capacity(events), names=names)
    for it in range(iterations):
        ref = simulate(net, dur[it], events[it], names=names)
        assert np.array_equal(ref.start, start[it])
        assert np.array_equal(ref.finish, finish[it])
    return {
        "first call": first,
        "simpy": _best(reference, repeat) / iterations,
        "fast": _best(fast, repeat) / iterations,
        "batch": _best(batch, repeat * 3) / iterations,
    }


def report(iterations: int = BLOCK_SIZE) -> str:
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        big = load_scenario(write_synthetic(Path(tmp) / "synthetic.yaml", tasks=1000))
    for label, pf, n in [
        ("example scenario", load_scenario(EXAMPLE), iterations),
        ("synthetic 1000 tasks", big, max(1, iterations // 10)),
    ]:
        m = measure(pf, n)
        lines += [
            f"{label}, {len(pf.tasks)} tasks, {n} iterations (block 0)",
            f"  first fast call (compile or cache load): {m['first call']:.2f} s",
            f"  simpy engine:    {1e6 * m['simpy']:10.1f} us / iteration",
            f"  simulate_fast:   {1e6 * m['fast']:10.1f} us / iteration "
            f"({m['simpy'] / m['fast']:.0f}x)",
            f"  simulate_batch:  {1e6 * m['batch']:10.1f} us / iteration "
            f"({m['simpy'] / m['batch']:.0f}x)",
        ]
    return "\n".join(lines)


@pytest.mark.benchmark
def test_engine_speed() -> None:
    print(report())


if __name__ == "__main__":
    print(report(int(sys.argv[1]) if len(sys.argv) > 1 else BLOCK_SIZE))
