"""The scenario's ``search:`` section (the levers, objective and constraints of ``pmosim
search``), every reference resolved against the built portfolio, each error at its place."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import ScenarioError
from ..model import Portfolio
from ..model.levers import Constraints, Hire, SearchSpace, Selection
from . import schema as S
from .context import Context

__all__ = ["with_search"]

Loc = tuple[Any, ...]
_AT = ("search",)


def with_search(ctx: Context, pf: Portfolio) -> Portfolio:
    """``pf`` with its resolved search space (unchanged without a ``search:`` section).

    Raises:
        ScenarioError: every problem of the section, located.
    """
    spec = ctx.spec.search
    if spec is None:
        return pf
    projects = {p.id: k for k, p in enumerate(pf.projects)}
    space = SearchSpace(
        postpone=_postpone(ctx, spec, projects),
        cancel=_ids(ctx, spec.cancel, projects, (*_AT, "cancel"), "project"),
        priority=tuple(
            (pk, tuple(sorted(set(values))))
            for pid, values in spec.priority.items()
            if (pk := ctx.lookup(projects, pid, (*_AT, "priority", pid), "project")) is not None
        ),
        hire=_hires(ctx, pf, spec),
        include=_ids(
            ctx,
            spec.include,
            {v.name: k for k, v in enumerate(pf.variants)},
            (*_AT, "include"),
            "variant",
        ),
        objective=spec.objective,
        on_time_set=_on_time_set(ctx, pf, spec, projects),
        constraints=_constraints(ctx, pf, spec.constraints, projects),
        selection=Selection(**spec.selection.model_dump()),
    )
    _check_objective(ctx, pf, space)
    if ctx.problems:
        raise ScenarioError(ctx.problems)
    return dataclasses.replace(pf, search=space)


def _ids(
    ctx: Context, ids: list[str], index: dict[str, int], loc: Loc, what: str
) -> tuple[int, ...]:
    found = [ctx.lookup(index, ident, (*loc, m), what, key=False) for m, ident in enumerate(ids)]
    return tuple(dict.fromkeys(k for k in found if k is not None))


def _postpone(
    ctx: Context, spec: S.SearchSpec, projects: dict[str, int]
) -> tuple[tuple[int, tuple[float, ...]], ...]:
    out = []
    for pid, r in spec.postpone.items():
        where = (*_AT, "postpone", pid)
        pk = ctx.lookup(projects, pid, where, "project")
        if pk is None:
            continue
        if r.step > r.max:
            ctx.error((*where, "step"), f"step={r.step:g} is more than max={r.max:g}")
            continue
        steps = int(r.max // r.step + 1e-9)
        if steps > 1000:
            ctx.error((*where, "step"), f"{steps} steps: at most 1000 choices a project")
            continue
        out.append((pk, tuple(k * r.step for k in range(steps + 1))))
    return tuple(out)


def _hires(ctx: Context, pf: Portfolio, spec: S.SearchSpec) -> tuple[Hire, ...]:
    pools = {p.id: k for k, p in enumerate(pf.pools)}
    out = []
    for pool_id, r in spec.capacity.items():
        where = (*_AT, "capacity", pool_id)
        pk = ctx.lookup(pools, pool_id, where, "pool")
        if pk is None:
            continue
        start = 0.0 if r.from_ is None else ctx.offset(r.from_, (*where, "from"))
        cost = pf.pools[pk].cost_per_day if r.cost_per_day is None else r.cost_per_day
        out.append(Hire(pk, r.max, start, cost))
    return tuple(out)


def _on_time_set(
    ctx: Context, pf: Portfolio, spec: S.SearchSpec, projects: dict[str, int]
) -> tuple[int, ...]:
    if spec.on_time is None:
        return tuple(k for k, p in enumerate(pf.projects) if p.deadline is not None)
    chosen = _ids(ctx, spec.on_time, projects, (*_AT, "on_time"), "project")
    for m, pk in enumerate(chosen):
        if pf.projects[pk].deadline is None:
            ctx.error((*_AT, "on_time", m), f"project '{pf.projects[pk].id}' has no deadline")
    return chosen


def _constraints(
    ctx: Context, pf: Portfolio, c: S.SearchConstraints, projects: dict[str, int]
) -> Constraints:
    keys = {pf.tasks[k.task].key: m for m, k in enumerate(pf.key_dates) if k.due is not None}
    on_time = []
    for ident, level in c.p_on_time.items():
        where = (*_AT, "constraints", "p_on_time", ident)
        if ident in projects:
            if pf.projects[projects[ident]].deadline is None:
                ctx.error(where, f"project '{ident}' has no deadline", key=True)
            on_time.append(("project", projects[ident], level))
        elif ident in keys:
            on_time.append(("key", keys[ident], level))
        else:
            ctx.error(
                where,
                f"'{ident}' is neither a project nor a task with a due date "
                f"(finish_no_later_than or must_start_on); projects: {', '.join(projects)}",
                key=True,
            )
    return Constraints(tuple(on_time), c.budget, c.cost_p80, c.max_cancel)


def _check_objective(ctx: Context, pf: Portfolio, space: SearchSpace) -> None:
    if space.objective == "net_value" and pf.value_horizon is None:
        ctx.error(
            (*_AT, "objective"),
            "net_value needs projects with value_per_month and a value_horizon",
        )
    if space.objective == "on_time" and not space.on_time_set:
        ctx.error((*_AT, "objective"), "on_time needs projects with a deadline")
    if space.size == 1:
        ctx.error(_AT, "no levers: give postpone, cancel, priority, capacity or include")
