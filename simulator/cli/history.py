"""What ``pmosim run`` does with a forecast history: check it before simulating, append the
run's headline figures after, and report the early-warning alerts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..analysis import Alert, Forecast, RunSummary, alerts, cpm, forecast_rows, forecasts
from ..errors import PmosimError
from ..model import Portfolio
from ..output.history import append_history, check_history
from ..output.trend import alerts_text

__all__ = ["before_run", "record_run", "say_alerts"]


def _status(pf: Portfolio) -> dt.date:
    """The forecast's status date: the scenario's, else today."""
    cal = pf.calendar
    return dt.date.today() if cal.status is None else cal.date_of(cal.status)


def before_run(file: Path, pf: Portfolio, history: Path | None, replace: bool) -> None:
    """Before any work: a history needs dates, an existing folder that takes new files, must
    be a valid history when it exists, and must not already hold this forecast (unless
    ``replace``)."""
    if history is None:
        return
    if pf.calendar.start is None:
        raise PmosimError(f"{file}: --history records dates: add a 'start' date to the scenario")
    if pf.calendar.status is None:
        click.echo(
            f"note: {file} has no status_date: the forecast is recorded as of today "
            f"({_status(pf)})",
            err=True,
        )
    check_history(history, (_status(pf), pf.source_hash), replace=replace)


def record_run(
    pf: Portfolio, summary: RunSummary, history: Path | None, replace: bool
) -> tuple[Alert, ...]:
    """Append the run to ``history`` (when given) and return the alerts of the run: P(on
    time) below the threshold, and with a history, P80 slips since the forecast before it."""
    if not (history or pf.alerts.p_on_time_below is not None):
        return ()
    rows = forecast_rows(pf, summary, cpm(pf), as_of=_status(pf))
    if history is None:
        return alerts(Forecast(rows))
    everything = forecasts(append_history(history, rows, replace=replace))
    k = next(k for k, f in enumerate(everything) if f.first.key == rows[0].key)
    return alerts(everything[k], everything[k - 1] if k else None)


def say_alerts(found: tuple[Alert, ...], *, quiet: bool, to_stderr: bool) -> None:
    if found and not quiet:
        click.echo(("\n" if not to_stderr else "") + alerts_text(found), err=to_stderr)
