"""Scale-out: a Dask cluster gives byte-identical results; --target-se stops when reached;
remote schedulers need TLS."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from distributed import Client, LocalCluster

from simulator.cli import cli
from simulator.errors import PmosimError
from simulator.montecarlo import (
    Backend,
    check_scheduler,
    max_on_time_se,
    runner,
    simulate_portfolio,
)
from simulator.montecarlo.candidates import presample
from simulator.sampling import BLOCK_SIZE
from simulator.scenario import load_scenario

EXAMPLE = Path(__file__).parents[1] / "scenarios" / "portfolio-2027.yaml"


def test_a_dask_cluster_gives_byte_identical_results(tmp_path: Path) -> None:
    local, remote = tmp_path / "local", tmp_path / "dask"
    args = ["run", str(EXAMPLE), "-n", "1200", "--seed", "11", "--trace", "2"]
    runner = CliRunner()
    assert runner.invoke(cli, [*args, "--out", str(local)]).exit_code == 0
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
            processes=True,
        ) as cluster,
        Client(cluster),
    ):
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        result = runner.invoke(
            cli, [*args, "--out", str(remote), "--backend", "dask", "--scheduler", address]
        )
    assert result.exit_code == 0, result.output
    for name in ("summary.json", "projects.csv", "capacity.csv", "trace.csv"):
        assert (local / name).read_bytes() == (remote / name).read_bytes(), name


def test_target_se_adds_blocks_until_reached() -> None:
    pf = load_scenario(EXAMPLE)
    target = 0.008
    out = simulate_portfolio(pf, 20 * BLOCK_SIZE, seed=5, target_se=target)
    n = len(out.finish)
    assert n < 20 * BLOCK_SIZE
    assert n % BLOCK_SIZE == 0
    assert max_on_time_se(pf, out.finish, out.keys) <= target
    # one block fewer would not have been enough
    assert max_on_time_se(pf, out.finish[: n - BLOCK_SIZE], out.keys[: n - BLOCK_SIZE]) > target
    # and the iterations are exactly those of a fixed-size run
    fixed = simulate_portfolio(pf, n, seed=5)
    assert np.array_equal(fixed.finish, out.finish)
    # whatever the number of workers (more blocks may run at once; the rule is per block)
    wide = simulate_portfolio(pf, 20 * BLOCK_SIZE, seed=5, target_se=target, jobs=5)
    assert np.array_equal(wide.finish, out.finish)


def test_target_se_run_resumes_to_the_same_stop(tmp_path: Path) -> None:
    pf = load_scenario(EXAMPLE)
    target = 0.008
    ref = simulate_portfolio(pf, 20 * BLOCK_SIZE, seed=5, target_se=target)

    def stop_after_three(done: int) -> None:
        if done >= 3 * BLOCK_SIZE:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulate_portfolio(
            pf,
            20 * BLOCK_SIZE,
            seed=5,
            target_se=target,
            progress=stop_after_three,
            checkpoint=tmp_path / "c",
        )
    resumed = simulate_portfolio(
        pf, 20 * BLOCK_SIZE, seed=5, target_se=target, checkpoint=tmp_path / "c", jobs=3
    )
    assert np.array_equal(resumed.finish, ref.finish)


def test_target_se_stops_at_the_maximum() -> None:
    pf = load_scenario(EXAMPLE)
    out = simulate_portfolio(pf, 700, seed=5, target_se=1e-6)
    assert len(out.finish) == 700


def test_target_se_without_any_deadline_is_refused(tmp_path: Path) -> None:
    """Without a deadline there is no P(on time) to measure: the run used to stop after
    its first block and say the target was reached."""
    path = tmp_path / "s.yaml"
    path.write_text(
        "scenario: s\nresources: {dev: {capacity: 1}}\nprojects:\n"
        "  - {id: a, tasks: [{id: t, duration: {uniform: {low: 5, high: 10}}}]}\n"
    )
    with pytest.raises(PmosimError, match="no project has a deadline and no key date"):
        simulate_portfolio(load_scenario(path), 2 * BLOCK_SIZE, seed=1, target_se=0.001)


def test_target_se_counts_the_key_dates_too(tmp_path: Path) -> None:
    """The help says every P(on time): a key date's too. Here the only one is a task due at
    7.5 working days with a U(5, 10) duration, P = 0.5: s.e. 0.5 / sqrt(n) reaches 0.02 at
    n = 625, so the run stops after two blocks (it was refused, as having no deadline)."""
    path = tmp_path / "s.yaml"
    path.write_text(
        "scenario: s\nprojects:\n  - {id: a, tasks: [{id: t, finish_no_later_than: 7.5,"
        " duration: {uniform: {low: 5, high: 10}}}]}\n"
    )
    out = simulate_portfolio(load_scenario(path), 20 * BLOCK_SIZE, seed=3, target_se=0.02)
    n = len(out.finish)
    hit = out.keys[:, 0] <= 7.5
    assert np.sqrt(hit.mean() * (1 - hit.mean()) / n) <= 0.02
    first = hit[: n - BLOCK_SIZE]
    assert np.sqrt(first.mean() * (1 - first.mean()) / (n - BLOCK_SIZE)) > 0.02
    assert n == 2 * BLOCK_SIZE


@pytest.mark.parametrize("address", ["tcp://10.1.2.3:8786", "tcp://scheduler.example:8786"])
def test_a_remote_scheduler_needs_tls(address: str) -> None:
    with pytest.raises(PmosimError, match="needs TLS"):
        check_scheduler(Backend("dask", scheduler=address))
    check_scheduler(Backend("dask", scheduler=address, allow_insecure=True))


def test_local_schedulers_and_tls_addresses() -> None:
    check_scheduler(Backend("dask", scheduler="tcp://127.0.0.1:8786"))
    check_scheduler(Backend("dask", scheduler="tcp://localhost:8786"))
    with pytest.raises(PmosimError, match="--tls-ca, --tls-cert and --tls-key"):
        check_scheduler(Backend("dask", scheduler="tls://10.1.2.3:8786"))
    with pytest.raises(PmosimError, match="expected an address"):
        check_scheduler(Backend("dask", scheduler="not an address:xx"))


def test_cli_refuses_an_insecure_remote_scheduler_before_running(tmp_path: Path) -> None:
    out = tmp_path / "r"
    result = CliRunner().invoke(
        cli,
        [
            "run",
            str(EXAMPLE),
            "--out",
            str(out),
            "--backend",
            "dask",
            "--scheduler",
            "tcp://10.1.2.3:8786",
        ],
    )
    assert result.exit_code != 0
    assert "needs TLS" in result.output
    assert not out.exists()


@pytest.mark.parametrize("command", ["run", "compare"])
def test_zero_jobs_is_a_one_line_error_before_running(tmp_path: Path, command: str) -> None:
    """--jobs 0 means nothing: it used to fail only once a run had a second block to share
    out, as 'block 0 ... failed: ValueError' (and a traceback from search)."""
    out = tmp_path / "r"
    args = [command, str(EXAMPLE), "-n", "600", "--jobs", "0", "--out", str(out), "--no-report"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "--jobs 0: give a number of workers (1 or more), or -1 for every core" in result.output
    assert "block 0" not in result.output
    assert not out.exists()


def test_zero_jobs_is_refused_by_the_many_candidates_runner() -> None:
    pf = load_scenario(EXAMPLE)
    with pytest.raises(PmosimError, match="--jobs 0"):
        presample(pf, 600, 5, jobs=0)
    with pytest.raises(PmosimError, match="--jobs -2"):
        Backend(jobs=-2)


def test_per_project_reductions_match_a_loop_whatever_the_task_order() -> None:
    """Project finishes and starts come from one reduceat over the tasks grouped by project;
    with the projects listed in reverse (tasks no longer grouped in order) they must still
    be each project's own max/min, computed here one project at a time."""
    pf = load_scenario(EXAMPLE)
    rev = dataclasses.replace(pf, projects=pf.projects[::-1])
    runs = rev.member_runs
    assert runs is not None
    assert runs[0] is not None
    assert pf.member_runs is not None
    assert pf.member_runs[0] is None
    x = np.random.default_rng(0).random((7, len(pf.tasks)))
    x[3, 0] = np.nan  # a NaN propagates, as in .max()
    for portfolio in (pf, rev):
        for reduce, loop in ((np.maximum, np.max), (np.minimum, np.min)):
            got = runner._per_project(portfolio, x, reduce)
            expected = np.stack([loop(x[:, list(p.tasks)], axis=1) for p in portfolio.projects], 1)
            assert np.array_equal(got, expected, equal_nan=True)
