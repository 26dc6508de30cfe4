"""Plain-text tables for the terminal (80 columns)."""

from __future__ import annotations

from .results import Prob, RunSummary

__all__ = ["summary_text"]


def money(x: float | None) -> str:
    if x is None:
        return "-"
    a = abs(x)
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{x / div:.3g}{suffix}"
    return f"{x:.0f}"


def _prob(p: Prob | None) -> str:
    return "-" if p is None else f"{p.estimate:.3f}±{p.se:.3f}"


def _when(s: RunSummary, wd: float) -> str:
    return s.date(wd) or f"wd {wd:.1f}"


def summary_text(s: RunSummary, *, top_shortfalls: int = 6) -> str:
    """The run's headline figures as an 80-column table."""
    lines = [
        f"{s.scenario}: {s.iterations:,} iterations, seed {s.seed}",
        "±: Monte Carlo standard error.  Finish dates are the last working day.",
        "",
        f"{'project':<14} {'deadline':<10} {'P(on time)':>11} {'P50 finish':>10} "
        f"{'P80 finish':>10} {'cost P50':>8} {'P(budget)':>11}",
    ]
    for p in s.projects:
        deadline = "-" if p.deadline is None else _when(s, p.deadline)
        p50, p80 = p.finish[1], p.finish[2]
        lines.append(f"{p.id[:14]:<14} {deadline:<10} {_prob(p.p_on_time):>11} "
                     f"{_when(s, p50.value):>10} {_when(s, p80.value):>10} "
                     f"{money(p.cost[1].value):>8} {_prob(p.p_within_budget):>11}")
    lines.append("")
    if s.p_all_on_time is not None and s.expected_on_time is not None:
        lines.append(f"Portfolio: P(all {s.with_deadline} on time) {_prob(s.p_all_on_time)}, "
                     f"expected on time {s.expected_on_time.estimate:.2f} "
                     f"±{s.expected_on_time.se:.2f}")
    lines.append(f"Total cost: mean {money(s.total_cost_mean.estimate)}, P10-P90 "
                 f"{money(s.total_cost[0].value)}-{money(s.total_cost[3].value)} "
                 f"{s.currency}".rstrip())
    short = sorted((c for c in s.capacity if c.shortfall_mean > 0),
                   key=lambda c: -c.shortfall_mean)[:top_shortfalls]
    if short:
        lines += ["", "Largest capacity shortfalls (units demanded by ready tasks, waiting):",
                  f"{'pool':<14} {'period':<10} {'capacity':>8} {'busy':>6} {'short mean':>10} "
                  f"{'short P90':>9} {'P(short)':>8}"]
        for c in short:
            lines.append(f"{c.pool[:14]:<14} {c.period:<10} {c.capacity:>8.1f} {c.busy:>6.1f} "
                         f"{c.shortfall_mean:>10.2f} {c.shortfall_p90:>9.2f} "
                         f"{c.p_shortfall.estimate:>8.2f}")
    else:
        lines += ["", "No capacity shortfall: no ready task ever waited for a pool."]
    return "\n".join(lines)
