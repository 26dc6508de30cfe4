"""A plan of a decision search as a :class:`Variant` (see :mod:`simulator.model.levers`)."""

from __future__ import annotations

from .levers import Plan, SearchSpace
from .portfolio import Portfolio
from .variants import CapacityEdit, Variant

__all__ = ["plan_variant"]


def plan_variant(pf: Portfolio, space: SearchSpace, plan: Plan) -> Variant:
    """The variant ``plan`` describes, over the included variant's changes."""
    cal = pf.calendar
    release = {
        pk: cal.advance(cal.default, pf.projects[pk].release, days)
        for (pk, _), days in zip(space.postpone, plan.postpone, strict=True)
        if days > 0
    }
    priority = {
        pk: value
        for (pk, _), value in zip(space.priority, plan.priority, strict=True)
        if value != pf.projects[pk].priority
    }
    capacity = {
        h.pool: CapacityEdit(float(units), None, h.start)
        for h, units in zip(space.hire, plan.hire, strict=True)
        if units > 0
    }
    cancel = frozenset(pk for pk, c in zip(space.cancel, plan.cancel, strict=True) if c)
    own = Variant(plan.name, release=release, priority=priority, capacity=capacity, cancel=cancel)
    if plan.include < 0:
        return own
    return own.merged_over(pf.variants[space.include[plan.include]])
