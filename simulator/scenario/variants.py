"""The scenario's variants, every reference resolved to an index, each error at its place.

A variant's ``include`` list is resolved depth first, in file order, with an explicit stack
(a chain of thousands of includes needs no recursion); a variant that includes itself,
directly or through others, is reported at the include that closes the loop.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..model import CapacityEdit, Mitigate, Risk, Variant, edited_pool
from . import schema as S
from .context import Context
from .parts import Parts

__all__ = ["build_variants"]

Loc = tuple[Any, ...]


class _Refs:
    """The base portfolio's parts, and their indices by id."""

    def __init__(self, parts: Parts, risks: tuple[Risk, ...]) -> None:
        self.parts, self.risks = parts, risks
        self.projects = {p.id: k for k, p in enumerate(parts.projects)}
        self.pools = parts.pool_index
        self.risk_ids = {r.id: k for k, r in enumerate(risks)}
        self.task_keys = {t.key: i for i, t in enumerate(parts.tasks)}


def build_variants(ctx: Context, parts: Parts, risks: tuple[Risk, ...]) -> tuple[Variant, ...]:
    specs = ctx.spec.variants
    names = [v.name for v in specs]
    ctx.check_alike([(name, ("variants", k, "name")) for k, name in enumerate(names)], "variant")
    for k, name in enumerate(names):
        if names.index(name) != k:
            ctx.error(
                ("variants", k, "name"),
                f"duplicate variant name '{name}' (also variant #{names.index(name) + 1})",
            )
    refs = _Refs(parts, risks)
    done: dict[int, Variant] = {}
    for k in range(len(specs)):
        if k not in done:
            _resolve_from(ctx, refs, k, names, done)
    return tuple(done[k] for k in range(len(specs)))


def _resolve_from(
    ctx: Context, refs: _Refs, root: int, names: list[str], done: dict[int, Variant]
) -> None:
    """Resolve variant ``root`` and every variant it includes, depth first."""
    specs = ctx.spec.variants
    frames: list[list[Any]] = [[root, 0, Variant(specs[root].name)]]  # variant, include, base
    while frames:
        frame = frames[-1]
        k, m, base = frame
        v = specs[k]
        if m < len(v.include):
            frame[1] += 1
            other = v.include[m]
            loc = ("variants", k, "include", m)
            if other == v.name or other in {specs[f[0]].name for f in frames[:-1]}:
                ctx.error(loc, f"'{other}': variants may not include themselves, directly or not")
            elif other not in names:
                ctx.error(loc, f"unknown variant '{other}'; variants: {', '.join(names)}")
            elif (j := names.index(other)) in done:
                frame[2] = done[j].merged_over(base)
            else:
                frames.append([j, 0, Variant(other)])
            continue
        frames.pop()
        merged = _own_changes(ctx, refs, k, v).merged_over(base)
        _check_left(ctx, refs, k, merged)
        _say_sunk(ctx, refs, k, merged)
        done[k] = merged
        if frames:
            frames[-1][2] = merged.merged_over(frames[-1][2])


def _own_changes(ctx: Context, refs: _Refs, k: int, v: S.VariantSpec) -> Variant:
    loc = ("variants", k)
    release = _postpone(ctx, refs, v, loc)
    edits = _project_edits(ctx, refs, v, loc, release)
    cancel = {
        pk
        for m, pid in enumerate(v.cancel)
        if (pk := ctx.lookup(refs.projects, pid, (*loc, "cancel", m), "project", key=False))
        is not None
    }
    remove = {
        i
        for m, key in enumerate(v.remove_tasks)
        if (i := ctx.lookup(refs.task_keys, key, (*loc, "remove_tasks", m), "task", key=False))
        is not None
    }
    return Variant(
        v.name,
        v.description or "",
        release,
        edits["priority"],
        edits["deadline"],
        edits["budget"],
        _capacity(ctx, refs, v, loc),
        _mitigate(ctx, refs, v, loc),
        frozenset(cancel),
        frozenset(remove),
    )


def _postpone(ctx: Context, refs: _Refs, v: S.VariantSpec, loc: Loc) -> dict[int, float]:
    release: dict[int, float] = {}
    for pid, when in v.postpone.items():
        where = (*loc, "postpone", pid)
        pk = ctx.lookup(refs.projects, pid, where, "project")
        if pk is None:
            continue
        old = refs.parts.projects[pk].release
        new = (
            ctx.working_day(
                ctx.calendar.default, old, when, where, what="{days:g} working days later"
            )
            if not isinstance(when, dt.date)
            else ctx.offset(when, where)
        )
        if new < old:
            ctx.error(
                where,
                f"{when} is before the project's current start; postpone moves a project later",
                key=True,
            )
        release[pk] = new
    return release


def _project_edits(
    ctx: Context, refs: _Refs, v: S.VariantSpec, loc: Loc, release: dict[int, float]
) -> dict[str, dict[int, Any]]:
    """New priorities, deadlines (after the project's start) and budgets."""
    out: dict[str, dict[int, Any]] = {"priority": {}, "deadline": {}, "budget": {}}
    edits: tuple[tuple[str, dict[str, Any]], ...] = (
        ("priority", v.priority),
        ("deadline", v.deadline),
        ("budget", v.budget),
    )
    for name, values in edits:
        for pid, value in values.items():
            where = (*loc, name, pid)
            pk = ctx.lookup(refs.projects, pid, where, "project")
            if pk is None:
                continue
            if name == "deadline":
                value = ctx.offset(value, where, end=True)
                if value <= release.get(pk, refs.parts.projects[pk].release):
                    ctx.error(where, "the deadline is not after the project start", key=True)
            out[name][pk] = float(value) if name != "priority" else int(value)
    return out


def _capacity(ctx: Context, refs: _Refs, v: S.VariantSpec, loc: Loc) -> dict[int, CapacityEdit]:
    """Capacity edits; one that leaves a pool too small for a task is a problem."""
    out: dict[int, CapacityEdit] = {}
    parts = refs.parts
    for pool_id, change in v.capacity.items():
        where = (*loc, "capacity", pool_id)
        pk = ctx.lookup(refs.pools, pool_id, where, "pool")
        if pk is None:
            continue
        start = 0.0 if change.from_ is None else ctx.offset(change.from_, where)
        out[pk] = CapacityEdit(change.delta, change.set_, start)
        need = max((u for t in parts.tasks for q, u in t.demand if q == pk), default=0.0)
        most = edited_pool(parts.pools[pk], out[pk]).max_capacity
        if need > most:
            ctx.error(
                where,
                f"leaves pool '{pool_id}' at most {most:g} units, but a task needs {need:g}",
                key=True,
            )
    return out


def _mitigate(ctx: Context, refs: _Refs, v: S.VariantSpec, loc: Loc) -> dict[int, Mitigate]:
    """Mitigations, their cost charged to ``charge_to`` or split among the projects the risk
    affects."""
    out: dict[int, Mitigate] = {}
    for rid, mit in v.mitigate.items():
        where = (*loc, "mitigate", rid)
        rk = ctx.lookup(refs.risk_ids, rid, where, "risk")
        if rk is None:
            continue
        if mit.charge_to is not None:
            ck = ctx.lookup(
                refs.projects, mit.charge_to, (*where, "charge_to"), "project", key=False
            )
            charge: tuple[int, ...] = () if ck is None else (ck,)
        else:
            r = refs.risks[rk]
            charge = tuple(
                sorted({refs.parts.tasks[i].project for i in r.targets} | set(r.cost_projects))
            )
            if mit.cost and not charge:
                ctx.error(
                    where,
                    "the risk affects no project's tasks or costs: say which "
                    "project pays with charge_to",
                    key=True,
                )
        out[rk] = Mitigate(mit.probability, mit.impact, mit.cost, charge)
    return out


def _say_sunk(ctx: Context, refs: _Refs, k: int, merged: Variant) -> None:
    """A cancelled project or removed task that had started by the status date leaves the
    variant with its cost: say that its work to date is no longer counted."""
    tasks, projects = refs.parts.tasks, refs.parts.projects
    for pk in sorted(merged.cancel):
        started = [tasks[i].key for i in projects[pk].tasks if tasks[i].progress is not None]
        if started:
            ctx.warn(
                ("variants", k, "cancel"),
                f"cancelling '{projects[pk].id}' drops its cost to date too ({len(started)} "
                f"task(s) started by the status date, e.g. {started[0]}): its cost difference "
                "includes money already spent",
            )
    for i in sorted(merged.remove - {i for pk in merged.cancel for i in projects[pk].tasks}):
        if tasks[i].progress is not None:
            ctx.warn(
                ("variants", k, "remove_tasks"),
                f"removing {tasks[i].key}, started by the status date, drops its cost to date "
                "too: its cost difference includes money already spent",
            )


def _check_left(ctx: Context, refs: _Refs, k: int, merged: Variant) -> None:
    """Something is left to simulate, and no project loses every task."""
    loc = ("variants", k)
    projects = refs.parts.projects
    left = set(range(len(projects))) - merged.cancel
    if not left:
        ctx.error((*loc, "cancel"), "every project is cancelled: nothing to simulate")
    for pk in left:
        if all(i in merged.remove for i in projects[pk].tasks):
            ctx.error(
                (*loc, "remove_tasks"),
                f"every task of project '{projects[pk].id}' is removed: cancel the project instead",
            )
