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

**Risk contribution**: the change in a project's P80 finish and mean cost when that risk
alone is switched off (probability 0), on common random numbers.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._kernels import inline, jit, offsets, task_pools
from .model import Network, Portfolio

__all__ = ["DriverSums", "chain_counts", "drivers_frame", "risk_effects", "top_drivers"]

Array = NDArray[np.float64]
RELEASE, CAPACITY = -1, -2


@inline
def _slot(pool: int, t: float, mask: int) -> int:
    """Where ``(pool, t)`` starts probing in a table of ``mask + 1`` slots."""
    key = int(t * 4096.0) if t < 1e12 else 0
    return ((key * 0x9E3779B1) ^ (pool * 0x85EBCA77)) & mask


@inline
def _driver(i: int, start: Array, finish: Array, ready: Array, release: Array,
            pred_ptr: Any, pred_idx: Any, pred_lag: Any, pool_ptr: Any, pool_idx: Any,
            h_pool: Any, h_time: Array, h_first: Any, h_second: Any, h_stamp: Any,
            stamp: int) -> int:
    if start[i] > ready[i]:
        t = start[i]
        mask = h_pool.size - 1
        best = -1
        for e in range(pool_ptr[i], pool_ptr[i + 1]):
            p = pool_idx[e]
            s = _slot(p, t, mask)
            while h_stamp[s] == stamp:
                if h_pool[s] == p and h_time[s] == t:
                    k = h_first[s] if h_first[s] != i else h_second[s]
                    if k >= 0 and (best < 0 or k < best):
                        best = k
                    break
                s = (s + 1) & mask
        return best if best >= 0 else CAPACITY
    best, when = RELEASE, release[i]
    for e in range(pred_ptr[i], pred_ptr[i + 1]):
        j = pred_idx[e]
        fired = finish[j] + pred_lag[e]
        if fired > when or (fired == when and (best < 0 or j < best)):
            best, when = j, fired
    return best


@jit(refcounts=False)
def _chains(start: Array, finish: Array, ready: Array, release: Array, pred_ptr: Any,
            pred_idx: Any, pred_lag: Any, proj_ptr: Any, proj_idx: Any, pool_ptr: Any,
            pool_idx: Any, counts: Any, seen: Any, known: Any, drv: Any, h_pool: Any,
            h_time: Array, h_first: Any, h_second: Any, h_stamp: Any) -> None:
    """Add each iteration's driving chains to ``counts`` (``(projects, tasks)``, zeros).

    Per iteration, an open-addressing table of ``(pool, finish time)`` -> the two
    lowest-numbered tasks using that pool that finish then (its slots marked with the
    iteration in ``h_stamp``, all -1 at first) finds what a waiting task's start followed.
    ``seen``, ``known`` (-1 at first) and ``drv`` are scratch, one per task."""
    n_it, n = start.shape
    n_proj = len(proj_ptr) - 1
    mask = h_pool.size - 1
    for it in range(n_it):
        for k in range(n):  # ascending, so the first two in are the lowest-numbered
            f = finish[it, k]
            for e in range(pool_ptr[k], pool_ptr[k + 1]):
                p = pool_idx[e]
                s = _slot(p, f, mask)
                while h_stamp[s] == it and not (h_pool[s] == p and h_time[s] == f):
                    s = (s + 1) & mask
                if h_stamp[s] != it:
                    h_stamp[s], h_pool[s], h_time[s] = it, p, f
                    h_first[s], h_second[s] = k, -1
                elif h_second[s] < 0:
                    h_second[s] = k
        for pk in range(n_proj):
            last, when = -1, -np.inf
            for q in range(proj_ptr[pk], proj_ptr[pk + 1]):
                i = proj_idx[q]
                if finish[it, i] > when:
                    last, when = i, finish[it, i]
            stamp = it * n_proj + pk
            i = last
            steps = 0
            while i >= 0 and seen[i] != stamp and steps <= n:
                seen[i] = stamp
                counts[pk, i] += 1
                if known[i] != it:
                    drv[i] = _driver(i, start[it], finish[it], ready[it], release, pred_ptr,
                                     pred_idx, pred_lag, pool_ptr, pool_idx, h_pool, h_time,
                                     h_first, h_second, h_stamp, it)
                    known[i] = it
                i = drv[i]
                steps += 1


def chain_counts(net: Network, pf: Portfolio, start: Array, finish: Array, ready: Array
                 ) -> NDArray[np.int64]:
    """``(projects, tasks)``: in how many of these iterations each task lay on each
    project's driving chain."""
    proj_ptr = offsets([len(p.tasks) for p in pf.projects])
    proj_idx = np.array([i for p in pf.projects for i in p.tasks], dtype=np.int64)
    pool_ptr, pool_idx = task_pools(net.demand)
    n = net.n_tasks
    size = 2  # the table: at least twice the (task, pool) pairs, a power of two
    while size < 2 * pool_ptr[-1]:
        size <<= 1
    counts = np.zeros((len(pf.projects), n), dtype=np.int64)
    _chains(np.ascontiguousarray(start), np.ascontiguousarray(finish),
            np.ascontiguousarray(ready), net.release, net.pred_ptr, net.pred_idx, net.pred_lag,
            proj_ptr, proj_idx, pool_ptr, pool_idx, counts, np.full(n, -1, dtype=np.int64),
            np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=np.int64),
            np.zeros(size, dtype=np.int64), np.zeros(size), np.zeros(size, dtype=np.int64),
            np.zeros(size, dtype=np.int64), np.full(size, -1, dtype=np.int64))
    return counts


@dataclass(frozen=True)
class DriverSums:
    """Per-block sums from which criticality and correlations are computed exactly."""

    n: int
    critical: NDArray[np.int64]  # (projects, tasks)
    sum_d: Array  # (tasks,)
    sum_dd: Array  # (tasks,)
    sum_f: Array  # (projects,)
    sum_ff: Array  # (projects,)
    sum_df: Array  # (tasks, projects)

    @classmethod
    def of(cls, critical: NDArray[np.int64], duration: Array, p_finish: Array) -> DriverSums:
        return cls(len(duration), critical, duration.sum(axis=0), (duration**2).sum(axis=0),
                   p_finish.sum(axis=0), (p_finish**2).sum(axis=0), duration.T @ p_finish)

    def __add__(self, other: DriverSums) -> DriverSums:
        return DriverSums(self.n + other.n, self.critical + other.critical,
                          self.sum_d + other.sum_d, self.sum_dd + other.sum_dd,
                          self.sum_f + other.sum_f, self.sum_ff + other.sum_ff,
                          self.sum_df + other.sum_df)

    def criticality(self) -> Array:
        return self.critical / max(self.n, 1)

    def correlation(self) -> Array:
        """``(tasks, projects)`` Pearson correlation (NaN where either side is constant)."""
        n = self.n
        mean_d, mean_f = self.sum_d / n, self.sum_f / n
        cov = self.sum_df / n - np.outer(mean_d, mean_f)
        var_d = np.maximum(self.sum_dd / n - mean_d**2, 0.0)
        var_f = np.maximum(self.sum_ff / n - mean_f**2, 0.0)
        scale = np.sqrt(np.outer(var_d, var_f))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.where(scale > 1e-12 * (1 + np.outer(mean_d**2, mean_f**2)),
                            cov / scale, np.nan)
        return np.clip(corr, -1.0, 1.0)


def drivers_frame(pf: Portfolio, sums: DriverSums,
                  risk_effects: list[dict[str, Any]] | None = None) -> Any:
    """``drivers.csv``: one row per project and driver (task or risk)."""
    import pandas as pd

    crit = sums.criticality()
    corr = sums.correlation()
    rows = []
    for k, p in enumerate(pf.projects):
        own = set(p.tasks)
        for i, t in enumerate(pf.tasks):
            if crit[k, i] == 0 and i not in own:
                continue
            c = corr[i, k]
            rows.append({"project": p.id, "kind": "task", "driver": t.key,
                         "criticality": float(crit[k, i]),
                         "correlation": None if math.isnan(c) else float(c),
                         "p80_finish_change": None, "mean_cost_change": None})
    for e in risk_effects or []:
        rows.append({"project": e["project"], "kind": "risk", "driver": e["risk"],
                     "criticality": None, "correlation": None,
                     "p80_finish_change": e["p80_finish_change"],
                     "mean_cost_change": e["mean_cost_change"]})
    frame = pd.DataFrame(rows, columns=["project", "kind", "driver", "criticality",
                                        "correlation", "p80_finish_change",
                                        "mean_cost_change"])
    rank = frame["criticality"].fillna(-frame["p80_finish_change"].fillna(0))
    frame = frame.assign(_kind=frame["kind"] == "risk", _rank=-rank)
    order = frame.sort_values(["project", "_kind", "_rank", "driver"], kind="mergesort").index
    index = {p.id: k for k, p in enumerate(pf.projects)}
    frame = frame.loc[order].drop(columns=["_kind", "_rank"])
    return frame.iloc[np.argsort([index[p] for p in frame["project"]], kind="mergesort")
                      ].reset_index(drop=True)


def top_drivers(frame: Any, per_project: int = 3) -> str:
    """A few lines per project: the most critical tasks and the risks that cost most time."""
    lines = []
    for pid, part in frame.groupby("project", sort=False):
        tasks = part[part["kind"] == "task"].head(per_project)
        risks = part[(part["kind"] == "risk") & (part["p80_finish_change"] < -0.05)].sort_values(
            "p80_finish_change").head(2)
        bits = [f"{r.driver} {r.criticality:.0%}" for r in tasks.itertuples()
                if r.criticality and r.criticality > 0]
        bits += [f"risk {r.driver} {-r.p80_finish_change:+.1f} d at P80"
                 for r in risks.itertuples()]
        if bits:
            lines += textwrap.wrap(f"{pid}: " + ", ".join(bits), width=78,
                                   initial_indent="  ", subsequent_indent="      ",
                                   break_on_hyphens=False)
    return "\n".join(lines)


def risk_effects(pf: Portfolio, base: Any, seed: int,
                 progress_of: Callable[[], Callable[[int], None] | None] | None = None,
                 **run: Any) -> list[dict[str, Any]]:
    """Per risk and project: the change in P80 finish (working days) and mean cost when the
    risk alone is switched off, on the base's random numbers (``base`` is its Outcome)."""
    from .montecarlo import simulate_portfolio
    from .variants import Mitigate, Variant, apply_variant

    n = len(base.finish)
    p80 = np.quantile(base.finish, 0.8, axis=0)
    mean_cost = base.cost.mean(axis=0)
    rows = []
    for k, risk in enumerate(pf.risks):
        off = apply_variant(pf, Variant(f"without {risk.id}",
                                        mitigate={k: Mitigate(0.0, None, 0.0, ())}))
        out = simulate_portfolio(off, n, seed,
                                 progress=progress_of() if progress_of else None, **run)
        d_p80 = np.quantile(out.finish, 0.8, axis=0) - p80
        d_cost = out.cost.mean(axis=0) - mean_cost
        for pk, p in enumerate(pf.projects):
            rows.append({"project": p.id, "risk": risk.id,
                         "p80_finish_change": float(d_p80[pk]),
                         "mean_cost_change": float(d_cost[pk])})
    return rows
