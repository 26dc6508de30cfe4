"""A real-size plan: a generated, statused 5,000-activity P6 XER export (``xergen.py``:
10 projects, 3 calendars, about 7,900 relationships, constraints, progress, resources)
read, loaded, checked, imported and simulated, against the same steps at 1,000 activities.

Not collected by the default test run. Run::

    .venv/bin/python tests/benchmarks/bench_plans.py             # ~1 minute, a markdown table
    .venv/bin/python -m pytest -m benchmark tests/benchmarks/bench_plans.py -s

Each size is measured in a fresh process (so that its peak memory is its own), after a
warm-up on a 300-activity plan (imports, the compiled engine's cache); every step is the
best of three. The commands run in-process through click's ``CliRunner``:

* ``read_plan``: the XER file onto the scenario structure;
* ``load_scenario``: read, validated and built as a portfolio;
* ``pmosim check``: load, critical-path pass, schedule-health checks (exit 1: some fail);
* ``pmosim import``: load, and the standalone scenario YAML written;
* ``pmosim run -n 200``: load, 200 iterations, results written (``--no-report``);
* ``read_plan, P6 XML chain``: a P6 XML plan of as many activities in one chain
  (``tests/pmxmlgen.py``), read.

Seconds are wall time; the last column is the CPU time per activity at 5,000 over that at
1,000 (CPU time, which other processes on a busy machine disturb less): about 1 (or below,
fixed costs spread) when a step scales linearly, 5 if it were quadratic.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import cli
from simulator.plans import read_plan
from simulator.scenario import load_scenario

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(Path(__file__).parents[1]))  # tests/: pmxmlgen
from pmxmlgen import chain
from xergen import write_xer

SIZES = (1000, 5000)
STEPS = ("read_plan", "load_scenario", "pmosim check", "pmosim import", "pmosim run -n 200")
CHAIN = "read_plan, P6 XML chain"
IN_SECONDS = 10.0  # what "imports and checks in seconds" is held to


def _best(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """The least wall and the least CPU seconds of ``repeat`` runs."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        run()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def _pmosim(args: Sequence[str], ok: tuple[int, ...] = (0,)) -> None:
    result = CliRunner().invoke(cli, list(args))
    if result.exit_code not in ok:
        raise RuntimeError(f"pmosim {' '.join(args)}: exit {result.exit_code}\n{result.output}")


def _steps(path: Path, folder: Path) -> dict[str, Callable[[], object]]:
    plan, yaml_out, results = str(path), str(folder / "imported.yaml"), str(folder / "results")
    run = ["run", plan, "-n", "200", "--seed", "1", "--no-report", "-q", "--out", results]
    return {
        "read_plan": lambda: read_plan(path),
        "load_scenario": lambda: load_scenario(path),
        "pmosim check": lambda: _pmosim(["check", plan], ok=(0, 1)),
        "pmosim import": lambda: _pmosim(["import", plan, "--out", yaml_out, "--force"]),
        "pmosim run -n 200": lambda: _pmosim([*run, "--force"]),
    }


def measure(activities: int, repeat: int = 3) -> dict[str, float]:
    """Wall and CPU seconds of each step at ``activities`` (best of ``repeat``; ``step``
    and ``step cpu``), the generator's too, and the process's resident memory (MiB) after
    the warm-up and at its peak."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        warm = folder / "warm.xer"
        write_xer(warm, activities=300, seed=1)
        for run in _steps(warm, folder).values():
            run()
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        path = folder / f"plan-{activities}.xer"
        out: dict[str, float] = {}
        out["write_xer"], out["write_xer cpu"] = _best(
            lambda: write_xer(path, activities=activities, seed=1), repeat
        )
        for name, run in _steps(path, folder).items():
            out[name], out[f"{name} cpu"] = _best(run, repeat)
        xml = chain(folder / f"chain-{activities}.xml", activities)
        out[CHAIN], out[f"{CHAIN} cpu"] = _best(lambda: read_plan(xml), repeat)
        out["baseline MiB"] = base
        out["peak MiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out["bytes"] = path.stat().st_size
    return out


def _child(activities: int) -> dict[str, float]:
    """:func:`measure` in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, __file__, "--one", str(activities)], capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"measuring {activities:,} activities failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.splitlines()[-1]))


def report(out: Callable[[str], None] = print) -> dict[int, dict[str, float]]:
    m = {n: _child(n) for n in SIZES}
    small, big = SIZES
    out(
        f"### Plans: a generated P6 XER, {small:,} and {big:,} activities "
        f"({m[small]['bytes'] / 1e6:.1f} and {m[big]['bytes'] / 1e6:.1f} MB)\n"
    )
    out(
        f"| step | {small:,} activities: wall s | {big:,}: wall s | {big:,}: CPU s | "
        f"CPU time per activity, {big:,} over {small:,} |"
    )
    out("|---|---:|---:|---:|---:|")
    for step in ("write_xer", *STEPS, CHAIN):
        a, b, cpu = m[small][step], m[big][step], m[big][f"{step} cpu"]
        ratio = cpu / m[small][f"{step} cpu"] / (big / small)
        out(f"| {step} | {a:.2f} | {b:.2f} | {cpu:.2f} | {ratio:.2f} |")
    out(
        f"| peak memory, MiB (after the warm-up) | {m[small]['peak MiB']:.0f} "
        f"({m[small]['baseline MiB']:.0f}) | {m[big]['peak MiB']:.0f} "
        f"({m[big]['baseline MiB']:.0f}) | | |"
    )
    return m


@pytest.mark.benchmark
def test_plan_benchmark() -> None:
    m = report()
    slow = {s: m[5000][s] for s in STEPS if m[5000][s] > IN_SECONDS}
    assert not slow, f"not in seconds at 5,000 activities: {slow}"


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(measure(int(sys.argv[2]))))
    else:
        report()
