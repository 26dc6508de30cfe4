"""The validated portfolio: what the sampler and the engines work from.

Built by :func:`simulator.scenario.load_scenario`. Times are days since the scenario start
(see :mod:`simulator.model.calendar`); tasks are numbered globally in file order (project by
project).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .calendar import WorkCalendar
from .entities import CorrelationGroup, Pool, Project, Risk, Task
from .network import Network, build_network, first_targets
from .variants import Variant

__all__ = ["Portfolio"]


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

    def base_capacity_events(self) -> list[tuple[float, int, float]]:
        """Capacity changes of the base schedule as ``(time, pool, capacity)``, by time."""
        events = [(t, p, c) for p, pool in enumerate(self.pools) for t, c in pool.changes]
        return sorted(events, key=lambda e: (e[0], e[1]))
