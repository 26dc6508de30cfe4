"""A task list's links: predecessors and successors as written, resolved to the kept tasks
(containers' links passed to the items below them, links to removed items dropped and noted),
and dependency cycles found, each located at a row and column."""

from __future__ import annotations

from typing import Any

from ._rows import Item, Rows
from .cells import show
from .columns import suggest
from .links import LinkRef
from .states import REMOVED

__all__ = ["check_cycles", "link_tasks"]


def link_tasks(rows: Rows, items: list[Item], specs: dict[str, dict[str, Any]]) -> None:
    """Every task's ``after`` list, from both the predecessor and successor columns."""
    by_id = {it.id: it for it in items}
    below = _below(items)
    for it in items:
        for col, ref in it.predecessors:
            pred = _find(rows, by_id, it, (col, "predecessors"), ref)
            if pred is not None:
                _add(rows, pred, it, ref, specs, below)
        for col, ref in it.successors:
            succ = _find(rows, by_id, it, (col, "successors"), ref)
            if succ is not None:
                _add(rows, it, succ, ref, specs, below)


def _find(
    rows: Rows, by_id: dict[str, Item], it: Item, where: tuple[int, str], ref: LinkRef
) -> Item | None:
    col, role = where
    found = by_id.get(ref.ref) or by_id.get(rows.by_other.get(ref.ref, ""))
    if found is None:
        message = f"{show(ref.text)}: no task with id {show(ref.ref)}"
        rows.problem(it, role, message + suggest(ref.ref, list(by_id)), col)
    elif found is it:
        rows.problem(it, role, f"{show(ref.text)}: a task cannot follow itself", col)
        return None
    return found


def _below(items: list[Item]) -> dict[str, list[Item]]:
    """For each container, the kept items below it (through nested containers)."""
    children: dict[str, list[Item]] = {}
    stack: list[Item] = []
    for it in items:  # an outline: the rows below a summary, up to the next at its level
        if it.outline is None:
            continue
        while stack and stack[-1].outline is not None and stack[-1].outline >= it.outline:
            stack.pop()
        for up in stack:
            children.setdefault(up.id, []).append(it)
        stack.append(it)
    for it in items:  # a tracker: the items naming it as their parent
        if it.parent:
            children.setdefault(it.parent, []).append(it)

    def leaves(it: Item, seen: frozenset[str]) -> list[Item]:
        if not it.container:
            return [it]
        inner = [c for c in children.get(it.id, []) if c.id not in seen]
        return [x for c in inner for x in leaves(c, seen | {it.id})]

    return {it.id: leaves(it, frozenset()) for it in items if it.container}


def _add(
    rows: Rows,
    pred: Item,
    succ: Item,
    ref: LinkRef,
    specs: dict[str, dict[str, Any]],
    below: dict[str, list[Item]],
) -> None:
    if REMOVED in (pred.kind, succ.kind):
        gone = pred if pred.kind == REMOVED else succ
        rows.notes.append(f"link {pred.id} -> {succ.id} left out: {gone.id} was removed")
        return
    for a in below.get(pred.id, [pred]):
        for b in below.get(succ.id, [succ]):
            if a.kind == REMOVED or b.kind == REMOVED or a is b:
                continue
            link = _link(rows, a, b, ref, specs)
            after = specs[b.id].setdefault("after", [])
            if link is not None and link not in after:
                after.append(link)
                rows.graph.setdefault(b.id, []).append(a.id)


def _link(
    rows: Rows, pred: Item, succ: Item, ref: LinkRef, specs: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    target = pred.id if pred.project == succ.project else f"{_project(rows, pred)}.{pred.id}"
    link: dict[str, Any] = {"id": target, "type": ref.type}
    lag = ref.lag
    if ref.percent is not None:
        days = specs[pred.id].get("duration", 0.0 if specs[pred.id].get("milestone") else None)
        if not isinstance(days, int | float):
            message = f"{show(ref.text)}: a lag in % needs the predecessor's duration"
            rows.problem(succ, "predecessors", message)
            return None
        lag = round(days * ref.percent / 100, 9)
    if lag:
        link["lag"] = lag
    return link


def _project(rows: Rows, it: Item) -> str:
    return it.project or rows.default_project()


def check_cycles(rows: Rows, kept: list[Item], specs: dict[str, dict[str, Any]]) -> None:
    """A problem for each dependency cycle, at the predecessors of its first task."""
    by_id = {it.id: it for it in kept}
    preds = {it.id: rows.graph.get(it.id, []) for it in kept}
    state: dict[str, int] = {}
    for start in by_id:
        if start in state:
            continue
        path: list[str] = []
        stack = [(start, iter(preds[start]))]
        state[start], path = 1, [start]
        while stack:
            node, nxt = stack[-1]
            child = next(nxt, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                loop = [*path[path.index(child) :], child]
                rows.problem(
                    by_id[child], "predecessors", f"a dependency cycle: {' after '.join(loop)}"
                )
            elif child not in state and child in by_id:
                state[child] = 1
                path.append(child)
                stack.append((child, iter(preds[child])))
