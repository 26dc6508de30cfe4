"""What a Monte Carlo run keeps: per-iteration figures, loads per period, and the sums the
driver statistics come from, block by block and combined."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Block", "DriverSums", "Outcome"]

Array = NDArray[np.float64]


_PAIR_SUMS = ("m", "sum_d", "sum_dd", "sum_f", "sum_ff", "sum_df")
_CHUNK = 1 << 21  # iterations x pairs per step of the cross-product sums (16 MB)


@dataclass(frozen=True)
class DriverSums:
    """Sums from which criticality indices and duration-finish correlations are computed,
    sparse: one entry per ``(project, task)`` pair that matters, never projects x tasks.

    A block keeps every task with its own project, and the other projects' tasks that were
    most often on the project's driving chain in that block
    (:data:`simulator.engine.chains.OTHERS` of them). ``critical`` counts the pair's
    iterations on the chain (zero where it never was); the moment sums (``m`` iterations,
    sums of the task's duration ``d`` and the project's finish ``f``, of their squares and
    of ``d * f``) cover the blocks in which the pair was kept: all of them for a task of the
    project itself.

    Attributes:
        n: iterations; ``tasks``: tasks in the portfolio.
        key: ascending pair keys ``project * tasks + task``.
    """

    n: int
    tasks: int
    key: NDArray[np.int64]
    critical: NDArray[np.int64]
    m: NDArray[np.int64]
    sum_d: Array
    sum_dd: Array
    sum_f: Array
    sum_ff: Array
    sum_df: Array

    @property
    def project(self) -> NDArray[np.int64]:
        return self.key // max(self.tasks, 1)

    @property
    def task(self) -> NDArray[np.int64]:
        return self.key % max(self.tasks, 1)

    @classmethod
    def of(
        cls,
        chains: tuple[NDArray[np.int64], NDArray[np.int64]],
        own: NDArray[np.int64],
        duration: Array,
        p_finish: Array,
    ) -> DriverSums:
        """A block's sums: ``chains`` its ``(key, count)`` chain pairs, ``own`` each task's
        project (every task is kept with its own project)."""
        n, tasks = duration.shape
        own_key = own * tasks + np.arange(tasks, dtype=np.int64)
        key = np.union1d(chains[0], own_key)
        critical = np.zeros(len(key), dtype=np.int64)
        critical[np.searchsorted(key, chains[0])] = chains[1]
        proj, task = key // max(tasks, 1), key % max(tasks, 1)
        sum_df = np.empty(len(key))
        step = max(1, _CHUNK // max(n, 1))
        for lo in range(0, len(key), step):  # np.take: half the time of duration[:, t]
            t, p = task[lo : lo + step], proj[lo : lo + step]
            pairs = np.take(duration, t, axis=1), np.take(p_finish, p, axis=1)
            sum_df[lo : lo + step] = np.einsum("ij,ij->j", *pairs)
        return cls(
            n,
            tasks,
            key,
            critical,
            np.full(len(key), n, dtype=np.int64),
            duration.sum(axis=0)[task],
            np.einsum("ij,ij->j", duration, duration)[task],  # (duration**2).sum(0), no copy
            p_finish.sum(axis=0)[proj],
            (p_finish**2).sum(axis=0)[proj],
            sum_df,
        )

    def __add__(self, other: DriverSums) -> DriverSums:
        """Both runs' sums; a pair one side did not keep adds nothing from that side."""
        key = np.union1d(self.key, other.key)
        fields = {}
        for name in ("critical", *_PAIR_SUMS):
            a, b = getattr(self, name), getattr(other, name)
            total = np.zeros(len(key), dtype=a.dtype)
            total[np.searchsorted(key, self.key)] += a
            total[np.searchsorted(key, other.key)] += b
            fields[name] = total
        return DriverSums(self.n + other.n, self.tasks, key, **fields)


@dataclass(frozen=True)
class Outcome:
    """Per-iteration results of a whole run, in iteration order.

    Attributes:
        finish, first_start, cost: ``(iterations, projects)``.
        occurred: ``(iterations, risks)``.
        fork: ``(iterations, risks)``: per risk, the first instant of each iteration at which
            a duration it delays is read (:func:`simulator.montecarlo.fork_times`): up to
            then, the iteration without that risk runs alike.
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
    fork: Array
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
    fork: Array
    busy: Array
    waiting: Array
    capacity: Array
    final_capacity: Array
    trace: Array
    horizon: float
    drivers: DriverSums
    overload: Array
    keys: Array
