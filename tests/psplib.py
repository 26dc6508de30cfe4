"""Read PSPLIB single-mode RCPSP instances (``.sm``) into a :class:`Portfolio`."""

from __future__ import annotations

import re
from pathlib import Path

from simulator.model import Fixed, Pool, Portfolio, Project, Task, WorkCalendar

SHARED = Path(__file__).resolve().parents[2] / "shared"
PSPLIB = SHARED / "data" / "psplib"


def read_sm(path: Path) -> Portfolio:
    """One project, every job a task with a fixed duration; dummy source/sink included."""
    lines = path.read_text().splitlines()
    n_jobs = int(next(x for x in lines if x.startswith("jobs (incl.")).split(":")[1])
    prec = lines.index(next(x for x in lines if x.startswith("PRECEDENCE RELATIONS"))) + 2
    succs = {}
    for row in lines[prec : prec + n_jobs]:
        nums = [int(x) for x in row.split()]
        succs[nums[0]] = nums[3:]
    req = lines.index(next(x for x in lines if x.startswith("REQUESTS/DURATIONS"))) + 3
    jobs = {}
    for row in lines[req : req + n_jobs]:
        nums = [int(x) for x in row.split()]
        jobs[nums[0]] = (nums[2], nums[3:])
    avail = lines.index(next(x for x in lines if x.startswith("RESOURCEAVAILABILITIES"))) + 2
    caps = [int(x) for x in lines[avail].split()]
    preds: dict[int, list[int]] = {j: [] for j in jobs}
    for j, ss in succs.items():
        for s in ss:
            preds[s].append(j)
    tasks = tuple(
        Task(
            key=f"p.{j}",
            project=0,
            id=str(j),
            name=str(j),
            size=Fixed(float(jobs[j][0])),
            demand=tuple((r, float(u)) for r, u in enumerate(jobs[j][1]) if u > 0),
            preds=tuple((k - 1, 0.0) for k in preds[j]),
        )
        for j in sorted(jobs)
    )
    pools = tuple(Pool(id=f"R{r + 1}", capacity=float(c)) for r, c in enumerate(caps))
    project = Project(id="p", name=path.stem, tasks=tuple(range(len(tasks))))
    return Portfolio(
        name=path.stem, calendar=WorkCalendar(), pools=pools, projects=(project,), tasks=tasks
    )


def optima() -> dict[str, int]:
    """Optimal makespans from ``j30opt.sm`` keyed by instance name (``j301_1``)."""
    out = {}
    for row in (PSPLIB / "j30opt.sm").read_text().splitlines():
        m = re.match(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+[\d.]+\s*$", row)
        if m:
            out[f"j30{m.group(1)}_{m.group(2)}"] = int(m.group(3))
    return out
