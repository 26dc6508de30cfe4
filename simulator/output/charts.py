"""Charts (matplotlib) of a run and of a comparison.

Each ``plot_*`` function draws one panel on ``ax`` (a new figure's axes when None) and
returns the Axes; :func:`run_charts` and :func:`compare_charts` lay the panels out, one per
project where that applies, and render them as PNG :class:`Chart` values. User names are
drawn as written (no math text, no TeX).
"""

from __future__ import annotations

import base64
import io
import math
import textwrap
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from numpy.typing import NDArray

from ..analysis import Comparison, Prob, RunSummary
from ..model import Portfolio, Project
from ..montecarlo import Outcome
from .drawing import later
from .fonts import chart_families, portfolio_texts
from .portfolio_charts import (
    AT_RISK_BARS,
    plot_at_risk,
    plot_capacity_demand,
    plot_on_time_histogram,
    plot_shortfall_heatmap,
    plot_utilisation_heatmap,
)
from .tables import PANELS

__all__ = [
    "DRIVERS_TOP",
    "PANELS",
    "Chart",
    "TimeAxis",
    "compare_charts",
    "plot_capacity_demand",
    "plot_comparison",
    "plot_convergence",
    "plot_cost_curve",
    "plot_cost_vs_finish",
    "plot_criticality",
    "plot_finish_curve",
    "plot_finish_histogram",
    "plot_project_effects",
    "plot_risk_contributions",
    "plot_shortfall_heatmap",
    "run_charts",
]

DPI = 110
DRIVERS_TOP = 8  # tasks per project in the drivers chart
RISK_ROWS = 20  # risks in the risk contributions chart, at most
Array = NDArray[np.float64]


@contextmanager
def _literal_text(texts: Iterable[str] = ()) -> Iterator[None]:
    """User names are drawn as written: no math text, no TeX, in fonts that have their
    characters (:mod:`simulator.output.fonts`; the CLI names once those none has)."""
    families = chart_families(texts)
    with (
        mpl.rc_context(
            {
                "text.parse_math": False,
                "text.usetex": False,
                "figure.dpi": DPI,
                "font.size": 9,
                "figure.constrained_layout.use": True,
                **({"font.family": families} if families else {}),
            }
        ),
        warnings.catch_warnings(),
    ):
        # degenerate data (a constant cost, one project) only makes matplotlib widen limits
        warnings.filterwarnings("ignore", category=UserWarning, module="matplotlib")
        warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)
        yield


@dataclass(frozen=True)
class Chart:
    """A rendered chart: its file name (a fixed, safe name), title and PNG bytes."""

    file: str
    title: str
    png: bytes

    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


LABEL_CHARS = 40  # longer names and ids are cut in the middle on the charts


def _short(text: str) -> str:
    """``text`` with each line cut in the middle to at most :data:`LABEL_CHARS` characters
    (both ends of an id such as ``project.task`` stay readable)."""
    half = (LABEL_CHARS - 1) // 2
    return "\n".join(
        line if len(line) <= LABEL_CHARS else f"{line[:half]}…{line[-half:]}"
        for line in text.split("\n")
    )


def _wrapped(text: str) -> str:
    """A title with each line of at most :data:`LABEL_CHARS` characters: broken between
    words (cutting a sentence in the middle lost its meaning: "Utilisation: share …y in
    use, per month"), a longer word (an id) cut in the middle as :func:`_short` does."""
    lines = []
    for line in text.split("\n"):
        words = " ".join(_short(w) for w in line.split(" "))
        lines += textwrap.wrap(words, LABEL_CHARS, break_long_words=False) or [""]
    return "\n".join(lines)


def _short_call(func: Callable[..., Any], *args: Any) -> str:
    return _short(str(func(*args)))


def _shorten_labels(fig: Any) -> None:
    """Cut every long name on the figure: titles, fixed tick labels, legends and texts (a
    200-character id took the whole figure and collapsed its panels)."""
    for ax in fig.axes:
        for t in (ax.title, ax._left_title, ax._right_title):
            t.set_text(_wrapped(t.get_text()))
        legend = ax.get_legend()
        texts = [*ax.texts, *(legend.get_texts() if legend is not None else [])]
        for t in texts:
            t.set_text(_short(t.get_text()))
        for axis in (ax.xaxis, ax.yaxis):  # labels given with the ticks: fixed or a function
            formatter = axis.get_major_formatter()
            if isinstance(formatter, mticker.FixedFormatter):
                formatter.seq = [_short(str(x)) for x in formatter.seq]
            elif isinstance(formatter, mticker.FuncFormatter):
                formatter.func = partial(_short_call, formatter.func)


def _png(fig: Any) -> bytes:
    _shorten_labels(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()


def _axes(ax: Axes | None, size: tuple[float, float] = (4.2, 2.9)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


class TimeAxis:
    """Working days -> dates (or working days when the scenario has no start)."""

    def __init__(self, pf: Portfolio) -> None:
        self.pf = pf
        self.dated = pf.calendar.start is not None

    def __call__(self, x: Any) -> Any:
        arr = np.asarray(x, dtype=float)
        if not self.dated:
            return arr
        dates = self.pf.calendar.finish_dates(arr.ravel())
        assert dates is not None
        days = dates.astype("datetime64[D]")  # numpy dates: matplotlib converts them in bulk
        return days.reshape(arr.shape) if arr.ndim else days[0]

    def num(self, x: Any) -> Any:
        """Positions on the axis (matplotlib date numbers when dated)."""
        return mdates.date2num(self(x)) if self.dated else self(x)

    def label(self) -> str:
        return "finish date" if self.dated else "finish (working days from the start)"

    def axis(self, ax: Any, which: str = "x") -> None:
        if self.dated:
            target = ax.xaxis if which == "x" else ax.yaxis
            target.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=5))
            target.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
            for label in ax.get_xticklabels() if which == "x" else ax.get_yticklabels():
                label.set_rotation(30)
                label.set_ha("right")


# --- one panel each ---------------------------------------------------------------------


def plot_finish_curve(
    finish: Array,
    time: TimeAxis,
    project: Project,
    p_on_time: Prob | None = None,
    *,
    ax: Axes | None = None,
) -> Axes:
    """The S-curve of one project's finish, its P50 and P80, and its deadline."""
    ax = _axes(ax)
    x = np.sort(finish)
    ax.step(time(x), np.arange(1, len(x) + 1) / len(x), where="post", color="C0")
    for q, style in ((0.5, "--"), (0.8, ":")):
        v = float(np.quantile(finish, q, method="inverted_cdf"))
        ax.axvline(time(v), color="C0", ls=style, lw=0.8)
        ax.text(time(v), 0.02 if q == 0.5 else 0.12, f" P{round(q * 100)}", color="C0", fontsize=7)
    if project.deadline is not None and p_on_time is not None:
        ax.axvline(time(project.deadline), color="C3", lw=1.2)
        ax.text(
            time(project.deadline),
            0.95,
            f" deadline\n P(on time) {p_on_time.estimate:.2f}",
            color="C3",
            fontsize=7,
            va="top",
        )
    ax.set_title(project.name, fontsize=9)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("P(finished by)")
    ax.set_xlabel(time.label())
    time.axis(ax)
    return ax


def plot_finish_histogram(
    finish: Array, time: TimeAxis, project: Project, *, ax: Axes | None = None
) -> Axes:
    """One project's finishes per week (per 40 bins without dates), and its deadline."""
    ax = _axes(ax)
    if time.dated:
        nums = time.num(finish)
        start = np.floor(nums.min()) - (np.floor(nums.min()) + 3) % 7  # Mondays
        ax.hist(nums, bins=np.arange(start, nums.max() + 8, 7).tolist(), color="C0", alpha=0.8)
        ax.xaxis_date()
    else:
        ax.hist(finish, bins=40, color="C0", alpha=0.8)
    if project.deadline is not None:
        ax.axvline(time.num(project.deadline), color="C3", lw=1.2, label="deadline")
        ax.legend(fontsize=7)
    ax.set_title(project.name, fontsize=9)
    ax.set_ylabel("iterations per week" if time.dated else "iterations")
    ax.set_xlabel(time.label())
    time.axis(ax)
    return ax


def plot_cost_curve(
    cost: Array,
    project: Project,
    unit: str,
    p_within_budget: Prob | None = None,
    *,
    ax: Axes | None = None,
) -> Axes:
    """The S-curve of one project's cost, in thousands, and its budget."""
    ax = _axes(ax)
    x = np.sort(cost) / 1000
    ax.step(x, np.arange(1, len(x) + 1) / len(x), where="post", color="C2")
    if project.budget is not None and p_within_budget is not None:
        ax.axvline(project.budget / 1000, color="C3", lw=1.2)
        ax.text(
            project.budget / 1000,
            0.95,
            f" budget\n P(within) {p_within_budget.estimate:.2f}",
            color="C3",
            fontsize=7,
            va="top",
        )
    ax.set_title(project.name, fontsize=9)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"cost (thousand {unit})")
    ax.set_ylabel("P(cost at most)")
    return ax


def plot_cost_vs_finish(
    finish: Array,
    cost: Array,
    time: TimeAxis,
    project: Project,
    unit: str,
    joint: Prob | None = None,
    *,
    ax: Axes | None = None,
) -> Axes:
    """One project's iterations as (finish, cost) points, with its deadline and budget."""
    ax = _axes(ax)
    ax.scatter(time.num(finish), cost / 1000, s=3, alpha=0.35, color="C0")
    if time.dated:
        ax.xaxis_date()
    if project.deadline is not None:
        ax.axvline(time.num(project.deadline), color="C3", lw=1)
    if project.budget is not None:
        ax.axhline(project.budget / 1000, color="C3", lw=1)
    label = "" if joint is None else f"P(on time and within budget) {joint.estimate:.2f}"
    ax.set_title(f"{project.name}\n{label}", fontsize=8)
    ax.set_xlabel(time.label())
    ax.set_ylabel(f"cost (thousand {unit})")
    time.axis(ax)
    return ax


def plot_criticality(part: pd.DataFrame, title: str, *, ax: Axes | None = None) -> Axes:
    """A project's most critical tasks (rows of ``drivers.csv``), with their correlation."""
    ax = _axes(ax, (4.6, 3.0))
    y = np.arange(len(part))
    ax.barh(y, part["criticality"].fillna(0), color="C0")
    for yy, (crit, corr) in enumerate(
        zip(part["criticality"].fillna(0), part["correlation"], strict=True)
    ):
        text = "r = -" if corr is None or corr != corr else f"r = {corr:.2f}"
        ax.text(min(crit, 1.0) + 0.02, yy, text, va="center", fontsize=6.5)
    ax.set_yticks(y, [str(d) for d in part["driver"]], fontsize=7)
    ax.set_xlim(0, 1.3)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("criticality index (r: correlation with the finish)", fontsize=7)
    return ax


def plot_risk_contributions(
    pf: Portfolio,
    risk_rows: Any,
    *,
    projects: Sequence[int] | None = None,
    most: int = 20,
    ax: Axes | None = None,
) -> Axes:
    """Working days each risk adds to each project's P80 finish: the ``projects`` given
    (indices; all by default), and the ``most`` risks that add most to one of them."""
    shown = list(range(len(pf.projects))) if projects is None else list(projects)
    ids = [pf.projects[k].id for k in shown]
    rows = risk_rows[risk_rows["project"].isin(ids)]
    all_risks = list(dict.fromkeys(risk_rows["driver"]))
    grid = np.zeros((len(all_risks), len(ids)))
    at = {pid: j for j, pid in enumerate(ids)}
    for row in rows.itertuples():
        grid[all_risks.index(row.driver), at[row.project]] = -float(row.p80_finish_change)
    keep = np.argsort(-np.abs(grid).max(axis=1), kind="stable")[:most]
    keep.sort()
    risks, grid = [all_risks[i] for i in keep], grid[keep]
    ax = _axes(ax, (1.1 * len(ids) + 3, 0.45 * len(risks) + 2))
    top = max(float(np.abs(grid).max()), 1e-9)
    im = ax.imshow(grid, cmap="RdBu_r", vmin=-top, vmax=top, aspect="auto")
    for i in range(len(risks)):
        for j in range(len(ids)):
            if abs(grid[i, j]) >= 0.05:
                ax.text(j, i, f"{grid[i, j]:+.1f}", ha="center", va="center", fontsize=7)
    names = [pf.projects[k].name for k in shown]
    ax.set_xticks(range(len(ids)), names, rotation=30, ha="right", fontsize=7)
    ax.set_yticks(range(len(risks)), risks, fontsize=7)
    ax.figure.colorbar(im, ax=ax, fraction=0.04, label="working days added to the P80 finish")
    return ax


def plot_convergence(
    pf: Portfolio, out: Outcome, *, projects: Sequence[int] | None = None, ax: Axes | None = None
) -> Axes:
    """Each project's P(on time) (those ``projects`` lists, indices, when given), ±2 s.e.,
    as iterations accumulate."""
    ax = _axes(ax, (7, 3.4))
    n = len(out.finish)
    steps = np.unique(np.linspace(50, n, 40).astype(int)) if n > 50 else np.arange(1, n + 1)
    for k in range(len(pf.projects)) if projects is None else projects:
        p = pf.projects[k]
        if p.deadline is None:
            continue
        hits = np.cumsum(out.finish[:, k] <= p.deadline)[steps - 1] / steps
        se = np.sqrt(hits * (1 - hits) / steps)
        line = ax.plot(steps, hits, label=p.name)[0]
        ax.fill_between(steps, hits - 2 * se, hits + 2 * se, color=line.get_color(), alpha=0.12)
    ax.set_xlabel("iterations")
    ax.set_ylabel("P(on time), ±2 s.e.")
    ax.set_ylim(-0.02, 1.02)
    if ax.get_lines():
        ax.legend(fontsize=7, ncol=2)
    else:
        ax.text(0.5, 0.5, "no project has a deadline", ha="center", transform=ax.transAxes)
    return ax


def plot_comparison(
    c: Comparison, metric: str, label: str, scale: float = 1.0, *, ax: Axes | None = None
) -> Axes:
    """Each variant's change in ``metric`` with ±2 paired standard errors (green: better)."""
    ax = _axes(ax)
    diffs, errs, colors = [], [], []
    for v in c.variants:
        d = v.get(metric)
        diffs.append(0.0 if d is None or math.isnan(d.diff) else d.diff * scale)
        errs.append(0.0 if d is None or math.isnan(d.se) else 2 * d.se * scale)
        good = d is not None and (d.diff < 0 if metric == "cost" else d.diff > 0)
        colors.append("C2" if good else "C3")
    ax.barh(np.arange(len(c.variants)), diffs, xerr=errs, color=colors, alpha=0.8, capsize=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(label)
    return ax


def plot_project_effects(c: Comparison, pf: Portfolio, *, ax: Axes | None = None) -> Axes:
    """Each variant's change in each project's P(on time), ±2 paired standard errors."""
    ids = list(c.projects)
    ax = _axes(ax, (9, 0.55 * len(ids) * max(1, len(c.variants) / 3) + 2))
    width = 0.8 / max(len(c.variants), 1)
    y = np.arange(len(ids))
    for j, v in enumerate(c.variants):
        diffs, errs = [], []
        for pid in ids:
            d = v.get(f"on_time[{pid}]")
            ok = d is not None and not math.isnan(d.diff)
            diffs.append(d.diff if ok and d is not None else 0.0)
            errs.append(2 * d.se if ok and d is not None else 0.0)
        ax.barh(y + j * width, diffs, height=width, xerr=errs, label=v.name, capsize=2)
    ax.set_yticks(y + width * (len(c.variants) - 1) / 2, [p.name for p in pf.projects])
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("change in P(on time) (bars: ±2 paired s.e.; cancelled projects: none)")
    ax.legend(fontsize=7)
    return ax


# --- figures ------------------------------------------------------------------------------


def _per_project(n: int, size: tuple[float, float], draw: Callable[[int, Axes], object]) -> Any:
    """A figure with one panel per project (three across), ``draw(k, ax)`` filling each."""
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows), squeeze=False)
    for k in range(rows * cols):
        ax = axes[k // cols][k % cols]
        if k < n:
            draw(k, ax)
        else:
            ax.axis("off")
    return fig


def _titled(
    fig: Any, file: str, title: str, caption: str, pf: Portfolio, summary: RunSummary
) -> Chart:
    """The figure rendered, titled with the scenario, seed and iteration count."""
    _suptitle(
        fig, f"{caption}\n{pf.name} · seed {summary.seed} · {summary.iterations:,} iterations"
    )
    return Chart(file, title, _png(fig))


def _suptitle(fig: Any, text: str, fontsize: float = 10) -> None:
    """A figure title whose lines are wrapped to the figure's width (a long scenario name
    would run off both sides)."""
    chars = max(20, int(fig.get_figwidth() * 72 / (0.6 * fontsize)))
    lines = [textwrap.fill(line, chars) for line in text.splitlines()]
    fig.suptitle("\n".join(lines), fontsize=fontsize)


def _samples(n: int, projects: int, most: int = 2000) -> list[NDArray[np.int64]]:
    """Per project, the iterations a scatter plot shows: all, or ``most`` drawn at random
    (seeded, so the chart is the same every time)."""
    rng = np.random.default_rng(0)
    return [
        rng.choice(n, size=most, replace=False) if n > most else np.arange(n)
        for _ in range(projects)
    ]


class _ProjectPanels:
    """The per-project panels of a run, each drawn by ``name(k, ax)`` for project ``k``."""

    def __init__(self, pf: Portfolio, finish: Array, cost: Array, summary: RunSummary) -> None:
        self.pf, self.finish, self.cost, self.res = pf, finish, cost, summary.projects
        self.time = TimeAxis(pf)
        self.unit = pf.currency or "cost units"
        self.pick = _samples(len(finish), len(pf.projects))

    def finish_curve(self, k: int, ax: Axes) -> Axes:
        return plot_finish_curve(
            self.finish[:, k], self.time, self.pf.projects[k], self.res[k].p_on_time, ax=ax
        )

    def finish_histogram(self, k: int, ax: Axes) -> Axes:
        return plot_finish_histogram(self.finish[:, k], self.time, self.pf.projects[k], ax=ax)

    def cost_curve(self, k: int, ax: Axes) -> Axes:
        p_budget = self.res[k].p_within_budget
        return plot_cost_curve(self.cost[:, k], self.pf.projects[k], self.unit, p_budget, ax=ax)

    def cost_vs_finish(self, k: int, ax: Axes) -> Axes:
        pick, joint = self.pick[k], self.res[k].p_on_time_and_within_budget
        finish, cost = self.finish[pick, k], self.cost[pick, k]
        return plot_cost_vs_finish(
            finish, cost, self.time, self.pf.projects[k], self.unit, joint, ax=ax
        )


# file, title, caption (the title when empty), panel size, panel
_PROJECT_FIGURES: tuple[tuple[str, str, str, tuple[float, float], str], ...] = (
    ("finish-s-curves.png", "Finish-date S-curves", "", (4.2, 2.9), "finish_curve"),
    ("finish-histograms.png", "Finish-date histograms", "", (4.2, 2.7), "finish_histogram"),
    ("cost-s-curves.png", "Cost S-curves", "", (4.2, 2.8), "cost_curve"),
    (
        "cost-vs-finish.png",
        "Cost against finish",
        "Cost against finish (lines: deadline and budget)",
        (4.2, 3.0),
        "cost_vs_finish",
    ),
)


def _subset(pf: Portfolio, shown: Sequence[int]) -> str:
    """How a figure's caption names the projects it shows."""
    n = len(shown)
    return "" if n == len(pf.projects) else f" (the {n} projects most at risk, most at risk first)"


def _nth(draw: Callable[[int, Axes], Axes], shown: Sequence[int], i: int, ax: Axes) -> Axes:
    return draw(shown[i], ax)


def project_charts(
    pf: Portfolio,
    finish: Array,
    cost: Array,
    summary: RunSummary,
    shown: Sequence[int],
    figures: Sequence[int],
) -> list[Chart]:
    """The per-project figures ``figures`` (numbers in :data:`_PROJECT_FIGURES`), one panel
    for each project of ``shown``; ``finish`` and ``cost``: the run's, per iteration and
    project. A function of plain data, so that another process can draw them."""
    panels = _ProjectPanels(pf, finish, cost, summary)
    charts = []
    with _literal_text(portfolio_texts(pf)):
        for file, title, caption, size, panel in (_PROJECT_FIGURES[i] for i in figures):
            draw: Callable[[int, Axes], Axes] = getattr(panels, panel)
            fig = _per_project(len(shown), size, partial(_nth, draw, shown))
            text = (caption or title) + _subset(pf, shown)
            charts.append(_titled(fig, file, title, text, pf, summary))
    return charts


DEMAND_POOLS = 6  # the demand panel's lines: the pools most short, when there are more


def _capacity_chart(pf: Portfolio, out: Outcome, summary: RunSummary) -> Chart:
    pools = [p.id for p in pf.pools]
    only = None
    if len(pools) > DEMAND_POOLS:
        short = out.waiting.mean(axis=(0, 2))  # mean units waiting per pool, over the months
        only = sorted(np.argsort(-short, kind="stable")[:DEMAND_POOLS].tolist())
    heat = 0.6 + 0.22 * len(pools)
    fig, (ax0, ax1, ax2) = plt.subplots(
        3,
        1,
        figsize=(max(7.0, 0.45 * len(out.periods) + 2), 2 * heat + 4.6),
        gridspec_kw={"height_ratios": [heat, heat, 3.6]},
    )
    plot_utilisation_heatmap(summary, ax=ax0)
    plot_shortfall_heatmap(out, pools, ax=ax1)
    plot_capacity_demand(out, pools, only=only, ax=ax2)
    return _titled(
        fig, "capacity.png", "Capacity: utilisation, shortfall and demand", "Capacity", pf, summary
    )


def _portfolio_chart(pf: Portfolio, summary: RunSummary) -> Chart:
    """P(on time) across the projects and the projects most at risk, side by side."""
    bars = min(AT_RISK_BARS, sum(r.p_on_time is not None for r in summary.projects))
    fig, (ax0, ax1) = plt.subplots(
        1,
        2,
        figsize=(11.0, max(3.4, 0.24 * bars + 1.6)),
        gridspec_kw={"width_ratios": [1, 1.4]},
    )
    plot_on_time_histogram(summary, ax=ax0)
    plot_at_risk(summary, AT_RISK_BARS, pf=pf, ax=ax1)
    return _titled(
        fig,
        "portfolio.png",
        "Portfolio: P(on time)",
        "P(on time) across the portfolio",
        pf,
        summary,
    )


def _driver_charts(
    pf: Portfolio, summary: RunSummary, drivers: pd.DataFrame, shown: Sequence[int], top: int
) -> list[Chart]:
    tasks = drivers[drivers["kind"] == "task"]

    def tasks_of(k: int) -> pd.DataFrame:
        part = tasks[tasks["project"] == pf.projects[k].id]
        return part.sort_values("criticality", ascending=False, kind="stable").head(top)

    fig = _per_project(
        len(shown),
        (4.6, max(3.0, 0.2 * top + 1.4)),
        lambda i, ax: plot_criticality(tasks_of(shown[i]), pf.projects[shown[i]].name, ax=ax),
    )
    caption = f"The {top} tasks most often on the chain that drives each finish"
    charts = [
        _titled(
            fig, "drivers.png", "Drivers: critical tasks", caption + _subset(pf, shown), pf, summary
        )
    ]
    risk_rows = drivers[drivers["kind"] == "risk"]
    if not risk_rows.empty:
        ax = plot_risk_contributions(pf, risk_rows, projects=shown, most=RISK_ROWS)
        caption = "Risk contributions (each risk alone switched off)" + _subset(pf, shown)
        if risk_rows["driver"].nunique() > RISK_ROWS:
            caption += f"; the {RISK_ROWS} risks that change their P80 finish most"
        charts.append(
            _titled(ax.figure, "risks.png", "Drivers: risk contributions", caption, pf, summary)
        )
    return charts


def run_charts(
    pf: Portfolio,
    out: Outcome,
    summary: RunSummary,
    drivers: pd.DataFrame,
    *,
    shown: Sequence[int] | None = None,
    drivers_top: int = DRIVERS_TOP,
    pool: ProcessPoolExecutor | None = None,
) -> list[Chart]:
    """Every chart of a run: the portfolio first (P(on time) across projects, the pools),
    then one panel per project of ``shown`` (indices; default :meth:`RunSummary.shown`
    of :data:`PANELS`), ``drivers_top`` tasks in each drivers panel. With a ``pool``
    (:func:`~simulator.output.drawing.second_process`), its process draws all the
    per-project figures but the first while this one draws the others: the same bytes."""
    shown = summary.shown(PANELS) if shown is None else shown
    every = range(len(_PROJECT_FIGURES))
    away = [] if pool is None else list(every[1:])  # started first, drawn meanwhile
    theirs = later(pool, project_charts, pf, out.finish, out.cost, summary, shown, away)
    mine = [i for i in every if i not in away]
    project = project_charts(pf, out.finish, out.cost, summary, shown, mine)
    with _literal_text(portfolio_texts(pf)):
        charts = [_portfolio_chart(pf, summary)]
        if pf.pools:
            charts.append(_capacity_chart(pf, out, summary))
        after = _driver_charts(pf, summary, drivers, shown, drivers_top)
        ax = plot_convergence(pf, out, projects=shown)
        caption = "Convergence of P(on time) as iterations accumulate" + _subset(pf, shown)
        after.append(_titled(ax.figure, "convergence.png", "Convergence", caption, pf, summary))
    project += theirs() if away else []
    files = [f[0] for f in _PROJECT_FIGURES]
    return charts + sorted(project, key=lambda c: files.index(c.file)) + after


def compare_charts(c: Comparison, pf: Portfolio) -> list[Chart]:
    """The charts of a comparison: the decisions against the base, and per project."""
    meta = f"{c.scenario} · seed {c.seed} · {c.iterations:,} iterations per scenario"
    with _literal_text(portfolio_texts(pf)):
        fig, axes = plt.subplots(1, 3, figsize=(12, 0.45 * len(c.variants) + 2.4), sharey=True)
        for ax, metric, label, scale in (
            (axes[0], "portfolio_on_time", "P(all on time): change", 1.0),
            (axes[1], "projects_on_time", "projects on time: change", 1.0),
            (axes[2], "cost", f"mean cost: change (thousand {pf.currency or 'units'})", 1e-3),
        ):
            plot_comparison(c, metric, label, scale, ax=ax)
        axes[0].set_yticks(np.arange(len(c.variants)), [v.name for v in c.variants])
        axes[0].invert_yaxis()
        _suptitle(fig, f"Decisions against the base (bars: ±2 paired s.e.)\n{meta}")
        overall = Chart("comparison.png", "Decisions against the base", _png(fig))
        ax = plot_project_effects(c, pf)
        _suptitle(ax.figure, f"Which decision helps which project\n{meta}")
        projects = Chart(
            "comparison-projects.png", "Which decision helps which project", _png(ax.figure)
        )
    return [overall, projects]
