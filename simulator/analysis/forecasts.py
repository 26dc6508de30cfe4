"""A run's headline figures as rows of a forecast history: one row per project, per key date
and one for the portfolio, each stamped with the status date, the scenario's SHA-256, the
seed and the iteration count, dates as dates (ISO in the file).

A history row keeps what a PMO compares month by month: P(on time) with its standard
error, the P10/P50/P80/P90 finish (the P80's 95 % interval too, which measures its Monte
Carlo noise), the deterministic finish of ``pmosim check`` (most likely durations, resources
ignored) that the schedule contingency is measured from, the cost P50/P80, and the default
calendar (work week and days off) in which slips are counted in working days. Nothing per
iteration is kept (see :mod:`simulator.analysis.trend` for what that means for noise).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..model import Portfolio
from .schedule import ScheduleCheck
from .summary import KeyDateResult, ProjectResult, Quantile, RunSummary

__all__ = ["PORTFOLIO", "ForecastRow", "forecast_rows", "working_days"]

PORTFOLIO = "portfolio"  # the item of the portfolio row


@dataclass(frozen=True)
class ForecastRow:
    """One project, key date or the portfolio in one forecast.

    Attributes:
        status_date, scenario_sha256: the forecast's identity (with ``scenario``, the name,
            ``seed`` and ``iterations`` for the record).
        kind: ``project``, ``key_date`` or ``portfolio``; ``item``: the project id, the key
            date's ``project.task`` (``start`` appended for a must-start-on date), or
            ``portfolio``.
        deadline: the deadline or key date (None without one).
        p_on_time, p_on_time_se: P(on time) and its standard error (for the portfolio:
            P(all projects with a deadline on time)).
        finish: the P10, P50, P80 and P90 finish dates (last working day); ``p80_low``,
            ``p80_high``: the P80's 95 % interval; all None for the portfolio.
        deterministic: the deterministic (CPM) finish, or start for a start key date.
        cost_p50, cost_p80: cost percentiles (for the portfolio: total cost; None for key
            dates); ``expected_on_time`` (± ``expected_on_time_se``): portfolio only.
        workweek, holidays: the default calendar (numpy weekmask, days off).
        alert_p_on_time_below, alert_p80_slip_days: the scenario's alert thresholds.
    """

    status_date: dt.date
    scenario: str
    scenario_sha256: str
    seed: int
    iterations: int
    kind: str
    item: str
    deadline: dt.date | None = None
    p_on_time: float | None = None
    p_on_time_se: float | None = None
    finish: tuple[dt.date | None, ...] = (None, None, None, None)
    p80_low: dt.date | None = None
    p80_high: dt.date | None = None
    deterministic: dt.date | None = None
    cost_p50: float | None = None
    cost_p80: float | None = None
    expected_on_time: float | None = None
    expected_on_time_se: float | None = None
    workweek: str = "1111100"
    holidays: tuple[dt.date, ...] = ()
    alert_p_on_time_below: float | None = None
    alert_p80_slip_days: float | None = None

    @property
    def key(self) -> tuple[dt.date, str]:
        """The identity of the forecast this row belongs to."""
        return (self.status_date, self.scenario_sha256)

    @property
    def p50(self) -> dt.date | None:
        return self.finish[1]

    @property
    def p80(self) -> dt.date | None:
        return self.finish[2]


def working_days(a: dt.date, b: dt.date, workweek: str, holidays: tuple[dt.date, ...]) -> int:
    """Working days from ``a`` to ``b`` (negative when ``b`` is earlier): for two finish
    dates (last working days), how many working days later ``b`` is."""
    cal = np.busdaycalendar(weekmask=workweek, holidays=list(holidays))
    return int(np.busday_count(a, b, busdaycal=cal))


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _finish(pf: Portfolio, t: float) -> dt.date | None:
    return _date(pf.calendar.finish_date(t))


def _start(pf: Portfolio, t: float, c: int) -> dt.date | None:
    days = pf.calendar.start_dates(np.array([t]), c)
    return None if days is None else _date(str(days[0]))


def _percentiles(
    when: tuple[Quantile, ...], to: Callable[[float], dt.date | None]
) -> dict[str, object]:
    p80 = when[2]
    return {
        "finish": tuple(to(q.value) for q in when),
        "p80_low": to(p80.low),
        "p80_high": to(p80.high),
    }


def _project(pf: Portfolio, r: ProjectResult, det: float) -> dict[str, object]:
    p = r.p_on_time
    return {
        "kind": "project",
        "item": r.id,
        "deadline": _date(r.deadline_date),
        "p_on_time": None if p is None else p.estimate,
        "p_on_time_se": None if p is None else p.se,
        **_percentiles(r.finish, lambda t: _finish(pf, t)),
        "deterministic": _finish(pf, det),
        "cost_p50": r.cost[1].value,
        "cost_p80": r.cost[2].value,
    }


def _key_date(pf: Portfolio, r: KeyDateResult, sched: ScheduleCheck) -> dict[str, object]:
    i = next(k for k, t in enumerate(pf.tasks) if t.key == r.task)
    c = pf.tasks[i].calendar
    start = r.event == "start"

    def day(t: float) -> dt.date | None:
        return _start(pf, t, c) if start else _finish(pf, t)

    p = r.p_on_time
    return {
        "kind": "key_date",
        "item": f"{r.task} start" if start else r.task,
        "deadline": _date(r.due_date),
        "p_on_time": None if p is None else p.estimate,
        "p_on_time_se": None if p is None else p.se,
        **_percentiles(r.when, day),
        "deterministic": day(float(sched.early_start[i] if start else sched.early_finish[i])),
    }


def _portfolio(s: RunSummary) -> dict[str, object]:
    p, e = s.p_all_on_time, s.expected_on_time
    return {
        "kind": "portfolio",
        "item": PORTFOLIO,
        "p_on_time": None if p is None else p.estimate,
        "p_on_time_se": None if p is None else p.se,
        "cost_p50": s.total_cost[1].value,
        "cost_p80": s.total_cost[2].value,
        "expected_on_time": None if e is None else e.estimate,
        "expected_on_time_se": None if e is None else e.se,
    }


def forecast_rows(
    pf: Portfolio, summary: RunSummary, sched: ScheduleCheck, *, as_of: dt.date
) -> tuple[ForecastRow, ...]:
    """The history rows of a run of ``pf`` (its dates None without a start date); ``sched`` is
    :func:`~simulator.analysis.cpm` of ``pf``; the status date is the scenario's, else
    ``as_of``."""
    cal = pf.calendar
    status = as_of if cal.status is None else cal.date_of(cal.status)
    default = cal.calendars[cal.default]
    off = tuple(sorted(d for d in default.special_days() if default.day_work(d) == 0))
    common = {
        "status_date": status,
        "scenario": summary.scenario,
        "scenario_sha256": summary.scenario_sha256,
        "seed": summary.seed,
        "iterations": summary.iterations,
        "workweek": default.weekmask,
        "holidays": off,
        "alert_p_on_time_below": pf.alerts.p_on_time_below,
        "alert_p80_slip_days": pf.alerts.p80_slip_days,
    }
    ends = [float(max(sched.early_finish[list(p.tasks)])) for p in pf.projects]
    parts = [_project(pf, r, e) for r, e in zip(summary.projects, ends, strict=True)]
    parts += [_key_date(pf, r, sched) for r in summary.key_dates]
    parts.append(_portfolio(summary))
    return tuple(ForecastRow(**common, **part) for part in parts)  # type: ignore[arg-type]
