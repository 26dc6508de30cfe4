"""``report.html`` and the charts (PNG) of a run.

Every chart carries its units, the scenario name, the seed and the iteration count; time
axes show dates when the scenario has a start date. User text (scenario, project, pool,
task and risk names) is drawn literally (math text off) and escaped in the HTML (Jinja2
autoescape). The HTML embeds the charts as data URIs and loads nothing from the network.
"""

from __future__ import annotations

import base64
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from jinja2 import Environment, select_autoescape

from .model import Portfolio
from .montecarlo import Outcome
from .results import RunSummary

__all__ = ["Chart", "compare_charts", "run_charts", "write_compare_report", "write_run_report"]

DPI = 110


@contextmanager
def _literal_text() -> Iterator[None]:
    """User names are drawn as written: no math text, no TeX."""
    with mpl.rc_context({"text.parse_math": False, "text.usetex": False,
                         "figure.dpi": DPI, "font.size": 9,
                         "figure.constrained_layout.use": True}), warnings.catch_warnings():
        # degenerate data (a constant cost, one project) only makes matplotlib widen limits
        warnings.filterwarnings("ignore", category=UserWarning, module="matplotlib")
        yield


@dataclass(frozen=True)
class Chart:
    """A rendered chart: its file name (a fixed, safe name), title and PNG bytes."""

    file: str
    title: str
    png: bytes

    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def _png(fig: Any) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()


def _title(fig: Any, title: str, pf: Portfolio, summary: RunSummary) -> None:
    """The chart's title, with the scenario, seed and iteration count under it."""
    fig.suptitle(f"{title}\n{pf.name} · seed {summary.seed} · {summary.iterations:,} "
                 "iterations", fontsize=10)


class _Time:
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

    def label(self) -> str:
        return "finish date" if self.dated else "finish (working days from the start)"

    def axis(self, ax: Any, which: str = "x") -> None:
        if self.dated:
            target = ax.xaxis if which == "x" else ax.yaxis
            target.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=5))
            target.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
            for label in (ax.get_xticklabels() if which == "x" else ax.get_yticklabels()):
                label.set_rotation(30)
                label.set_ha("right")


def _grid(n: int) -> tuple[int, int]:
    cols = min(n, 3)
    return math.ceil(n / cols), cols


def _finish_curves(pf: Portfolio, out: Outcome, summary: RunSummary) -> Chart:
    t = _Time(pf)
    rows, cols = _grid(len(pf.projects))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.9 * rows), squeeze=False)
    for k, (p, res) in enumerate(zip(pf.projects, summary.projects, strict=True)):
        ax = axes[k // cols][k % cols]
        x = np.sort(out.finish[:, k])
        y = np.arange(1, len(x) + 1) / len(x)
        ax.step(t(x), y, where="post", color="C0")
        for q, style in ((0.5, "--"), (0.8, ":")):
            v = float(np.quantile(out.finish[:, k], q, method="inverted_cdf"))
            ax.axvline(t(v), color="C0", ls=style, lw=0.8)
            ax.text(t(v), 0.02 if q == 0.5 else 0.12, f" P{round(q * 100)}", color="C0",
                    fontsize=7)
        title = p.name
        if p.deadline is not None and res.p_on_time is not None:
            ax.axvline(t(p.deadline), color="C3", lw=1.2)
            ax.text(t(p.deadline), 0.95, f" deadline\n P(on time) {res.p_on_time.estimate:.2f}",
                    color="C3", fontsize=7, va="top")
        ax.set_title(title, fontsize=9)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("P(finished by)")
        ax.set_xlabel(t.label())
        t.axis(ax)
    for k in range(len(pf.projects), rows * cols):
        axes[k // cols][k % cols].axis("off")
    _title(fig, "Finish-date S-curves", pf, summary)
    return Chart("finish-s-curves.png", "Finish-date S-curves", _png(fig))


def _finish_histograms(pf: Portfolio, out: Outcome, summary: RunSummary) -> Chart:
    t = _Time(pf)
    rows, cols = _grid(len(pf.projects))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.7 * rows), squeeze=False)
    for k, p in enumerate(pf.projects):
        ax = axes[k // cols][k % cols]
        x = out.finish[:, k]
        if t.dated:
            nums = mdates.date2num(t(x))
            start = np.floor(nums.min()) - (np.floor(nums.min()) + 3) % 7  # Mondays
            ax.hist(nums, bins=np.arange(start, nums.max() + 8, 7), color="C0", alpha=0.8)
            ax.xaxis_date()
        else:
            ax.hist(x, bins=40, color="C0", alpha=0.8)
        if p.deadline is not None:
            d = t(p.deadline)
            ax.axvline(mdates.date2num(d) if t.dated else d, color="C3", lw=1.2,
                       label="deadline")
            ax.legend(fontsize=7)
        ax.set_title(p.name, fontsize=9)
        ax.set_ylabel("iterations per week" if t.dated else "iterations")
        ax.set_xlabel(t.label())
        t.axis(ax)
    for k in range(len(pf.projects), rows * cols):
        axes[k // cols][k % cols].axis("off")
    _title(fig, "Finish-date histograms", pf, summary)
    return Chart("finish-histograms.png", "Finish-date histograms", _png(fig))


def _cost_curves(pf: Portfolio, out: Outcome, summary: RunSummary) -> Chart:
    rows, cols = _grid(len(pf.projects))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False)
    unit = pf.currency or "cost units"
    for k, (p, res) in enumerate(zip(pf.projects, summary.projects, strict=True)):
        ax = axes[k // cols][k % cols]
        x = np.sort(out.cost[:, k]) / 1000
        ax.step(x, np.arange(1, len(x) + 1) / len(x), where="post", color="C2")
        if p.budget is not None and res.p_within_budget is not None:
            ax.axvline(p.budget / 1000, color="C3", lw=1.2)
            ax.text(p.budget / 1000, 0.95, f" budget\n P(within) "
                    f"{res.p_within_budget.estimate:.2f}", color="C3", fontsize=7, va="top")
        ax.set_title(p.name, fontsize=9)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(f"cost (thousand {unit})")
        ax.set_ylabel("P(cost at most)")
    for k in range(len(pf.projects), rows * cols):
        axes[k // cols][k % cols].axis("off")
    _title(fig, "Cost S-curves", pf, summary)
    return Chart("cost-s-curves.png", "Cost S-curves", _png(fig))


def _joint(pf: Portfolio, out: Outcome, summary: RunSummary) -> Chart:
    t = _Time(pf)
    rows, cols = _grid(len(pf.projects))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    unit = pf.currency or "cost units"
    rng = np.random.default_rng(0)
    for k, (p, res) in enumerate(zip(pf.projects, summary.projects, strict=True)):
        ax = axes[k // cols][k % cols]
        n = len(out.finish)
        pick = rng.choice(n, size=min(n, 2000), replace=False) if n > 2000 else np.arange(n)
        x = out.finish[pick, k]
        y = out.cost[pick, k] / 1000
        ax.scatter(mdates.date2num(t(x)) if t.dated else x, y, s=3, alpha=0.35, color="C0")
        if t.dated:
            ax.xaxis_date()
        if p.deadline is not None:
            d = t(p.deadline)
            ax.axvline(mdates.date2num(d) if t.dated else d, color="C3", lw=1)
        if p.budget is not None:
            ax.axhline(p.budget / 1000, color="C3", lw=1)
        joint = res.p_on_time_and_within_budget
        label = "" if joint is None else f"P(on time and within budget) {joint.estimate:.2f}"
        ax.set_title(f"{p.name}\n{label}", fontsize=8)
        ax.set_xlabel(t.label())
        ax.set_ylabel(f"cost (thousand {unit})")
        t.axis(ax)
    for k in range(len(pf.projects), rows * cols):
        axes[k // cols][k % cols].axis("off")
    _title(fig, "Cost against finish (lines: deadline and budget)", pf, summary)
    return Chart("cost-vs-finish.png", "Cost against finish", _png(fig))


def _capacity(pf: Portfolio, out: Outcome, summary: RunSummary) -> Chart:
    pools = [p.id for p in pf.pools]
    periods = out.periods
    p_short = (out.waiting > 1e-9).mean(axis=0)  # (pools, periods)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(max(7.0, 0.45 * len(periods) + 2), 2.2 +
                                                   0.9 * len(pools) * 2),
                                   gridspec_kw={"height_ratios": [1, 1.4]})
    im = ax1.imshow(p_short, aspect="auto", cmap="Reds", vmin=0, vmax=1)
    ax1.set_yticks(range(len(pools)), pools)
    ax1.set_xticks(range(len(periods)), periods, rotation=60, ha="right", fontsize=7)
    ax1.set_title("P(some demand waits for the pool) per month", fontsize=9)
    fig.colorbar(im, ax=ax1, fraction=0.03, label="probability")
    x = np.arange(len(periods))
    for j, pool in enumerate(pools):
        demand = out.busy[:, j, :] + out.waiting[:, j, :]
        lo, mid, hi = np.quantile(demand, [0.1, 0.5, 0.9], axis=0)
        line = ax2.plot(x, mid, label=f"{pool} demand P50")[0]
        ax2.fill_between(x, lo, hi, color=line.get_color(), alpha=0.15)
        ax2.plot(x, out.capacity[:, j, :].mean(axis=0), color=line.get_color(), ls="--", lw=1)
    ax2.set_xticks(x, periods, rotation=60, ha="right", fontsize=7)
    ax2.set_ylabel("units (mean over the month)")
    ax2.set_title("Demand (band: P10-P90) against capacity (dashed) per pool", fontsize=9)
    if pools:
        ax2.legend(fontsize=7, ncol=min(len(pools), 3))
    _title(fig, "Capacity", pf, summary)
    return Chart("capacity.png", "Capacity: shortfall and demand", _png(fig))


def _tornado(pf: Portfolio, drivers: Any, summary: RunSummary) -> Chart:
    ids = [p.id for p in pf.projects]
    rows, cols = _grid(len(ids))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.0 * rows), squeeze=False)
    for k, pid in enumerate(ids):
        ax = axes[k // cols][k % cols]
        part = drivers[(drivers["project"] == pid) & (drivers["kind"] == "task")].head(8)
        y = np.arange(len(part))
        ax.barh(y, part["criticality"].fillna(0), color="C0")
        for yy, (crit, corr) in enumerate(zip(part["criticality"].fillna(0),
                                              part["correlation"], strict=True)):
            text = "r = -" if corr is None or corr != corr else f"r = {corr:.2f}"
            ax.text(min(crit, 1.0) + 0.02, yy, text, va="center", fontsize=6.5)
        ax.set_yticks(y, [str(d) for d in part["driver"]], fontsize=7)
        ax.set_xlim(0, 1.3)
        ax.invert_yaxis()
        ax.set_title(pf.projects[k].name, fontsize=9)
        ax.set_xlabel("criticality index (r: correlation with the finish)", fontsize=7)
    for k in range(len(ids), rows * cols):
        axes[k // cols][k % cols].axis("off")
    _title(fig, "Tasks on the chain that drives each finish", pf, summary)
    return Chart("drivers.png", "Drivers: critical tasks", _png(fig))


def _risks(pf: Portfolio, drivers: Any, summary: RunSummary) -> Chart | None:
    part = drivers[drivers["kind"] == "risk"]
    if part.empty:
        return None
    risks = list(dict.fromkeys(part["driver"]))
    ids = [p.id for p in pf.projects]
    grid = np.zeros((len(risks), len(ids)))
    for row in part.itertuples():
        grid[risks.index(row.driver), ids.index(row.project)] = -float(row.p80_finish_change)
    fig, ax = plt.subplots(figsize=(1.1 * len(ids) + 3, 0.45 * len(risks) + 2))
    top = max(float(np.abs(grid).max()), 1e-9)
    im = ax.imshow(grid, cmap="RdBu_r", vmin=-top, vmax=top, aspect="auto")
    for i in range(len(risks)):
        for j in range(len(ids)):
            if abs(grid[i, j]) >= 0.05:
                ax.text(j, i, f"{grid[i, j]:+.1f}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(ids)), [p.name for p in pf.projects], rotation=30, ha="right",
                  fontsize=7)
    ax.set_yticks(range(len(risks)), risks, fontsize=7)
    fig.colorbar(im, ax=ax, fraction=0.04, label="working days added to the P80 finish")
    _title(fig, "Risk contributions (each risk alone switched off)", pf, summary)
    return Chart("risks.png", "Drivers: risk contributions", _png(fig))


def _convergence(pf: Portfolio, out: Outcome, summary: RunSummary) -> Chart:
    n = len(out.finish)
    steps = np.unique(np.linspace(50, n, 40).astype(int)) if n > 50 else np.arange(1, n + 1)
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for k, p in enumerate(pf.projects):
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
    _title(fig, "Convergence of P(on time) as iterations accumulate", pf, summary)
    return Chart("convergence.png", "Convergence", _png(fig))


def run_charts(pf: Portfolio, out: Outcome, summary: RunSummary, drivers: Any) -> list[Chart]:
    """Every chart of a run."""
    with _literal_text():
        return [_finish_curves(pf, out, summary), _finish_histograms(pf, out, summary),
                _cost_curves(pf, out, summary), _joint(pf, out, summary),
                *([_capacity(pf, out, summary)] if pf.pools else []),
                _tornado(pf, drivers, summary),
                *([c] if (c := _risks(pf, drivers, summary)) else []),
                _convergence(pf, out, summary)]


def plain_summary(pf: Portfolio, summary: RunSummary, drivers: Any) -> list[str]:
    """The report's opening sentences, in plain words."""
    lines = []
    risky = [r for r in summary.projects if r.p_on_time is not None
             and r.p_on_time.estimate < 0.8]
    if summary.p_all_on_time is not None:
        lines.append(f"All {summary.with_deadline} projects with a deadline finish on time in "
                     f"{summary.p_all_on_time.estimate:.0%} of the simulated futures.")
    for r in sorted(risky, key=lambda r: r.p_on_time.estimate if r.p_on_time else 0):
        assert r.p_on_time is not None
        p80 = next((q for q in r.finish if q.q == 80), None)
        when = "" if p80 is None else f"; 80% of outcomes finish by {summary.date(p80.value)}"
        part = drivers[(drivers["project"] == r.id) & (drivers["kind"] == "task")]
        others = part[~part["driver"].str.startswith(f"{r.id}.")].head(1)
        why = "" if others.empty else (f"; another project's task, "
                                       f"{others['driver'].iloc[0]}, is on the chain that "
                                       f"drives its finish in "
                                       f"{others['criticality'].iloc[0]:.0%} of iterations")
        lines.append(f"{r.name} is at risk: P(on time) {r.p_on_time.estimate:.0%}{when}{why}.")
    short = sorted(summary.capacity, key=lambda c: -c.shortfall_mean)[:2]
    for c in short:
        if c.shortfall_mean > 0.05:
            lines.append(f"Pool {c.pool} is short in {c.period}: on average "
                         f"{c.shortfall_mean:.1f} units of demand wait "
                         f"(P(short) {c.p_shortfall.estimate:.0%}).")
    risks = drivers[(drivers["kind"] == "risk") & (drivers["p80_finish_change"] < -0.05)]
    if not risks.empty:
        top = risks.sort_values("p80_finish_change").iloc[0]
        lines.append(f"The risk that costs most time is {top['driver']}: it adds "
                     f"{-top['p80_finish_change']:.1f} working days to the P80 finish of "
                     f"{top['project']}.")
    return lines


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; }
.meta { color: #666; font-size: 0.85em; }
</style></head><body>
<h1>{{ title }}</h1>
<p class="meta">{{ meta }}</p>
<h2>Summary</h2>
<ul>{% for line in summary %}<li>{{ line }}</li>{% endfor %}</ul>
<h2>{{ table_title }}</h2>
<table><tr>{% for h in head %}<th>{{ h }}</th>{% endfor %}</tr>
{% for r in rows %}<tr>{% for cell in r %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% for c in charts %}<h2>{{ c.title }}</h2>
<img src="{{ c.uri }}" alt="{{ c.title }}">
{% endfor %}
</body></html>
"""


def _render(*, charts: list[Chart], **fields: Any) -> str:
    """``report.html``: every field escaped (autoescape), the charts embedded."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return env.from_string(_TEMPLATE).render(
        charts=[{"title": c.title, "uri": c.data_uri()} for c in charts], **fields)


def _fmt_prob(p: Any) -> str:
    return "-" if p is None else f"{p.estimate:.3f} ± {p.se:.3f}"


def write_run_report(folder: Path, pf: Portfolio, out: Outcome, summary: RunSummary,
                     drivers: Any) -> list[Chart]:
    """Write the charts (PNG) and ``report.html`` into ``folder``."""
    charts = run_charts(pf, out, summary, drivers)
    for c in charts:
        (folder / c.file).write_bytes(c.png)
    rows = []
    for r in summary.projects:
        q = {x.q: x for x in r.finish}
        rows.append([r.name,
                     "-" if r.deadline is None else summary.date(r.deadline)
                     or f"{r.deadline:g}",
                     _fmt_prob(r.p_on_time),
                     summary.date(q[50].value) or f"{q[50].value:.1f}",
                     summary.date(q[80].value) or f"{q[80].value:.1f}",
                     f"{r.cost_mean.estimate:,.0f}",
                     _fmt_prob(r.p_within_budget)])
    html = _render(
        title=f"{pf.name}: Monte Carlo forecast",
        meta=f"seed {summary.seed} · {summary.iterations:,} iterations · scenario SHA-256 "
             f"{summary.scenario_sha256[:12]}",
        summary=plain_summary(pf, summary, drivers), table_title="Projects",
        head=["project", "deadline", "P(on time)", "P50 finish", "P80 finish", "mean cost",
              "P(within budget)"], rows=rows, charts=charts)
    (folder / "report.html").write_text(html, encoding="utf-8")
    return charts


def _compare_chart(c: Any, pf: Portfolio) -> Chart:
    """Each variant's change in P(on time) (portfolio and per project) and in cost, with
    ±2 paired standard errors."""
    names = [v.name for v in c.variants]
    y = np.arange(len(names))
    fig, axes = plt.subplots(1, 3, figsize=(12, 0.45 * len(names) + 2.4), sharey=True)
    for ax, metric, label, scale in (
            (axes[0], "portfolio_on_time", "P(all on time): change", 1.0),
            (axes[1], "projects_on_time", "projects on time: change", 1.0),
            (axes[2], "cost", f"mean cost: change (thousand {pf.currency or 'units'})",
             1e-3)):
        diffs, errs, colors = [], [], []
        for v in c.variants:
            d = v.get(metric)
            diffs.append(0.0 if d is None or math.isnan(d.diff) else d.diff * scale)
            errs.append(0.0 if d is None or math.isnan(d.se) else 2 * d.se * scale)
            good = (d is not None and d.diff > 0) if metric != "cost" else (
                d is not None and d.diff < 0)
            colors.append("C2" if good else "C3")
        ax.barh(y, diffs, xerr=errs, color=colors, alpha=0.8, capsize=3)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel(label)
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    fig.suptitle(f"Decisions against the base (bars: ±2 paired s.e.)\n{c.scenario} · seed "
                 f"{c.seed} · {c.iterations:,} iterations per scenario", fontsize=10)
    return Chart("comparison.png", "Decisions against the base", _png(fig))


def _compare_projects_chart(c: Any, pf: Portfolio) -> Chart:
    ids = list(c.projects)
    names = [p.name for p in pf.projects]
    width = 0.8 / max(len(c.variants), 1)
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(ids) * max(1, len(c.variants) / 3) + 2))
    y = np.arange(len(ids))
    for j, v in enumerate(c.variants):
        diffs, errs = [], []
        for pid in ids:
            d = v.get(f"on_time[{pid}]")
            ok = d is not None and not math.isnan(d.diff)
            diffs.append(d.diff if ok else 0.0)
            errs.append(2 * d.se if ok else 0.0)
        ax.barh(y + j * width, diffs, height=width, xerr=errs, label=v.name, capsize=2)
    ax.set_yticks(y + width * (len(c.variants) - 1) / 2, names)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("change in P(on time) (bars: ±2 paired s.e.; cancelled projects: none)")
    ax.legend(fontsize=7)
    fig.suptitle(f"Which decision helps which project\n{c.scenario} · seed {c.seed} · "
                 f"{c.iterations:,} iterations per scenario", fontsize=10)
    return Chart("comparison-projects.png", "Which decision helps which project", _png(fig))


def compare_summary(c: Any, by: str) -> list[str]:
    from .compare import ranked

    lines = []
    order = ranked(c, by)
    if order:
        best = order[0]
        d = best.get("portfolio_on_time")
        if d is not None and not math.isnan(d.diff):
            sig = "significant" if d.significant else "not significant at 5 %"
            lines.append(f"Best by {by.replace('_', ' ')}: {best.name} "
                         f"({best.description or 'no description'}): P(all on time) "
                         f"{d.diff:+.3f} ± {d.se:.3f} ({sig}).")
    for v in c.variants:
        hurt = [x for x in v.differences if x.metric.startswith("on_time[")
                and x.significant and x.diff < -0.05]
        for x in hurt:
            lines.append(f"{v.name} lowers {x.metric[8:-1]}'s P(on time) by {-x.diff:.3f} "
                         f"(± {x.se:.3f}).")
    return lines




def compare_charts(c: Any, pf: Portfolio) -> list[Chart]:
    """The charts of a comparison."""
    with _literal_text():
        return [_compare_chart(c, pf), _compare_projects_chart(c, pf)]


def write_compare_report(folder: Path, c: Any, pf: Portfolio, by: str) -> list[Chart]:
    """``comparison.png``, ``comparison-projects.png`` and ``report.html``."""
    from .compare import _base_cell, _cell, ranked

    charts = compare_charts(c, pf)
    for chart in charts:
        (folder / chart.file).write_bytes(chart.png)
    metrics = [("P(all on time)", "portfolio_on_time"), ("E[# on time]", "projects_on_time"),
               ("mean cost", "cost"), ("cost P80", "cost_p80"), ("shortfall", "shortfall")]
    if "value" in c.base:
        metrics += [("value", "value"), ("cost of delay", "cost_of_delay")]
    rows = [["(base)", *(_base_cell(c, m) for _, m in metrics)]]
    rows += [[v.name, *(_cell(v.get(m)) for _, m in metrics)] for v in ranked(c, by)]
    html = _render(
        title=f"{c.scenario}: decisions compared",
        meta=f"seed {c.seed} · {c.iterations:,} iterations per scenario, common random "
             "numbers · differences ± paired standard error; * significant at 5 %",
        summary=compare_summary(c, by), table_title="Decision table",
        head=["variant", *(h for h, _ in metrics)], rows=rows, charts=charts)
    (folder / "report.html").write_text(html, encoding="utf-8")
    return charts
