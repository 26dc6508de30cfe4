"""The two model-free candidates of a class: the naive empirical ratios, and the history
near each size.

**Naive.** The empirical distribution of every ratio actual/estimate of the class: a point
mass at 1 with the share of heaped reports, and the other ratios resampled uniformly. No
size dependence. It is the strongest simple method and every calibration's fallback.

**Local.** The same, but weighted towards tasks of a similar size: at each grid estimate
``g`` a task with estimate ``e`` weighs ``exp(-0.5 * (log(e / g) / h) ** 2)``. The bandwidth
``h`` (natural log units) grows where data are sparse until the weights' effective sample size
``(sum w)^2 / sum w^2`` reaches :data:`MIN_EFFECTIVE`, so the ends of the size range rest on
enough tasks and take the nearest history rather than an extrapolated trend. The grid is the
distinct estimates when there are at most :data:`GRID_POINTS` of them, else that many points
evenly spaced in log(estimate) from the smallest to the largest; beyond them the model widens
(:mod:`simulator.model.ratio_grid`).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from simulator.errors import PmosimError
from simulator.model import EXACT_TOL, LocalGrid, RatioModel

__all__ = [
    "GRID_POINTS",
    "LOCAL_VALUES",
    "MIN_EFFECTIVE",
    "fit_local",
    "fit_naive",
    "history_near",
]

FloatArray = NDArray[np.float64]

GRID_POINTS = 24  # at most this many grid estimates per class
LOCAL_VALUES = 100  # quantiles kept per grid estimate (1/200 in probability)
MIN_EFFECTIVE = 60.0  # effective sample size each grid estimate rests on
NAIVE_POINTS = 1000  # quantiles a naive model keeps


def _midpoint_quantiles(sorted_x: FloatArray, cum_w: FloatArray, points: int) -> FloatArray:
    """Weighted quantiles at the levels ``(i + 0.5) / points`` (inverse of the weighted
    empirical CDF; ``cum_w`` is the normalised cumulative weight of ``sorted_x``)."""
    levels = (np.arange(points) + 0.5) / points
    idx = np.minimum(np.searchsorted(cum_w, levels), sorted_x.size - 1)
    return np.asarray(sorted_x[idx])


def _split(ratio: FloatArray) -> tuple[NDArray[np.bool_], FloatArray]:
    exact = np.abs(ratio - 1.0) < EXACT_TOL
    if int((~exact).sum()) == 0:
        raise PmosimError(f"all {ratio.size} ratios are exactly 1: nothing to fit")
    return exact, ratio[~exact]


def fit_naive(ratio: FloatArray) -> RatioModel:
    """The empirical distribution of ``ratio`` (heap at 1 and the other ratios)."""
    exact, x = _split(ratio)
    x = np.sort(x)
    cum = np.arange(1, x.size + 1) / x.size
    values = x if x.size <= NAIVE_POINTS else _midpoint_quantiles(x, cum, NAIVE_POINTS)
    return RatioModel(
        "empirical",
        {},
        p_exact=float(exact.mean()),
        slope=0.0,
        ref_estimate=1.0,
        n=int(ratio.size),
        values=tuple(values.tolist()),
        source="own",
    )


def _grid(log_e: FloatArray) -> FloatArray:
    distinct = np.unique(log_e)
    if distinct.size <= GRID_POINTS:
        return np.asarray(distinct)
    return np.linspace(distinct[0], distinct[-1], GRID_POINTS)


def _weights(log_e: FloatArray, at: float, bandwidth: float) -> FloatArray:
    h = bandwidth
    while True:
        w = np.exp(-0.5 * ((log_e - at) / h) ** 2)
        if w.sum() ** 2 / np.sum(w * w) >= min(MIN_EFFECTIVE, 0.9 * log_e.size) or h > 50:
            return np.asarray(w)
        h *= 1.25


def _grid_row(
    ratio: FloatArray, exact: NDArray[np.bool_], w: FloatArray
) -> tuple[float, FloatArray]:
    p = float(np.sum(w[exact]) / np.sum(w))
    x, wx = ratio[~exact], w[~exact]
    order = np.argsort(x)
    cum = np.cumsum(wx[order])
    return min(p, 1 - 1e-9), _midpoint_quantiles(x[order], cum / cum[-1], LOCAL_VALUES)


def history_near(
    ratio: FloatArray, estimate: FloatArray, at: FloatArray, bandwidth: float
) -> tuple[FloatArray, FloatArray]:
    """The heap share and the :data:`LOCAL_VALUES` quantiles of the non-1 ratios of the
    history near each size ``exp(at)`` (kernel-weighted, see the module docstring): arrays
    of shape ``(len(at),)`` and ``(len(at), LOCAL_VALUES)``."""
    exact, _ = _split(ratio)
    log_e = np.log(estimate)
    rows = [_grid_row(ratio, exact, _weights(log_e, float(g), bandwidth)) for g in at]
    shares = np.array([p for p, _ in rows], dtype=float)
    return shares, np.array([v for _, v in rows], dtype=float).reshape(len(rows), LOCAL_VALUES)


def fit_local(ratio: FloatArray, estimate: FloatArray, bandwidth: float) -> RatioModel:
    """The kernel-weighted history near each size (see the module docstring)."""
    _split(ratio)  # refuses a history whose every ratio is exactly 1
    log_e = np.log(estimate)
    grid = _grid(log_e)
    shares, values = history_near(ratio, estimate, grid, bandwidth)
    return grid_model(ratio, log_e, grid, (shares, values), f"own (bandwidth {bandwidth:g})")


def grid_model(
    ratio: FloatArray,
    log_e: FloatArray,
    grid: FloatArray,
    rows: tuple[FloatArray, FloatArray],
    source: str,
) -> RatioModel:
    """A ``local`` ratio model: heap shares and ratio quantiles ``rows`` at the sizes
    ``exp(grid)``, fitted on ``ratio`` at the log-estimates ``log_e``."""
    shares, values = rows
    local = LocalGrid(
        estimates=tuple(np.exp(grid).tolist()),
        exact=tuple(shares.tolist()),
        values=tuple(tuple(v) for v in values.tolist()),
    )
    return RatioModel(
        "local",
        {},
        p_exact=float((np.abs(ratio - 1.0) < EXACT_TOL).mean()),
        slope=0.0,
        ref_estimate=math.exp(float(np.mean(log_e))),
        n=int(ratio.size),
        grid=local,
        source=source,
    )
