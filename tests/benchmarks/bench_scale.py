"""Enterprise-scale benchmark: portfolios of 1,000 to 50,000 tasks and hundreds of projects,
end to end (`pmosim run` in a fresh process), with the child's peak memory, the results
folder's size and the report's; time per task-iteration against portfolio size; a Dask
local cluster against a local run, byte for byte. Prints markdown tables.

Run (not part of the default test run)::

    .venv/bin/python tests/benchmarks/bench_scale.py                 # the full set
    .venv/bin/python tests/benchmarks/bench_scale.py --iterations 1000 --no-dask  # quicker
    .venv/bin/python tests/benchmarks/bench_scale.py --iterations 1000 --end-to-end  # 200 x 50
    .venv/bin/python tests/benchmarks/bench_scale.py --per-task --repeat 5  # the 1.5x ratio
    .venv/bin/python tests/benchmarks/bench_scale.py --baseline DIR  # beside an older version
    .venv/bin/python -m pytest -m benchmark tests/benchmarks/bench_scale.py -s

Every figure of one run is measured on the same machine in the same session: compare the
ratios (per task-iteration at 50,000 tasks against 1,000), not the seconds, across sessions.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from simulator.output.files import MARKER
from simulator.sampling import BLOCK_SIZE

sys.path.insert(0, str(Path(__file__).parent))
from synthetic import ENTERPRISE, write_synthetic

PMOSIM = Path(sys.executable).with_name("pmosim")
# runs the command as its own child and prints that child's peak resident memory (KiB)
_PEAK = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def run_cli(
    path: Path, out: Path, iterations: int, *flags: str, source: Path | None = None
) -> dict[str, float]:
    """``pmosim run`` in a fresh process: wall seconds, the process's peak memory (MiB), the
    results folder's size and report.html's (MB). ``source``: a folder holding another
    version's ``simulator`` package, run instead of this one (a baseline)."""
    cmd = [str(PMOSIM), "run", str(path), "-n", str(iterations), "--seed", "1", "-q"]
    cmd += ["--out", str(out), "--force", *flags]
    env = None if source is None else {**os.environ, "PYTHONPATH": str(source)}
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, *cmd], check=True, capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - t0
    report = out / "report.html"
    return {
        "seconds": wall,
        "peak_mib": int(done.stdout.split()[-1]) / 1024,
        "results_mb": _size(out) / 1e6,
        "report_mb": report.stat().st_size / 1e6 if report.exists() else 0.0,
    }


def per_task_iteration(path: Path, tasks: int, iterations: int, repeat: int = 1) -> list[float]:
    """Microseconds per task-iteration of ``simulate_portfolio`` (--jobs 2, warmed up), once
    per repeat."""
    from simulator.montecarlo import simulate_portfolio
    from simulator.scenario import load_scenario

    pf = load_scenario(path)
    simulate_portfolio(pf, 20, 1, jobs=1)  # compile
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        simulate_portfolio(pf, iterations, 1, jobs=2)
        times.append((time.perf_counter() - t0) / (tasks * iterations) * 1e6)
    return times


def differing(a: Path, b: Path) -> list[str]:
    """The result files that differ between folders ``a`` and ``b`` (or that only one of
    them holds); the folder marker, which says who wrote the folder, is not a result."""
    names = sorted({p.name for p in (*a.iterdir(), *b.iterdir())} - {MARKER})
    _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    return sorted(mismatch + errors)


def same_bytes(a: Path, b: Path) -> str:
    """``yes``, or ``no:`` and the result files that differ."""
    files = differing(a, b)
    return "yes" if not files else "no: " + ", ".join(files)


def _end_to_end(
    path: Path,
    folder: Path,
    iterations: int,
    out: Callable[[str], None],
    only_two: bool,
    baseline: Path | None = None,
) -> None:
    out(
        f"### End to end, 200 projects x 50 tasks, 20 pools, 50 risks, {iterations:,} "
        "iterations, --jobs 2\n"
    )
    extra = " baseline s | ratio | same bytes |" if baseline else ""
    out("| run | seconds | peak MiB | results MB | report.html MB |" + extra)
    out("|---|---:|---:|---:|---:|" + ("---:|---:|---|" if baseline else ""))
    for source in (None, baseline) if baseline else (None,):  # each version's kernels compiled
        run_cli(
            path,
            folder / "warm",
            20,
            "--jobs",
            "2",
            "--no-report",
            "--no-risk-drivers",
            source=source,
        )
    seconds = []
    runs = [
        ("no risk contributions, no report", ("--no-risk-drivers", "--no-report")),
        ("report, no risk contributions", ("--no-risk-drivers",)),
        ("risk contributions (first 2,000 iterations, the default) and report", ()),
    ]
    for label, flags in runs[:2] if only_two else runs:
        r = run_cli(path, folder / "out", iterations, "--jobs", "2", *flags)
        row = (
            f"| {label} | {r['seconds']:.1f} | {r['peak_mib']:.0f} | "
            f"{r['results_mb']:.2f} | {r['report_mb']:.2f} |"
        )
        if baseline:  # the other version right after, on the same machine in the same state
            b = run_cli(path, folder / "base", iterations, "--jobs", "2", *flags, source=baseline)
            same = same_bytes(folder / "out", folder / "base")
            row += f" {b['seconds']:.1f} | {r['seconds'] / b['seconds']:.2f} | {same} |"
        out(row)
        seconds.append(r["seconds"])
    out(f"\nThe report (charts and report.html): {seconds[1] - seconds[0]:.1f} s")  # rows 2 - 1


def _per_task(
    sizes: dict[int, Path], iterations: int, repeat: int, out: Callable[[str], None]
) -> None:
    out(
        f"\n### Time per task-iteration (in-process, --jobs 2; {repeat} runs of each size, "
        "the sizes in turn, so that a slow spell of the machine hits every size)\n"
    )
    out("| tasks | iterations | us per task-iteration: best | median | ratio: best | median |")
    out("|---:|---:|---:|---:|---:|---:|")
    # the same iterations at every size, at least two blocks: both workers busy
    n = max(2 * BLOCK_SIZE, min(iterations, 2_000))
    runs: dict[int, list[float]] = {tasks: [] for tasks in sizes}
    for _ in range(repeat):
        for tasks, path in sizes.items():
            runs[tasks] += per_task_iteration(path, tasks, n)
    first = runs[min(runs)]
    best0, mid0 = min(first), statistics.median(first)
    for tasks, times in runs.items():
        best, mid = min(times), statistics.median(times)
        out(
            f"| {tasks:,} | {n:,} | {best:.3f} | {mid:.3f} | {best / best0:.2f} | "
            f"{mid / mid0:.2f} |"
        )


def _dask(path: Path, folder: Path, iterations: int, out: Callable[[str], None]) -> None:
    flags = ("--no-risk-drivers", "--no-report", "--jobs", "2")
    n = max(500, iterations // 10)
    local = run_cli(path, folder / "local", n, *flags)
    remote = run_cli(path, folder / "dask", n, *flags, "--backend", "dask")
    same = same_bytes(folder / "local", folder / "dask")
    out(
        f"\n### Dask, 50,000 tasks, {n:,} iterations: local {local['seconds']:.1f} s, "
        f"local 2-worker Dask cluster {remote['seconds']:.1f} s; "
        f"results {'byte-identical' if same == 'yes' else 'DIFFERENT (' + same + ')'}\n"
    )


def report(
    iterations: int,
    dask: bool,
    out: Callable[[str], None] = print,
    *,
    parts: str = "all",
    repeat: int = 3,
    baseline: Path | None = None,
) -> None:
    """The tables (``parts``: ``all``, ``end-to-end``: the first two runs and the report's
    time, or ``per-task``: the time per task-iteration only); ``baseline``: a folder with
    another version's ``simulator`` package, whose end-to-end runs are timed beside."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sizes = {
            1_000: write_synthetic(folder / "t1k.yaml", projects=20, tasks=1_000, pools=20),
            10_000: write_synthetic(folder / "t10k.yaml", **ENTERPRISE),
            50_000: write_synthetic(
                folder / "t50k.yaml", projects=1_000, tasks=50_000, pools=20, risks=50
            ),
        }
        if parts != "per-task":
            _end_to_end(sizes[10_000], folder, iterations, out, parts == "end-to-end", baseline)
        if parts != "end-to-end":
            _per_task(sizes, iterations, repeat, out)
        if dask and parts == "all":
            _dask(sizes[50_000], folder, iterations, out)


@pytest.mark.benchmark
def test_benchmark_scale() -> None:
    report(1_000, dask=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size, per task-iteration")
    parser.add_argument(
        "--end-to-end",
        action="store_true",
        help="only the 200-project runs without risk contributions, and the report's time",
    )
    parser.add_argument("--per-task", action="store_true", help="only the time per task-iteration")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a folder holding an older simulator/ package (git archive REV simulator | tar -x "
        "-C DIR): its end-to-end runs, timed right after each of ours, give same-run ratios",
    )
    args = parser.parse_args()
    report(
        args.iterations,
        dask=not args.no_dask,
        parts="end-to-end" if args.end_to_end else "per-task" if args.per_task else "all",
        repeat=args.repeat,
        baseline=args.baseline,
    )
