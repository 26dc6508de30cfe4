"""``pmosim compare``: the base scenario against its variants on common random numbers."""

from __future__ import annotations

import textwrap
from pathlib import Path

import click

from ..analysis import RANKINGS
from ..analysis import compare as run_comparison
from ..errors import PmosimError
from ..montecarlo import ENGINES, Backend
from ..output import comparison_frame, decision_table, progress, publish, write_csv, write_json
from .commands import ScenarioPath, _fresh_out, _load, _seed, cli, say_unshown

__all__ = ["compare"]


@cli.command()
@click.argument("file", type=ScenarioPath)
@click.option(
    "--variant",
    "names",
    multiple=True,
    help="A variant to compare (repeatable; default: every variant in FILE).",
)
@click.option(
    "-n",
    "--iterations",
    type=click.IntRange(2, 10_000_000),
    default=None,
    help="Iterations per scenario (default: the scenario's 'iterations').",
)
@click.option(
    "--seed",
    type=click.IntRange(0),
    default=None,
    help="Root seed shared by the base and every variant (default: the scenario's "
    "'seed', else a fresh one, printed).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for comparison.csv and comparison.json "
    "(default: results/<scenario file name>-compare).",
)
@click.option("--force", is_flag=True, help="Replace an existing results folder.")
@click.option(
    "--jobs",
    type=click.IntRange(-1),
    default=1,
    show_default=True,
    help="Workers; results do not depend on it.",
)
@click.option("--engine", type=click.Choice(ENGINES), default="auto", show_default=True)
@click.option(
    "--rank-by",
    type=click.Choice(sorted(RANKINGS)),
    default="portfolio_on_time",
    show_default=True,
    help="The metric that orders the decision table.",
)
@click.option(
    "--report/--no-report",
    default=True,
    show_default=True,
    help="Write report.html and the charts (PNG).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print comparison.json to stdout instead of the table."
)
def compare(
    file: Path,
    names: tuple[str, ...],
    iterations: int | None,
    seed: int | None,
    out: Path | None,
    force: bool,
    jobs: int,
    engine: str,
    rank_by: str,
    report: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Compare the base scenario FILE with its variants on common random numbers."""
    pf = _load(file)
    say_unshown(pf, report)
    known = {v.name: v for v in pf.variants}
    if not known:
        raise PmosimError(
            f"{file}: no variants to compare; add a 'variants:' list (see the README)"
        )
    unknown = [n for n in names if n not in known]
    if unknown:
        raise PmosimError(f"unknown variant '{unknown[0]}'; {file} has: {', '.join(known)}")
    chosen = [known[n] for n in dict.fromkeys(names)] if names else list(known.values())
    if rank_by == "value" and (
        pf.value_horizon is None or not any(p.value_per_day for p in pf.projects)
    ):
        raise PmosimError(
            f"{file}: --rank-by value needs projects with value_per_month and a value_horizon"
        )
    out = _fresh_out(out or Path("results") / f"{file.stem}-compare", force)
    n = iterations or pf.iterations
    seed = _seed(seed, pf)
    with progress(n * (1 + len(chosen)), "comparing", quiet=quiet) as bar:
        result = run_comparison(
            pf, chosen, n, seed, engine=engine, backend=Backend(jobs=jobs), progress_of=bar.for_run
        )

    def fill(folder: Path) -> None:
        write_json(result.to_dict(), folder / "comparison.json")
        write_csv(comparison_frame(result), folder / "comparison.csv")
        if report:
            from ..output.report import write_compare_report

            write_compare_report(folder, result, pf, rank_by)

    publish(out, force, fill)
    if as_json:
        click.echo((out / "comparison.json").read_text(encoding="utf-8"), nl=False)
        return
    if quiet:
        return
    click.echo(
        textwrap.fill(
            f"{pf.name}: base and {len(chosen)} variant(s), {n:,} iterations "
            f"each on common random numbers (seed {seed}); ranked by "
            f"{rank_by}.",
            width=79,
        )
    )
    click.echo("Differences against the base ± paired standard error; * significant at 5 %.\n")
    click.echo(decision_table(result, rank_by))
    click.echo(f"\nResults written to {out}/")
