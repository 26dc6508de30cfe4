"""Results as tables (pandas): the CSV files of a run and of a comparison."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..analysis import Comparison, RunSummary, driver_rows
from ..model import Portfolio
from ..montecarlo import DriverSums

__all__ = ["capacity_frame", "comparison_frame", "drivers_frame", "projects_frame", "trace_frame"]


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


def capacity_frame(s: RunSummary) -> pd.DataFrame:
    """``capacity.csv``: one row per pool and period."""
    return pd.DataFrame(
        [
            {
                "pool": c.pool,
                "period": c.period,
                "capacity": c.capacity,
                "busy": c.busy,
                "utilisation": c.utilisation,
                "shortfall_mean": c.shortfall_mean,
                "shortfall_p90": c.shortfall_p90,
                "p_shortfall": c.p_shortfall.estimate,
                "p_shortfall_se": c.p_shortfall.se,
                "overload_mean": c.overload_mean,
                "p_overload": None if c.p_overload is None else c.p_overload.estimate,
            }
            for c in s.capacity
        ]
    )


def drivers_frame(
    pf: Portfolio, sums: DriverSums, risk_effects: list[dict[str, Any]] | None = None
) -> pd.DataFrame:
    """``drivers.csv``: one row per project and driver (task or risk), projects in file
    order, tasks by criticality, then risks by the time they cost."""
    rows = driver_rows(pf, sums, risk_effects)
    frame = pd.DataFrame(
        rows,
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
