"""A decision search's space: the levers a plan may pull, what it aims for and what it must
meet, as resolved values (every reference an index into the base portfolio), and the plans
(one choice per lever) it holds; :func:`simulator.model.plan_variant` turns a plan into a
:class:`Variant`.

A lever left at its base value (no postponement, the base priority, no hire, not cancelled)
changes nothing, so an included variant's own setting for that project or pool stands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["OBJECTIVES", "Constraints", "Hire", "Plan", "SearchSpace", "Selection"]

OBJECTIVES = ("net_value", "on_time", "cost_p80")


@dataclass(frozen=True)
class Hire:
    """Up to ``most`` units added to pool ``pool`` from working day ``start`` on, each paid
    ``cost_per_day`` per working day from then until the portfolio's last finish."""

    pool: int
    most: int
    start: float
    cost_per_day: float


@dataclass(frozen=True)
class Constraints:
    """What a plan must meet.

    Attributes:
        on_time: ``(kind, index, level)``: P(on time) of a project (``project``) or key date
            (``key``, an index into :attr:`Portfolio.key_dates`) at least ``level``.
        budget: mean total cost (hires included) at most this, or None.
        cost_p80: the P80 of the total cost at most this, or None.
        max_cancel: at most this many cancelled projects, or None.
    """

    on_time: tuple[tuple[str, int, float], ...] = ()
    budget: float | None = None
    cost_p80: float | None = None
    max_cancel: int | None = None


@dataclass(frozen=True)
class Selection:
    """The ranking-and-selection step: the best ``finalists`` of the search re-run on
    fresh random numbers until one is best within ``delta`` with probability
    ``confidence`` (or ``max_iterations`` each)."""

    finalists: int = 5
    delta: float | None = None
    confidence: float = 0.95
    max_iterations: int = 20_000


@dataclass(frozen=True)
class SearchSpace:
    """The levers, the objective and the constraints of a decision search.

    Attributes:
        postpone: ``(project, choices)``: working days its start may move later.
        cancel: projects that may be cancelled.
        priority: ``(project, choices)``: the priorities it may take.
        hire: capacity that may be added (see :class:`Hire`).
        include: variants (indices into :attr:`Portfolio.variants`) a plan may start from.
        objective: ``net_value`` (mean value less cost and hires), ``on_time`` (P(every
            project of ``on_time_set`` on time)) or ``cost_p80`` (minimised).
        on_time_set: the projects of the ``on_time`` objective and of P(all on time).
    """

    postpone: tuple[tuple[int, tuple[float, ...]], ...] = ()
    cancel: tuple[int, ...] = ()
    priority: tuple[tuple[int, tuple[int, ...]], ...] = ()
    hire: tuple[Hire, ...] = ()
    include: tuple[int, ...] = ()
    objective: str = "net_value"
    on_time_set: tuple[int, ...] = ()
    constraints: Constraints = Constraints()
    selection: Selection = Selection()

    @property
    def dimensions(self) -> tuple[int, ...]:
        """The number of choices of each lever, in :class:`Plan` order."""
        return (
            *(len(c) for _, c in self.postpone),
            *(2 for _ in self.cancel),
            *(len(c) for _, c in self.priority),
            *(h.most + 1 for h in self.hire),
            *((len(self.include) + 1,) if self.include else ()),
        )

    @property
    def size(self) -> int:
        return math.prod(self.dimensions)

    def plan(self, choice: tuple[int, ...]) -> Plan:
        """The plan at ``choice`` (one index per lever, in :attr:`dimensions` order)."""
        k = 0

        def take(n: int) -> tuple[int, ...]:
            nonlocal k
            k += n
            return choice[k - n : k]

        postpone = tuple(
            c[j] for (_, c), j in zip(self.postpone, take(len(self.postpone)), strict=True)
        )
        cancel = tuple(bool(j) for j in take(len(self.cancel)))
        priority = tuple(
            c[j] for (_, c), j in zip(self.priority, take(len(self.priority)), strict=True)
        )
        hire = take(len(self.hire))
        include = take(1)[0] - 1 if self.include else -1
        return Plan(postpone, cancel, priority, hire, include)


@dataclass(frozen=True)
class Plan:
    """One choice per lever of a :class:`SearchSpace` (``include``: -1 for none, else an
    index into its ``include``)."""

    postpone: tuple[float, ...] = ()
    cancel: tuple[bool, ...] = ()
    priority: tuple[int, ...] = ()
    hire: tuple[int, ...] = ()
    include: int = -1
    name: str = field(default="plan", compare=False)
