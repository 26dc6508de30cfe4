"""Plain-text tables for the terminal (80 columns)."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

from ..analysis import Check, Comparison, RunSummary, ranked
from .numbers import all_on_time, diff_cell, number, prob_text

__all__ = [
    "PANELS",
    "base_cell",
    "checks_text",
    "decision_table",
    "summary_text",
    "top_drivers",
]

PANELS = 12  # projects shown in detail: every one up to this many, else the most at risk


def _when(s: RunSummary, wd: float) -> str:
    return s.date(wd) or f"wd {wd:.1f}"


def checks_text(checks: Sequence[Check]) -> str:
    """The schedule-health checks as a table: what was counted, the limit, pass or fail."""
    lines = [f"{'check':<52} {'count':>11} {'limit':>7}  result"]
    for c in checks:
        share = f"{c.count}/{c.total}"
        limit = f"{c.limit:g}" if c.limit_is_count else f"{c.limit:.0%}"
        result = "n/a" if c.ok is None else "pass" if c.ok else "FAIL"
        lines.append(f"{c.name[:52]:<52} {share:>11} {limit:>7}  {result}")
        if c.note:
            lines.append(f"  {c.note}")
    return "\n".join(lines)


def key_dates_text(s: RunSummary, *, most: int = 12) -> list[str]:
    """The key dates with a due date, least likely on time first (all in milestones.csv)."""
    due = sorted(
        (k for k in s.key_dates if k.p_on_time is not None),
        key=lambda k: (k.p_on_time.estimate if k.p_on_time else 1.0, k.task),
    )
    if not due:
        return []
    lines = [
        "",
        f"{'key date':<30} {'due':<10} {'P(on time)':>11} {'P50':>10} {'P80':>10}",
    ]
    for k in due[:most]:
        label = f"{k.task}{' start' if k.event == 'start' else ''}"
        lines.append(
            f"{label[:30]:<30} {k.due_date or '-':<10} {prob_text(k.p_on_time):>11} "
            f"{k.when_dates[1] or _when(s, k.when[1].value):>10} "
            f"{k.when_dates[2] or _when(s, k.when[2].value):>10}"
        )
    if len(due) > most:
        lines.append(f"... {len(due) - most} more in milestones.csv")
    return lines


def _projects_table(s: RunSummary) -> list[str]:
    """Per project: deadline, P(on time), P50/P80 finish, cost P50, P(within budget); every
    project up to :data:`PANELS`, else the most at risk, first."""
    shown = s.shown(PANELS)
    lines = []
    if len(shown) < len(s.projects):
        lines.append(
            f"The {len(shown)} projects most at risk of {len(s.projects)}, most at risk first "
            "(every project: projects.csv, report.html):"
        )
    lines.append(
        f"{'project':<14} {'deadline':<10} {'P(on time)':>11} {'P50 finish':>10} "
        f"{'P80 finish':>10} {'cost P50':>8} {'P(budget)':>11}"
    )
    for p in (s.projects[k] for k in shown):
        deadline = "-" if p.deadline is None else p.deadline_date or _when(s, p.deadline)
        p50, p80 = p.finish[1], p.finish[2]
        lines.append(
            f"{p.id[:14]:<14} {deadline:<10} {prob_text(p.p_on_time):>11} "
            f"{_when(s, p50.value):>10} {_when(s, p80.value):>10} "
            f"{number(p.cost[1].value):>8} {prob_text(p.p_within_budget):>11}"
        )
    return lines


def summary_text(s: RunSummary, *, top_shortfalls: int = 6) -> str:
    """The run's headline figures as an 80-column table."""
    lines = [
        f"{s.scenario}: {s.iterations:,} iterations, seed {s.seed}",
        "±: Monte Carlo standard error.  Finish dates are the last working day.",
        "",
        *_projects_table(s),
    ]
    for note in s.deadline_notes():
        lines += textwrap.wrap(f"Note: {note}.", width=79, subsequent_indent="  ")
    lines += key_dates_text(s)
    lines.append("")
    if s.p_all_on_time is not None and s.expected_on_time is not None:
        lines.append(
            f"Portfolio: {all_on_time(s.with_deadline)} {prob_text(s.p_all_on_time)}, "
            f"expected on time {s.expected_on_time.estimate:.2f} "
            f"±{s.expected_on_time.se:.2f}"
        )
    lines.append(
        f"Total cost: mean {number(s.total_cost_mean.estimate)}, P10-P90 "
        f"{number(s.total_cost[0].value)}-{number(s.total_cost[3].value)} "
        f"{s.currency}".rstrip()
    )
    short = sorted(
        (c for c in s.capacity if c.shortfall_mean > 0), key=lambda c: -c.shortfall_mean
    )[:top_shortfalls]
    if short:
        lines += [
            "",
            "Largest capacity shortfalls (units demanded by ready tasks, waiting):",
            f"{'pool':<14} {'period':<10} {'capacity':>8} {'busy':>6} {'short mean':>10} "
            f"{'short P90':>9} {'P(short)':>8}",
        ]
        for c in short:
            lines.append(
                f"{c.pool[:14]:<14} {c.period:<10} {c.capacity:>8.1f} {c.busy:>6.1f} "
                f"{c.shortfall_mean:>10.2f} {c.shortfall_p90:>9.2f} "
                f"{c.p_shortfall.estimate:>8.2f}"
            )
    else:
        lines += ["", "No capacity shortfall: no ready task ever waited for a pool."]
    return "\n".join(lines)


def decision_table(c: Comparison, by: str) -> str:
    """The ranked decision table printed by ``pmosim compare`` (80 columns for up to four
    metrics; cost P80 and shortfall are in the CSV and the report)."""
    columns = [
        ("P(all on time)", "portfolio_on_time", 1.0),
        ("E[# on time]", "projects_on_time", 1.0),
        ("mean cost", "cost", 1.0),
    ]
    if "value" in c.base:
        columns.append(("value", "value", 1.0))
    head = ["variant", *(name for name, _, _ in columns)]
    base_row = ["(base)", *(base_cell(c, m) for _, m, _ in columns)]
    rows = [head, base_row]
    for v in ranked(c, by):
        rows.append([v.name, *(diff_cell(v.get(m), s) for _, m, s in columns)])
    widths = [max(len(r[k]) for r in rows) for k in range(len(head))]
    lines = [
        "  ".join(
            cell.ljust(w) if k == 0 else cell.rjust(w)
            for k, (cell, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def base_cell(c: Comparison, metric: str) -> str:
    """The base scenario's value of ``metric`` in a decision table."""
    if metric == "cost_p80":
        v = next((d.base for r in c.variants if (d := r.get("cost_p80"))), math.nan)
    else:
        v = c.base.get(metric, math.nan)
    return "-" if math.isnan(v) else number(v)


def top_drivers(frame: Any, per_project: int = 3, projects: Sequence[str] | None = None) -> str:
    """A few lines per project: its ``per_project`` most critical tasks and the risks that
    cost it most time; for the ``projects`` given (ids, in that order; all by default), with
    a last line saying how many more are in drivers.csv."""
    groups = dict(list(frame.groupby("project", sort=False)))
    ids = list(groups) if projects is None else [p for p in projects if p in groups]
    lines = []
    for pid in ids:
        part = groups[pid]
        tasks = (
            part[part["kind"] == "task"]
            .sort_values("criticality", ascending=False, kind="stable")
            .head(per_project)
        )
        risks = (
            part[(part["kind"] == "risk") & (part["p80_finish_change"] < -0.05)]
            .sort_values("p80_finish_change")
            .head(2)
        )
        bits = [
            f"{r.driver} {r.criticality:.0%}"
            for r in tasks.itertuples()
            if r.criticality and r.criticality > 0
        ]
        bits += [
            f"risk {r.driver} {-r.p80_finish_change:+.1f} d at P80" for r in risks.itertuples()
        ]
        if bits:
            lines += textwrap.wrap(
                f"{pid}: " + ", ".join(bits),
                width=78,
                initial_indent="  ",
                subsequent_indent="      ",
                break_on_hyphens=False,
            )
    if len(ids) < len(groups):
        lines.append(f"  ... {len(groups) - len(ids)} more projects in drivers.csv")
    return "\n".join(lines)
