"""Results as tables (pandas): the CSV files of a run and of a comparison."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..analysis import Comparison, RunSummary, ScheduleCheck, driver_rows
from ..model import Portfolio
from ..montecarlo import DriverSums

__all__ = [
    "capacity_frame",
    "comparison_frame",
    "drivers_frame",
    "milestones_frame",
    "projects_frame",
    "schedule_frame",
    "trace_frame",
]


def projects_frame(s: RunSummary) -> pd.DataFrame:
    """``projects.csv``: one row per project, every figure with its Monte Carlo error."""
    rows = []
    for p in s.projects:
        row: dict[str, Any] = {
            "project": p.id,
            "name": p.name,
            "priority": p.priority,
            "deadline_day": p.deadline,
            "deadline": p.deadline_date,
            "budget": p.budget,
        }
        for label, prob in (
            ("p_on_time", p.p_on_time),
            ("p_within_budget", p.p_within_budget),
            ("p_on_time_and_within_budget", p.p_on_time_and_within_budget),
        ):
            row[label] = None if prob is None else prob.estimate
            row[f"{label}_se"] = None if prob is None else prob.se
            row[f"{label}_low"] = None if prob is None else prob.low
            row[f"{label}_high"] = None if prob is None else prob.high
        row["finish_mean_day"] = p.finish_mean.estimate
        row["finish_mean_se"] = p.finish_mean.se
        for q in p.finish:
            row[f"finish_p{q.q}_day"] = q.value
            row[f"finish_p{q.q}_low_day"] = q.low
            row[f"finish_p{q.q}_high_day"] = q.high
            row[f"finish_p{q.q}"] = s.date(q.value)
        row["cost_mean"] = p.cost_mean.estimate
        row["cost_mean_se"] = p.cost_mean.se
        for q in p.cost:
            row[f"cost_p{q.q}"] = q.value
        rows.append(row)
    return pd.DataFrame(rows)


def milestones_frame(s: RunSummary) -> pd.DataFrame:
    """``milestones.csv``: one row per key date (milestone, ``finish_no_later_than``,
    ``must_start_on``), with P(on time) and the event's date quantiles."""
    rows = []
    for k in s.key_dates:
        prob = k.p_on_time
        row: dict[str, Any] = {
            "task": k.task,
            "name": k.name,
            "event": k.event,
            "due": k.due_date,
            "due_day": k.due,
            "p_on_time": None if prob is None else prob.estimate,
            "p_on_time_se": None if prob is None else prob.se,
            "p_on_time_low": None if prob is None else prob.low,
            "p_on_time_high": None if prob is None else prob.high,
            "mean_day": k.when_mean.estimate,
        }
        for q, day in zip(k.when, k.when_dates, strict=True):
            row[f"p{q.q}_day"] = q.value
            row[f"p{q.q}"] = day
        rows.append(row)
    return pd.DataFrame(rows)


def schedule_frame(pf: Portfolio, sched: ScheduleCheck) -> pd.DataFrame:
    """``schedule.csv``: the deterministic schedule, dates in each task's calendar (the
    working day a start begins on, the last working day of a finish), or days since the
    start without a start date; total float in working days of the task's calendar."""
    cal = pf.calendar

    def starts(times: np.ndarray) -> list[Any]:
        out: list[Any] = [float(x) for x in times]
        for c in {t.calendar for t in pf.tasks}:
            mine = [i for i, t in enumerate(pf.tasks) if t.calendar == c]
            days = cal.start_dates(times[mine], c)
            for i, day in zip(mine, [] if days is None else days, strict=False):
                out[i] = str(day)
        return out

    def finishes(times: np.ndarray) -> list[Any]:
        days = cal.finish_dates(times)
        return [float(x) for x in times] if days is None else [str(d) for d in days]

    early, late = finishes(sched.early_finish), finishes(sched.late_finish)
    es, ls = starts(sched.early_start), starts(sched.late_start)
    for i, t in enumerate(pf.tasks):  # no work (left) is one instant: the day work ended
        if t.milestone or (sched.durations[i] == 0 and not t.complete):
            ls[i] = late[i]
            if t.milestone or t.progress is None:  # a task in progress began on its start
                es[i] = early[i]
        if t.progress is not None and cal.start is not None and not t.milestone:
            es[i] = str(cal.date_of(t.progress.start))  # it began then, worked day or not
            if t.complete:  # done: its late dates are what happened
                ls[i] = es[i]
    return pd.DataFrame(
        {
            "project": [pf.projects[t.project].id for t in pf.tasks],
            "task": [t.id for t in pf.tasks],
            "name": [t.name for t in pf.tasks],
            "early_start": es,
            "early_finish": early,
            "late_start": ls,
            "late_finish": late,
            "total_float": np.round(sched.total_float, 6),
        }
    )


_CAPACITY_COLUMNS = (
    "pool",
    "period",
    "capacity",
    "busy",
    "utilisation",
    "shortfall_mean",
    "shortfall_p90",
    "p_shortfall",
    "p_shortfall_se",
    "overload_mean",
    "p_overload",
)


def capacity_frame(s: RunSummary) -> pd.DataFrame:
    """``capacity.csv``: one row per pool and period (the header alone without pools)."""
    return pd.DataFrame(
        [
            (
                c.pool,
                c.period,
                c.capacity,
                c.busy,
                c.utilisation,
                c.shortfall_mean,
                c.shortfall_p90,
                c.p_shortfall.estimate,
                c.p_shortfall.se,
                c.overload_mean,
                None if c.p_overload is None else c.p_overload.estimate,
            )
            for c in s.capacity
        ],
        columns=list(_CAPACITY_COLUMNS),
    )


def drivers_frame(
    pf: Portfolio, sums: DriverSums, risk_effects: list[dict[str, Any]] | None = None
) -> pd.DataFrame:
    """``drivers.csv``: one row per project and driver (task or risk), projects in file
    order, tasks by criticality, then risks by the time they cost."""
    frame = pd.DataFrame(
        driver_rows(pf, sums, risk_effects),
        columns=[
            "project",
            "kind",
            "driver",
            "criticality",
            "correlation",
            "p80_finish_change",
            "mean_cost_change",
        ],
    )
    rank = frame["criticality"].fillna(-frame["p80_finish_change"].fillna(0))
    frame = frame.assign(_kind=frame["kind"] == "risk", _rank=-rank)
    order = frame.sort_values(["project", "_kind", "_rank", "driver"], kind="mergesort").index
    index = {p.id: k for k, p in enumerate(pf.projects)}
    frame = frame.loc[order].drop(columns=["_kind", "_rank"])
    return frame.iloc[
        np.argsort([index[p] for p in frame["project"]], kind="mergesort")
    ].reset_index(drop=True)


def comparison_frame(c: Comparison) -> pd.DataFrame:
    """One row per variant and metric (``comparison.csv``)."""
    rows = []
    for v in c.variants:
        for d in v.differences:
            row = d.to_dict()
            rows.append(
                {
                    "variant": v.name,
                    "metric": d.metric,
                    "base": row["base"],
                    "variant_value": row["variant"],
                    "diff": row["diff"],
                    "se": row["se"],
                    "se_unpaired": row["se_unpaired"],
                    "z": row["z"],
                    "significant": row["significant"],
                }
            )
    return pd.DataFrame(rows)


def trace_frame(pf: Portfolio, trace: np.ndarray) -> pd.DataFrame:
    """``trace.csv``: the schedules of the traced iterations."""
    tasks = pf.tasks
    return pd.DataFrame(
        {
            "iteration": trace[:, 0].astype(np.int64),
            "project": [pf.projects[tasks[int(i)].project].id for i in trace[:, 1]],
            "task": [tasks[int(i)].id for i in trace[:, 1]],
            "start": trace[:, 2],
            "finish": trace[:, 3],
        }
    )
