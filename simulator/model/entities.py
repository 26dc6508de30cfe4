"""The parts of a portfolio: pools, tasks, projects, risks and correlation groups.

Times are absolute days since the scenario start (see :mod:`simulator.model.calendar`);
durations and lags are working days of a calendar. Tasks are numbered globally in file order
(project by project), and every reference between parts is such an index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .distributions import Distribution

__all__ = [
    "LINK_KINDS",
    "TAIL",
    "CorrelationGroup",
    "Link",
    "Pool",
    "Progress",
    "Project",
    "Risk",
    "Task",
]

LINK_KINDS = ("FS", "SS", "FF", "SF")  # a link's kind is its index here
TAIL = 1e-9  # a task in progress less likely than this to last as long as it has is warned about


class Link(NamedTuple):
    """A predecessor link: ``pred`` must finish (FS), start (SS) before this task may start,
    or finish (FF) or start (SF) before it may finish, ``lag`` working days earlier.

    Attributes:
        pred: the predecessor's index.
        lag: working days (negative: a lead), in calendar ``calendar`` (-1: the successor's).
        kind: index in :data:`LINK_KINDS`.
    """

    pred: int
    lag: float = 0.0
    kind: int = 0
    calendar: int = -1


@dataclass(frozen=True)
class Progress:
    """What a task had done by the status date.

    Attributes:
        start: its actual start (a time before the status date).
        finish: its actual finish, or None while in progress.
        elapsed: working days of its calendar from its start to its finish, or to the status
            date while in progress.
        remaining: the remaining duration when the file gives it.
        done: the share complete when the file gives ``percent_complete`` (the remaining
            duration is then ``(1 - done)`` times a fresh draw of the duration).
    """

    start: float
    finish: float | None = None
    elapsed: float = 0.0
    remaining: Distribution | None = None
    done: float | None = None


@dataclass(frozen=True)
class Pool:
    """A resource pool.

    Attributes:
        id: the key under ``resources``.
        capacity: units available from time 0.
        cost_per_day: cost of one unit for one working day.
        changes: ``(time, capacity)`` from that time on, sorted by time.
        calendar: the calendar of the tasks that use it (unless a task names its own) and
            of its capacity losses' durations.
    """

    id: str
    capacity: float
    cost_per_day: float = 0.0
    changes: tuple[tuple[float, float], ...] = ()
    calendar: int = 0

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
        preds: its predecessor links.
        cost: fixed cost.
        calendar: index of the calendar its duration is measured in.
        earliest: no start before this time (a start-no-earlier-than or must-start-on date).
        deadline: finish by this time (end of the ``finish_no_later_than`` date), or None.
        start_by: start by this time (end of the ``must_start_on`` date), or None.
        key_dates: the dates as the file gives them, ``(deadline, start_by)``.
        progress: what it had done by the status date, or None.
    """

    key: str
    project: int
    id: str
    name: str
    size: Distribution
    per_unit: bool = False
    demand: tuple[tuple[int, float], ...] = ()
    preds: tuple[Link, ...] = ()
    cost: float = 0.0
    calendar: int = 0
    earliest: float = 0.0
    deadline: float | None = None
    start_by: float | None = None
    key_dates: tuple[str | None, str | None] = (None, None)
    progress: Progress | None = None

    def __post_init__(self) -> None:
        """``preds`` may be given as ``(pred, lag)`` pairs: finish-to-start links."""
        if not all(isinstance(x, Link) for x in self.preds):
            object.__setattr__(self, "preds", tuple(Link(*x) for x in self.preds))

    @property
    def units(self) -> float:
        return sum(u for _, u in self.demand)

    @property
    def mean_duration(self) -> float:
        return self.size.mean / self.units if self.per_unit else self.size.mean

    @property
    def milestone(self) -> bool:
        """Zero duration and no resources."""
        return self.size.is_constant and self.size.mean == 0 and not self.demand

    @property
    def complete(self) -> bool:
        return self.progress is not None and self.progress.finish is not None

    @property
    def running(self) -> bool:
        """In progress at the status date."""
        return self.progress is not None and self.progress.finish is None


@dataclass(frozen=True)
class Project:
    """A project.

    Attributes:
        release: earliest start (a time).
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
