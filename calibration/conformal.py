"""Conformal-style recalibration: fit the quantile levels of a model to its most recent
out-of-sample forecasts, so that its ranges keep their coverage when the history drifts.

For each recent task the model, fitted on what came before, gave a probability integral
transform (PIT): ``F(actual)``, spread uniformly over ``[P(R < r), P(R <= r)]`` where the
forecast has a point mass (heaped reports). Honest forecasts give uniform PITs. The
recalibrated level for nominal ``u`` is the ``u``-quantile of the recent PITs (the expected
empirical CDF of the spread PITs, which needs no random numbers), shrunk towards ``u`` with
weight ``m / (m + PRIOR)`` for ``m`` PITs, at the knots 0, 0.01, ..., 1
(:class:`simulator.model.LevelMap`).

By default the map only widens: levels below 1/2 may move down and levels above 1/2 up, never
the other way. Recent forecasts that were too wide do not narrow the ranges, because a drift
that made the past fold easy need not last (on SiP, narrowing after the 2010-2011 folds cut
P10-P90 coverage after 2012 from 0.756 to 0.721), while ranges that were too narrow are the
failure that hurts users.

Coverage over all sizes together can hide ranges that are too narrow at one end of the size
range and too wide at the other (on SiP before 2012, the Development forecasts for the
largest tenth of estimates had 17 % of actuals below P10 and 15 % above P90, the smallest
tenth 3 % and 4 %). So, as Mondrian conformal prediction does with categories, the recent
PITs are also grouped by the task's estimate (up to :data:`GROUPS` groups of equal count, at
least :data:`GROUP_MIN` PITs each) and each group gets its own map, shrunk towards the map
of all sizes with weight ``m_g / (m_g + PRIOR)``; between the groups' median estimates the
map is interpolated in log(estimate) (:class:`simulator.model.LevelMap`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from simulator.model import LevelMap, RatioModel

__all__ = ["GROUPS", "GROUP_MIN", "PRIOR", "fit_level_map", "pit_bounds"]

FloatArray = NDArray[np.float64]

PRIOR = 200.0  # PITs the identity map (or, for a size group, the map of all sizes) counts as
GROUPS = 5  # size groups at most
GROUP_MIN = 300  # PITs per size group at least
_KNOTS = np.linspace(0.0, 1.0, 101)
_FINE = np.linspace(0.0, 1.0, 1001)


def pit_bounds(
    model: RatioModel, ratio: FloatArray, estimate: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """``P(R < r)`` and ``P(R <= r)`` of each observed ratio under the model at its size."""
    low = model.cdf(ratio, estimate, strict=True)
    high = model.cdf(ratio, estimate)
    return np.asarray(low, dtype=float), np.asarray(high, dtype=float)


def _spread_cdf(low: FloatArray, high: FloatArray) -> FloatArray:
    """The expected share of spread PITs at or below each point of the fine grid."""
    width = np.maximum(high - low, 1e-12)
    inside = np.clip((_FINE[:, None] - low[None, :]) / width[None, :], 0.0, 1.0)
    return np.asarray(np.mean(inside, axis=1))


def _inverse_spread(low: FloatArray, high: FloatArray) -> FloatArray:
    """The empirical levels at the inner knots: the smallest ``x`` of the fine grid with
    ``H(x) >= u``, ``H`` the expected CDF of the spread PITs."""
    cdf = np.maximum.accumulate(_spread_cdf(low, high))
    return np.asarray(_FINE[np.minimum(np.searchsorted(cdf, _KNOTS[1:-1]), _FINE.size - 1)])


def _shrunk(low: FloatArray, high: FloatArray, towards: FloatArray) -> FloatArray:
    w = low.size / (low.size + PRIOR)
    return np.asarray(w * _inverse_spread(low, high) + (1 - w) * towards)


def _knots(inner: FloatArray, widen_only: bool) -> tuple[float, ...]:
    """The map's base levels at every knot from its inner levels (kept increasing)."""
    if widen_only:  # lower levels may only fall, upper levels only rise
        u = _KNOTS[1:-1]
        inner = np.where(u < 0.5, np.minimum(inner, u), np.maximum(inner, u))
    inner = np.clip(inner, 1e-6, 1 - 1e-6)
    inner = np.maximum.accumulate(inner + np.arange(inner.size) * 1e-9)
    base = np.concatenate([[0.0], np.minimum(inner, 1 - 1e-6), [1.0]])
    base = np.maximum.accumulate(base + np.arange(base.size) * 1e-12)
    base[-1] = 1.0
    return tuple(base.tolist())


def _size_groups(log_e: FloatArray) -> list[NDArray[np.bool_]]:
    """The PITs grouped by estimate: up to :data:`GROUPS` groups of about equal count, at
    least :data:`GROUP_MIN` each; ties in the estimate stay in one group."""
    count = min(GROUPS, log_e.size // GROUP_MIN)
    if count < 2:
        return []
    edges = np.unique(np.quantile(log_e, np.linspace(0, 1, count + 1)[1:-1]))
    group = np.searchsorted(edges, log_e, side="left")
    return [group == g for g in range(edges.size + 1) if np.any(group == g)]


def fit_level_map(
    low: FloatArray,
    high: FloatArray,
    *,
    estimate: FloatArray | None = None,
    widen_only: bool = True,
) -> LevelMap:
    """The level map that makes the PITs ``[low, high]`` uniform (shrunk, see above); with
    ``widen_only`` it may widen the model's ranges, never narrow them. With the tasks'
    ``estimate``, also one map per size group, each shrunk towards the map of all sizes."""
    pooled = _shrunk(low, high, _KNOTS[1:-1])
    base = _knots(pooled, widen_only)
    if estimate is None:
        return LevelMap(tuple(_KNOTS.tolist()), base)
    log_e = np.log(estimate)
    groups = _size_groups(log_e)
    sizes = tuple(float(np.exp(np.median(log_e[g]))) for g in groups)
    rows = tuple(_knots(_shrunk(low[g], high[g], pooled), widen_only) for g in groups)
    return LevelMap(tuple(_KNOTS.tolist()), base, sizes, rows)
