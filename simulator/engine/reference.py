"""The reference engine: one iteration of the portfolio as a simpy discrete-event simulation.

The contract (DESIGN.md, "Engine semantics"), as implemented here:

* A task becomes *ready* when its release time has come and every predecessor edge has
  fired. Every link is resolved when its predecessor starts
  (:func:`simulator.engine.clock.link_wait`): its edge is scheduled then, after the
  predecessor's completion. Durations and lags are working time of a calendar: every event
  time is computed as ``now + delay`` with the delay from :mod:`simulator.engine.clock` (on
  a continuous calendar, the duration itself), so both engines compute equal instants alike.
* Events at the same instant are processed before the dispatch they trigger: the first event
  at ``t`` that can make a start possible requests one dispatch, which runs after every event
  already queued for ``t`` (simpy orders events by time, then by creation). Completions
  release units, capacity changes set a pool's capacity, ready tasks join the queue.
* Dispatch walks the ready tasks in priority order and starts each whose whole demand fits
  the free units now; one that does not fit blocks nobody behind it. A task that starts with
  zero duration completes at the same instant, after that dispatch, and may trigger another.

The engine is pure: arrays in, arrays out, no randomness and no I/O.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import simpy
from numpy.typing import NDArray

from ..errors import SimulationError
from ..model import Network
from .clock import py_delay, py_link_wait
from .stuck import Names, stuck_message

__all__ = ["FIT_TOLERANCE", "Schedule", "simulate"]

FIT_TOLERANCE = 1e-9  # a demand fits when demand <= free + FIT_TOLERANCE


@dataclass(frozen=True)
class Schedule:
    """One iteration's schedule, in days since the scenario start.

    Attributes:
        start, finish: per task.
        ready: when each task became ready (released, predecessors done, lags elapsed);
            ``start - ready`` is the time it waited for resources.
    """

    start: NDArray[np.float64]
    finish: NDArray[np.float64]
    ready: NDArray[np.float64]


class _Run:
    def __init__(self, net: Network, duration: NDArray[np.float64]) -> None:
        self.net = net
        self.duration = duration
        self.env = simpy.Environment()
        n = net.n_tasks
        self.pending = np.diff(net.pred_ptr).astype(np.int64) + 1  # +1: the release edge
        self.start = np.full(n, np.nan)
        self.finish = np.full(n, np.nan)
        self.ready = np.full(n, np.nan)
        self.capacity = net.capacity.astype(float).copy()
        self.used = np.zeros_like(self.capacity)
        self.waiting: list[tuple[int, int]] = []  # (rank, task), kept sorted
        self.dispatch_requested = False
        self.pools = [np.flatnonzero(row) for row in net.demand]

    def at(self, delay: float, callback: object) -> None:
        ev = self.env.timeout(delay)
        ev.callbacks.append(callback)  # type: ignore[arg-type]

    def request_dispatch(self) -> None:
        if not self.dispatch_requested:
            self.dispatch_requested = True
            self.at(0, lambda _ev: self.dispatch())

    def edge_fired(self, i: int) -> None:
        self.pending[i] -= 1
        if self.pending[i] == 0:
            self.ready[i] = self.env.now
            bisect.insort(self.waiting, (int(self.net.rank[i]), i))
            self.request_dispatch()

    def set_capacity(self, pool: int, value: float) -> None:
        self.capacity[pool] = value
        self.request_dispatch()

    def complete(self, i: int) -> None:
        self.finish[i] = self.env.now
        self.used -= self.net.demand[i]
        self.request_dispatch()

    def begin(self, i: int) -> None:
        """Task ``i`` starts now: schedule its completion, then the links its start
        resolves, in successor order."""
        net, now = self.net, self.env.now
        self.used += net.demand[i]
        self.start[i] = now
        cal, d = int(net.calendar[i]), float(self.duration[i])
        self.at(py_delay(*net.clock, cal, now, d), lambda _ev, t=i: self.complete(t))
        for k in range(net.succ_ptr[i], net.succ_ptr[i + 1]):
            succ = int(net.succ_idx[k])
            wait = py_link_wait(
                int(net.succ_kind[k]),
                float(net.succ_lag[k]),
                int(net.succ_cal[k]),
                int(net.calendar[succ]),
                float(self.duration[succ]),
                now,
                cal,
                d,
                *net.clock,
            )
            self.at(wait, lambda _ev, s=succ: self.edge_fired(s))

    def fits(self, i: int) -> bool:
        free = self.capacity - self.used
        return all(self.net.demand[i, p] <= free[p] + FIT_TOLERANCE for p in self.pools[i])

    def dispatch(self) -> None:
        self.dispatch_requested = False
        still: list[tuple[int, int]] = []
        for entry in self.waiting:
            i = entry[1]
            if self.fits(i):
                self.begin(i)
            else:
                still.append(entry)
        self.waiting = still


def simulate(
    net: Network,
    duration: NDArray[np.float64],
    capacity_events: Sequence[tuple[float, int, float]] = (),
    *,
    names: Names | None = None,
) -> Schedule:
    """Schedule one iteration.

    Args:
        net: the portfolio's static network.
        duration: each task's duration in working days of its calendar (after risk
            delays).
        capacity_events: ``(time, pool, capacity)`` sorted by time; capacity before the
            first event of a pool is ``net.capacity``.
        names: task names and pool names, for error messages.

    Raises:
        SimulationError: tasks that can never start (capacity removed for good).
    """
    run = _Run(net, np.asarray(duration, dtype=float))
    for t, pool, value in capacity_events:
        run.at(float(t), lambda _ev, p=int(pool), v=float(value): run.set_capacity(p, v))
    for i in range(net.n_tasks):
        release = float(net.release[i])
        if release > 0:
            run.at(release, lambda _ev, t=i: run.edge_fired(t))
        else:
            run.edge_fired(i)
    run.env.run()
    if np.isnan(run.finish).any():
        stuck = int(np.flatnonzero(np.isnan(run.finish))[0])
        raise SimulationError(stuck_message(net, stuck, run.ready, run.capacity, names))
    return Schedule(run.start, run.finish, run.ready)
