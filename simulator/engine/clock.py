"""The clock arithmetic the engines share, compiled: working time per calendar, and when a
link lets its successor start.

The calendar functions are :mod:`simulator.model.calendar`'s own, compiled here, so the
reference engine (which calls them from Python) and the compiled engine (which inlines them)
compute every instant with the same operations in the same order.

Every link is resolved when its predecessor starts, from the predecessor's start and its
duration (README, "Links"): it fires at the earliest at that start.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..kernels import inline, jit
from ..model import calendar

__all__ = [
    "FF",
    "FS",
    "SF",
    "SS",
    "delay",
    "link_wait",
    "py_delay",
    "py_link_wait",
    "py_time_at",
    "py_work_at",
    "py_work_end",
    "resume",
    "time_at",
    "work_at",
    "work_between",
    "work_end",
    "work_ends",
]

FS, SS, FF, SF = 0, 1, 2, 3


def _compiled(fn: Callable[..., Any], **names: Any) -> Any:
    """``fn`` compiled to be inlined into the kernels, with the module globals it calls
    replaced by their compiled forms."""
    return inline(types.FunctionType(fn.__code__, {**fn.__globals__, **names}, fn.__name__))


_KERNEL: dict[str, Any] = {}
_KERNEL["work_at"] = _compiled(calendar.work_at)
_KERNEL["time_at"] = _compiled(calendar.time_at)
for _fn in (calendar.delay, calendar.work_end, calendar.resume):
    _KERNEL[_fn.__name__] = _compiled(_fn, work_at=_KERNEL["work_at"], time_at=_KERNEL["time_at"])
work_at, time_at, delay = _KERNEL["work_at"], _KERNEL["time_at"], _KERNEL["delay"]
work_end, resume = _KERNEL["work_end"], _KERNEL["resume"]


def _link_wait(
    kind: int,
    lag: float,
    lag_cal: int,
    succ_cal: int,
    succ_duration: float,
    start: float,
    pred_cal: int,
    pred_duration: float,
    flat: NDArray[np.int64],
    cum: NDArray[np.float64],
    week: NDArray[np.float64],
) -> float:
    """How long after its predecessor's ``start`` a link fires (0 at the earliest).

    The bound is the predecessor's start (SS, SF) or the end of its work (FS, FF), plus
    ``lag`` working days of calendar ``lag_cal``. FS, SS: the successor may start there, from
    the start of its calendar's next working period. FF, SF: it may not finish before the
    bound, so it may start once no more than its own duration of its own working time is
    left before it."""
    base = start
    if kind in (FS, FF):
        if flat[pred_cal] == 1:
            base = start + pred_duration
        else:
            done = work_at(flat, cum, week, pred_cal, start) + pred_duration
            base = time_at(flat, cum, week, pred_cal, done, False)
    bound = base
    if lag != 0.0:
        if flat[lag_cal] == 1:
            bound = base + lag
        else:
            bound = time_at(
                flat, cum, week, lag_cal, work_at(flat, cum, week, lag_cal, base) + lag, False
            )
    own = succ_duration if kind in (FF, SF) else 0.0
    if flat[succ_cal] == 1:
        at = bound - own
    else:
        at = time_at(
            flat, cum, week, succ_cal, work_at(flat, cum, week, succ_cal, bound) - own, True
        )
    wait = at - start
    return wait if wait > 0.0 else 0.0


link_wait = _compiled(_link_wait, **_KERNEL)


def _interpreted(fn: Callable[..., Any], **names: Any) -> Any:
    """``fn`` as plain Python, calling the plain Python clock functions."""
    return types.FunctionType(fn.__code__, {**fn.__globals__, **names}, fn.__name__)


# the same functions for the reference engine, interpreted: calling compiled code from
# Python costs far more than the arithmetic, and IEEE arithmetic is the same either way
py_work_at, py_time_at, py_delay, py_work_end = (
    calendar.work_at,
    calendar.time_at,
    calendar.delay,
    calendar.work_end,
)
py_link_wait = _interpreted(_link_wait, work_at=calendar.work_at, time_at=calendar.time_at)


# The loops below write into arrays they are given and run without reference counting
# (kernels.NO_REFCOUNTS): with it, every inlined calendar call increments and decrements the
# calendar arrays, 30 ns a cell against 1 without.
@jit(refcounts=False)
def _between(
    flat: NDArray[np.int64],
    cum: NDArray[np.float64],
    week: NDArray[np.float64],
    cal: NDArray[np.int64],
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    out: NDArray[np.float64],
) -> None:
    for r in range(a.shape[0]):
        for j in range(a.shape[1]):
            c = cal[j]
            out[r, j] = work_at(flat, cum, week, c, b[r, j]) - work_at(flat, cum, week, c, a[r, j])


@jit(refcounts=False)
def _ends(
    flat: NDArray[np.int64],
    cum: NDArray[np.float64],
    week: NDArray[np.float64],
    cal: NDArray[np.int64],
    a: NDArray[np.float64],
    out: NDArray[np.float64],
) -> None:
    for r in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[r, j] = work_end(flat, cum, week, cal[j], a[r, j])


def _rows(x: NDArray[np.float64]) -> NDArray[np.float64]:
    x = np.asarray(x, dtype=np.float64)
    return np.ascontiguousarray(x.reshape(-1, x.shape[-1]))


def work_between(
    flat: NDArray[np.int64],
    cum: NDArray[np.float64],
    week: NDArray[np.float64],
    cal: NDArray[np.int64],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Working time between ``lo`` and ``hi`` (same shape, last axis columns), column ``j``
    in calendar ``cal[j]``: ``work(hi) - work(lo)``."""
    cal = np.ascontiguousarray(cal, dtype=np.int64)
    a, b = _rows(lo), _rows(hi)
    if a.shape != b.shape or a.shape[-1] != cal.size:
        raise ValueError(f"work_between: shapes {a.shape}, {b.shape} for {cal.size} calendars")
    out = np.empty(a.shape)
    _between(flat, cum, week, cal, a, b, out)
    return out.reshape(np.shape(lo))


def work_ends(
    flat: NDArray[np.int64],
    cum: NDArray[np.float64],
    week: NDArray[np.float64],
    cal: NDArray[np.int64],
    t: NDArray[np.float64],
) -> NDArray[np.float64]:
    """:func:`work_end` of every entry of ``t`` (last axis columns, column ``j`` in calendar
    ``cal[j]``): where the work done by each instant ended."""
    cal = np.ascontiguousarray(cal, dtype=np.int64)
    a = _rows(t)
    if a.shape[-1] != cal.size:
        raise ValueError(f"work_ends: shape {a.shape} for {cal.size} calendars")
    out = np.empty(a.shape)
    _ends(flat, cum, week, cal, a, out)
    return out.reshape(np.shape(t))
