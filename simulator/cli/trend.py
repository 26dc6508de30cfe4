"""``pmosim trend``: a forecast history as a table, charts and plain words, with the alerts
and, once actual finishes are known, the accuracy of the past forecasts."""

from __future__ import annotations

from pathlib import Path

import click

from ..analysis import accuracy, alerts, forecasts
from ..errors import PmosimError
from ..output import publish, write_csv
from ..output.history import read_actuals, read_history
from ..output.trend import accuracy_frame, accuracy_text, alerts_text, trend_frame, trend_text
from .commands import _fresh_out, cli

__all__ = ["trend"]

InFile = click.Path(exists=True, dir_okay=False, path_type=Path)


@cli.command()
@click.argument("history", type=InFile)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for trend.csv and the charts (default: results/<history name>-trend).",
)
@click.option("--force", is_flag=True, help="Replace the --out folder if it exists.")
@click.option(
    "--actuals",
    type=InFile,
    default=None,
    help="CSV of actual finishes (columns project, actual_finish): score the forecasts.",
)
@click.option("--charts/--no-charts", default=True, show_default=True, help="Write the PNG charts.")
@click.option("--fail-on-alert", is_flag=True, help="Exit with 1 when an alert is raised.")
def trend(
    history: Path,
    out: Path | None,
    force: bool,
    actuals: Path | None,
    charts: bool,
    fail_on_alert: bool,
) -> None:
    """What moved between the forecasts in the HISTORY file (written by pmosim run
    --history), whether beyond Monte Carlo noise, and the alerts of the latest forecast."""
    out = _fresh_out(out or Path("results") / f"{history.stem}-trend", force)
    rows = read_history(history)
    if not rows:
        raise PmosimError(f"{history}: no forecasts yet; record some with pmosim run --history")
    done = read_actuals(actuals) if actuals is not None else None
    past = forecasts(rows)
    if done is not None:
        known = {r.item for r in rows if r.kind == "project"}
        if unknown := [p for p in done if p not in known]:
            raise PmosimError(f"{actuals}: project {unknown[0]!r} is not in {history}")
    scores = accuracy(past, done) if done is not None else None

    def fill(folder: Path) -> None:
        write_csv(trend_frame(past), folder / "trend.csv")
        if scores is not None:
            write_csv(accuracy_frame(*scores), folder / "accuracy.csv")
        if charts:
            from ..output.trend_charts import trend_charts  # matplotlib only when drawn

            for chart in trend_charts(past):
                (folder / chart.file).write_bytes(chart.png)

    publish(out, force, fill)
    raised = alerts(past[-1], past[-2] if len(past) > 1 else None)
    click.echo(trend_text(past))
    if raised:
        click.echo("\n" + alerts_text(raised))
    if scores is not None:
        click.echo("\n" + accuracy_text(*scores))
    click.echo(f"\nTrend written to {out}/")
    if raised and fail_on_alert:
        raise click.exceptions.Exit(1)
