"""The validated portfolio: what the sampler and the engines work from.

Built by :func:`simulator.scenario.load_scenario`. Times are days since the scenario start
(see :mod:`simulator.model.calendar`); tasks are numbered globally in file order (project by
project).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from .calendar import WorkCalendar
from .entities import CorrelationGroup, Pool, Project, Risk, Task
from .levers import SearchSpace
from .network import Network, build_network, first_targets
from .variants import Variant

__all__ = ["Alerts", "KeyDate", "Portfolio"]


class KeyDate(NamedTuple):
    """A date a task is measured against: its finish by ``due`` (a ``finish_no_later_than``
    date, or none for a milestone without one), or its start (``must_start_on``).

    Attributes:
        task: the task's index.
        event: ``finish`` or ``start``.
        due: the end of the due date as a time, or None.
        given: the due date as the file gives it, or None.
    """

    task: int
    event: str
    due: float | None
    given: str | None


@dataclass(frozen=True)
class Alerts:
    """Early-warning thresholds: a project or key date is flagged when its P(on time) is
    below ``p_on_time_below``, or when its P80 date is more than ``p80_slip_days`` working
    days (of the default calendar) later than in the previous forecast. None: not watched."""

    p_on_time_below: float | None = None
    p80_slip_days: float | None = None


@dataclass(frozen=True)
class Portfolio:
    """A validated scenario, ready to sample and simulate."""

    name: str
    calendar: WorkCalendar
    pools: tuple[Pool, ...]
    projects: tuple[Project, ...]
    tasks: tuple[Task, ...]
    risks: tuple[Risk, ...] = ()
    groups: tuple[CorrelationGroup, ...] = ()
    priority_rule: str = "lft"
    iterations: int = 1000
    seed: int | None = None
    currency: str = ""
    source_hash: str = ""
    variants: tuple[Variant, ...] = ()
    value_horizon: float | None = None
    warnings: tuple[str, ...] = ()
    alerts: Alerts = Alerts()
    search: SearchSpace | None = None

    @cached_property
    def network(self) -> Network:
        return build_network(
            self.pools, self.projects, self.tasks, self.priority_rule, self.calendar
        )

    @cached_property
    def delay_targets(self) -> tuple[tuple[int, ...], ...]:
        """Per risk, the tasks its delay is added to (see :class:`Risk`)."""
        return tuple(
            first_targets(self.tasks, r.targets) if r.once else r.targets for r in self.risks
        )

    @cached_property
    def task_rates(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per task: what its pools cost per working day of it, and its fixed cost."""
        per_day = [p.cost_per_day for p in self.pools]
        rate = np.array([sum(u * per_day[p] for p, u in t.demand) for t in self.tasks])
        return rate, np.array([t.cost for t in self.tasks], dtype=float)

    @cached_property
    def project_rates(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per project: its own fixed cost, and its overhead per working day."""
        return (
            np.array([p.cost for p in self.projects], dtype=float),
            np.array([p.overhead_per_day for p in self.projects], dtype=float),
        )

    @cached_property
    def members(self) -> tuple[list[int], ...]:
        """Per project, its tasks' indices."""
        return tuple(list(p.tasks) for p in self.projects)

    @cached_property
    def task_project(self) -> NDArray[np.int64]:
        """Per task, the index of its project."""
        return np.array([t.project for t in self.tasks], dtype=np.int64)

    @cached_property
    def names(self) -> tuple[list[str], list[str]]:
        """The tasks' keys and the pools' ids, in index order (for the engines' messages)."""
        return [t.key for t in self.tasks], [p.id for p in self.pools]

    @cached_property
    def member_rows(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Per project, its tasks' indices as compressed rows ``(ptr, idx)``: project ``k``
        owns ``idx[ptr[k]:ptr[k + 1]]``."""
        ptr = np.zeros(len(self.members) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(m) for m in self.members])
        return ptr, np.array([i for m in self.members for i in m], dtype=np.int64)

    @cached_property
    def member_runs(self) -> tuple[NDArray[np.int64] | None, NDArray[np.int64]] | None:
        """The tasks grouped by project, for per-project reductions in one call
        (``np.maximum.reduceat(x[:, order], starts, axis=1)``): ``order`` (None when the
        tasks already are) and where each project's run begins; None when a project has no
        task."""
        ptr, idx = self.member_rows
        if len(ptr) < 2 or np.any(np.diff(ptr) == 0):
            return None
        ordered = len(idx) == len(self.tasks) and np.array_equal(idx, np.arange(len(idx)))
        return (None if ordered else idx), ptr[:-1]

    @cached_property
    def in_progress(self) -> tuple[tuple[int, float, bool, float], ...]:
        """Every task with progress: ``(index, elapsed working days, running, actual
        start)``."""
        return tuple(
            (i, t.progress.elapsed, t.running, t.progress.start)
            for i, t in enumerate(self.tasks)
            if t.progress is not None
        )

    @cached_property
    def key_dates(self) -> tuple[KeyDate, ...]:
        """Every milestone's finish and every task's ``finish_no_later_than`` and
        ``must_start_on`` date, in task order."""
        out = []
        for i, t in enumerate(self.tasks):
            if t.deadline is not None or t.milestone:
                out.append(KeyDate(i, "finish", t.deadline, t.key_dates[0]))
            if t.start_by is not None:
                out.append(KeyDate(i, "start", t.start_by, t.key_dates[1]))
        return tuple(out)

    def base_capacity_events(self) -> list[tuple[float, int, float]]:
        """Capacity changes of the base schedule as ``(time, pool, capacity)``, by time."""
        events = [(t, p, c) for p, pool in enumerate(self.pools) for t, c in pool.changes]
        return sorted(events, key=lambda e: (e[0], e[1]))
