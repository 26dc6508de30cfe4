"""The scenario's pools, projects and tasks, with every dependency resolved to task indices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from ..model import LINK_KINDS, ClassModels, Distribution, Fixed, Link, Pool, Project, Task
from . import schema as S
from .calibration_file import calibrated_size
from .context import Context, dist
from .cycles import find_cycles
from .progress import check_progress, constraints, progress

__all__ = ["Parts", "build_parts", "build_pools"]

Links = list[list[Link]]


@dataclass(frozen=True)
class Parts:
    """The portfolio's parts as built from the file."""

    pools: tuple[Pool, ...]
    projects: tuple[Project, ...]
    tasks: tuple[Task, ...]

    @property
    def pool_index(self) -> dict[str, int]:
        return {p.id: k for k, p in enumerate(self.pools)}


def build_pools(ctx: Context) -> tuple[Pool, ...]:
    ctx.check_alike([(pid, ("resources", pid)) for pid in ctx.spec.resources], "pool", key=True)
    out = []
    for pid, p in ctx.spec.resources.items():
        changes = sorted(
            (ctx.offset(c.at, ("resources", pid, "changes", k, "at")), c.capacity)
            for k, c in enumerate(p.changes)
        )
        cal = ctx.calendar_index(p.calendar, ("resources", pid, "calendar"), ctx.calendar.default)
        out.append(Pool(pid, p.capacity, p.cost_per_day, tuple(changes), cal))
    return tuple(out)


def build_parts(ctx: Context, pools: tuple[Pool, ...], models: ClassModels | None) -> Parts:
    """Projects and tasks in file order; links within and across projects; cycles reported."""
    spec = ctx.spec
    ctx.check_ids([p.id for p in spec.projects], ("projects",), "project", dots=False)
    first, keys = _task_numbers(ctx)
    preds: Links = [[] for _ in range(sum(len(p.tasks) for p in spec.projects))]
    tasks: list[Task] = []
    projects: list[Project] = []
    pool_index = {p.id: k for k, p in enumerate(pools)}
    for pk, p in enumerate(spec.projects):
        local: dict[str, int] = {}
        for k, t in enumerate(p.tasks):
            local.setdefault(t.id, first[pk] + k)
        for k, t in enumerate(p.tasks):
            tloc = ("projects", pk, "tasks", k)
            _task_links(ctx, t, p.id, local, keys, tloc, preds[first[pk] + k])
            tasks.append(_task(ctx, pk, p, t, tloc, pools, pool_index, models))
        projects.append(_project(ctx, pk, p, first[pk]))
    _project_links(ctx, projects, preds)
    tasks = [replace(t, preds=tuple(dict.fromkeys(preds[i]))) for i, t in enumerate(tasks)]
    _report_cycles(ctx, tasks, projects)
    check_progress(ctx, tasks)
    _check_capacity_left(ctx, pools, projects, tasks)
    return Parts(pools, tuple(projects), tuple(tasks))


def _task_numbers(ctx: Context) -> tuple[list[int], dict[str, int]]:
    """Each project's first task number, and ``project.task`` -> number (a duplicated id,
    reported, refers to its first task)."""
    first: list[int] = []
    keys: dict[str, int] = {}
    total = 0
    for pk, p in enumerate(ctx.spec.projects):
        first.append(total)
        total += len(p.tasks)
        ctx.check_ids([t.id for t in p.tasks], ("projects", pk, "tasks"), "task", dots=False)
        for k, t in enumerate(p.tasks):
            keys.setdefault(f"{p.id}.{t.id}", first[pk] + k)
    return first, keys


def _task_links(
    ctx: Context,
    t: S.TaskSpec,
    project: str,
    local: dict[str, int],
    keys: dict[str, int],
    loc: tuple[Any, ...],
    out: list[Link],
) -> None:
    for m, link in enumerate(t.after):
        j = _resolve(ctx, link.id, project, local, keys, (*loc, "after", m))
        cal = ctx.calendar_index(link.calendar, (*loc, "after", m, "calendar"), -1)
        if j is not None:
            lag = t.lag if link.lag is None else link.lag
            out.append(Link(j, lag, LINK_KINDS.index(link.type), cal))


def _task(
    ctx: Context,
    pk: int,
    p: S.ProjectSpec,
    t: S.TaskSpec,
    loc: tuple[Any, ...],
    pools: tuple[Pool, ...],
    pool_index: dict[str, int],
    models: ClassModels | None,
) -> Task:
    demand = _demand(ctx, t, loc, pools, pool_index)
    size: Distribution
    if t.milestone:
        size = Fixed(0.0)
    elif t.estimate is not None:
        size = calibrated_size(ctx, models, t, loc)
    else:
        size = dist(t.duration if t.duration is not None else t.effort)
    own = pools[demand[0][0]].calendar if demand else ctx.calendar.default
    task = Task(
        key=f"{p.id}.{t.id}",
        project=pk,
        id=t.id,
        name=t.name or t.id,
        size=size,
        per_unit=t.effort is not None,
        demand=demand,
        cost=t.cost,
        calendar=ctx.calendar_index(t.calendar, (*loc, "calendar"), own),
    )
    return progress(ctx, constraints(ctx, task, t, loc), t, loc)


def _project(ctx: Context, pk: int, p: S.ProjectSpec, first: int) -> Project:
    ploc = ("projects", pk)
    release = ctx.offset(p.start, (*ploc, "start")) if p.start is not None else 0.0
    deadline = (
        ctx.offset(p.deadline, (*ploc, "deadline"), end=True) if p.deadline is not None else None
    )
    if deadline is not None and p.start is not None and deadline <= release:
        ctx.error(
            (*ploc, "deadline"), f"deadline {p.deadline} is not after the project start {p.start}"
        )
    per_year = 52.1775 * ctx.calendar.weekmask.count("1")  # the default calendar's
    given = p.deadline.isoformat() if isinstance(p.deadline, dt.date) else None
    return Project(
        p.id,
        p.name or p.id,
        p.priority,
        release,
        deadline,
        p.budget,
        p.cost,
        p.overhead_per_day,
        tuple(range(first, first + len(p.tasks))),
        p.value_per_month * 12 / per_year,
        given,
    )


def _resolve(
    ctx: Context,
    ref: str,
    project: str,
    local: dict[str, int],
    keys: dict[str, int],
    loc: tuple[Any, ...],
) -> int | None:
    if ref in local:
        return local[ref]
    if ref in keys:
        return keys[ref]
    known = ", ".join(list(local)[:12]) + (", ..." if len(local) > 12 else "")
    ctx.error(
        loc,
        f"unknown task '{ref}': name a task of project '{project}' ({known}) "
        "or another project's task as project.task",
    )
    return None


def _demand(
    ctx: Context,
    t: S.TaskSpec,
    loc: tuple[Any, ...],
    pools: tuple[Pool, ...],
    pool_index: dict[str, int],
) -> tuple[tuple[int, float], ...]:
    out = []
    for pid, units in t.resources.items():
        q = ctx.lookup(pool_index, pid, (*loc, "resources", pid), "pool")
        if q is None:
            continue
        pool = pools[q]
        if units > pool.max_capacity:
            ctx.error(
                (*loc, "resources", pid),
                f"needs {units:g} units of '{pid}' but the pool never has more than "
                f"{pool.max_capacity:g}: this task could never start",
            )
        out.append((q, float(units)))
    return tuple(out)


def _check_capacity_left(
    ctx: Context, pools: tuple[Pool, ...], projects: list[Project], tasks: list[Task]
) -> None:
    """A pool that has dropped below a task's demand for good before the task may start
    (its project's start, its own constraint, the status date) is as fatal as one that
    never had enough (reported by :func:`_demand`)."""
    status = ctx.calendar.status or 0.0
    for i, t in enumerate(tasks):
        if t.complete:
            continue
        pk = t.project
        since = max(projects[pk].release, t.earliest, status)
        for q, units in t.demand:
            pool = pools[q]
            most = max([pool.capacity_at(since), *(c for w, c in pool.changes if w > since)])
            if most < units <= pool.max_capacity:
                when = (
                    f"working day {since:g}"
                    if ctx.calendar.start is None
                    else str(ctx.calendar.date_of(since))
                )
                ctx.error(
                    ("projects", pk, "tasks", i - projects[pk].tasks[0], "resources", pool.id),
                    f"needs {units:g} units of '{pool.id}' but from {when}, the earliest it "
                    f"may start, the pool never has more than {most:g}: this task could "
                    "never start",
                )


def _project_links(ctx: Context, projects: list[Project], preds: Links) -> None:
    """A project's ``after``: its entry tasks follow the other project's exit tasks."""
    index = {p.id: k for k, p in enumerate(projects)}
    for pk, p in enumerate(ctx.spec.projects):
        mine = projects[pk].tasks
        entries = [i for i in mine if not any(x.pred in mine for x in preds[i])]
        for m, link in enumerate(p.after):
            loc = ("projects", pk, "after", m)
            if link.id not in index or link.id == p.id:
                why = (
                    "a project cannot follow itself"
                    if link.id == p.id
                    else f"unknown project; projects: {', '.join(index)}"
                )
                ctx.error(loc, f"'{link.id}': {why}")
                continue
            other = projects[index[link.id]].tasks
            has_succ = {x.pred for i in other for x in preds[i] if x.pred in other}
            exits = [i for i in other if i not in has_succ]
            kind = LINK_KINDS.index(link.type)
            cal = ctx.calendar_index(link.calendar, (*loc, "calendar"), -1)
            for i in entries:
                preds[i].extend(Link(j, link.lag or 0.0, kind, cal) for j in exits)


def _report_cycles(ctx: Context, tasks: list[Task], projects: list[Project]) -> None:
    succ: list[list[int]] = [[] for _ in tasks]
    for i, t in enumerate(tasks):
        for x in t.preds:
            succ[x.pred].append(i)
    for cycle in find_cycles(succ):
        text = " -> ".join(tasks[i].key for i in cycle)
        pk = tasks[cycle[1]].project
        k = cycle[1] - projects[pk].tasks[0]  # its place in the project's task list
        has_own = bool(ctx.spec.projects[pk].tasks[k].after)
        loc = ("projects", pk, "tasks", k, "after") if has_own else ("projects", pk, "after")
        ctx.error(
            loc,
            f"dependency cycle: {text} (each waits for the one before it); "
            "remove one of these links",
        )
