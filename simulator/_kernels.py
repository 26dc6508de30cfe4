"""Compiled loops of result processing (numba)."""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

__all__ = ["period_load"]


@numba.njit(cache=True, nogil=True)
def _period_load(lo: NDArray[np.float64], hi: NDArray[np.float64],
                 demand: NDArray[np.float64], edges: NDArray[np.float64]) -> NDArray[np.float64]:
    iters, tasks = lo.shape
    pools = demand.shape[1]
    periods = len(edges) - 1
    out = np.zeros((iters, pools, periods))
    for it in range(iters):
        for i in range(tasks):
            a, b = lo[it, i], hi[it, i]
            if not b > a:
                continue
            m = max(np.searchsorted(edges, a, side="right") - 1, 0)
            while m < periods and edges[m] < b:
                overlap = min(b, edges[m + 1]) - max(a, edges[m])
                if overlap > 0:
                    for p in range(pools):
                        if demand[i, p] != 0.0:
                            out[it, p, m] += overlap * demand[i, p]
                m += 1
    return out


def period_load(lo: NDArray[np.float64], hi: NDArray[np.float64], demand: NDArray[np.float64],
                edges: NDArray[np.float64]) -> NDArray[np.float64]:
    """Mean units held per period over intervals ``[lo, hi)`` per task:
    ``(iterations, pools, periods)``; ``edges`` are the period boundaries."""
    total = _period_load(np.ascontiguousarray(lo), np.ascontiguousarray(hi),
                         np.ascontiguousarray(demand), np.ascontiguousarray(edges))
    width = np.diff(edges)
    return np.divide(total, width, out=np.zeros_like(total), where=width > 0)
