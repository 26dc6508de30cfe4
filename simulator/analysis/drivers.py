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
sparse: only the pairs (project, task) that matter, never projects x tasks. A block keeps
every task of the project itself, and the 20 other projects' tasks most often on its
chain (a queue of hundreds of tasks on one pool puts hundreds of other projects' tasks on
every chain, each rarely). Criticality is exact for a project's own tasks and for another
project's task that was among those 20 in every block (in any other block it counts
nothing: a lower bound). The correlation is over every iteration for a task of the project
itself; for another project's task, over the blocks in which it was kept.
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
    """Per pair of ``sums.key``: the share of iterations the task lay on the project's
    driving chain."""
    return sums.critical / max(sums.n, 1)


def correlation(sums: DriverSums) -> Array:
    """Per pair of ``sums.key``: the Pearson correlation of the task's duration with the
    project's finish (NaN where either side is constant)."""
    m = np.maximum(sums.m, 1)
    mean_d, mean_f = sums.sum_d / m, sums.sum_f / m
    cov = sums.sum_df / m - mean_d * mean_f
    var_d = np.maximum(sums.sum_dd / m - mean_d**2, 0.0)
    var_f = np.maximum(sums.sum_ff / m - mean_f**2, 0.0)
    scale = np.sqrt(var_d * var_f)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(scale > 1e-12 * (1 + mean_d**2 * mean_f**2), cov / scale, np.nan)
    return np.clip(corr, -1.0, 1.0)


def driver_rows(
    pf: Portfolio, sums: DriverSums, risk_effects: list[dict[str, Any]] | None = None
) -> dict[str, list[Any]]:
    """``drivers.csv`` as columns: one row per project and task that was on its driving
    chain in at least one iteration (its own tasks and other projects'), then each risk's
    contribution per project."""
    on = sums.critical > 0
    crit, corr = criticality(sums)[on], correlation(sums)[on]
    projects, tasks = sums.project[on], sums.task[on]
    pids = [p.id for p in pf.projects]
    keys = [t.key for t in pf.tasks]
    effects = risk_effects or []
    none = [None] * len(effects)
    return {
        "project": [pids[k] for k in projects] + [e["project"] for e in effects],
        "kind": ["task"] * len(crit) + ["risk"] * len(effects),
        "driver": [keys[i] for i in tasks] + [e["risk"] for e in effects],
        "criticality": [float(c) for c in crit] + none,
        "correlation": [None if math.isnan(c) else float(c) for c in corr] + none,
        "p80_finish_change": [None] * len(crit) + [e["p80_finish_change"] for e in effects],
        "mean_cost_change": [None] * len(crit) + [e["mean_cost_change"] for e in effects],
    }
