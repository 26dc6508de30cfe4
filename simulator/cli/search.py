"""``pmosim search``: the best plan among the scenario's levers, chosen on common random
numbers and confirmed on fresh ones."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import click

from ..analysis.decision import DecisionSearch, search_plans
from ..analysis.selection import Selected
from ..errors import PmosimError
from ..model import Portfolio
from ..montecarlo import ENGINES
from ..output import progress, publish, write_json
from ..output.search_text import search_record, search_table, variant_snippet
from .commands import ScenarioPath, _fresh_out, _load, _seed, cli

__all__ = ["search"]


@cli.command()
@click.argument("file", type=ScenarioPath)
@click.option(
    "-n",
    "--iterations",
    type=click.IntRange(100, 10_000_000),
    default=None,
    help="Iterations per candidate plan (default: the scenario's 'iterations').",
)
@click.option(
    "--budget-evals",
    "budget",
    type=click.IntRange(1, 100_000),
    default=200,
    show_default=True,
    help="Plans to evaluate; a space with at most this many is searched exhaustively.",
)
@click.option("--seed", type=click.IntRange(0), default=None, help="Root seed.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Results folder (default: results/<scenario file name>-search).",
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
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def search(
    file: Path,
    iterations: int | None,
    budget: int,
    seed: int | None,
    out: Path | None,
    force: bool,
    jobs: int,
    engine: str,
    quiet: bool,
) -> None:
    """Search the levers of FILE's 'search:' section for the best plan."""
    pf = _load(file)
    if pf.search is None:
        raise PmosimError(f"{file}: no 'search:' section; see 'Searching for the best plan'")
    out = _fresh_out(out or Path("results") / f"{file.stem}-search", force)
    n = iterations or pf.iterations
    seed = _seed(seed, pf)
    total = min(budget, pf.search.size)
    began = time.perf_counter()
    with progress(total, "searching", quiet=quiet) as bar:
        result = search_plans(
            pf, n, seed, budget=budget, engine=engine, jobs=jobs, progress=bar.for_run()
        )
    seconds = time.perf_counter() - began
    snippet = variant_snippet(pf, result)

    feasible = result.selected.feasible

    def fill(folder: Path) -> None:
        write_json(search_record(pf, result), folder / "search.json")
        if feasible:
            (folder / "best-variant.yaml").write_text(snippet, encoding="utf-8")
        from ..output.search_charts import save_pareto

        save_pareto(result, folder / "pareto.png", currency=pf.currency)

    publish(out, force, fill)
    if not quiet:
        _print(pf, result, seconds, snippet, out)
    if not feasible:
        raise SystemExit(1)  # a result, not an error: written, but no plan to adopt


def _print(pf: Portfolio, result: DecisionSearch, seconds: float, snippet: str, out: Path) -> None:
    ex, sel = result.explored, result.selected
    evals = len(ex.candidates)
    click.echo(
        textwrap.fill(
            f"{pf.name}: {evals:,} of {ex.space_size:,} plans evaluated ({ex.method}), "
            f"{ex.iterations:,} iterations each on common random numbers (seed {ex.seed}); "
            f"objective {result.objective}.",
            width=79,
        )
    )
    click.echo(textwrap.fill(_selection_line(sel), width=79))
    click.echo("")
    click.echo(search_table(pf, result))
    if sel.feasible:
        click.echo(
            f"\nThe winner as a variant (paste under 'variants:' and run compare):\n\n{snippet}"
        )
    else:
        text = (
            "No plan meets the constraints: each finalist failed at least one ('constraints' "
            f"column, in the order of the search's constraints) at {sel.iterations:,} "
            "iterations, so none is recommended and no best-variant.yaml is written. Relax "
            "the constraints or widen the levers."
        )
        click.echo("\n" + textwrap.fill(text, width=79) + "\n")
    click.echo(
        f"{evals / seconds:.1f} plans evaluated per second overall ({seconds:.1f} s with "
        f"the selection). Results written to {out}/"
    )


def _selection_line(sel: Selected) -> str:
    head = (
        f"Selection (KN, delta {sel.delta:g}, confidence {sel.confidence:g}) among the best "
        f"{len(sel.finalists)} on fresh random numbers (seed {sel.seed}), "
        f"{sel.iterations:,} iterations: "
    )
    if not sel.feasible:
        return head + "no finalist meets the constraints."
    return (
        head
        + ("one left." if sel.decided else "iteration cap reached, not decided.")
        + f" P(winner is best) >= {sel.p_best:.3f}; within delta >= {sel.p_within:.3f}."
    )
