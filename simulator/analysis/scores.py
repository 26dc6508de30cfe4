"""Scores of probabilistic forecasts against what happened: interval coverage, pinball loss
and the Brier score. Pure numpy, shared by the forecast history (``pmosim trend --actuals``)
and the calibration backtest, so that both score a forecast the same way.

* coverage of an interval: the share of actuals inside ``[low, high]`` (ideal: the interval's
  nominal probability, 80 % for a P10-P90 interval);
* pinball (quantile) loss at level ``q`` of forecast ``f`` for actual ``y``:
  ``max(q (y - f), (q - 1)(y - f))``, averaged over the levels (lower is better; in the
  actual's units);
* Brier score of a probability ``p`` for an event that did (1) or did not (0) happen:
  ``(p - outcome)^2``, averaged (0 is perfect; always saying 0.5 scores 0.25).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["brier", "coverage", "pinball"]

Array = NDArray[np.float64]


def pinball(actual: ArrayLike, forecast: ArrayLike, levels: ArrayLike) -> Array:
    """Pinball loss per forecast, averaged over ``levels``; ``forecast`` is (forecasts,
    levels), ``actual`` one value per forecast."""
    y = np.asarray(actual, dtype=float)
    q = np.asarray(levels, dtype=float)
    diff = y[:, None] - np.asarray(forecast, dtype=float)
    return np.asarray(np.mean(np.maximum(q * diff, (q - 1) * diff), axis=1), dtype=float)


def coverage(actual: ArrayLike, low: ArrayLike, high: ArrayLike) -> float:
    """The share of ``actual`` within ``[low, high]`` (ends included)."""
    y = np.asarray(actual, dtype=float)
    return float(
        np.mean((y >= np.asarray(low, dtype=float)) & (y <= np.asarray(high, dtype=float)))
    )


def brier(p: ArrayLike, happened: ArrayLike) -> float:
    """The mean squared difference between the probabilities and the outcomes (0 or 1)."""
    diff = np.asarray(p, dtype=float) - np.asarray(happened, dtype=float)
    return float(np.mean(diff * diff))
