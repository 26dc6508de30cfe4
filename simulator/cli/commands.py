"""The ``pmosim`` command line: read a file, call the library, write the results."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

import click
import numpy as np

from ..analysis import RunSummary, check_schedule, cpm, risk_effects, summarise
from ..errors import PmosimError, ScenarioError
from ..model import Portfolio
from ..montecarlo import (
    ENGINES,
    Backend,
    Outcome,
    check_scheduler,
    max_on_time_se,
    on_interrupt,
    raise_if_interrupted,
    release_memory,
    run_checkpoint,
    simulate_portfolio,
    stop_local_workers,
)
from ..montecarlo.checkpoint import Checkpoint
from ..output import (
    PANELS,
    check_replaceable,
    checks_text,
    drivers_frame,
    progress,
    publish,
    publish_file,
    schedule_frame,
    second_process,
    summary_text,
    top_drivers,
    write_csv,
    write_run,
)
from ..plans import read_plan
from ..sampling import BLOCK_SIZE
from ..scenario import load_scenario, scenario_text
from .history import before_run, record_run, say_alerts

__all__ = ["cli", "main"]

DRIVERS_PRINTED, DRIVERS_CHARTED = 3, 8  # tasks per project without --drivers-top
RISK_ITERATIONS = 2_000  # iterations the risk contributions are measured on, by default
PLUGINS = "pmosim.commands"  # entry-point group of the commands other packages add

ScenarioPath = click.Path(exists=True, dir_okay=False, path_type=Path)


def _load(path: Path) -> Portfolio:
    """The scenario, its problems printed (and a ClickException), its warnings printed."""
    try:
        pf = load_scenario(path, display=str(path))
    except ScenarioError as e:
        for line in e.lines:
            click.echo(line, err=True)
        n = len(e.problems)
        raise click.ClickException(
            f"{path}: {n} problem{'s' if n != 1 else ''}; nothing was run or written"
        ) from None
    for warning in pf.warnings:
        click.echo(f"warning: {warning}", err=True)
    # what is loaded lives as long as the command: the cycle collector no longer walks it
    # (at 10,000 tasks, over a second of a run's full collections); collected first (40 ms
    # at 10,000 tasks), so that no garbage is frozen with it when the CLI runs in-process
    gc.collect()
    gc.freeze()
    return pf


def say_unshown(pf: Portfolio, report: bool) -> None:
    """Say once which characters of the scenario no installed font can draw in the charts."""
    if not report:
        return
    from ..output.fonts import portfolio_texts, unshown_characters  # matplotlib: a report

    chars = unshown_characters(portfolio_texts(pf))
    if chars:
        click.echo(
            f"note: the charts cannot show {chars} (no installed font has them): install a "
            "font that does, such as Noto Sans CJK (Debian: fonts-noto-cjk)",
            err=True,
        )


def _fresh_out(out: Path, force: bool) -> Path:
    """``out``, checked before any work: an existing folder is replaced only with --force,
    and only when pmosim wrote it (or it is empty)."""
    check_replaceable(out, force)
    return out


def _seed(seed: int | None, pf: Portfolio) -> int:
    """The seed given, else the scenario's, else a fresh one (printed, so it can be reused)."""
    if seed is None:
        seed = pf.seed
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
        click.echo(f"seed: {seed} (drawn fresh; pass --seed {seed} to repeat this run)", err=True)
    return seed


class _Group(click.Group):
    """Every command's user errors (:class:`PmosimError`) become one-line click errors.

    Other packages add commands through the ``pmosim.commands`` entry points (pmosim's own
    ``calibration`` package adds calibrate, estimate and backtest); each is imported only
    when used, so that ``pmosim run`` does not pay for loading scipy.stats and the fitting
    code, and the simulator never imports them."""

    @staticmethod
    def _plugins() -> dict[str, metadata.EntryPoint]:
        return {ep.name: ep for ep in metadata.entry_points(group=PLUGINS)}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugins()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and (ep := self._plugins().get(cmd_name)):
            self.add_command(ep.load(), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except PmosimError as e:
            raise click.ClickException(str(e)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pmosim")
def cli() -> None:
    """Monte Carlo forecasts for a portfolio of projects sharing resource pools."""


@cli.command()
@click.argument("file", type=ScenarioPath)
def validate(file: Path) -> None:
    """Check a scenario FILE and report every problem, one line each."""
    pf = _load(file)
    counts = [
        (len(pf.projects), "project"),
        (len(pf.tasks), "task"),
        (len(pf.pools), "pool"),
        (len(pf.risks), "risk"),
        (len(pf.variants), "variant"),
    ]
    click.echo(f"{file}: OK - " + ", ".join(f"{n} {w}{'s' if n != 1 else ''}" for n, w in counts))


@cli.command("import")
@click.argument("file", type=ScenarioPath)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The scenario file to write (YAML).",
)
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def import_(file: Path, out: Path, force: bool) -> None:
    """Write the plan FILE (MS Project .xml or .mpp, P6 .xer or XML, a .csv or .xlsx task
    list) as a standalone scenario: ids and names kept, every mapping decision and every
    item left out listed at its top and here."""
    try:
        plan = read_plan(file, display=str(file))
    except ScenarioError as e:
        for line in e.lines:
            click.echo(line, err=True)
        raise click.ClickException(f"{file}: cannot import it; nothing was written") from None
    _load(file)  # the plan must also be a valid scenario
    text = scenario_text(plan.data, plan.notes, file.name)

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    publish_file(out, force, write)
    n = sum(len(p["tasks"]) for p in plan.data["projects"])
    click.echo(f"{out}: {n} tasks, {len(plan.notes)} notes (at the top of the file)")


@cli.command()
@click.argument("file", type=ScenarioPath)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write schedule.csv (early and late dates, total float) into this folder.",
)
@click.option("--force", is_flag=True, help="Replace the --out folder if it exists.")
@click.option("--levelled", is_flag=True, help="Respect the resource pools (default: ignore them).")
def check(file: Path, out: Path | None, force: bool, levelled: bool) -> None:
    """A deterministic critical-path pass over FILE (most likely durations) and a
    schedule-health check in the spirit of the DCMA 14 points; exit 1 when a check fails."""
    pf = _load(file)
    if out is not None:
        _fresh_out(out, force)
    sched = cpm(pf, levelled=levelled)
    checks = check_schedule(pf, sched)
    if out is not None:
        publish(out, force, lambda tmp: write_csv(schedule_frame(pf, sched), tmp / "schedule.csv"))
    ends = [max(sched.early_finish[list(p.tasks)]) for p in pf.projects]
    for p, end in zip(pf.projects, ends, strict=True):
        click.echo(f"{p.id}: early finish {pf.calendar.finish_date(end) or f'{end:.1f}'}")
    click.echo("")
    click.echo(checks_text(checks))
    if out is not None:
        click.echo(f"\nSchedule written to {out}/schedule.csv")
    failed = [c.name for c in checks if c.ok is False]
    if failed:
        raise click.exceptions.Exit(1)


@cli.command()
@click.argument("file", type=ScenarioPath)
@click.option(
    "-n",
    "--iterations",
    type=click.IntRange(1, 10_000_000),
    default=None,
    help="Iterations (default: the scenario's 'iterations').",
)
@click.option(
    "--seed",
    type=click.IntRange(0),
    default=None,
    help="Root seed (default: the scenario's 'seed', else a fresh one, printed).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Results folder (default: results/<scenario file name>).",
)
@click.option(
    "--jobs",
    type=click.IntRange(-1),
    default=1,
    show_default=True,
    help="Local workers (threads for the fast engine, processes for simpy); -1 "
    "uses every core; two or more also draw the report in two processes. Results do not "
    "depend on it.",
)
@click.option(
    "--trace",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Write trace.csv with the schedules of the first K iterations.",
)
@click.option("--force", is_flag=True, help="Replace an existing results folder.")
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="auto",
    show_default=True,
    help="fast: compiled engine (auto picks it); simpy: the reference engine. "
    "Both give identical schedules.",
)
@click.option(
    "--target-se",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Add blocks of iterations until every P(on time) has at most this "
    "standard error; -n is then the maximum.",
)
@click.option(
    "--backend",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="local workers, or a Dask cluster (the 'dask' extra).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Dask scheduler (tls://host:8786); without it a local cluster on "
    "127.0.0.1 with --jobs workers.",
)
@click.option("--tls-ca", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--allow-insecure", is_flag=True, help="Allow a plain tcp:// scheduler on another machine."
)
@click.option(
    "--risk-drivers/--no-risk-drivers",
    default=True,
    show_default=True,
    help="Measure each risk's contribution (the run without it, on the same random numbers).",
)
@click.option(
    "--risk-iterations",
    type=click.IntRange(1),
    default=RISK_ITERATIONS,
    show_default=True,
    metavar="N",
    help="Measure the risk contributions on the run's first N iterations (each risk "
    "re-simulates only those in which it occurred).",
)
@click.option(
    "--drivers-top",
    type=click.IntRange(1),
    default=None,
    metavar="K",
    help="Show each project's K most critical tasks in the printed drivers and the drivers "
    "chart (default: 3 printed, 8 charted); both show the projects most at risk when there "
    "are more than 12. All are in drivers.csv.",
)
@click.option(
    "--report/--no-report",
    default=True,
    show_default=True,
    help="Write report.html and the charts (PNG).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print summary.json to stdout instead of the tables."
)
@click.option(
    "--resume",
    is_flag=True,
    help="Finish a run that was interrupted (same command): completed blocks are "
    "kept in a checkpoint beside the results folder.",
)
@click.option(
    "--history",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append the headline figures to this forecast history (.csv, or .parquet).",
)
@click.option(
    "--history-replace", is_flag=True, help="Replace this status date's forecast in --history."
)
@click.option("--fail-on-alert", is_flag=True, help="Exit with 1 when an alert is raised.")
def run(
    file: Path,
    iterations: int | None,
    seed: int | None,
    out: Path | None,
    jobs: int,
    trace: int,
    force: bool,
    engine: str,
    target_se: float | None,
    backend: str,
    scheduler: str | None,
    tls_ca: Path | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    allow_insecure: bool,
    risk_drivers: bool,
    risk_iterations: int,
    drivers_top: int | None,
    report: bool,
    quiet: bool,
    as_json: bool,
    resume: bool,
    history: Path | None,
    history_replace: bool,
    fail_on_alert: bool,
) -> None:
    """Simulate the scenario FILE and write summary.json, projects.csv, capacity.csv and
    drivers.csv; with --history, record the forecast; report the scenario's alerts."""
    pf = _load(file)
    say_unshown(pf, report)
    out = _fresh_out(out or Path("results") / file.stem, force)
    before_run(file, pf, history, history_replace)
    n = iterations or pf.iterations
    seed = _seed(seed, pf)
    where = _backend(Backend(backend, jobs, scheduler, tls_ca, tls_cert, tls_key, allow_insecure))
    store = _checkpoint_of(out, resume, quiet)
    if resume and not quiet:
        _say_stale(run_checkpoint(pf, store, seed, n, trace, target_se))
    # the report's second process starts now, to have its imports done when it is needed
    with second_process(jobs if report else 1, warm="simulator.output.charts") as pool:
        runs = _Runs(n, seed, trace, engine, where, target_se, store, quiet)
        outcome, effects = _simulate(pf, runs, risk_iterations if risk_drivers else None)
        with _interruptible(store, simulating=False):
            release_memory()  # the simulation's leftovers, before the report's own peak
            summary = summarise(pf, outcome, seed=seed)
            if target_se is not None and not quiet:
                _say_target(pf, outcome, target_se, n)
            drivers = drivers_frame(pf, outcome.drivers, effects)
            _publish_run(
                out, force, store, pf, outcome, summary, drivers, trace, report, drivers_top, pool
            )
    shutil.rmtree(store, ignore_errors=True)
    raised = record_run(pf, summary, history, history_replace)
    _print_run(out, summary, drivers, drivers_top or DRIVERS_PRINTED, as_json=as_json, quiet=quiet)
    # with --fail-on-alert the alerts are why the run fails: said even with -q, on stderr
    say_alerts(raised, quiet=quiet and not fail_on_alert, to_stderr=as_json or quiet)
    if raised and fail_on_alert:
        raise click.exceptions.Exit(1)


class _Runs(NamedTuple):
    """How ``run`` simulates: iterations, seed, trace, engine, backend, --target-se, the
    checkpoint folder and --quiet."""

    n: int
    seed: int
    trace: int
    engine: str
    where: Backend
    target_se: float | None
    store: Path
    quiet: bool


def _simulate(
    pf: Portfolio, runs: _Runs, risk_iterations: int | None
) -> tuple[Outcome, list[dict[str, Any]] | None]:
    """The run's outcome, and its risk contributions over its first ``risk_iterations``
    (None: not measured), under one progress bar; Ctrl-C keeps the checkpoint."""
    n, seed, store = runs.n, runs.seed, runs.store
    measured = risk_iterations is not None and bool(pf.risks)
    total = n + (min(n, risk_iterations or 0) * len(pf.risks) if measured else 0)
    with (
        _interruptible(store, simulating=True),
        progress(total, "simulating", quiet=runs.quiet) as bar,
    ):
        outcome = simulate_portfolio(
            pf,
            n,
            seed,
            trace=runs.trace,
            engine=runs.engine,
            backend=runs.where,
            target_se=runs.target_se,
            progress=bar.for_run(),
            checkpoint=store,
        )
        bar.done = n  # with --target-se the base run may stop early
        if not measured:
            return outcome, None
        how: dict[str, Any] = {"engine": runs.engine, "backend": runs.where}
        return outcome, risk_effects(pf, outcome, seed, bar.for_run(), risk_iterations, **how)


def _publish_run(
    out: Path,
    force: bool,
    store: Path,
    pf: Portfolio,
    outcome: Outcome,
    summary: RunSummary,
    drivers: Any,
    trace: int,
    report: bool,
    top: int | None,
    pool: ProcessPoolExecutor | None,
) -> None:
    """The results folder, written whole or not at all; ``top``: the drivers chart's tasks
    per project (--drivers-top); ``pool``: the process that draws some of the report's
    charts (None: all drawn here)."""

    def fill(folder: Path) -> None:
        write_run(folder, pf, summary, outcome.trace if trace else None)
        write_csv(drivers, folder / "drivers.csv")
        if report:
            from ..output.report import write_run_report  # matplotlib only for a report

            top_k = top or DRIVERS_CHARTED
            write_run_report(folder, pf, outcome, summary, drivers, drivers_top=top_k, pool=pool)

    try:
        publish(out, force, fill)
    except PmosimError as e:
        raise PmosimError(
            f"{e} (the simulated blocks are kept in {store}: add --resume "
            "to write the results without simulating again)"
        ) from e


def _print_run(
    out: Path, summary: RunSummary, drivers: Any, top: int, *, as_json: bool, quiet: bool
) -> None:
    if as_json:
        click.echo((out / "summary.json").read_text(encoding="utf-8"), nl=False)
    elif not quiet:
        click.echo(summary_text(summary))
        shown = [summary.projects[k].id for k in summary.shown(PANELS)]
        which = "" if len(shown) == len(summary.projects) else " of the projects most at risk"
        click.echo(
            f"\nTop drivers{which} (% of iterations on the chain that drove the finish; "
            "risks:\ndays added to the P80 finish). All in drivers.csv."
        )
        click.echo(top_drivers(drivers, top, shown))
        click.echo(f"\nResults written to {out}/")


def _backend(where: Backend) -> Backend:
    """``where``, its scheduler's address checked before any work."""
    if where.kind == "dask" and where.scheduler is not None:
        check_scheduler(where)
    return where


def _checkpoint_of(out: Path, resume: bool, quiet: bool) -> Path:
    """The checkpoint folder beside ``out``: kept with --resume, cleared otherwise."""
    store = out.parent / f".{out.name}.checkpoint"
    if resume and not store.exists() and not quiet:
        click.echo(f"no checkpoint at {store}: starting from the first block", err=True)
    if not resume:
        shutil.rmtree(store, ignore_errors=True)
    return store


def _say_stale(store: Checkpoint | None) -> None:
    """--resume with a checkpoint of another run: it cannot be used; say why."""
    differs = [] if store is None else store.differs()
    if store is not None and differs:
        click.echo(
            f"the checkpoint at {store.folder} is of another run ({'; '.join(differs)}): "
            "starting from the first block",
            err=True,
        )


@contextlib.contextmanager
def _interruptible(store: Path, simulating: bool) -> Iterator[None]:
    """Ctrl-C while simulating or after (risk contributions, report) keeps the checkpoint,
    says so and exits with 130; a user's mistake found while ``simulating`` (a draw out of
    reach, a task that can never start) keeps nothing: the scenario must change."""
    try:
        yield
    except PmosimError:
        if simulating:
            shutil.rmtree(store, ignore_errors=True)
        raise
    except KeyboardInterrupt:
        kept = len(list(store.glob("block-*.npz")))
        click.echo(
            f"\nInterrupted: {kept} completed block(s) of {BLOCK_SIZE} iterations "
            f"kept in {store}; nothing else was written. Run the same command "
            "with --resume to finish.",
            err=True,
        )
        sys.exit(130)


def _say_target(pf: Portfolio, outcome: Outcome, target_se: float, n: int) -> None:
    reached = max_on_time_se(pf, outcome.finish, outcome.keys) <= target_se
    click.echo(
        f"target s.e. {target_se:g}: {'reached' if reached else 'NOT reached'} "
        f"after {len(outcome.finish):,} iterations"
        f"{'' if reached else f' (the maximum, -n {n})'}",
        err=True,
    )


def main() -> None:
    """Console entry point: user errors become one-line messages and exit status 2; SIGINT
    exits with 130 (even when the shell started pmosim with SIGINT ignored, as it does for a
    background job); worker processes are stopped before the process ends."""
    signal.signal(signal.SIGINT, on_interrupt)
    code: Any = 0
    try:
        code = cli.main(standalone_mode=False)  # a command's Exit(n) comes back as n
        raise_if_interrupted()
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    finally:
        stop_local_workers()
    _flush()
    if isinstance(code, int) and code:
        sys.exit(code)


def _flush() -> None:
    """Flush the output; a reader that went away (``| head``) makes the exit status 1."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # nothing more can be said: keep the interpreter's exit from trying
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
