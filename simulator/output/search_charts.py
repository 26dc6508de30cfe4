"""The decision search's chart: every evaluated plan's mean value against its P(all on
time), coloured by mean cost, with the Pareto front (value, P(all on time), cost) ringed and
the winner starred."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..analysis.decision import DecisionSearch

__all__ = ["plot_pareto", "save_pareto"]


def plot_pareto(result: DecisionSearch, *, currency: str = "", ax: Axes | None = None) -> Axes:
    """Mean value against P(all on time) for every evaluated plan."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.2))
    cands = result.explored.candidates
    front = {id(c) for c in result.pareto}
    points = ax.scatter(
        [c.p_all_on_time for c in cands],
        [c.value for c in cands],
        c=[c.cost for c in cands],
        cmap=mpl.colormaps["viridis"],
        s=14,
        alpha=0.8,
    )
    fc = [c for c in cands if id(c) in front]
    ax.scatter(
        [c.p_all_on_time for c in fc],
        [c.value for c in fc],
        s=60,
        facecolors="none",
        edgecolors="crimson",
        linewidths=1.2,
        label="Pareto front (value, P, cost)",
    )
    win = next(c for c in cands if c.plan == result.winner)
    ax.scatter(
        [win.p_all_on_time],
        [win.value],
        marker="*",
        s=220,
        c="gold",
        edgecolors="black",
        label="winner",
        zorder=3,
    )
    bar: Any = ax.figure.colorbar(points, ax=ax)
    bar.set_label(f"mean cost {currency}".strip())
    ax.set_xlabel("P(all on time)")
    ax.set_ylabel(f"mean value {currency}".strip())
    ax.set_title(f"{result.scenario}: {len(cands)} plans searched", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    return ax


def save_pareto(result: DecisionSearch, path: Path, *, currency: str = "") -> None:
    """Write :func:`plot_pareto` as a PNG (no pyplot state: safe in threads and tests)."""
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    plot_pareto(result, currency=currency, ax=fig.add_subplot())
    fig.savefig(path, dpi=110)
