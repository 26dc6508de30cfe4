"""Paired comparison of decisions: the base and each variant on common random numbers.

The base and every variant run with the same root seed. Since every task, risk and
correlation group draws from its own stream (see :mod:`simulator.sampling.block`), iteration ``i``
of a variant sees the same durations and risk draws as iteration ``i`` of the base for
everything the variant did not change. A difference is therefore measured per iteration,
``d_i = metric_variant_i - metric_base_i``, and its standard error is that of a mean of
paired differences, ``sd(d) / sqrt(n)``, usually far below the unpaired
``sqrt(var_base / n + var_variant / n)`` of two independent runs (both are reported).

Metrics per scenario, per iteration:

* ``finish[p]``: project ``p``'s finish in working days of the default calendar since the
  start (so differences are working days);
* ``on_time[p]``: project ``p`` finished by its deadline (projects with a deadline);
* ``portfolio_on_time``: every project with a deadline finished by it (cancelled projects
  do not count against it);
* ``projects_on_time``: how many projects finished by their deadline (a cancelled project
  delivers nothing, so it counts 0);
* ``cost``: total cost of the projects carried out;
* ``shortfall``: unit-days of demand from ready tasks waiting for a pool, summed over pools
  (each period's mean units waiting times its working days);
* ``value``: where projects declare ``value_per_month``, the value delivered between each
  project's finish and the scenario's ``value_horizon``.

A difference is flagged significant when ``|mean / se| > 1.96`` (a two-sided 5 % test on the
paired differences; with many variants and metrics a few flags are expected by chance).
The cost P50 and P80 differences are differences of quantiles; their standard errors come
from a paired bootstrap (200 resamples of the iterations, the same for base and variant,
seeded from the run's seed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from ..engine import work_between
from ..errors import SimulationError
from ..model import Portfolio, Variant, apply_variant
from ..montecarlo import Backend, Outcome, simulate_portfolio, without_each_risk
from .summary import Z95

__all__ = [
    "RANKINGS",
    "Comparison",
    "Difference",
    "VariantResult",
    "compare",
    "metrics",
    "ranked",
    "risk_effects",
]

Array = NDArray[np.float64]
BOOTSTRAP = 200
# percentiles as everywhere (summary): P80 is the smallest value with 80 % at or below it
_Q: Final = "inverted_cdf"
ProgressOf = Callable[[], Callable[[int], None] | None] | None


def metrics(
    pf: Portfolio,
    outcome: Outcome,
    project_ids: Sequence[str],
    value_per_day: dict[str, float],
    horizon: float | None,
) -> dict[str, Array]:
    """Per-iteration metrics of one scenario; projects missing from ``pf`` (cancelled) give
    NaN for their own metrics and 0 in the counts."""
    n = len(outcome.finish)
    index = {p.id: k for k, p in enumerate(pf.projects)}
    out: dict[str, Array] = {}
    all_on_time = np.ones(n, dtype=bool)
    count = np.zeros(n)
    value = np.zeros(n)
    for pid in project_ids:
        k = index.get(pid)
        if k is None:
            out[f"on_time[{pid}]"] = np.full(n, np.nan)
            out[f"finish[{pid}]"] = np.full(n, np.nan)
            continue
        finish = outcome.finish[:, k]
        out[f"finish[{pid}]"] = _working_days(pf, np.zeros(n), finish, clip=False)
        deadline = pf.projects[k].deadline
        if deadline is not None:
            hit = finish <= deadline
            out[f"on_time[{pid}]"] = hit.astype(float)
            all_on_time &= hit
            count += hit
        else:
            out[f"on_time[{pid}]"] = np.full(n, np.nan)
        if horizon is not None and value_per_day.get(pid):
            value += value_per_day[pid] * _working_days(pf, finish, np.full(n, horizon))
    out["portfolio_on_time"] = all_on_time.astype(float)
    out["projects_on_time"] = count
    out["cost"] = outcome.cost.sum(axis=1)
    edges = outcome.edges
    lengths = _working_days(pf, edges[:-1], edges[1:])  # working days of each period
    out["shortfall"] = (outcome.waiting * lengths[None, None, :]).sum(axis=(1, 2))
    if horizon is not None and value_per_day:
        out["value"] = value
    return out


def _working_days(pf: Portfolio, since: Array, until: Array, *, clip: bool = True) -> Array:
    """Working days of the default calendar between two arrays of times (0 for a negative
    span with ``clip``)."""
    cal = np.array([pf.calendar.default], dtype=np.int64)
    days = work_between(*pf.calendar.table, cal, since[:, None], until[:, None])[:, 0]
    return np.maximum(days, 0.0) if clip else days


@dataclass(frozen=True)
class Difference:
    """One metric of one variant against the base."""

    metric: str
    base: float
    variant: float
    diff: float
    se: float
    se_unpaired: float

    @property
    def z(self) -> float:
        if self.se == 0:
            return 0.0 if self.diff == 0 else math.copysign(math.inf, self.diff)
        return self.diff / self.se

    @property
    def significant(self) -> bool:
        return abs(self.z) > Z95

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "base": self.base,
            "variant": self.variant,
            "diff": self.diff,
            "se": self.se,
            "se_unpaired": self.se_unpaired,
            "z": self.z if math.isfinite(self.z) else None,
            "significant": self.significant,
        }


def _paired(name: str, b: Array, v: Array) -> Difference | None:
    if np.all(np.isnan(b)) and np.all(np.isnan(v)):
        return None
    n = len(b)
    mb, mv = float(np.mean(b)), float(np.mean(v))
    if np.any(np.isnan(b)) or np.any(np.isnan(v)):  # a cancelled project: no pairing
        return Difference(name, mb, mv, math.nan, math.nan, math.nan)
    d = v - b
    se = float(np.std(d, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    if n > 1 and np.ptp(d) <= 1e-12 * max(1.0, float(np.max(np.abs(d)))):
        se = 0.0  # the same difference in every iteration, up to rounding: no noise at all
    unpaired = float(math.sqrt((np.var(b, ddof=1) + np.var(v, ddof=1)) / n)) if n > 1 else math.nan
    return Difference(name, mb, mv, float(np.mean(d)), se, unpaired)


def _quantile_diff(name: str, q: float, b: Array, v: Array, seed: int) -> Difference:
    n = len(b)
    qb, qv = float(np.quantile(b, q, method=_Q)), float(np.quantile(v, q, method=_Q))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x636D70,)))
    idx = rng.integers(0, n, size=(BOOTSTRAP, n))
    boot_b = np.quantile(b[idx], q, axis=1, method=_Q)
    boot_v = np.quantile(v[idx], q, axis=1, method=_Q)
    se = float(np.std(boot_v - boot_b, ddof=1))
    unpaired = float(math.sqrt(np.var(boot_b, ddof=1) + np.var(boot_v, ddof=1)))
    return Difference(name, qb, qv, qv - qb, se, unpaired)


@dataclass(frozen=True)
class VariantResult:
    name: str
    description: str
    cancelled: tuple[str, ...]
    differences: tuple[Difference, ...]

    def get(self, metric: str) -> Difference | None:
        return next((d for d in self.differences if d.metric == metric), None)


@dataclass(frozen=True)
class Comparison:
    """The base and each variant, every metric with its paired difference."""

    scenario: str
    iterations: int
    seed: int
    projects: tuple[str, ...]
    variants: tuple[VariantResult, ...]
    base: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "iterations": self.iterations,
            "seed": self.seed,
            "projects": list(self.projects),
            "base": self.base,
            "variants": [
                {
                    "name": v.name,
                    "description": v.description,
                    "cancelled": list(v.cancelled),
                    "differences": [d.to_dict() for d in v.differences],
                }
                for v in self.variants
            ],
        }


def compare(
    pf: Portfolio,
    variants: Sequence[Variant],
    iterations: int,
    seed: int,
    *,
    engine: str = "auto",
    backend: Backend | None = None,
    progress_of: ProgressOf = None,
) -> Comparison:
    """Run the base and each variant on common random numbers and compare them."""
    ids = tuple(p.id for p in pf.projects)
    values = {p.id: p.value_per_day for p in pf.projects if p.value_per_day}
    horizon = pf.value_horizon

    def tick() -> Callable[[int], None] | None:
        return progress_of() if progress_of else None

    base_out = simulate_portfolio(
        pf, iterations, seed, engine=engine, backend=backend, progress=tick()
    )
    base = metrics(pf, base_out, ids, values, horizon)
    results = []
    for v in variants:
        pv = apply_variant(pf, v)
        try:
            out = simulate_portfolio(
                pv, iterations, seed, engine=engine, backend=backend, progress=tick()
            )
        except SimulationError as e:  # the base ran: say which variant's change did this
            raise type(e)(f"variant '{v.name}': {e}") from None
        m = metrics(pv, out, ids, values, horizon)
        diffs = [d for name in base if (d := _paired(name, base[name], m[name])) is not None]
        diffs += [
            _quantile_diff(f"cost_p{round(q * 100)}", q, base["cost"], m["cost"], seed)
            for q in (0.5, 0.8)
        ]
        if "value" in base and (val := _paired("value", base["value"], m["value"])):
            diffs.append(
                Difference("cost_of_delay", 0.0, -val.diff, -val.diff, val.se, val.se_unpaired)
            )
        cancelled = tuple(pf.projects[k].id for k in sorted(v.cancel))
        results.append(VariantResult(v.name, v.description, cancelled, tuple(diffs)))
    summary = {
        name: float(np.nanmean(vals)) if not np.all(np.isnan(vals)) else math.nan
        for name, vals in base.items()
    }
    return Comparison(pf.name, iterations, seed, ids, tuple(results), summary)


RANKINGS = {  # metric, True when higher is better
    "portfolio_on_time": ("portfolio_on_time", True),
    "projects_on_time": ("projects_on_time", True),
    "cost": ("cost", False),
    "value": ("value", True),
}


def ranked(c: Comparison, by: str) -> list[VariantResult]:
    """Variants best first by metric ``by`` (ties keep file order)."""
    metric, higher = RANKINGS[by]

    def key(v: VariantResult) -> float:
        d = v.get(metric)
        return -math.inf if d is None else (d.diff if higher else -d.diff)

    return sorted(c.variants, key=key, reverse=True)


def risk_effects(
    pf: Portfolio,
    base: Outcome,
    seed: int,
    progress: Callable[[int], None] | None = None,
    iterations: int | None = None,
    **run: Any,
) -> list[dict[str, Any]]:
    """Per risk and project: the change in P80 finish (working days) and mean cost when the
    risk alone is switched off, on the base's random numbers (``base`` is its Outcome),
    over its first ``iterations`` (default all). Only the iterations where the risk
    occurred are simulated again (:func:`simulator.montecarlo.without_each_risk`)."""
    without = without_each_risk(pf, base, seed, iterations=iterations, progress=progress, **run)
    m = len(base.finish) if iterations is None else min(iterations, len(base.finish))
    p80 = np.quantile(base.finish[:m], 0.8, axis=0, method=_Q)
    mean_cost = base.cost[:m].mean(axis=0)
    rows = []
    for risk, (finish, cost) in zip(pf.risks, without, strict=True):
        d_p80 = _working_days(pf, p80, np.quantile(finish, 0.8, axis=0, method=_Q), clip=False)
        d_cost = cost.mean(axis=0) - mean_cost
        for pk, p in enumerate(pf.projects):
            rows.append(
                {
                    "project": p.id,
                    "risk": risk.id,
                    "p80_finish_change": float(d_p80[pk]),
                    "mean_cost_change": float(d_cost[pk]),
                }
            )
    return rows
