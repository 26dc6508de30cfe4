"""Graph helpers for validation: cycles in the dependency graph."""

from __future__ import annotations

__all__ = ["find_cycles"]


def _strongly_connected(succ: list[list[int]]) -> list[list[int]]:
    """Tarjan's algorithm, iterative; components in discovery order."""
    n = len(succ)
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        while work:
            v, pos = work.pop()
            if pos == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack[v] = True
            if pos < len(succ[v]):
                work.append((v, pos + 1))
                w = succ[v][pos]
                if index[w] < 0:
                    work.append((w, 0))
                elif on_stack[w]:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


def find_cycles(succ: list[list[int]]) -> list[list[int]]:
    """One cycle ``[a, b, ..., a]`` per strongly connected component that has one."""
    cycles = []
    for comp in _strongly_connected(succ):
        members = set(comp)
        start = comp[0]
        if len(comp) == 1 and start not in succ[start]:
            continue
        # breadth-first search for the shortest way back to start inside the component
        parent = {start: -1}
        frontier = [start]
        found = -1
        while frontier and found < 0:
            nxt = []
            for v in frontier:
                for w in succ[v]:
                    if w == start:
                        found = v
                        break
                    if w in members and w not in parent:
                        parent[w] = v
                        nxt.append(w)
                if found >= 0:
                    break
            frontier = nxt
        path = [start]
        v = found
        while v != start and v >= 0:
            path.append(v)
            v = parent[v]
        cycle = [start, *reversed(path[1:]), start]
        cycles.append(cycle)
    return cycles
