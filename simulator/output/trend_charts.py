"""Charts of a forecast history: each project's P80 finish against the status date (with its
deadline and deterministic finish), P(on time) with ±2 standard-error bands, and the schedule
contingency. Each ``plot_*`` draws one panel on ``ax`` (new axes when None) and returns it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes

from ..analysis import NOISE_Z, Forecast, ForecastRow, contingency
from .charts import Chart, _axes, _literal_text, _per_project, _png

__all__ = [
    "plot_contingency_trend",
    "plot_on_time_trend",
    "plot_p80_trend",
    "trend_charts",
]


def _series(history: Sequence[Forecast], item: str) -> list[ForecastRow]:
    return [r for f in history if (r := f.row(item)) is not None]


def _dates(ax: Axes, which: str) -> None:
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=6))
    axis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    if which == "x":
        for label in ax.get_xticklabels():
            label.set_rotation(30)
            label.set_horizontalalignment("right")


def _days(values: Sequence[dt.date | None]) -> np.ndarray:
    return np.array([np.datetime64("NaT") if d is None else np.datetime64(d, "D") for d in values])


def plot_p80_trend(history: Sequence[Forecast], item: str, *, ax: Axes | None = None) -> Axes:
    """``item``'s P80 (and P50, and deterministic) finish against the status date, its
    deadline as a horizontal line."""
    ax = _axes(ax)
    rows = _series(history, item)
    when = _days([r.status_date for r in rows])
    ax.plot(when, _days([r.p80 for r in rows]), "o-", color="C3", label="P80 finish")
    ax.plot(when, _days([r.p50 for r in rows]), "s--", color="C0", ms=3, label="P50 finish")
    det = _days([r.deterministic for r in rows])
    ax.plot(when, det, ":", color="0.4", label="deterministic finish")
    deadline = rows[-1].deadline if rows else None
    if deadline is not None:
        ax.axhline(mdates.date2num(deadline), color="k", ls="--", lw=1, label="deadline")
    _pad(ax, [d for r in rows for d in (r.p80, r.p50, r.deterministic, deadline) if d])
    ax.set_title(item, fontsize=9)
    ax.set_xlabel("status date")
    ax.set_ylabel("finish date")
    _dates(ax, "x")
    _dates(ax, "y")
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return ax


def _pad(ax: Axes, days: list[dt.date]) -> None:
    """Date limits with room around the values (a flat line would otherwise span years)."""
    if days:
        lo, hi = mdates.date2num(min(days)), mdates.date2num(max(days))
        pad = max(5.0, 0.15 * (hi - lo))
        ax.set_ylim(lo - pad, hi + pad)


def plot_on_time_trend(
    history: Sequence[Forecast],
    items: Sequence[str],
    threshold: float | None = None,
    *,
    ax: Axes | None = None,
) -> Axes:
    """P(on time) of each of ``items`` against the status date, ±2 s.e. as a band, and the
    alert threshold as a dashed line."""
    ax = _axes(ax, (6.4, 3.6))
    for k, item in enumerate(items):
        rows = [r for r in _series(history, item) if r.p_on_time is not None]
        if not rows:
            continue
        when = _days([r.status_date for r in rows])
        p = np.array([r.p_on_time for r in rows], dtype=float)
        se = np.array([r.p_on_time_se or 0.0 for r in rows], dtype=float)
        ax.plot(when, p, "o-", color=f"C{k % 10}", label=item)
        lo, hi = np.clip(p - NOISE_Z * se, 0, 1), np.clip(p + NOISE_Z * se, 0, 1)
        ax.fill_between(when, lo, hi, color=f"C{k % 10}", alpha=0.2, lw=0)
    if threshold is not None:
        ax.axhline(threshold, color="k", ls="--", lw=1, label=f"alert below {threshold:g}")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("status date")
    ax.set_ylabel("P(on time), ±2 s.e.")
    _dates(ax, "x")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.grid(alpha=0.3)
    return ax


def plot_contingency_trend(
    history: Sequence[Forecast], items: Sequence[str], *, ax: Axes | None = None
) -> Axes:
    """The schedule contingency (P80 minus the deterministic finish, working days) of each
    of ``items`` against the status date."""
    ax = _axes(ax, (6.4, 3.6))
    for k, item in enumerate(items):
        rows = [r for r in _series(history, item) if contingency(r) is not None]
        if rows:
            when = _days([r.status_date for r in rows])
            days = np.array([contingency(r) for r in rows], dtype=float)
            ax.plot(when, days, "o-", color=f"C{k % 10}", label=item)
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xlabel("status date")
    ax.set_ylabel("P80 - deterministic finish\n(working days)")
    _dates(ax, "x")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.grid(alpha=0.3)
    return ax


def _titled(fig: object, file: str, title: str, caption: str, history: Sequence[Forecast]) -> Chart:
    last = history[-1]
    fig.suptitle(  # type: ignore[attr-defined]
        f"{caption}\n{last.first.scenario} · {len(history)} forecasts · "
        f"{history[0].status_date} to {last.status_date}",
        fontsize=10,
    )
    return Chart(file, title, _png(fig))


def trend_charts(history: Sequence[Forecast]) -> list[Chart]:
    """The three charts of a forecast history, for its projects."""
    items = list(dict.fromkeys(r.item for f in history for r in f.rows if r.kind == "project"))
    threshold = history[-1].first.alert_p_on_time_below
    with _literal_text():
        fig = _per_project(
            len(items), (4.2, 3.2), lambda k, ax: plot_p80_trend(history, items[k], ax=ax)
        )
        charts = [_titled(fig, "trend-p80.png", "P80 finish", "P80 finish by status date", history)]
        ax = plot_on_time_trend(history, items, threshold)
        charts.append(
            _titled(
                ax.figure,
                "trend-p-on-time.png",
                "P(on time)",
                "P(on time) by status date, ±2 standard errors",
                history,
            )
        )
        ax = plot_contingency_trend(history, items)
        charts.append(
            _titled(
                ax.figure,
                "trend-contingency.png",
                "Schedule contingency",
                "Schedule contingency: P80 minus the deterministic finish",
                history,
            )
        )
    return charts
