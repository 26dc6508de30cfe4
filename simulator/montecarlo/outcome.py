"""What a Monte Carlo run keeps: per-iteration figures, loads per period, and the sums the
driver statistics come from, block by block and combined."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Block", "DriverSums", "Outcome"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class DriverSums:
    """Per-block sums from which criticality and correlations are computed exactly."""

    n: int
    critical: NDArray[np.int64]  # (projects, tasks)
    sum_d: Array  # (tasks,)
    sum_dd: Array  # (tasks,)
    sum_f: Array  # (projects,)
    sum_ff: Array  # (projects,)
    sum_df: Array  # (tasks, projects)

    @classmethod
    def of(cls, critical: NDArray[np.int64], duration: Array, p_finish: Array) -> DriverSums:
        return cls(
            len(duration),
            critical,
            duration.sum(axis=0),
            (duration**2).sum(axis=0),
            p_finish.sum(axis=0),
            (p_finish**2).sum(axis=0),
            duration.T @ p_finish,
        )

    def __add__(self, other: DriverSums) -> DriverSums:
        return DriverSums(
            self.n + other.n,
            self.critical + other.critical,
            self.sum_d + other.sum_d,
            self.sum_dd + other.sum_dd,
            self.sum_f + other.sum_f,
            self.sum_ff + other.sum_ff,
            self.sum_df + other.sum_df,
        )


@dataclass(frozen=True)
class Outcome:
    """Per-iteration results of a whole run, in iteration order.

    Attributes:
        finish, first_start, cost: ``(iterations, projects)``.
        occurred: ``(iterations, risks)``.
        periods: labels of the reporting periods; ``edges`` their boundaries (working days).
        busy, waiting, capacity: ``(iterations, pools, periods)`` mean units over each period:
            in use, demanded by ready tasks that have not started, and available.
        overload: ``(iterations, pools, periods)`` mean units in use beyond the capacity (a
            capacity loss does not stop the tasks already holding the units).
        trace: ``(iteration, task, start, finish)`` rows for the traced iterations.
        drivers: sums for criticality indices and duration-finish correlations.
        keys: ``(iterations, key dates)`` the time of each key date's event (see
            :attr:`Portfolio.key_dates`): a start, or where the task's work ended.
    """

    finish: Array
    first_start: Array
    cost: Array
    occurred: NDArray[np.bool_]
    periods: list[str]
    edges: Array
    busy: Array
    waiting: Array
    capacity: Array
    trace: Array
    drivers: DriverSums
    overload: Array
    keys: Array


@dataclass(frozen=True)
class Block:
    """One block's share of an :class:`Outcome` (``final_capacity``: each pool's capacity
    after its last change, which pads the periods past the block's horizon; ``horizon``:
    the last instant the block's periods cover)."""

    finish: Array
    first_start: Array
    cost: Array
    occurred: NDArray[np.bool_]
    busy: Array
    waiting: Array
    capacity: Array
    final_capacity: Array
    trace: Array
    horizon: float
    drivers: DriverSums
    overload: Array
    keys: Array
