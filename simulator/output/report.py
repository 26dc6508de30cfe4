"""The HTML reports of a run and of a comparison: plain-words summaries, the tables, and the
charts of :mod:`simulator.output.charts` embedded (one self-contained file)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, select_autoescape

from ..analysis import Comparison, RunSummary, ranked
from ..model import Portfolio
from ..montecarlo import Outcome
from .charts import Chart, compare_charts, run_charts
from .numbers import diff_cell, prob_text
from .tables import base_cell

__all__ = ["compare_summary", "plain_summary", "write_compare_report", "write_run_report"]


def plain_summary(pf: Portfolio, summary: RunSummary, drivers: pd.DataFrame) -> list[str]:
    """The report's opening sentences, in plain words."""
    lines = [f"Note: {note}." for note in summary.deadline_notes()]
    risky = [r for r in summary.projects if r.p_on_time is not None and r.p_on_time.estimate < 0.8]
    if summary.p_all_on_time is not None:
        lines.append(
            f"All {summary.with_deadline} projects with a deadline finish on time in "
            f"{summary.p_all_on_time.estimate:.0%} of the simulated futures."
        )
    for r in sorted(risky, key=lambda r: r.p_on_time.estimate if r.p_on_time else 0):
        assert r.p_on_time is not None
        p80 = next((q for q in r.finish if q.q == 80), None)
        when = "" if p80 is None else f"; 80% of outcomes finish by {summary.date(p80.value)}"
        part = drivers[(drivers["project"] == r.id) & (drivers["kind"] == "task")]
        others = part[~part["driver"].str.startswith(f"{r.id}.")].head(1)
        why = (
            ""
            if others.empty
            else (
                f"; another project's task, "
                f"{others['driver'].iloc[0]}, is on the chain that "
                f"drives its finish in "
                f"{others['criticality'].iloc[0]:.0%} of iterations"
            )
        )
        lines.append(f"{r.name} is at risk: P(on time) {r.p_on_time.estimate:.0%}{when}{why}.")
    short = sorted(summary.capacity, key=lambda c: -c.shortfall_mean)[:2]
    for c in short:
        if c.shortfall_mean > 0.05:
            lines.append(
                f"Pool {c.pool} is short in {c.period}: on average "
                f"{c.shortfall_mean:.1f} units of demand wait "
                f"(P(short) {c.p_shortfall.estimate:.0%})."
            )
    risks = drivers[(drivers["kind"] == "risk") & (drivers["p80_finish_change"] < -0.05)]
    if not risks.empty:
        top = risks.sort_values("p80_finish_change").iloc[0]
        lines.append(
            f"The risk that costs most time is {top['driver']}: it adds "
            f"{-top['p80_finish_change']:.1f} working days to the P80 finish of "
            f"{top['project']}."
        )
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
{% for t in more %}<h2>{{ t.title }}</h2>
<table><tr>{% for h in t.head %}<th>{{ h }}</th>{% endfor %}</tr>
{% for r in t.rows %}<tr>{% for cell in r %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% endfor %}
{% for c in charts %}<h2>{{ c.title }}</h2>
<img src="{{ c.uri }}" alt="{{ c.title }}">
{% endfor %}
</body></html>
"""


def _render(*, charts: list[Chart], more: list[dict[str, Any]] | None = None, **fields: Any) -> str:
    """``report.html``: every field escaped (autoescape), the charts embedded; ``more``:
    further tables (``title``, ``head``, ``rows``)."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return env.from_string(_TEMPLATE).render(
        charts=[{"title": c.title, "uri": c.data_uri()} for c in charts], more=more or [], **fields
    )


def _key_dates_table(summary: RunSummary) -> list[dict[str, Any]]:
    """The key dates table of the report (none when the scenario has none)."""
    if not summary.key_dates:
        return []
    rows = [
        [
            k.task + (" (start)" if k.event == "start" else ""),
            k.name,
            k.due_date or "-",
            prob_text(k.p_on_time, sep=" ± "),
            k.when_dates[1] or f"{k.when[1].value:.1f}",
            k.when_dates[2] or f"{k.when[2].value:.1f}",
        ]
        for k in summary.key_dates
    ]
    head = ["key date", "name", "due", "P(on time)", "P50", "P80"]
    return [{"title": "Key dates and milestones", "head": head, "rows": rows}]


def write_run_report(
    folder: Path, pf: Portfolio, out: Outcome, summary: RunSummary, drivers: pd.DataFrame
) -> list[Chart]:
    """Write the charts (PNG) and ``report.html`` into ``folder``."""
    charts = run_charts(pf, out, summary, drivers)
    for c in charts:
        (folder / c.file).write_bytes(c.png)
    rows = []
    for r in summary.projects:
        q = {x.q: x for x in r.finish}
        rows.append(
            [
                r.name,
                "-" if r.deadline is None else r.deadline_date or f"{r.deadline:g}",
                prob_text(r.p_on_time, sep=" ± "),
                summary.date(q[50].value) or f"{q[50].value:.1f}",
                summary.date(q[80].value) or f"{q[80].value:.1f}",
                f"{r.cost_mean.estimate:,.0f}",
                prob_text(r.p_within_budget, sep=" ± "),
            ]
        )
    html = _render(
        title=f"{pf.name}: Monte Carlo forecast",
        meta=f"seed {summary.seed} · {summary.iterations:,} iterations · scenario SHA-256 "
        f"{summary.scenario_sha256[:12]}",
        summary=plain_summary(pf, summary, drivers),
        table_title="Projects",
        head=[
            "project",
            "deadline",
            "P(on time)",
            "P50 finish",
            "P80 finish",
            "mean cost",
            "P(within budget)",
        ],
        rows=rows,
        charts=charts,
        more=_key_dates_table(summary),
    )
    (folder / "report.html").write_text(html, encoding="utf-8")
    return charts


def compare_summary(c: Comparison, by: str) -> list[str]:
    """The comparison report's opening sentences."""
    lines = []
    order = ranked(c, by)
    if order:
        best = order[0]
        d = best.get("portfolio_on_time")
        if d is not None and not math.isnan(d.diff):
            sig = "significant" if d.significant else "not significant at 5 %"
            lines.append(
                f"Best by {by.replace('_', ' ')}: {best.name} "
                f"({best.description or 'no description'}): P(all on time) "
                f"{d.diff:+.3f} ± {d.se:.3f} ({sig})."
            )
    for v in c.variants:
        hurt = [
            x
            for x in v.differences
            if x.metric.startswith("on_time[") and x.significant and x.diff < -0.05
        ]
        for x in hurt:
            lines.append(
                f"{v.name} lowers {x.metric[8:-1]}'s P(on time) by {-x.diff:.3f} (± {x.se:.3f})."
            )
    return lines


def write_compare_report(folder: Path, c: Comparison, pf: Portfolio, by: str) -> list[Chart]:
    """``comparison.png``, ``comparison-projects.png`` and ``report.html``."""
    charts = compare_charts(c, pf)
    for chart in charts:
        (folder / chart.file).write_bytes(chart.png)
    metrics = [
        ("P(all on time)", "portfolio_on_time"),
        ("E[# on time]", "projects_on_time"),
        ("mean cost", "cost"),
        ("cost P80", "cost_p80"),
        ("shortfall", "shortfall"),
    ]
    if "value" in c.base:
        metrics += [("value", "value"), ("cost of delay", "cost_of_delay")]
    rows = [["(base)", *(base_cell(c, m) for _, m in metrics)]]
    rows += [[v.name, *(diff_cell(v.get(m)) for _, m in metrics)] for v in ranked(c, by)]
    html = _render(
        title=f"{c.scenario}: decisions compared",
        meta=f"seed {c.seed} · {c.iterations:,} iterations per scenario, common random "
        "numbers · differences ± paired standard error; * significant at 5 %",
        summary=compare_summary(c, by),
        table_title="Decision table",
        head=["variant", *(h for h, _ in metrics)],
        rows=rows,
        charts=charts,
    )
    (folder / "report.html").write_text(html, encoding="utf-8")
    return charts
