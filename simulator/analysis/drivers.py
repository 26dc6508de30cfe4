"""What drives each project's finish: criticality, duration sensitivity, risk contributions.

**What drove a start.** Every start in a schedule has one driver, read from the schedule the
engine produced (both engines produce the same schedule, so they agree on every driver):

* the task waited for resources (``start > ready``): the driver is the task whose
  completion at that instant released units of a pool it needs (the lowest-numbered one when
  several did); when no completion did, a capacity change let it start (``capacity``);
* otherwise it started as soon as it was ready, and ``ready`` is the latest of its release
  and its predecessors' ``finish + lag``: the driver is the predecessor that fired last
  (the lowest-numbered on a tie, and a predecessor rather than the release on a tie), or
  the project's ``release``.

**The driving chain** of a project in an iteration starts at its task that finished last
(the lowest-numbered on a tie) and follows the drivers back until a release or a capacity
change. It crosses projects when a task waited for units another project's task held. A
task's **criticality index** for a project is the share of iterations in which it lies on
that project's driving chain.

**Sensitivity** (tornado data): the Pearson correlation, over iterations, of each task's
sampled duration (risk delays included) with the project's finish.

**Risk contribution** (:func:`simulator.analysis.compare.risk_effects`): the change in a
project's P80 finish and mean cost when that risk alone is switched off (probability 0), on
common random numbers.

The chains are followed per block by :func:`simulator.engine.chain_counts`; a run keeps
their counts and the sums of durations and finishes (:class:`simulator.montecarlo.DriverSums`),
from which this module computes the indices exactly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..model import Portfolio
from ..montecarlo import DriverSums

__all__ = ["correlation", "criticality", "driver_rows"]

Array = NDArray[np.float64]


def criticality(sums: DriverSums) -> Array:
    """``(projects, tasks)``: the share of iterations each task lay on each project's
    driving chain."""
    return sums.critical / max(sums.n, 1)


def correlation(sums: DriverSums) -> Array:
    """``(tasks, projects)`` Pearson correlation of each task's duration with each project's
    finish (NaN where either side is constant)."""
    n = sums.n
    mean_d, mean_f = sums.sum_d / n, sums.sum_f / n
    cov = sums.sum_df / n - np.outer(mean_d, mean_f)
    var_d = np.maximum(sums.sum_dd / n - mean_d**2, 0.0)
    var_f = np.maximum(sums.sum_ff / n - mean_f**2, 0.0)
    scale = np.sqrt(np.outer(var_d, var_f))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(scale > 1e-12 * (1 + np.outer(mean_d**2, mean_f**2)), cov / scale, np.nan)
    return np.clip(corr, -1.0, 1.0)


def driver_rows(
    pf: Portfolio, sums: DriverSums, risk_effects: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """One row per project and driver: every task of the project and every other task that
    was ever on its chain, then each risk's contribution (``drivers.csv``)."""
    crit = criticality(sums)
    corr = correlation(sums)
    rows = []
    for k, p in enumerate(pf.projects):
        own = set(p.tasks)
        for i, t in enumerate(pf.tasks):
            if crit[k, i] == 0 and i not in own:
                continue
            c = corr[i, k]
            rows.append(
                {
                    "project": p.id,
                    "kind": "task",
                    "driver": t.key,
                    "criticality": float(crit[k, i]),
                    "correlation": None if math.isnan(c) else float(c),
                    "p80_finish_change": None,
                    "mean_cost_change": None,
                }
            )
    for e in risk_effects or []:
        rows.append(
            {
                "project": e["project"],
                "kind": "risk",
                "driver": e["risk"],
                "criticality": None,
                "correlation": None,
                "p80_finish_change": e["p80_finish_change"],
                "mean_cost_change": e["mean_cost_change"],
            }
        )
    return rows
