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
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from simulator.model import LevelMap, RatioModel

__all__ = ["PRIOR", "fit_level_map", "pit_bounds"]

FloatArray = NDArray[np.float64]

PRIOR = 200.0  # PITs the identity map counts as
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


def fit_level_map(low: FloatArray, high: FloatArray, *, widen_only: bool = True) -> LevelMap:
    """The level map that makes the PITs ``[low, high]`` uniform (shrunk, see above); with
    ``widen_only`` it may widen the model's ranges, never narrow them."""
    m = low.size
    cdf = np.maximum.accumulate(_spread_cdf(low, high))
    # invert H on the fine grid: the smallest x with H(x) >= u
    empirical = _FINE[np.minimum(np.searchsorted(cdf, _KNOTS[1:-1]), _FINE.size - 1)]
    w = m / (m + PRIOR)
    inner = w * empirical + (1 - w) * _KNOTS[1:-1]
    if widen_only:  # lower levels may only fall, upper levels only rise
        u = _KNOTS[1:-1]
        inner = np.where(u < 0.5, np.minimum(inner, u), np.maximum(inner, u))
    inner = np.clip(inner, 1e-6, 1 - 1e-6)
    inner = np.maximum.accumulate(inner + np.arange(inner.size) * 1e-9)
    base = np.concatenate([[0.0], np.minimum(inner, 1 - 1e-6), [1.0]])
    base = np.maximum.accumulate(base + np.arange(base.size) * 1e-12)
    base[-1] = 1.0
    return LevelMap(tuple(_KNOTS.tolist()), tuple(base.tolist()))
