"""Portfolio-level charts of a run (matplotlib): how P(on time) is spread across the
projects, the projects most at risk, and how busy and short each pool is per month (each
``plot_*`` draws on ``ax``, a new figure's when None, and returns the Axes). They
stay legible at hundreds of projects: one figure whatever the number of projects, the
ranked bars capped at :data:`AT_RISK_BARS`."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.ticker import MaxNLocator

from ..analysis import ProjectResult, RunSummary
from ..model import Portfolio
from ..montecarlo import Outcome

__all__ = [
    "AT_RISK_BARS",
    "ON_TIME_TARGET",
    "plot_at_risk",
    "plot_capacity_demand",
    "plot_on_time_histogram",
    "plot_shortfall_heatmap",
    "plot_utilisation_heatmap",
]

AT_RISK_BARS = 20
ON_TIME_TARGET = 0.8  # below it a project is "at risk" in the report's words
_COLOURS = "RdYlGn"  # red: unlikely on time, green: likely


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def plot_on_time_histogram(summary: RunSummary, *, ax: Axes | None = None) -> Axes:
    """How many projects have each P(on time), in bins of 0.05 (projects with a deadline)."""
    ax = _axes(ax, (4.2, 3.2))
    p = np.array([r.p_on_time.estimate for r in summary.projects if r.p_on_time is not None])
    edges = np.linspace(0, 1, 21)
    counts, _ = np.histogram(p, bins=edges)
    colours = _colours((edges[:-1] + edges[1:]) / 2)
    ax.bar(edges[:-1], counts, width=0.05, align="edge", color=colours, edgecolor="white")
    ax.axvline(ON_TIME_TARGET, color="black", ls="--", lw=0.8)
    below = int((p < ON_TIME_TARGET).sum())
    ax.set_title(
        f"P(on time) across the {len(p)} projects with a deadline\n"
        f"{below} below {ON_TIME_TARGET:.1f} (dashed)",
        fontsize=9,
    )
    ax.set_xlim(0, 1)
    ax.set_xlabel("P(on time)")
    ax.set_ylabel("projects")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if not len(p):
        ax.text(0.5, 0.5, "no project has a deadline", ha="center", transform=ax.transAxes)
    return ax


def _p80_late(r: ProjectResult, pf: Portfolio | None) -> float:
    """How far the P80 finish lies past the deadline: in working days of the default
    calendar with ``pf``, else in the summary's time units."""
    p80 = next(q.value for q in r.finish if q.q == 80)
    deadline = r.deadline or 0.0
    if pf is None:
        return p80 - deadline
    cal = pf.calendar
    return cal.work(cal.default, p80) - cal.work(cal.default, deadline)


def plot_at_risk(
    summary: RunSummary,
    n: int = AT_RISK_BARS,
    *,
    pf: Portfolio | None = None,
    ax: Axes | None = None,
) -> Axes:
    """The ``n`` projects most at risk (:meth:`RunSummary.most_at_risk`), their P(on time)
    with bars of ±2 standard errors, most at risk on top, and how far each P80 finish lies
    past the deadline: in working days with ``pf`` (its default calendar), else in days
    (calendar days when the scenario has a start date)."""
    ranked = [
        summary.projects[k]
        for k in summary.most_at_risk()
        if summary.projects[k].p_on_time is not None
    ][:n]
    ax = _axes(ax, (6.5, 0.26 * len(ranked) + 1.4))
    est = np.array([r.p_on_time.estimate for r in ranked if r.p_on_time is not None])
    se = np.array([r.p_on_time.se for r in ranked if r.p_on_time is not None])
    y = np.arange(len(ranked))
    ax.barh(y, est, xerr=2 * se, color=_colours(est), capsize=2, height=0.7)
    for yy, e, s, r in zip(y, est, se, ranked, strict=True):
        text = f"{e:.2f} · P80 {_p80_late(r, pf):+.0f} d"
        ax.text(e + 2 * s + 0.02, float(yy), text, va="center", fontsize=7)
    ax.set_yticks(y, [r.name for r in ranked], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.3)
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.axvline(ON_TIME_TARGET, color="black", ls="--", lw=0.8)
    days = "working days" if pf is not None or summary.start is None else "calendar days"
    ax.set_xlabel(f"P(on time) (bars: ±2 s.e.; P80: the P80 finish against the deadline, {days})")
    ax.set_title(f"The {len(ranked)} projects most at risk", fontsize=9)
    if not ranked:
        ax.text(0.5, 0.5, "no project has a deadline", ha="center", transform=ax.transAxes)
    return ax


def _colours(values: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Red (0) to green (1) colours for probabilities."""
    cmap = mpl.colormaps[_COLOURS]
    return [tuple(c) for c in cmap(Normalize(0, 1)(np.asarray(values, dtype=float)))]


def plot_utilisation_heatmap(summary: RunSummary, *, ax: Axes | None = None) -> Axes:
    """Each pool's mean utilisation (the share of its capacity in use) per period."""
    pools = list(dict.fromkeys(c.pool for c in summary.capacity))
    periods = list(dict.fromkeys(c.period for c in summary.capacity))
    ax = _axes(ax, (7.0, 0.6 + 0.22 * len(pools)))
    row = {pool: k for k, pool in enumerate(pools)}
    col = {period: m for m, period in enumerate(periods)}
    grid = np.full((len(pools), len(periods)), np.nan)
    for c in summary.capacity:
        grid[row[c.pool], col[c.period]] = c.utilisation
    im = ax.imshow(grid, aspect="auto", cmap="Blues", vmin=0, vmax=1)
    ax.set_yticks(range(len(pools)), pools, fontsize=7 if len(pools) > 8 else 9)
    ax.set_xticks(range(len(periods)), periods, rotation=60, ha="right", fontsize=7)
    ax.set_title("Utilisation: share of the capacity in use, per month", fontsize=9)
    ax.figure.colorbar(im, ax=ax, fraction=0.03, label="utilisation")
    return ax


def plot_shortfall_heatmap(out: Outcome, pools: list[str], *, ax: Axes | None = None) -> Axes:
    """P(some demand waits for the pool), per pool and period."""
    ax = _axes(ax, (7.0, 3.0))
    p_short = (out.waiting > 1e-9).mean(axis=0)  # (pools, periods)
    im = ax.imshow(p_short, aspect="auto", cmap="Reds", vmin=0, vmax=1)
    ax.set_yticks(range(len(pools)), pools, fontsize=7 if len(pools) > 8 else 9)
    ax.set_xticks(range(len(out.periods)), out.periods, rotation=60, ha="right", fontsize=7)
    ax.set_title("P(some demand waits for the pool) per month", fontsize=9)
    ax.figure.colorbar(im, ax=ax, fraction=0.03, label="probability")
    return ax


def plot_capacity_demand(
    out: Outcome, pools: list[str], *, only: Sequence[int] | None = None, ax: Axes | None = None
) -> Axes:
    """Each pool's demand (P50, band P10-P90) against its mean capacity, per period (the
    pools ``only`` lists, when given: indices into ``pools``)."""
    ax = _axes(ax, (7.0, 3.5))
    x = np.arange(len(out.periods))
    for j in range(len(pools)) if only is None else only:
        pool = pools[j]
        demand = out.busy[:, j, :] + out.waiting[:, j, :]
        lo, mid, hi = np.quantile(demand, [0.1, 0.5, 0.9], axis=0)
        line = ax.plot(x, mid, label=f"{pool} demand P50")[0]
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.15)
        ax.plot(x, out.capacity[:, j, :].mean(axis=0), color=line.get_color(), ls="--", lw=1)
    ax.set_xticks(x, out.periods, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("units (mean over the month)")
    which = "per pool" if only is None else f"the {len(only)} pools most short"
    ax.set_title(f"Demand (band: P10-P90) against capacity (dashed), {which}", fontsize=9)
    if ax.get_lines():
        ax.legend(fontsize=7, ncol=3)
    return ax
