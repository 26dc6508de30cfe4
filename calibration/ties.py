"""Interval coverage when actuals tie with an interval end: the randomized PIT.

With heaped or whole-unit actuals (a third of SiP's tasks report ``actual = estimate``;
Renzo's pomodoro log counts whole pomodoros) the forecast distribution has atoms, and a
quantile often *is* an atom. The closed interval ``[P10, P90]`` then holds every actual on
that atom, however much of the atom's probability lies outside the levels 0.1-0.9, so an
honest forecast covers more than 80 % of the time; the open interval covers less.

For discrete outcomes the forecast-evaluation literature replaces the probability integral
transform ``F(y)`` by the *randomized* PIT ``F(y-) + V (F(y) - F(y-))`` with ``V`` uniform
on (0, 1) (Czado, Gneiting & Held 2009, Biometrics 65: 1254-1261; Brockwell 2007), which
is uniform exactly when the forecasts are calibrated. The tie-aware coverage of the central
interval of levels ``(a, b)`` is the probability that the randomized PIT falls in
``[a, b]``: for each actual, the share of its PIT interval ``[F(y-), F(y)]`` that lies in
``[a, b]`` (1 or 0 without an atom at ``y``), averaged over the actuals. It needs no random
numbers (it is the expectation over ``V``), equals the closed-interval coverage when no
actual sits on an atom, and is what :mod:`calibration.conformal` already makes uniform.
Backtests report both: the closed-interval share (what a user counting "inside the range"
sees) and the tie-aware one (what calibration means for a forecast with atoms).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["empirical_pit", "tie_coverage"]

FloatArray = NDArray[np.float64]


def tie_coverage(low: ArrayLike, high: ArrayLike, a: float, b: float) -> float:
    """The mean share of each PIT interval ``[low, high]`` inside ``[a, b]`` (a point PIT
    counts 1 when inside)."""
    lo = np.asarray(low, dtype=float)
    hi = np.asarray(high, dtype=float)
    width = hi - lo
    overlap = np.clip(np.minimum(hi, b) - np.maximum(lo, a), 0.0, None)
    point = (lo >= a) & (lo <= b)
    share = np.where(width > 1e-12, overlap / np.where(width > 1e-12, width, 1.0), point)
    return float(np.mean(share))


def empirical_pit(sample: ArrayLike, values: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """``P(X < v)`` and ``P(X <= v)`` under the empirical distribution of ``sample``."""
    s = np.sort(np.asarray(sample, dtype=float))
    v = np.asarray(values, dtype=float)
    return (
        np.searchsorted(s, v, side="left") / s.size,
        np.searchsorted(s, v, side="right") / s.size,
    )
