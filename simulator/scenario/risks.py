"""The scenario's risks and correlation groups, their targets matched against the tasks."""

from __future__ import annotations

import fnmatch
from typing import Any

from ..model import CorrelationGroup, Risk
from . import schema as S
from .context import Context, dist
from .parts import Parts

__all__ = ["build_groups", "build_risks", "match_targets"]


def match_targets(
    ctx: Context, parts: Parts, patterns: list[str], loc: tuple[Any, ...]
) -> tuple[int, ...]:
    """The tasks matched by ``patterns`` (``project.task`` globs, or project ids), in order,
    each once; a pattern that matches nothing is a problem."""
    found: list[int] = []
    for m, pattern in enumerate(patterns):
        hits = _match(pattern, parts)
        if not hits:
            ctx.error(
                (*loc, m),
                f"'{pattern}' matches no task; use project.task, a "
                "project id, and * or ? as wildcards (crm.*, *.test)",
            )
        found.extend(hits)
    return tuple(dict.fromkeys(found))


def _match(pattern: str, parts: Parts) -> list[int]:
    if not any(c in pattern for c in "*?["):  # a plain id: one look-up, not a scan
        if "." not in pattern:
            return [i for p in parts.projects if p.id == pattern for i in p.tasks]
        return [i for i, t in enumerate(parts.tasks) if t.key == pattern]
    if "." not in pattern:
        return [i for p in parts.projects if fnmatch.fnmatchcase(p.id, pattern) for i in p.tasks]
    return [i for i, t in enumerate(parts.tasks) if fnmatch.fnmatchcase(t.key, pattern)]


def build_risks(ctx: Context, parts: Parts) -> tuple[Risk, ...]:
    risks = tuple(_risk(ctx, k, r, parts) for k, r in enumerate(ctx.spec.risks))
    ctx.check_ids([r.id for r in ctx.spec.risks], ("risks",), "risk")
    return risks


def _risk(ctx: Context, k: int, r: S.RiskSpec, parts: Parts) -> Risk:
    loc = ("risks", k)
    targets = match_targets(ctx, parts, r.affects, (*loc, "affects"))
    loss = None
    if r.capacity_loss is not None:
        cl = r.capacity_loss
        where = (*loc, "capacity_loss", "pool")
        q = ctx.lookup(parts.pool_index, cl.pool, where, "pool", key=False)
        if q is not None:
            at = ctx.offset(cl.at, (*loc, "capacity_loss", "at"))
            loss = (q, float(cl.units), at, dist(cl.days))
    delay = r.delay if r.delay is not None else r.delay_percent
    cost_projects = tuple(dict.fromkeys(parts.tasks[i].project for i in targets))
    return Risk(
        r.id,
        r.probability,
        targets,
        None if delay is None else dist(delay),
        r.delay_percent is not None,
        None if r.cost is None else dist(r.cost),
        cost_projects,
        loss,
        once=r.apply == "once",
        cost_share=r.cost_split == "share",
    )


def build_groups(ctx: Context, parts: Parts) -> tuple[CorrelationGroup, ...]:
    """Project-level correlations (``project:<id>``) and the ``correlations`` groups; a task
    may belong to one group only."""
    specs: list[tuple[tuple[Any, ...], str, float, list[int]]]
    specs = [
        (
            ("projects", pk, "correlation"),
            f"project:{p.id}",
            p.correlation,
            list(parts.projects[pk].tasks),
        )
        for pk, p in enumerate(ctx.spec.projects)
        if p.correlation is not None
    ]
    specs += [
        (
            ("correlations", k),
            g.id,
            g.rho,
            list(match_targets(ctx, parts, g.tasks, ("correlations", k, "tasks"))),
        )
        for k, g in enumerate(ctx.spec.correlations)
    ]
    out: list[CorrelationGroup] = []
    owner: dict[int, str] = {}
    seen: set[str] = set()
    for loc, gid, rho, members in specs:
        if gid in seen:
            ctx.error(
                loc,
                f"correlation group id '{gid}' is used twice (project-level "
                "groups are named project:<id>); give each group its own id",
            )
        seen.add(gid)
        for i in members:
            if i in owner:
                ctx.error(
                    loc,
                    f"task '{parts.tasks[i].key}' is already in correlation group "
                    f"'{owner[i]}'; a task may belong to one group only",
                )
            else:
                owner[i] = gid
        out.append(CorrelationGroup(gid, float(rho), tuple(members)))
    return tuple(out)
