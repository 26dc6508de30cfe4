"""Runs that stop, fail or are fed garbage: nothing half-written, every failure explained.

- The malformed scenario corpus (tests/test_validation.py, BAD) and history corpus
  (tests/test_history.py, CASES) go through the CLI: exit 2, located messages, no
  traceback, no output folder, under 10 s of CPU time and 200 MB each.
- Hypothesis fuzzes both loaders: any exception but the project's own is a bug.
- Ctrl-C keeps completed blocks; --resume gives byte-identical results.
- A crashing worker names its block; an unwritable or full disk is a clean error.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulator.montecarlo.parallel as parallel
import simulator.montecarlo.runner as mc
from calibration.history import Mapping, load_history
from simulator.cli import cli
from simulator.errors import HistoryError, PmosimError, ScenarioError, SimulationError
from simulator.montecarlo import on_interrupt, simulate_portfolio
from simulator.scenario import load_scenario

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
import contextlib

from synthetic import write_synthetic
from test_history import CASES
from test_validation import BAD

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "portfolio-2027.yaml"
PMOSIM = [sys.executable, "-m", "simulator"]
# bytes a bad file may take to be refused (traced, so the same on every machine): each
# takes a few MB; a runaway check (an alias bomb expanded, a table built per row pair)
# takes far more
MEMORY_BOUND = 200 * 2**20


def test_the_corpora_are_as_large_as_promised() -> None:
    assert len(BAD) >= 40
    assert len(CASES) >= 15


@pytest.mark.parametrize(
    ("name", "text"), [(row[0], row[1]) for row in BAD], ids=[row[0] for row in BAD]
)
def test_bad_scenario_through_the_cli(name: str, text: str | bytes, tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    tracemalloc.start()
    result = CliRunner().invoke(cli, ["run", str(path), "-n", "10", "--out", str(out)])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.exit_code != 0
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception  # a clean error, never a crash
    assert "Traceback" not in result.output
    assert f"{path.name}:" in result.output  # located
    assert not out.exists()
    assert peak < MEMORY_BOUND, peak


def test_bad_scenarios_exit_2_through_main(tmp_path: Path) -> None:
    """The console script's own exit code, for a few cases in a real process."""
    for name, text, _ in BAD[:3]:
        path = tmp_path / f"{name}.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        proc = subprocess.run(
            [*PMOSIM, "run", str(path), "--out", str(tmp_path / "o")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        assert not (tmp_path / "o").exists()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.binary(max_size=400),
        st.text(max_size=400),
        st.lists(
            st.sampled_from(
                [
                    "projects:",
                    "  - id: p",
                    "    tasks:",
                    "      - {id: a, duration: 1}",
                    "resources:",
                    "  R: {capacity: 2}",
                    "risks: []",
                    "  - [",
                    "&a",
                    "*a",
                    "!!python/object:os.system",
                    "\t",
                    "NO",
                    "deadline: 2027-13-45",
                    "after: [a]",
                    "---",
                ]
            ),
            max_size=12,
        ).map("\n".join),
    )
)
def test_fuzzed_scenarios_raise_only_scenario_errors(tmp_path: Path, data: str | bytes) -> None:
    path = tmp_path / "fuzz.yaml"
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8", errors="surrogatepass")
    with contextlib.suppress(ScenarioError):
        load_scenario(path)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.lists(
            st.lists(
                st.sampled_from(
                    [
                        "1",
                        "2,5",
                        "-",
                        "N/A",
                        "",
                        "x",
                        "8",
                        "1e400",
                        "nan",
                        "2012-01-03",
                        "40909",
                        "03/04/2012",
                        '"a,b"',
                        "0",
                        "-3",
                    ]
                ),
                min_size=0,
                max_size=5,
            ),
            max_size=8,
        ).map(lambda rows: "id,est,act,when\n" + "\n".join(",".join(r) for r in rows)),
    )
)
def test_fuzzed_histories_raise_only_history_errors(tmp_path: Path, data: str | bytes) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    mapping = Mapping(estimate_col="est", actual_col="act", id_col="id", date_col="when")
    with contextlib.suppress(HistoryError):
        load_history(path, mapping)


# --- runs that stop ----------------------------------------------------------------------------


def test_interrupted_run_resumes_to_identical_results(tmp_path: Path) -> None:
    """Stop a run after some blocks (in-process), resume it, and compare every array with
    an uninterrupted run."""
    pf = load_scenario(EXAMPLE)
    ref = simulate_portfolio(pf, 3000, 5, trace=600)
    store = tmp_path / "ckpt"

    def stop_after_two(done: int) -> None:
        if done >= 1000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulate_portfolio(pf, 3000, 5, trace=600, progress=stop_after_two, checkpoint=store)
    assert sorted(p.name for p in store.glob("block-*.npz")) == [
        "block-000000.npz",
        "block-000001.npz",
    ]
    calls = []
    real = mc.run_block

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(args[2])
        return real(*args, **kwargs)  # type: ignore[arg-type]

    mc.run_block = counting  # type: ignore[assignment]
    try:
        resumed = simulate_portfolio(pf, 3000, 5, trace=600, checkpoint=store)
    finally:
        mc.run_block = real
    assert sorted(calls) == [2, 3, 4, 5]  # the saved blocks were not run again
    for name in (
        "finish",
        "first_start",
        "cost",
        "occurred",
        "busy",
        "waiting",
        "capacity",
        "trace",
    ):
        assert np.array_equal(getattr(resumed, name), getattr(ref, name)), name
    assert np.array_equal(resumed.drivers.key, ref.drivers.key)
    assert np.array_equal(resumed.drivers.critical, ref.drivers.critical)
    assert np.array_equal(resumed.drivers.sum_df, ref.drivers.sum_df)


def test_resume_says_why_a_checkpoint_of_another_run_is_not_used(tmp_path: Path) -> None:
    """--resume with the checkpoint of a run of other iterations: it cannot be used; the
    run starts again and says which settings differ (it used to start over silently)."""
    out = tmp_path / "res"
    store = tmp_path / ".res.checkpoint"
    pf = load_scenario(EXAMPLE)

    def stop(done: int) -> None:
        if done >= 1000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulate_portfolio(pf, 3000, 5, progress=stop, checkpoint=store)
    args = ["run", str(EXAMPLE), "-n", "2000", "--seed", "5", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--resume", "--no-report", "--no-risk-drivers"])
    assert result.exit_code == 0, result.output
    assert f"the checkpoint at {store} is of another run (iterations: 3000 there, 2000 here)" in (
        result.output
    )
    assert "starting from the first block" in result.output


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_interrupt_lost_in_a_finaliser_still_stops_the_run(tmp_path: Path) -> None:
    """Python drops an exception raised inside ``__del__``: a SIGINT handled while a
    finaliser runs (CI saw one in zipfile's, under np.savez) must still stop the run at the
    next block, with the blocks so far kept."""
    pf = load_scenario(EXAMPLE)
    store = tmp_path / "ckpt"

    class Finalised:
        def __del__(self) -> None:
            on_interrupt(signal.SIGINT, None)  # its KeyboardInterrupt is lost

    def sigint_inside_a_finaliser(done: int) -> None:
        if done >= 500:
            Finalised()

    previous = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(KeyboardInterrupt):
            simulate_portfolio(pf, 3000, 5, progress=sigint_inside_a_finaliser, checkpoint=store)
    finally:
        signal.signal(signal.SIGINT, previous)
        parallel._interrupted.clear()
    assert [p.name for p in store.glob("block-*.npz")] == ["block-000000.npz"]


def test_a_checkpoint_of_another_run_is_not_used(tmp_path: Path) -> None:
    pf = load_scenario(EXAMPLE)
    store = tmp_path / "ckpt"
    simulate_portfolio(pf, 1000, 5, checkpoint=store)
    other = simulate_portfolio(pf, 1000, 6, checkpoint=store)  # another seed
    assert np.array_equal(other.finish, simulate_portfolio(pf, 1000, 6).finish)


# As a user does it from a shell: a background job (which a non-interactive shell starts with
# SIGINT ignored), in a session of its own, interrupted through its process group once two
# blocks are in the checkpoint; with TWICE, a second SIGINT arrives during the shutdown.
SHELL_INTERRUPT = """
setsid "$@" > "$OUT_LOG" 2> "$ERR_LOG" & pid=$!
i=0
while [ "$(ls "$STORE" 2>/dev/null | grep -c '^block-')" -lt 2 ] && [ $i -lt 3000 ]; do
    sleep 0.02; i=$((i + 1))
done
kill -INT -- -$pid
if [ -n "$TWICE" ]; then sleep 0.05; kill -INT -- -$pid 2>/dev/null; fi
wait $pid
echo $?
"""


@pytest.mark.skipif(shutil.which("setsid") is None, reason="needs setsid (util-linux)")
@pytest.mark.parametrize(
    ("engine", "jobs", "twice"),
    [
        ("simpy", 1, False),
        ("simpy", 2, False),
        ("fast", 1, False),
        ("fast", 2, False),
        ("simpy", 2, True),
        ("fast", 2, True),
    ],
)
def test_ctrl_c_from_a_shell_keeps_blocks_and_resume_is_byte_identical(
    tmp_path: Path, engine: str, jobs: int, twice: bool
) -> None:
    if engine == "simpy":  # 33 tasks: a simpy block takes about a second
        scenario, n = EXAMPLE, "6000"
    else:
        scenario, n = (
            write_synthetic(tmp_path / "big.yaml", projects=10, tasks=600, risks=5),
            "8000",
        )
    args = [
        *PMOSIM,
        "run",
        str(scenario),
        "-n",
        n,
        "--seed",
        "3",
        "--no-report",
        "--no-risk-drivers",
        "--jobs",
        str(jobs),
        "--engine",
        engine,
    ]
    out, store = tmp_path / "out", tmp_path / ".out.checkpoint"
    env = {
        **os.environ,
        "STORE": str(store),
        "TWICE": "1" if twice else "",
        "OUT_LOG": str(tmp_path / "stdout"),
        "ERR_LOG": str(tmp_path / "stderr"),
    }
    shell = subprocess.run(
        ["bash", "-c", SHELL_INTERRUPT, "sh", *args, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    err = (tmp_path / "stderr").read_text()
    assert shell.stdout.strip() == "130", err
    assert "--resume" in err
    assert "Traceback" not in err
    assert not out.exists()
    kept = len(list(store.glob("block-*.npz")))
    assert 2 <= kept < 12, kept
    resumed = subprocess.run(
        [*args, "--out", str(out), "--resume"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert not store.exists()  # removed once the results are in place
    ref = tmp_path / "ref"  # uninterrupted, by the fast engine (the same schedules)
    reference = [*args[:-2], "--engine", "fast", "--out", str(ref)]
    subprocess.run(reference, check=True, capture_output=True, timeout=300)
    for name in ("summary.json", "projects.csv", "capacity.csv", "drivers.csv"):
        assert (out / name).read_bytes() == (ref / name).read_bytes(), name


def test_a_crashing_worker_names_its_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = mc.run_block

    def fails_on_block_2(pf: object, root: int, block: int, *rest: object) -> object:
        if block == 2:
            raise RuntimeError("worker lost")
        return real(pf, root, block, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(mc, "run_block", fails_on_block_2)
    pf = load_scenario(EXAMPLE)
    with pytest.raises(
        SimulationError,
        match=r"block 2 \(iterations 1000-1499\) failed: "
        r"RuntimeError: worker lost",
    ):
        simulate_portfolio(pf, 2000, 1)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        ["run", str(EXAMPLE), "-n", "2000", "--out", str(out), "--no-report", "--no-risk-drivers"],
    )
    assert result.exit_code != 0
    assert "block 2" in result.output
    assert "Results written" not in result.output
    assert not out.exists()


def test_an_unwritable_place_is_a_clean_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(
        cli,
        [
            "run",
            str(EXAMPLE),
            "-n",
            "500",
            "--out",
            str(blocker / "out"),
            "--no-report",
            "--no-risk-drivers",
        ],
    )
    assert result.exit_code != 0
    assert "cannot write" in result.output
    assert "Traceback" not in result.output


def test_ctrl_c_after_the_simulation_keeps_its_blocks_and_says_how_to_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during the risk contributions (after the base run): the blocks are kept and
    the message says --resume finishes (it printed only 'Aborted.'); --resume then gives
    the bytes of an uninterrupted run."""
    import simulator.cli.commands as commands

    real = commands.risk_effects

    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    args = ["run", str(EXAMPLE), "-n", "1200", "--seed", "4", "--no-report"]
    out, store = tmp_path / "out", tmp_path / ".out.checkpoint"
    monkeypatch.setattr(commands, "risk_effects", interrupted)
    result = CliRunner().invoke(cli, [*args, "--out", str(out)])
    assert result.exit_code == 130, result.output
    assert "Interrupted: 3 completed block(s)" in result.output
    assert "--resume" in result.output
    assert not out.exists()
    assert len(list(store.glob("block-*.npz"))) == 3
    monkeypatch.setattr(commands, "risk_effects", real)
    resumed = CliRunner().invoke(cli, [*args, "--out", str(out), "--resume"])
    assert resumed.exit_code == 0, resumed.output
    whole = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "whole")])
    assert whole.exit_code == 0, whole.output
    for name in ("summary.json", "projects.csv", "drivers.csv", "capacity.csv"):
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


def test_a_task_that_can_never_start_leaves_no_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "stuck.yaml"
    path.write_text(
        "start: 2027-01-04\nresources:\n"
        "  dev: {capacity: 1, changes: [{at: 2027-01-11, capacity: 0}]}\n"
        "projects:\n  - id: p\n    tasks:\n"
        "      - {id: a, duration: 8, resources: {dev: 1}}\n"
        "      - {id: b, duration: 3, after: [a], resources: {dev: 1}}\n"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(path), "-n", "50", "--out", str(out)])
    assert result.exit_code != 0, result.output
    assert "can never start" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["stuck.yaml"]


def test_a_full_disk_is_a_clean_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simulator.output.files as output

    def no_space(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output, "write_csv", no_space)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        ["run", str(EXAMPLE), "-n", "500", "--out", str(out), "--no-report", "--no-risk-drivers"],
    )
    assert result.exit_code != 0
    assert "No space left on device" in result.output
    assert "--resume" in result.output
    # no results folder and no temporary left; only the checkpoint, for --resume
    assert [p.name for p in tmp_path.iterdir()] == [".out.checkpoint"]
    monkeypatch.undo()
    resumed = CliRunner().invoke(
        cli,
        [
            "run",
            str(EXAMPLE),
            "-n",
            "500",
            "--out",
            str(out),
            "--no-report",
            "--no-risk-drivers",
            "--resume",
        ],
    )
    assert resumed.exit_code == 0, resumed.output
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_errors_are_the_projects_own(tmp_path: Path) -> None:
    assert issubclass(ScenarioError, PmosimError)
    assert issubclass(HistoryError, PmosimError)


def _calibrate_args(mapping: Mapping) -> list[str]:
    args = [
        "--estimate-col",
        mapping.estimate_col,
        "--actual-col",
        mapping.actual_col,
        "--units",
        mapping.units,
    ]
    for flag, value in (
        ("--id-col", mapping.id_col),
        ("--date-col", mapping.date_col),
        ("--date-format", mapping.date_format),
    ):
        if value:
            args += [flag, value]
    for col in mapping.class_cols:
        args += ["--class-col", col]
    for join in mapping.joins:
        args += ["--join", str(join)]
    return args


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.error is not None],
    ids=[c.id for c in CASES if c.error is not None],
)
def test_bad_history_through_the_cli(case: object, tmp_path: Path) -> None:
    from test_history import _make

    path, mapping = _make(case, tmp_path)  # type: ignore[arg-type]
    out = tmp_path / "cal.yaml"
    tracemalloc.start()
    result = CliRunner().invoke(
        cli, ["calibrate", str(path), *_calibrate_args(mapping), "--out", str(out)]
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < MEMORY_BOUND, peak
    assert result.exit_code != 0
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    # the loader's message, or click's own for an option it checks itself (--units)
    assert case.error in result.output or (  # type: ignore[attr-defined]
        "Invalid value for '--units'" in result.output
    )
    assert "Traceback" not in result.output
    assert not out.exists()


def _session_members(sid: int) -> list[int]:
    """Processes of session ``sid`` still alive (Linux: /proc/<pid>/stat field 6)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended while we looked
            continue
        fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
        if int(fields[3]) == sid and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize(
    "command",
    [
        ["run", "--engine", "simpy"],
        ["run", "--engine", "fast"],
        ["run", "--backend", "dask"],
        ["compare", "--engine", "simpy", "--no-report"],
    ],
    ids=["run-simpy", "run-fast", "run-dask", "compare-simpy"],
)
def test_no_worker_process_outlives_pmosim(tmp_path: Path, command: list[str]) -> None:
    """pmosim starts in a session of its own; once it has exited, no process of that
    session (a loky worker of --jobs 2, a Dask worker) may be left."""
    out = tmp_path / "out"
    n = "1500" if command[0] == "run" else "500"
    args = [
        *PMOSIM,
        command[0],
        str(EXAMPLE),
        "-n",
        n,
        "--seed",
        "1",
        *command[1:],
        "--jobs",
        "2",
        "-q",
        "--out",
        str(out),
    ]
    if command[0] == "run":
        args.append("--no-report")
    with (tmp_path / "stdout").open("w") as so, (tmp_path / "stderr").open("w") as se:
        proc = subprocess.Popen(args, start_new_session=True, stdout=so, stderr=se)
        code = proc.wait(timeout=300)
    try:
        assert code == 0, (tmp_path / "stderr").read_text()
        assert out.is_dir()
        deadline = time.time() + 5  # a worker merely slow to exit would be gone by then
        while _session_members(proc.pid) and time.time() < deadline:
            time.sleep(0.1)
        assert _session_members(proc.pid) == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def test_a_draw_beyond_the_last_date_stops_the_run_and_keeps_nothing(tmp_path: Path) -> None:
    """Validation counts laws without a maximum at their median; a lognormal with P90 a
    million working days has a median of 1,000 (accepted) and about 8 % of its draws end
    after 9000-12-31: the run stops with one line naming the project and the iteration,
    nothing written, no checkpoint kept."""
    path = tmp_path / "tail.yaml"
    path.write_text(
        "start: 2027-01-04\nprojects:\n  - id: p\n    tasks:\n"
        "      - {id: a, duration: {lognormal: {p10: 1, p90: 1000000}}}\n"
    )
    out = tmp_path / "out"
    done = subprocess.run(
        [*PMOSIM, "run", str(path), "-n", "1000", "--seed", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "project 'p' would finish after 9000-12-31 in iteration" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()
    assert not (tmp_path / ".out.checkpoint").exists()
