"""Variants: named changes to a portfolio, as resolved values (every reference an index into
the base portfolio). :mod:`simulator.model.edits` applies them; its docstring gives the
semantics."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CapacityEdit", "Mitigate", "Variant"]


@dataclass(frozen=True)
class CapacityEdit:
    """``delta`` units added, or capacity ``set``, from working day ``start`` on."""

    delta: float | None
    set: float | None
    start: float


@dataclass(frozen=True)
class Mitigate:
    """New ``probability`` (None: unchanged), impact ``factor``, and ``cost`` charged to the
    projects ``charge`` (split equally)."""

    probability: float | None
    factor: float | None
    cost: float
    charge: tuple[int, ...]


@dataclass(frozen=True)
class Variant:
    """A resolved variant: every reference is an index into the base portfolio."""

    name: str
    description: str = ""
    release: dict[int, float] = field(default_factory=dict)
    priority: dict[int, int] = field(default_factory=dict)
    deadline: dict[int, float] = field(default_factory=dict)
    budget: dict[int, float] = field(default_factory=dict)
    capacity: dict[int, CapacityEdit] = field(default_factory=dict)
    mitigate: dict[int, Mitigate] = field(default_factory=dict)
    cancel: frozenset[int] = frozenset()
    remove: frozenset[int] = frozenset()

    def merged_over(self, earlier: Variant) -> Variant:
        """This variant's changes on top of ``earlier``'s."""
        return Variant(
            self.name,
            self.description,
            {**earlier.release, **self.release},
            {**earlier.priority, **self.priority},
            {**earlier.deadline, **self.deadline},
            {**earlier.budget, **self.budget},
            {**earlier.capacity, **self.capacity},
            {**earlier.mitigate, **self.mitigate},
            earlier.cancel | self.cancel,
            earlier.remove | self.remove,
        )
