"""The HTML reports of a run and of a comparison: plain-words summaries, the tables, and the
charts of :mod:`simulator.output.charts` embedded (one self-contained file)."""

from __future__ import annotations

import base64
import hashlib
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, select_autoescape

from ..analysis import Comparison, RunSummary, ranked
from ..model import Portfolio
from ..montecarlo import Outcome
from .charts import DRIVERS_TOP, Chart, compare_charts, run_charts
from .numbers import diff_cell, prob_text
from .portfolio_charts import ON_TIME_TARGET
from .tables import PANELS, base_cell

__all__ = [
    "FILTER_SCRIPT",
    "compare_summary",
    "csp",
    "plain_summary",
    "write_compare_report",
    "write_run_report",
]


def plain_summary(pf: Portfolio, summary: RunSummary, drivers: pd.DataFrame) -> list[str]:
    """The report's opening sentences, in plain words."""
    lines = [f"Note: {note}." for note in summary.deadline_notes()]
    order = [summary.projects[k] for k in summary.most_at_risk()]
    risky = [r for r in order if r.p_on_time is not None and r.p_on_time.estimate < 0.8]
    if summary.p_all_on_time is not None:
        lines.append(
            f"All {summary.with_deadline} projects with a deadline finish on time in "
            f"{summary.p_all_on_time.estimate:.0%} of the simulated futures."
        )
    for r in risky[:PANELS]:
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
    if len(risky) > PANELS:
        lines.append(
            f"{len(risky) - PANELS} more projects have P(on time) below 80% "
            "(the table of all projects below lists them, most at risk first)."
        )
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


# the head and the table styles both reports share
_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
"""

_TEMPLATE = (
    _HEAD
    + """img { max-width: 100%; }
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
)


def _render(*, charts: list[Chart], more: list[dict[str, Any]] | None = None, **fields: Any) -> str:
    """``report.html``: every field escaped (autoescape), the charts embedded; ``more``:
    further tables (``title``, ``head``, ``rows``)."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return env.from_string(_TEMPLATE).render(
        charts=[_uri(c) for c in charts], more=more or [], csp=csp(None), **fields
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


_RUN_TEMPLATE = (
    _HEAD
    + """tr.risk td.p { color: #b00000; font-weight: 600; }
img { max-width: 100%; }
.meta { color: #666; font-size: 0.85em; }
ol.panels { columns: 2; font-size: 0.9em; }
</style></head><body>
<h1>{{ title }}</h1>
<p class="meta">{{ meta }}</p>
<h2>Summary</h2>
<ul>{% for line in summary %}<li>{{ line }}</li>{% endfor %}</ul>
<h2>Portfolio</h2>
{% for c in portfolio %}<h3>{{ c.title }}</h3>
<img src="{{ c.uri }}" alt="{{ c.title }}">
{% endfor %}
<h2>{{ detail_title }}</h2>
<p>{{ detail_intro }}</p>
<ol class="panels">{% for p in panels %}
<li data-project="{{ p.id }}">{{ p.text }}</li>{% endfor %}</ol>
{% for c in charts %}<h3>{{ c.title }}</h3>
<img src="{{ c.uri }}" alt="{{ c.title }}">
{% endfor %}
<h2>All projects</h2>
<p>Most at risk first. <label>Filter: <input type="search" id="filter"
placeholder="id, name, date..."></label> <span id="shown">{{ rows|length }} projects</span></p>
<table id="projects"><thead><tr>{% for h in head %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in rows %}<tr{% if r.risk %} class="risk"{% endif %} data-project="{{ r.id }}">
{%- for cell in r.cells %}<td{% if loop.index == r.p_col %} class="p"{% endif %}>{{ cell }}</td>
{%- endfor %}</tr>
{% endfor %}</tbody></table>
{% for t in more %}<h2>{{ t.title }}</h2>
<table><tr>{% for h in t.head %}<th>{{ h }}</th>{% endfor %}</tr>
{% for r in t.rows %}<tr>{% for cell in r %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% endfor %}
<script>{{ script|safe }}</script>
</body></html>
"""
)

# the table's filter: rows whose text holds every word typed (the only script of a report;
# the Content-Security-Policy lets no other run, and nothing be fetched)
FILTER_SCRIPT = """
(function () {
  var box = document.getElementById("filter");
  var shown = document.getElementById("shown");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#projects tbody tr"));
  box.addEventListener("input", function () {
    var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var n = 0;
    rows.forEach(function (row) {
      var text = row.textContent.toLowerCase();
      var keep = words.every(function (w) { return text.indexOf(w) >= 0; });
      row.hidden = !keep;
      n += keep ? 1 : 0;
    });
    shown.textContent = n + " of " + rows.length + " projects";
  });
})();
"""


def csp(script: str | None) -> str:
    """The report's Content-Security-Policy: images from data: URIs, inline styles, and
    only ``script`` (pinned by its SHA-256), nothing fetched."""
    allowed = "'none'"
    if script is not None:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
        allowed = f"'sha256-{digest}'"
    return f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src {allowed}"


def _project_rows(summary: RunSummary) -> tuple[list[str], list[dict[str, Any]]]:
    """The table of all projects, most at risk first: its head and rows."""
    named = any(r.name != r.id for r in summary.projects)
    head = ["id", "project"] if named else ["project"]
    head += ["deadline", "P(on time)", "P50 finish", "P80 finish"]
    head += [f"cost P50 {summary.currency}".rstrip(), f"cost P80 {summary.currency}".rstrip()]
    head.append("P(within budget)")
    rows = []
    for k in summary.most_at_risk():
        r = summary.projects[k]
        q, c = {x.q: x.value for x in r.finish}, {x.q: x.value for x in r.cost}
        cells = [r.id, r.name] if named else [r.id]
        cells += [
            "-" if r.deadline is None else r.deadline_date or f"{r.deadline:g}",
            prob_text(r.p_on_time, sep=" ± "),
            summary.date(q[50]) or f"{q[50]:.1f}",
            summary.date(q[80]) or f"{q[80]:.1f}",
            f"{c[50]:,.0f}",
            f"{c[80]:,.0f}",
            prob_text(r.p_within_budget, sep=" ± "),
        ]
        risk = r.p_on_time is not None and r.p_on_time.estimate < ON_TIME_TARGET
        rows.append({"id": r.id, "cells": cells, "risk": risk, "p_col": len(head) - 5})
    return head, rows


def _panels(summary: RunSummary, shown: list[int]) -> dict[str, Any]:
    """The detail section's title, introduction and list of the projects it shows."""
    everyone = len(shown) == len(summary.projects)
    panels = []
    for k in shown:
        r = summary.projects[k]
        label = r.name if r.name == r.id else f"{r.name} ({r.id})"
        p = "no deadline" if r.p_on_time is None else f"P(on time) {prob_text(r.p_on_time)}"
        panels.append({"id": r.id, "text": f"{label}: {p}"})
    intro = (
        "One panel per project, in the scenario's order."
        if everyone
        else f"One panel for each of the {len(shown)} projects most at risk (lowest "
        "P(on time); ties: the P80 finish furthest past the deadline), most at risk first; "
        f"the other {len(summary.projects) - len(shown)} are in the table below."
    )
    title = "Projects" if everyone else f"The {len(shown)} projects most at risk"
    return {"detail_title": title, "detail_intro": intro, "panels": panels}


def write_run_report(
    folder: Path,
    pf: Portfolio,
    out: Outcome,
    summary: RunSummary,
    drivers: pd.DataFrame,
    *,
    drivers_top: int = DRIVERS_TOP,
    pool: ProcessPoolExecutor | None = None,
) -> list[Chart]:
    """Write the charts (PNG) and ``report.html`` into ``folder``: the portfolio's charts,
    panels for the projects :meth:`RunSummary.shown` picks (every one up to
    :data:`PANELS`, else the most at risk), and a filterable table of every project;
    ``pool``: as :func:`~simulator.output.charts.run_charts`."""
    shown = summary.shown(PANELS)
    charts = run_charts(pf, out, summary, drivers, shown=shown, drivers_top=drivers_top, pool=pool)
    for c in charts:
        (folder / c.file).write_bytes(c.png)
    head, rows = _project_rows(summary)
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    html = env.from_string(_RUN_TEMPLATE).render(
        csp=csp(FILTER_SCRIPT),
        script=FILTER_SCRIPT,
        title=f"{pf.name}: Monte Carlo forecast",
        meta=f"seed {summary.seed} · {summary.iterations:,} iterations · scenario SHA-256 "
        f"{summary.scenario_sha256[:12]}",
        summary=plain_summary(pf, summary, drivers),
        portfolio=[_uri(c) for c in charts if c.file in _PORTFOLIO],
        charts=[_uri(c) for c in charts if c.file not in _PORTFOLIO],
        head=head,
        rows=rows,
        more=_key_dates_table(summary),
        **_panels(summary, shown),
    )
    (folder / "report.html").write_text(html, encoding="utf-8")
    return charts


_PORTFOLIO = {"portfolio.png", "capacity.png"}


def _uri(c: Chart) -> dict[str, str]:
    return {"title": c.title, "uri": c.data_uri()}


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
