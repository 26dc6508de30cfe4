"""The parametric body with the history of similar sizes at the ends of the size range.

A power law in size (:mod:`calibration.fit`) describes the bulk of a class's tasks but is
pulled by them at the ends: on SiP it gives 35-hour Development tasks a P10 of 4.9 hours
where the 252 tasks of 30-40 hours say 2.0, and 1-hour Management tasks P(overrun) 0.39
where the 207 such tasks say 0.48. This candidate keeps the parametric model where most
tasks are and takes the history of tasks of similar size (:func:`calibration.local.history_near`,
bandwidth :data:`BANDWIDTH`) at the ends.

Where is an end: the share ``F`` of the class's training estimates below a size, counting
ties half (the mid-rank percentile). With the tail share ``t``, the weight of the history is
1 for ``F <= t / 2``, falls linearly to 0 at ``F = t``, and mirrors that at the top
(``1 - F``). Between, the model is the parametric one. The two are blended per size by
averaging their quantile functions with that weight (heap shares and continuous quantiles
alike), which keeps the blend between them at every level.

The result is stored as a local grid (:class:`simulator.model.LocalGrid`) at
:data:`POINTS` sizes evenly spaced in log(estimate) over the training range (or its
distinct estimates when there are fewer). Beyond that range the grid does not extrapolate:
it keeps the end size's distribution and widens it with the distance, as the local model
does.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from simulator.model import RatioModel

from .fit import fit_ratio_model
from .local import LOCAL_VALUES, MIN_EFFECTIVE, grid_model, history_near

__all__ = ["BANDWIDTH", "POINTS", "fit_hybrid", "history_weight"]

FloatArray = NDArray[np.float64]

POINTS = 64  # grid sizes (the body's size terms move little between neighbours)
BANDWIDTH = 0.3  # of the history near each end size (natural log units; grows when sparse)


def history_weight(at: FloatArray, log_e: FloatArray, tail: float) -> FloatArray:
    """The weight of the history at each log size ``at`` (see the module docstring)."""
    s = np.sort(log_e)
    f = (np.searchsorted(s, at, side="left") + np.searchsorted(s, at, side="right")) / (2 * s.size)
    edge = np.minimum(f, 1 - f)
    ends = np.clip((tail - edge) / (tail / 2), 0.0, 1.0)
    k = np.exp(-0.5 * ((log_e[None, :] - at[:, None]) / BANDWIDTH) ** 2)
    m = k.sum(axis=1) ** 2 / np.maximum(np.sum(k * k, axis=1), 1e-300)
    return np.asarray(ends * m / (m + MIN_EFFECTIVE))


def _grid(log_e: FloatArray) -> FloatArray:
    distinct = np.unique(log_e)
    if distinct.size <= POINTS:
        return np.asarray(distinct)
    return np.linspace(distinct[0], distinct[-1], POINTS)


def _body_rows(body: RatioModel, at: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The parametric model's heap share and continuous quantiles (at the midpoint levels
    the grid stores) at each size ``exp(at)``."""
    e = np.exp(at)
    cont = replace(body, p_exact=0.0, exact_slope=0.0)
    levels = (np.arange(LOCAL_VALUES) + 0.5) / LOCAL_VALUES
    values = cont.ppf(levels[None, :], e[:, None])
    shares = np.broadcast_to(body.exact_share(e), at.shape)
    values = np.broadcast_to(values, (at.size, LOCAL_VALUES))
    return np.minimum(np.asarray(shares, dtype=float), 1 - 1e-9), np.array(values, dtype=float)


def fit_hybrid(ratio: FloatArray, estimate: FloatArray, tail: float) -> RatioModel:
    """The parametric model, with the history of similar sizes in the outer ``tail`` shares
    of the estimates (see the module docstring).

    Raises:
        PmosimError: too few ratios other than 1 for the parametric fit.
    """
    body = fit_ratio_model(ratio, estimate)
    log_e = np.log(estimate)
    grid = _grid(log_e)
    w = history_weight(grid, log_e, tail)
    shares, values = _body_rows(body, grid)
    ends = w > 0
    if ends.any():
        near_p, near_v = history_near(ratio, estimate, grid[ends], BANDWIDTH)
        we = w[ends]
        shares[ends] = we * near_p + (1 - we) * shares[ends]
        values[ends] = we[:, None] * near_v + (1 - we[:, None]) * values[ends]
    rows = (shares, np.maximum.accumulate(values, axis=1))
    source = f"own ({body.family} body, history of similar sizes in the outer {tail:g})"
    return grid_model(ratio, log_e, grid, rows, source)
