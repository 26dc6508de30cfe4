"""The parts of a portfolio: pools, tasks, projects, risks and correlation groups.

Times are working days since the scenario start; tasks are numbered globally in file order
(project by project), and every reference between parts is such an index.
"""

from __future__ import annotations

from dataclasses import dataclass

from .distributions import Distribution

__all__ = ["CorrelationGroup", "Pool", "Project", "Risk", "Task"]


@dataclass(frozen=True)
class Pool:
    """A resource pool.

    Attributes:
        id: the key under ``resources``.
        capacity: units available from time 0.
        cost_per_day: cost of one unit for one working day.
        changes: ``(time, capacity)`` from that time on, sorted by time.
    """

    id: str
    capacity: float
    cost_per_day: float = 0.0
    changes: tuple[tuple[float, float], ...] = ()

    @property
    def max_capacity(self) -> float:
        return max([self.capacity, *(c for _, c in self.changes)])

    def capacity_at(self, t: float) -> float:
        """Units available at time ``t`` (a change at ``t`` applies from ``t`` on)."""
        value = self.capacity
        for when, cap in self.changes:
            if when <= t:
                value = cap
        return value


@dataclass(frozen=True)
class Task:
    """One task.

    Attributes:
        key: ``project.task``, unique in the portfolio and the seed of its random stream.
        project: index of its project.
        size: the duration (working days) or, when ``per_unit`` is true, the effort
            (person-days) distribution.
        per_unit: effort given: duration = effort / sum of units.
        demand: ``(pool index, units)`` held from start to finish.
        preds: ``(task index, lag)`` that must finish (plus lag) before it can start.
        cost: fixed cost.
    """

    key: str
    project: int
    id: str
    name: str
    size: Distribution
    per_unit: bool = False
    demand: tuple[tuple[int, float], ...] = ()
    preds: tuple[tuple[int, float], ...] = ()
    cost: float = 0.0

    @property
    def units(self) -> float:
        return sum(u for _, u in self.demand)

    @property
    def mean_duration(self) -> float:
        return self.size.mean / self.units if self.per_unit else self.size.mean


@dataclass(frozen=True)
class Project:
    """A project.

    Attributes:
        release: earliest start (working days).
        deadline: end of the deadline day as an offset, or None.
        deadline_date: the deadline as the file gives it, when it gives a date (on a
            non-working day it means the end of the last working day before it).
        budget: None when not given.
        cost: fixed cost; ``overhead_per_day`` accrues from its first task start to its finish.
        tasks: indices of its tasks.
        value_per_day: value delivered per working day once finished (``value_per_month``
            x 12 / working days a year).
    """

    id: str
    name: str
    priority: int = 1
    release: float = 0.0
    deadline: float | None = None
    budget: float | None = None
    cost: float = 0.0
    overhead_per_day: float = 0.0
    tasks: tuple[int, ...] = ()
    value_per_day: float = 0.0
    deadline_date: str | None = None


@dataclass(frozen=True)
class Risk:
    """A risk event, drawn once per iteration.

    Attributes:
        targets: tasks it affects. When it occurs each is delayed by the same sampled
            ``delay`` in working days (or by ``delay`` percent of its own sampled duration
            when ``percent``); with ``once``, only the targets that no other target
            precedes, directly or not, so that a chain of targets is delayed once.
        cost: extra cost when it occurs, one draw, charged in full to each project in
            ``cost_projects``, or split equally among them with ``cost_share``.
        loss: ``(pool, units, at, days)``: units unavailable from ``at`` for ``days``.
    """

    id: str
    probability: float
    targets: tuple[int, ...] = ()
    delay: Distribution | None = None
    percent: bool = False
    cost: Distribution | None = None
    cost_projects: tuple[int, ...] = ()
    loss: tuple[int, float, float, Distribution] | None = None
    once: bool = False
    cost_share: bool = False


@dataclass(frozen=True)
class CorrelationGroup:
    """Tasks whose size draws share a Gaussian-copula factor with correlation ``rho``."""

    id: str
    rho: float
    tasks: tuple[int, ...]
