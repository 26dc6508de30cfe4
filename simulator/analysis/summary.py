"""Summaries of a Monte Carlo run, each figure with its Monte Carlo error.

Probabilities carry a standard error ``sqrt(p(1-p)/n)`` and a 95 % Wilson interval;
means a standard error ``sd/sqrt(n)``; percentiles (the empirical ``inverted_cdf``
quantile: P80 is the smallest simulated value with at least 80 % of iterations at or
below it) a distribution-free 95 % interval from order statistics.
"""

from __future__ import annotations

import dataclasses
import functools
import platform
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

from ..engine import py_work_end
from ..model import Portfolio, Project
from ..montecarlo import Outcome
from ..sampling import BLOCK_SIZE

__all__ = [
    "Z95",
    "CapacityRow",
    "Mean",
    "Prob",
    "ProjectResult",
    "Quantile",
    "RunSummary",
    "summarise",
]

Array = NDArray[np.float64]
Z95 = float(special.ndtri(0.975))
QUANTILES = (10, 50, 80, 90)
SHORTFALL_EPS = 1e-9


@dataclass(frozen=True)
class Prob:
    """A probability: ``estimate``, standard error ``se``, 95 % Wilson interval."""

    estimate: float
    se: float
    low: float
    high: float

    @classmethod
    def of(cls, hits: NDArray[np.bool_] | np.bool_) -> Prob:
        hits = np.atleast_1d(hits)
        n = len(hits)
        p = float(np.mean(hits))
        centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
        half = Z95 / (1 + Z95**2 / n) * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n))
        return cls(
            p,
            float(np.sqrt(p * (1 - p) / n)),
            float(max(0.0, centre - half)),
            float(min(1.0, centre + half)),
        )


@dataclass(frozen=True)
class Mean:
    """A mean and its standard error."""

    estimate: float
    se: float

    @classmethod
    def of(cls, x: NDArray[np.float64]) -> Mean:
        n = len(x)
        sd = float(np.std(x, ddof=1)) if n > 1 else 0.0
        return cls(float(np.mean(x)), sd / np.sqrt(n))


@dataclass(frozen=True)
class Quantile:
    """The ``q``-th percentile with a distribution-free 95 % interval [low, high]."""

    q: int
    value: float
    low: float
    high: float

    @classmethod
    def of(cls, sorted_x: NDArray[np.float64], q: int) -> Quantile:
        n = len(sorted_x)
        frac = q / 100
        k = min(max(int(np.ceil(n * frac)), 1), n)  # 1-based rank of the estimate
        lo = _binom_ppf(0.025, n, frac)
        hi = _binom_ppf(0.975, n, frac) + 1
        return cls(
            q,
            float(sorted_x[k - 1]),
            float(sorted_x[min(max(lo, 1), n) - 1]),
            float(sorted_x[min(max(hi, 1), n) - 1]),
        )


@dataclass(frozen=True)
class ProjectResult:
    """One project's figures; finish in days since the start date (working days when the
    scenario has none: summary.json says which under "units");
    ``deadline_date`` is the deadline as the file gives it (or its date, when the file gives
    working days); ``deadline_workday`` the last working day of the default calendar by
    its end."""

    id: str
    name: str
    priority: int
    deadline: float | None
    budget: float | None
    p_on_time: Prob | None
    finish_mean: Mean
    finish: tuple[Quantile, ...]
    cost_mean: Mean
    cost: tuple[Quantile, ...]
    p_within_budget: Prob | None
    p_on_time_and_within_budget: Prob | None
    deadline_date: str | None = None
    deadline_workday: str | None = None


@dataclass(frozen=True)
class KeyDateResult:
    """One key date (a milestone, a ``finish_no_later_than`` or ``must_start_on`` date):
    when its event (the task's finish, or start) happens, and P(by the end of the date).

    Attributes:
        task: ``project.task``; ``name`` its name; ``event``: ``finish`` or ``start``.
        due, due_date: the end of the date as a time, and the date as given (None for a
            milestone without a date).
        p_on_time: P(event no later than ``due``), or None.
        when_mean, when: the event time's mean and quantiles; ``when_dates`` the quantiles'
            dates (a start's working day, a finish's last working day).
    """

    task: str
    name: str
    event: str
    due: float | None
    due_date: str | None
    p_on_time: Prob | None
    when_mean: Mean
    when: tuple[Quantile, ...]
    when_dates: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class CapacityRow:
    """One pool in one period: mean units available, in use and short.

    ``utilisation`` is the share of the capacity in use (at most 1); ``overload_mean`` the
    mean units in use *beyond* the capacity, when a capacity loss (or fall) catches tasks
    that already hold the units: they keep them until they finish (``busy`` counts them
    all, so ``busy = utilisation x capacity + overload_mean``)."""

    pool: str
    period: str
    capacity: float
    busy: float
    utilisation: float
    shortfall_mean: float
    shortfall_p90: float
    p_shortfall: Prob
    overload_mean: float = 0.0
    p_overload: Prob | None = None


@dataclass(frozen=True)
class RunSummary:
    """Everything a run reports; ``to_dict`` is what ``summary.json`` holds (NaN where a figure
    does not exist: the JSON writer makes it null)."""

    scenario: str
    scenario_sha256: str
    seed: int
    iterations: int
    start: str | None
    currency: str
    projects: tuple[ProjectResult, ...]
    p_all_on_time: Prob | None
    expected_on_time: Mean | None
    with_deadline: int
    total_cost_mean: Mean
    total_cost: tuple[Quantile, ...]
    capacity: tuple[CapacityRow, ...]
    dates: dict[str, str | None]
    key_dates: tuple[KeyDateResult, ...] = ()

    def date(self, working_days: float) -> str | None:
        return self.dates.get(_key(working_days))

    def deadline_notes(self) -> list[str]:
        """How each deadline given on a non-working day is read."""
        return [
            f"{p.id}: deadline {p.deadline_date} is not a working day; it means the end of "
            f"{p.deadline_workday}, the last working day before it"
            for p in self.projects
            if p.deadline is not None and p.deadline_date not in (None, p.deadline_workday)
        ]

    def most_at_risk(self, n: int | None = None) -> list[int]:
        """The indices of the ``n`` projects most at risk (all when None), most at risk
        first: projects with a deadline by P(on time), lowest first, ties broken by how far
        the P80 finish lies past the deadline (furthest first); then projects without a
        deadline; file order last."""

        def key(k: int) -> tuple[int, float, float, int]:
            r = self.projects[k]
            if r.p_on_time is None or r.deadline is None:
                return (1, 0.0, 0.0, k)
            late = next(q.value for q in r.finish if q.q == 80) - r.deadline
            return (0, r.p_on_time.estimate, -late, k)

        order = sorted(range(len(self.projects)), key=key)
        return order if n is None else order[:n]

    def shown(self, n: int) -> list[int]:
        """The projects a report shows in detail: every one, in file order, when there are
        at most ``n``; else the ``n`` most at risk, most at risk first."""
        if len(self.projects) <= n:
            return list(range(len(self.projects)))
        return self.most_at_risk(n)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.pop("dates")
        for proj in out["projects"]:
            for qd in proj["finish"]:
                qd["date"], qd["low_date"], qd["high_date"] = (
                    self.date(qd["value"]),
                    self.date(qd["low"]),
                    self.date(qd["high"]),
                )
            proj["finish_mean"]["date"] = self.date(proj["finish_mean"]["estimate"])
        for key in out["key_dates"]:
            for qd, day in zip(key["when"], key.pop("when_dates"), strict=True):
                qd["date"] = day
        out["block_size"] = BLOCK_SIZE
        out["versions"] = _versions()
        time = "days since the start date" if self.start else "working days since the start"
        out["units"] = {"time": time, "cost": self.currency or "money"}
        return out


@functools.lru_cache(maxsize=64)
def _binom_ppf(q: float, n: int, p: float) -> int:
    """The smallest k with P(Binomial(n, p) <= k) >= q (scipy.stats.binom.ppf)."""
    k = int(np.clip(np.floor(special.bdtrik(q, n, p)), 0, n))
    while k < n and special.bdtr(k, n, p) < q:
        k += 1
    while k > 0 and special.bdtr(k - 1, n, p) >= q:
        k -= 1
    return k


def _key(x: float) -> str:
    return repr(float(x))


def _versions() -> dict[str, str]:
    from importlib import metadata

    names = ["pmosim", "numpy", "scipy", "simpy", "pandas", "joblib"]
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def _quantiles(x: NDArray[np.float64]) -> tuple[Quantile, ...]:
    s = np.sort(x)
    return tuple(Quantile.of(s, q) for q in QUANTILES)


def _project_result(p: Project, finish: Array, cost: Array) -> ProjectResult:
    on_time = None if p.deadline is None else finish <= p.deadline
    in_budget = None if p.budget is None else cost <= p.budget
    both = None if on_time is None or in_budget is None else on_time & in_budget
    return ProjectResult(
        p.id,
        p.name,
        p.priority,
        p.deadline,
        p.budget,
        None if on_time is None else Prob.of(on_time),
        Mean.of(finish),
        _quantiles(finish),
        Mean.of(cost),
        _quantiles(cost),
        None if in_budget is None else Prob.of(in_budget),
        None if both is None else Prob.of(both),
    )


def _key_date_results(pf: Portfolio, out: Outcome) -> tuple[KeyDateResult, ...]:
    rows = []
    cal = pf.calendar
    for k, key in enumerate(pf.key_dates):
        when = out.keys[:, k]
        task = pf.tasks[key.task]
        q = _quantiles(when)
        values = np.array([x.value for x in q])
        days = cal.start_dates(values, task.calendar) if key.event == "start" else None
        days = cal.finish_dates(values) if days is None else days
        rows.append(
            KeyDateResult(
                task.key,
                task.name,
                key.event,
                key.due,
                key.given,
                None if key.due is None else Prob.of(when <= key.due),
                Mean.of(when),
                q,
                tuple(str(d) for d in days) if days is not None else (None,) * len(q),
            )
        )
    return tuple(rows)


def _dates(
    pf: Portfolio, projects: list[ProjectResult], keys: tuple[KeyDateResult, ...]
) -> dict[str, str | None]:
    """The date of every finish figure and deadline (None without a start date)."""
    times = {float(x) for pr in projects for q in pr.finish for x in (q.value, q.low, q.high)}
    times |= {r.due for r in keys if r.due is not None}
    times |= {pr.finish_mean.estimate for pr in projects}
    times |= {p.deadline for p in pf.projects if p.deadline is not None}
    ordered = sorted(times)
    dates = pf.calendar.finish_dates(np.array(ordered))
    return {
        _key(t): None if dates is None else str(d)
        for t, d in zip(ordered, dates if dates is not None else ordered, strict=True)
    }


def summarise(pf: Portfolio, out: Outcome, *, seed: int) -> RunSummary:
    """Reduce a run's per-iteration results to the reported figures."""
    n = len(out.finish)
    projects = [
        _project_result(p, out.finish[:, k], out.cost[:, k]) for k, p in enumerate(pf.projects)
    ]
    keys = _key_date_results(pf, out)
    dates = _dates(pf, projects, keys)
    projects = [
        dataclasses.replace(
            r,
            deadline_date=p.deadline_date or dates.get(_key(p.deadline)),
            deadline_workday=pf.calendar.finish_date(
                py_work_end(*pf.calendar.table, pf.calendar.default, p.deadline)
            ),
        )
        if p.deadline is not None
        else r
        for r, p in zip(projects, pf.projects, strict=True)
    ]
    due = [(k, p.deadline) for k, p in enumerate(pf.projects) if p.deadline is not None]
    hits = np.zeros((n, len(due)), dtype=bool)
    for m, (k, deadline) in enumerate(due):
        hits[:, m] = out.finish[:, k] <= deadline
    total = out.cost.sum(axis=1)
    start = pf.calendar.start
    return RunSummary(
        scenario=pf.name,
        scenario_sha256=pf.source_hash,
        seed=seed,
        iterations=n,
        start=None if start is None else start.isoformat(),
        currency=pf.currency,
        projects=tuple(projects),
        p_all_on_time=Prob.of(hits.all(axis=1)) if due else None,
        expected_on_time=Mean.of(hits.sum(axis=1).astype(float)) if due else None,
        with_deadline=len(due),
        total_cost_mean=Mean.of(total),
        total_cost=_quantiles(total),
        capacity=_capacity_rows(pf, out),
        dates=dates,
        key_dates=tuple(
            r
            if r.due is None or r.due_date
            else dataclasses.replace(r, due_date=dates.get(_key(r.due)))
            for r in keys
        ),
    )


def _capacity_rows(pf: Portfolio, out: Outcome) -> tuple[CapacityRow, ...]:
    rows = []
    cap_mean = out.capacity.mean(axis=0)
    busy_mean = out.busy.mean(axis=0)
    over_mean = out.overload.mean(axis=0)
    for p, pool in enumerate(pf.pools):
        for m, label in enumerate(out.periods):
            waiting = out.waiting[:, p, m]
            cap = float(cap_mean[p, m])
            within = float(busy_mean[p, m] - over_mean[p, m])  # in use within the capacity
            rows.append(
                CapacityRow(
                    pool.id,
                    label,
                    cap,
                    float(busy_mean[p, m]),
                    within / cap if cap > 0 else float("nan"),
                    float(waiting.mean()),
                    Quantile.of(np.sort(waiting), 90).value,
                    Prob.of(waiting > SHORTFALL_EPS),
                    float(over_mean[p, m]),
                    Prob.of(out.overload[:, p, m] > SHORTFALL_EPS),
                )
            )
    return tuple(rows)
