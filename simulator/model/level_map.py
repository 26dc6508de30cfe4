"""Recalibration of a forecast distribution's quantile levels (conformal-style, fitted by
:mod:`calibration.conformal` on the most recent out-of-sample forecasts).

If, on recent tasks, the actuals fell below the model's quantile ``g`` a share ``u`` of the
time, the recalibrated quantile at level ``u`` is the model's quantile at level ``g``. The
map ``u -> g`` is piecewise linear through increasing knots from (0, 0) to (1, 1), so it is
invertible and the recalibrated CDF is ``g^-1(F(r))``.

A map may also depend on the task's size (Mondrian-style: recent forecasts grouped by
estimate, one map per group). Then ``by_size[k]`` are the base levels at the knots for an
estimate of ``sizes[k]``; between two sizes the knots' levels are interpolated linearly in
``log(estimate)`` (so the map stays piecewise linear and increasing), and beyond the first or
last size that size's map holds. ``base`` is the map of every size together, used when no
estimate is given.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["LevelMap"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class LevelMap:
    """Nominal level ``u`` to the base model's level ``g(u)``.

    Attributes:
        nominal: the knots' nominal levels, increasing from 0 to 1.
        base: the base model's levels at those knots, increasing from 0 to 1.
    """

    nominal: tuple[float, ...]
    base: tuple[float, ...]
    sizes: tuple[float, ...] = ()
    by_size: tuple[tuple[float, ...], ...] = ()

    def __post_init__(self) -> None:
        u = _levels(self.nominal, "nominal")
        g = _levels(self.base, "base")
        rows = tuple(_levels(row, f"by_size[{k}]") for k, row in enumerate(self.by_size))
        sizes = tuple(float(x) for x in self.sizes)
        if any(len(knots) != len(u) for knots in (g, *rows)):
            raise ValueError(f"level map rows must have the {len(u)} levels of nominal")
        if (
            len(sizes) != len(rows)
            or not all(math.isfinite(x) and x > 0 for x in sizes)
            or not all(a < b for a, b in itertools.pairwise(sizes))
        ):
            raise ValueError("level map sizes must be increasing estimates > 0, one per row")
        object.__setattr__(self, "nominal", u)
        object.__setattr__(self, "base", g)
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "by_size", rows)

    def _weights(self, estimate: FloatArray) -> FloatArray:
        """Each size row's weight at each estimate, shape ``(len(sizes),) + estimate.shape``."""
        x, xs = np.log(estimate), np.log(self.sizes)
        eye = np.eye(len(self.sizes))
        return np.stack([np.interp(x, xs, eye[k]) for k in range(len(self.sizes))])

    def forward(self, u: ArrayLike, estimate: ArrayLike | None = None) -> FloatArray:
        """``g(u)``: the base level to read for nominal level ``u`` (at ``estimate``)."""
        u_arr = np.asarray(u, dtype=float)
        if not self.sizes or estimate is None:
            return np.asarray(np.interp(u_arr, self.nominal, self.base))
        u_arr, e = np.broadcast_arrays(u_arr, np.asarray(estimate, dtype=float))
        w = self._weights(e)
        rows = [np.interp(u_arr, self.nominal, row) for row in self.by_size]
        return np.asarray(sum(wk * gk for wk, gk in zip(w, rows, strict=True)))

    def inverse(self, g: ArrayLike, estimate: ArrayLike | None = None) -> FloatArray:
        """``g^-1``: the nominal level of the base model's level ``g`` (at ``estimate``)."""
        g_arr = np.asarray(g, dtype=float)
        if not self.sizes or estimate is None:
            return np.asarray(np.interp(g_arr, self.base, self.nominal))
        g_arr, e = np.broadcast_arrays(g_arr, np.asarray(estimate, dtype=float))
        flat = g_arr.reshape(-1)
        knots = self._weights(e.reshape(-1)).T @ np.asarray(self.by_size)  # (n, levels)
        nominal = np.asarray(self.nominal)
        j = np.clip(np.sum(knots < flat[:, None], axis=1), 1, nominal.size - 1)
        rows = np.arange(flat.size)
        lo, hi = knots[rows, j - 1], knots[rows, j]
        t = np.clip((flat - lo) / np.maximum(hi - lo, 1e-300), 0.0, 1.0)
        out = nominal[j - 1] + t * (nominal[j] - nominal[j - 1])
        return np.asarray(out.reshape(g_arr.shape))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"nominal": list(self.nominal), "base": list(self.base)}
        if self.sizes:
            d["sizes"] = list(self.sizes)
            d["by_size"] = [list(row) for row in self.by_size]
        return d


def _levels(knots: Any, name: str) -> tuple[float, ...]:
    """``knots`` as floats, checked to increase from 0 to 1."""
    out = tuple(float(x) for x in knots)
    if not (
        len(out) >= 2
        and out[0] == 0.0
        and out[-1] == 1.0
        and all(math.isfinite(x) for x in out)
        and all(a < b for a, b in itertools.pairwise(out))
    ):
        raise ValueError(f"level map {name} levels must increase from 0 to 1")
    return out
