"""Forecasts over time for people: ``trend.csv`` (one row per forecast and project or key
date), the plain-words summary of what moved and whether beyond Monte Carlo noise (and what
joined or left the portfolio), the alerts and the accuracy scores."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..analysis import (
    NOISE_Z,
    Alert,
    Change,
    Forecast,
    Move,
    Score,
    changes,
    contingency,
    counted,
    move,
    moves,
)
from .numbers import all_on_time, number

__all__ = ["accuracy_frame", "accuracy_text", "alerts_text", "trend_frame", "trend_text"]

WIDTH = 79
_CHANGES = (
    "p80_slip_days",
    "p80_slip_se",
    "p80_slip_beyond_noise",
    "p_on_time_change",
    "p_on_time_change_se",
    "p_on_time_beyond_noise",
)


def _iso(d: Any) -> str:
    return "" if d is None else str(d)


def _changes(m: Move | None) -> dict[str, Any]:
    if m is None:
        return dict.fromkeys(
            (
                "p80_slip_days",
                "p80_slip_se",
                "p80_slip_beyond_noise",
                "p_on_time_change",
                "p_on_time_change_se",
                "p_on_time_beyond_noise",
            )
        )
    return {
        "p80_slip_days": m.slip,
        "p80_slip_se": m.slip_se,
        "p80_slip_beyond_noise": m.slip_beyond if m.slip is not None else None,
        "p_on_time_change": m.p_change,
        "p_on_time_change_se": m.p_se,
        "p_on_time_beyond_noise": m.p_beyond if m.p_change is not None else None,
    }


def trend_frame(history: Sequence[Forecast]) -> pd.DataFrame:
    """One row per forecast and project or key date: its figures, the schedule contingency
    (P80 minus the deterministic finish, working days) and the move since the forecast
    before it (P80 slip in working days and P(on time) change, each with its standard error
    and whether it is beyond noise)."""
    rows = []
    for k, f in enumerate(history):
        before = {m.item: m for m in moves(history[k - 1], f)} if k else {}
        for r in f.rows:
            if r.kind == "portfolio":
                continue
            rows.append(
                {
                    "status_date": _iso(r.status_date),
                    "scenario_sha256": r.scenario_sha256,
                    "seed": r.seed,
                    "iterations": r.iterations,
                    "kind": r.kind,
                    "item": r.item,
                    "deadline": _iso(r.deadline),
                    "p_on_time": r.p_on_time,
                    "p_on_time_se": r.p_on_time_se,
                    "finish_p50": _iso(r.p50),
                    "finish_p80": _iso(r.p80),
                    "deterministic_finish": _iso(r.deterministic),
                    "contingency_days": contingency(r),
                    **_changes(before.get(r.item)),
                }
            )
    return pd.DataFrame(rows)


# --- words ---------------------------------------------------------------------------------


def _slip_words(m: Move) -> str:
    assert m.slip is not None
    assert m.slip_se is not None
    noise = f"noise ±{NOISE_Z * m.slip_se:.1f} d"
    if m.slip == 0:
        return f"P80 unchanged at {m.p80_after}"
    verb = "slipped" if m.slip > 0 else "came in"
    tail = "" if m.slip > 0 else " earlier"
    beyond = "beyond noise" if m.slip_beyond else "within noise"
    return (
        f"P80 {verb} {abs(m.slip)} working day{'s' if abs(m.slip) != 1 else ''}{tail} "
        f"({m.p80_before} -> {m.p80_after}), {beyond} ({noise})"
    )


def _p_words(m: Move, what: str = "P(on time)") -> str:
    assert m.p_before is not None
    assert m.p_after is not None
    assert m.p_se is not None
    noise = f"noise ±{NOISE_Z * m.p_se:.3f}"
    if m.p_after == m.p_before:
        return f"{what} unchanged at {m.p_after:.3f}"
    verb = "rose" if m.p_after > m.p_before else "fell"
    beyond = "beyond noise" if m.p_beyond else "within noise"
    return f"{what} {verb} from {m.p_before:.3f} to {m.p_after:.3f}, {beyond} ({noise})"


def _move_line(m: Move) -> str:
    parts = []
    if m.slip is not None:
        parts.append(_slip_words(m))
    if m.p_change is not None:
        parts.append(_p_words(m))
    return f"{m.item}: " + "; ".join(parts)


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent="  ", subsequent_indent="    ")


def _portfolio_line(before: Forecast, after: Forecast) -> str | None:
    """P(all on time) then and now; not judged as a move when it counts other projects."""
    a, b = (next((r for r in f.rows if r.kind == "portfolio"), None) for f in (before, after))
    if a is None or b is None or a.p_on_time is None or b.p_on_time is None:
        return None
    was, now = counted(before), counted(after)
    if was == now:
        return "Portfolio: " + _p_words(move(a, b), all_on_time(len(now)))
    gone = [p for p in was if p not in now]
    new = [p for p in now if p not in was]
    which = "; ".join(
        f"{word}: {', '.join(ids)}" for word, ids in (("added", new), ("removed", gone)) if ids
    )
    return (
        f"Portfolio: P(all on time) {a.p_on_time:.3f} for {len(was)} "
        f"project{'s' if len(was) != 1 else ''} -> {b.p_on_time:.3f} for {len(now)}, not "
        f"comparable: the projects with a deadline changed ({which or 'reordered'})"
    )


def _change_line(c: Change, before: Forecast) -> str:
    if not c.added:
        return f"{c.item}: not in this forecast (last in {c.seen})"
    return f"{c.item}: new since {before.status_date}" + (
        f" (also in {c.seen})" if c.seen is not None else ""
    )


def _section(title: str, history: Sequence[Forecast], before: Forecast) -> list[str]:
    last = history[-1]
    found = moves(before, last)
    lines = [title]
    if (whole := _portfolio_line(before, last)) is not None:
        lines += _wrap(whole)
    for c in changes(history, before, last):
        lines += _wrap(_change_line(c, before))
    for m in found:
        if m.beyond:
            lines += _wrap(_move_line(m))
    quiet = [m.item for m in found if not m.beyond]
    if quiet:
        lines += _wrap("no move beyond Monte Carlo noise: " + ", ".join(quiet))
    if not found:
        lines.append("  nothing in common with it to compare")
    return lines


def trend_text(history: Sequence[Forecast]) -> str:
    """What moved since the previous forecast (and since the first), in plain words."""
    last = history[-1]
    head = (
        f"{last.first.scenario}: {len(history)} forecast{'s' if len(history) != 1 else ''}, "
        f"status dates {history[0].status_date} to {last.status_date}. Slips in working "
        f"days of the scenario's default calendar; a move is beyond Monte Carlo noise when "
        f"it exceeds {NOISE_Z:g} standard errors of the difference (unpaired: each "
        "forecast's own standard errors combined)."
    )
    lines = textwrap.wrap(head, WIDTH)
    if len(history) == 1:
        return "\n".join([*lines, "", "One forecast: nothing to compare yet."])
    prev, first = history[-2], history[0]
    lines += ["", *_section(f"Since {prev.status_date} (the previous forecast):", history, prev)]
    if len(history) > 2:
        lines += ["", *_section(f"Since {first.status_date} (the first forecast):", history, first)]
    return "\n".join(lines)


def _alert_line(a: Alert) -> str:
    if a.rule == "p_on_time_below":
        se = "" if a.se is None else f"±{a.se:.3f}"
        text = f"ALERT {a.item}: P(on time) {a.value:.3f}{se} is below {a.threshold:g}"
        if a.crossed:
            text += f" (crossed below since {a.since})"
        return text
    return (
        f"ALERT {a.item}: P80 slipped {a.value:g} working days since {a.since}, more than "
        f"{a.threshold:g}"
    )


def alerts_text(found: Sequence[Alert]) -> str:
    """One line per alert, ``ALERT item: ...``."""
    return "\n".join(_alert_line(a) for a in found)


# --- accuracy --------------------------------------------------------------------------------


def accuracy_frame(per: Sequence[Score], overall: Score | None) -> pd.DataFrame:
    """One row per scored forecast and one (``status_date`` ``all``) for them together."""
    rows = [*per, *([overall] if overall else [])]
    return pd.DataFrame(
        [
            {
                "status_date": "all" if s.status_date is None else str(s.status_date),
                "projects": s.n,
                "coverage_p10_p90": s.coverage,
                "pinball_days": s.pinball,
                "brier": s.brier,
                "brier_projects": s.n_brier,
            }
            for s in rows
        ]
    )


def _cell(x: float | None, fmt: str) -> str:
    return "-" if x is None or math.isnan(x) else format(x, fmt)


def accuracy_text(per: Sequence[Score], overall: Score | None) -> str:
    """The scores as a table, with what each means."""
    if overall is None:
        return "Accuracy: no forecast made before a known actual finish; nothing to score."
    lines = [
        "Accuracy against the actual finishes (coverage of the P10-P90: ideal 0.80; pinball",
        "loss over P10/P50/P80/P90 in working days: lower is better; Brier score of",
        "P(on time): 0 is perfect, 0.25 is always saying 0.5):",
        f"{'status date':<12} {'projects':>8} {'coverage':>9} {'pinball':>8} {'Brier':>6}",
    ]
    for s in [*per, overall]:
        when = "all" if s.status_date is None else str(s.status_date)
        lines.append(
            f"{when:<12} {s.n:>8} {s.coverage:>9.2f} {number(s.pinball):>8} "
            f"{_cell(s.brier, '.3f'):>6}"
        )
    return "\n".join(lines)
