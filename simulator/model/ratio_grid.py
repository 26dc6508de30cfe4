"""The ratio actual/estimate as the history shows it near each size: a grid of estimates, and
at each grid point the share of heaped reports and the quantiles of the other ratios
(:mod:`calibration.local` fits it by kernel weighting in log(estimate)).

An estimate takes the grid point nearest to it in log(estimate). Outside the estimate range
the history covers, the model does not extrapolate a trend: it keeps the end point's
distribution and widens it, ``R = c * (Z / c) ** (1 + d)`` with ``c`` the end point's median
and ``d`` the distance beyond the range in natural log units (twice the largest estimate:
spread x 1.69).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["LocalGrid"]

FloatArray = NDArray[np.float64]


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


@dataclass(frozen=True)
class LocalGrid:
    """Heap share and continuous quantiles per grid estimate.

    Attributes:
        estimates: the grid estimates, increasing (working days); the first and last are the
            smallest and largest estimate of the history.
        exact: P(ratio is exactly 1) at each grid estimate.
        values: per grid estimate, the sorted quantiles of the non-1 ratios at the levels
            ``(i + 0.5) / len`` (resampled uniformly).
    """

    estimates: tuple[float, ...]
    exact: tuple[float, ...]
    values: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        est = tuple(float(e) for e in self.estimates)
        exact = tuple(float(p) for p in self.exact)
        values = tuple(tuple(float(v) for v in row) for row in self.values)
        _check(len(est) > 0, "a local grid needs at least one estimate")
        _check(
            len(exact) == len(est) == len(values),
            f"a local grid needs as many exact shares ({len(exact)}) and value rows "
            f"({len(values)}) as estimates ({len(est)})",
        )
        _check(
            all(math.isfinite(e) and e > 0 for e in est)
            and all(a < b for a, b in itertools.pairwise(est)),
            "grid estimates must be finite, > 0 and increasing",
        )
        _check(all(0 <= p < 1 for p in exact), "grid exact shares must be in [0, 1)")
        width = len(values[0])
        _check(width > 0, "grid value rows must not be empty")
        for row in values:
            _check(len(row) == width, f"grid value rows must all have {width} values")
            _check(
                all(math.isfinite(v) and v > 0 for v in row), "grid values must be finite and > 0"
            )
            _check(all(a <= b for a, b in itertools.pairwise(row)), "grid values must be sorted")
        object.__setattr__(self, "estimates", est)
        object.__setattr__(self, "exact", exact)
        object.__setattr__(self, "values", values)

    @cached_property
    def _table(self) -> FloatArray:
        return np.asarray(self.values, dtype=float)

    def rows(self, estimate: ArrayLike) -> tuple[NDArray[np.int64], FloatArray]:
        """The grid row of each estimate (nearest in log) and its widening exponent (1 inside
        the range, ``1 + d`` at ``d`` natural-log units beyond it)."""
        e = np.asarray(estimate, dtype=float)
        _check(bool(np.all((e > 0) & np.isfinite(e))), "estimates must be finite and > 0")
        log_grid = np.log(np.asarray(self.estimates))
        log_e = np.log(e)
        if log_grid.size == 1:
            row = np.zeros(e.shape, dtype=np.int64)
        else:
            mids = (log_grid[1:] + log_grid[:-1]) / 2
            row = np.searchsorted(mids, log_e).astype(np.int64)
        beyond = np.maximum(log_grid[0] - log_e, 0) + np.maximum(log_e - log_grid[-1], 0)
        return row, 1.0 + beyond

    def exact_share(self, row: NDArray[np.int64]) -> FloatArray:
        return np.asarray(self.exact, dtype=float)[row]

    def center(self, row: NDArray[np.int64]) -> FloatArray:
        """The geometric mean of each row's values: the centre the widening keeps."""
        return np.asarray(np.exp(np.mean(np.log(self._table), axis=1))[row])

    def cont_ppf(self, v: FloatArray, row: NDArray[np.int64]) -> FloatArray:
        """Quantile ``v`` of the continuous part at grid row ``row`` (broadcast)."""
        width = self._table.shape[1]
        idx = np.clip(np.ceil(v * width).astype(np.int64) - 1, 0, width - 1)
        return np.asarray(self._table[row, idx])

    def cont_cdf(self, x: FloatArray, row: NDArray[np.int64], *, strict: bool) -> FloatArray:
        """P(continuous part <= x) at grid row ``row`` (``< x`` when ``strict``)."""
        x, row = np.broadcast_arrays(np.asarray(x, dtype=float), row)
        out = np.empty(x.shape)
        side: Any = "left" if strict else "right"
        for j in np.unique(row):
            m = row == j
            out[m] = np.searchsorted(self._table[j], x[m], side=side) / self._table.shape[1]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimates": list(self.estimates),
            "exact": list(self.exact),
            "values": [list(r) for r in self.values],
        }
