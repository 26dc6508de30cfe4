"""Recalibration of a forecast distribution's quantile levels (conformal-style, fitted by
:mod:`calibration.conformal` on the most recent out-of-sample forecasts).

If, on recent tasks, the actuals fell below the model's quantile ``g`` a share ``u`` of the
time, the recalibrated quantile at level ``u`` is the model's quantile at level ``g``. The
map ``u -> g`` is piecewise linear through increasing knots from (0, 0) to (1, 1), so it is
invertible and the recalibrated CDF is ``g^-1(F(r))``.
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

    def __post_init__(self) -> None:
        u = tuple(float(x) for x in self.nominal)
        g = tuple(float(x) for x in self.base)
        for name, knots in (("nominal", u), ("base", g)):
            if not (
                len(knots) >= 2
                and knots[0] == 0.0
                and knots[-1] == 1.0
                and all(math.isfinite(x) for x in knots)
                and all(a < b for a, b in itertools.pairwise(knots))
            ):
                raise ValueError(f"level map {name} levels must increase from 0 to 1")
        if len(u) != len(g):
            raise ValueError(f"level map has {len(u)} nominal and {len(g)} base levels")
        object.__setattr__(self, "nominal", u)
        object.__setattr__(self, "base", g)

    def forward(self, u: ArrayLike) -> FloatArray:
        """``g(u)``: the base level to read for nominal level ``u``."""
        return np.asarray(np.interp(np.asarray(u, dtype=float), self.nominal, self.base))

    def inverse(self, g: ArrayLike) -> FloatArray:
        """``g^-1``: the nominal level of the base model's level ``g``."""
        return np.asarray(np.interp(np.asarray(g, dtype=float), self.base, self.nominal))

    def to_dict(self) -> dict[str, Any]:
        return {"nominal": list(self.nominal), "base": list(self.base)}
