"""A synthetic portfolio generator for benchmarks: projects x tasks, pools, risks and
cross-project dependencies, written as a scenario file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml


def synthetic_scenario(
    projects: int = 20,
    tasks: int = 1000,
    pools: int = 5,
    risks: int = 20,
    seed: int = 0,
    load: float = 0.9,
) -> dict:
    """A scenario (as plain data) with ``tasks`` tasks spread evenly over ``projects``.

    Every project has ``4 x tasks per project`` working days until its deadline; each pool's
    capacity is set so that the work it is asked for fills ``load`` of that span (a busy but
    not hopelessly overloaded portfolio: tasks do wait for people)."""
    rng = np.random.default_rng(seed)
    per = max(1, tasks // projects)
    pool_ids = [f"pool{k}" for k in range(pools)]
    work = dict.fromkeys(pool_ids, 0.0)
    out_projects = []
    for j in range(projects):
        items = []
        for i in range(per):
            mode = float(rng.integers(3, 15))
            pool, units = pool_ids[int(rng.integers(pools))], int(rng.integers(1, 3))
            task = {
                "id": f"t{i}",
                "duration": {"pert": {"low": mode * 0.7, "mode": mode, "high": mode * 1.8}},
                "resources": {pool: units},
            }
            work[pool] += units * mode * (0.7 + 4 + 1.8) / 6
            if i:
                k = min(i, int(rng.integers(1, 3)))
                task["after"] = [f"t{int(x)}" for x in rng.choice(i, size=k, replace=False)]
            items.append(task)
        project = {
            "id": f"p{j}",
            "priority": int(rng.integers(1, 4)),
            "deadline": int(per * 4),
            "budget": 1e6,
            "overhead_per_day": 100,
            "tasks": items,
        }
        if j and rng.random() < 0.3:
            other = int(rng.integers(j))
            items[0]["after"] = [f"p{other}.t{int(rng.integers(per))}"]
        out_projects.append(project)
    span = per * 4
    resources = {
        p: {"capacity": max(2, int(np.ceil(work[p] / (load * span)))), "cost_per_day": 500 + 50 * k}
        for k, p in enumerate(pool_ids)
    }
    first = resources[pool_ids[0]]
    first["changes"] = [{"at": span // 2, "capacity": int(first["capacity"]) + 2}]
    out_risks = []
    for r in range(risks):
        risk: dict = {"id": f"r{r}", "probability": round(float(rng.uniform(0.05, 0.5)), 3)}
        if r % 5 == 4:
            risk["capacity_loss"] = {
                "pool": pool_ids[r % pools],
                "units": 1,
                "at": int(rng.integers(0, 100)),
                "days": {"uniform": {"low": 5, "high": 30}},
            }
        else:
            j = int(rng.integers(projects))
            risk["affects"] = [f"p{j}.t{int(rng.integers(per))}", f"p{j}.t{int(rng.integers(per))}"]
            risk["delay"] = {"triangular": {"low": 2, "mode": 5, "high": 15}}
            risk["cost"] = {"uniform": {"low": 1000, "high": 5000}}
        out_risks.append(risk)
    return {
        "scenario": f"synthetic {projects}x{per}",
        "priority_rule": "lft",
        "resources": resources,
        "projects": out_projects,
        "risks": out_risks,
    }


def write_synthetic(path: Path, **kwargs: int) -> Path:
    path.write_text(yaml.safe_dump(synthetic_scenario(**kwargs), sort_keys=False))
    return path


# the enterprise portfolio: 200 projects x 50 tasks, 20 pools, 50 risks
ENTERPRISE = {"projects": 200, "tasks": 10_000, "pools": 20, "risks": 50}
EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "portfolio-2027.yaml"


def example_and_enterprise(folder: Path) -> list[tuple[str, Path]]:
    """The example scenario and the enterprise portfolio (written into ``folder``), named:
    what the benchmarks that compare two ways on both portfolios run."""
    big = write_synthetic(folder / "t10k.yaml", **ENTERPRISE)
    return [("example", EXAMPLE), ("200 projects x 50 tasks", big)]
