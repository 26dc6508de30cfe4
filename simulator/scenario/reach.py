"""How far a built scenario's times and costs can reach, checked before anything runs.

What is certainly out of reach is refused where it is written: a fixed time (a project
start or postponement, a date constraint, a capacity change or loss, an actual date, the
status date) beyond the limit, or any one task's longest duration, risk's longest delay on
the tasks it delays, lag or capacity loss that, alone after the latest fixed time, goes
beyond it. Laws without a maximum (normal, lognormal, exponential, calibrated ratios) count
at their median here: their far tail is no mistake in itself, and a draw that does go
beyond the limit stops the run instead (:func:`simulator.montecarlo.check_reach`). A
variant's postponements, capacity changes and mitigation factors are checked the same way.

A dated scenario must end by :data:`~simulator.model.calendar.LAST_DATE` (no later date can
be shown), an undated one by working day :data:`~simulator.model.calendar.UNDATED_LIMIT`;
each project's cost and value, bounded by the same amounts over the longest span, must stay
below :data:`COST_LIMIT`. A bound beyond is one problem, at the line of its largest part.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..errors import ScenarioError
from ..model import Distribution, Portfolio, Variant
from ..model.calendar import LAST_DATE
from .context import Context

__all__ = ["COST_LIMIT", "QUANTILE", "check_reach"]

QUANTILE = 1 - 1e-12  # where a bounded law is taken to end (its maximum, numerically)
COST_LIMIT = 1e18  # beyond it, sums of costs over iterations lose precision, then overflow
_FAR = 1e9  # working days beyond any reachable time: no calendar arithmetic on them
_BOUNDED = {"fixed", "uniform", "triangular", "pert", "empirical"}
_HOW = "alone after the latest fixed date; laws without a maximum count at their median"

Loc = tuple[Any, ...]


class Part(NamedTuple):
    """One part of a bound: its amount, where the file gives it, and what it is (nothing
    for a fixed time: its date says it)."""

    amount: float
    loc: Loc
    what: str = ""


def check_reach(ctx: Context, pf: Portfolio) -> None:
    """The finish and cost bounds of the base and of every variant, each within limits.

    Raises:
        ScenarioError: every bound beyond, located at its largest part.
    """
    durations = [_duration(ctx, pf, i) for i in range(len(pf.tasks))]
    tops = [d.amount for d in durations]
    times, days = _base_parts(ctx, pf, durations)
    if _finish(ctx, pf, times, days, times + days):
        for k, v in enumerate(pf.variants):
            more_times, more_days = _variant_parts(ctx, pf, tops, k, v)
            if more_times or more_days:
                _finish(ctx, pf, times + more_times, days + more_days, more_times + more_days)
    if not ctx.problems:
        span = _advance(pf, max(p.amount for p in times), sum(p.amount for p in days))
        # costs over the longest span all the parts together could make (capped at the limit)
        _costs(ctx, pf, tops, min(span, pf.calendar.latest))
    if ctx.problems:
        raise ScenarioError(ctx.problems)


# --- the finish ---------------------------------------------------------------------------


def _top(law: Distribution) -> float:
    """The law's largest value (its median when it has no maximum)."""
    level = QUANTILE if law.kind in _BOUNDED else 0.5
    with np.errstate(all="ignore"):
        top = float(np.asarray(law.ppf(np.array([level])), dtype=float)[0])
    return math.inf if math.isnan(top) else top


def _reaches(law: Distribution, top: float, unit: str = "working days") -> str:
    tail = "" if law.kind in _BOUNDED else " at its median"
    return f"reaches {top:g} {unit}{tail}"


def _task_loc(pf: Portfolio, i: int) -> Loc:
    t = pf.tasks[i]
    return ("projects", t.project, "tasks", i - pf.projects[t.project].tasks[0])


def _duration(ctx: Context, pf: Portfolio, i: int) -> Part:
    """Task ``i``'s longest duration in the engine (an effort over its units)."""
    t = pf.tasks[i]
    loc = _task_loc(pf, i)
    spec = ctx.spec.projects[t.project].tasks[loc[-1]]
    remaining = t.progress.remaining if t.running and t.progress else None
    law = t.size if remaining is None else remaining
    top = _top(law) / (t.units if t.per_unit and remaining is None else 1.0)
    fields = ("remaining", "duration", "effort", "estimate")
    field = next((f for f in fields if getattr(spec, f) is not None), "duration")
    return Part(top, (*loc, field), _reaches(law, top))


def _base_parts(
    ctx: Context, pf: Portfolio, durations: list[Part]
) -> tuple[list[Part], list[Part]]:
    """The fixed times and the working-day amounts of the base portfolio's bound."""
    times = [Part(0.0, ())]
    times += [Part(p.release, ("projects", k, "start")) for k, p in enumerate(pf.projects)]
    days = []
    for i, t in enumerate(pf.tasks):
        loc = _task_loc(pf, i)
        spec = ctx.spec.projects[t.project].tasks[loc[-1]]
        fixed = "must_start_on" if spec.must_start_on is not None else "start_no_earlier_than"
        times.append(Part(t.earliest, (*loc, fixed)))
        if t.progress is not None:
            done = t.progress.finish if t.progress.finish is not None else t.progress.start
            times.append(Part(done, (*loc, "actual_finish")))
        days.append(durations[i])
        lags = sum(max(x.lag, 0.0) for x in t.preds)
        if lags:
            days.append(Part(lags, (*loc, "after"), f"lags add {lags:g} working days"))
    for pool in pf.pools:
        if pool.changes:
            at = max(when for when, _ in pool.changes)
            times.append(Part(at, ("resources", pool.id, "changes")))
    for r, risk in enumerate(pf.risks):
        days += _risk_parts(pf, [d.amount for d in durations], r)
        if risk.loss is not None:
            loc = ("risks", r, "capacity_loss", "at")
            times.append(Part(risk.loss[2], loc))
    if pf.calendar.status is not None:
        times.append(Part(pf.calendar.status, ("status_date",)))
    return times, days


def _risk_parts(pf: Portfolio, tops: list[float], r: int) -> list[Part]:
    """Risk ``r``'s longest delays, on each task it delays, and its longest capacity loss."""
    risk = pf.risks[r]
    out = []
    if risk.delay is not None and risk.targets:
        top = _top(risk.delay)
        amount = top / 100 * max(tops[i] for i in risk.targets) if risk.percent else top
        unit = "% of each task it delays" if risk.percent else "working days"
        field = "delay_percent" if risk.percent else "delay"
        out.append(Part(amount, ("risks", r, field), _reaches(risk.delay, top, unit)))
    if risk.loss is not None:
        top = _top(risk.loss[3])
        loc = ("risks", r, "capacity_loss", "days")
        out.append(Part(top, loc, _reaches(risk.loss[3], top)))
    return out


def _variant_parts(
    ctx: Context, pf: Portfolio, tops: list[float], k: int, v: Variant
) -> tuple[list[Part], list[Part]]:
    """What variant ``k`` adds to the base's bound: later starts and capacity changes, and
    risks made larger by a mitigation factor above 1."""
    spec = ctx.spec.variants[k]

    def own(field: str, key: str) -> Loc:  # included variants' changes: at the include
        return (
            ("variants", k, field, key)
            if key in getattr(spec, field)
            else ("variants", k, "include")
        )

    times = [Part(t, own("postpone", pf.projects[pk].id)) for pk, t in v.release.items()]
    times += [Part(e.start, own("capacity", pf.pools[q].id)) for q, e in v.capacity.items()]
    days = []
    for r, m in v.mitigate.items():
        if m.factor is not None and m.factor > 1:
            rid = pf.risks[r].id
            loc = own("mitigate", rid)
            loc = (*loc, "impact") if loc[2] == "mitigate" else loc
            grown = sum(p.amount for p in _risk_parts(pf, tops, r)) * (m.factor - 1)
            days.append(Part(grown, loc, f"impact {m.factor:g} on risk '{rid}'"))
    return times, days


def _advance(pf: Portfolio, t0: float, w: float) -> float:
    """When ``w`` working days after ``t0`` have passed in the slowest calendar."""
    cal = pf.calendar
    if cal.start is None:  # one continuous calendar: working days are days
        return t0 + w
    if not (t0 < _FAR and w < _FAR):
        return math.inf
    return max(cal.advance(c, t0, w) for c in range(len(cal.calendars)))


def _finish(
    ctx: Context, pf: Portfolio, times: list[Part], days: list[Part], parts: list[Part]
) -> bool:
    """Whether the latest of ``times`` followed by the largest of ``days`` is within reach;
    else a problem at the largest of ``parts``."""
    finish = _advance(pf, max(p.amount for p in times), max((p.amount for p in days), default=0))
    cal = pf.calendar
    if finish <= cal.latest:
        return True
    part = max(parts, key=lambda p: p.amount)
    if cal.start is None:
        when = "beyond" if math.isinf(finish) else f"at working day {finish:,.0f}, after"
        rule = (
            f"it would end {when} working day {cal.latest:,.0f}, the latest a scenario "
            "without a start date may reach"
        )
    else:
        year = cal.start.year + finish / 365.2425
        when = "beyond any year" if math.isinf(year) else f"around year {int(year):,}"
        rule = f"it would end {when}, and a finish after {LAST_DATE} cannot be shown as a date"
    what = part.what
    if not what:  # a fixed time
        at = part.amount
        shown = str(cal.date_of(at)) if cal.start is not None else f"working day {at:g}"
        what = f"{shown} is the latest fixed date"
    ctx.error(part.loc, f"{what}: {rule} ({_HOW})")
    return False


# --- costs --------------------------------------------------------------------------------


def _costs(ctx: Context, pf: Portfolio, tops: list[float], span: float) -> None:
    """Each project's largest value and cost, base and variants, below :data:`COST_LIMIT`."""
    for k, p in enumerate(pf.projects):
        per_month = ctx.spec.projects[k].value_per_month
        loc = ("projects", k, "value_per_month")
        value = Part(p.value_per_day * span, loc, f"{per_month:g} a month")
        if not value.amount < COST_LIMIT:
            _too_costly(ctx, p.id, "be worth", [value])
    parts = _cost_parts(pf, tops, span)
    for k, p in enumerate(pf.projects):
        if not sum(x.amount for x in parts[k]) < COST_LIMIT:
            _too_costly(ctx, p.id, "cost", parts[k])
    if ctx.problems:
        return
    for v in range(len(pf.variants)):
        extra = _variant_costs(ctx, pf, parts, v)
        for k, p in enumerate(pf.projects):
            if extra[k] and not sum(x.amount for x in parts[k] + extra[k]) < COST_LIMIT:
                _too_costly(ctx, p.id, "cost", extra[k])


def _variant_costs(
    ctx: Context, pf: Portfolio, parts: list[list[Part]], k: int
) -> list[list[Part]]:
    """What variant ``k`` adds to each project's largest cost: mitigation costs, and risk
    costs grown by a mitigation factor above 1."""
    extra: list[list[Part]] = [[] for _ in pf.projects]
    for r, m in pf.variants[k].mitigate.items():
        rid = pf.risks[r].id
        own = rid in ctx.spec.variants[k].mitigate
        loc = ("variants", k, "mitigate", rid) if own else ("variants", k, "include")
        for pk in m.charge:
            share = m.cost / len(m.charge)
            extra[pk].append(Part(share, (*loc, "cost") if own else loc, f"{m.cost:g}"))
        factor = m.factor or 1.0
        for pk, mine in enumerate(parts):
            grown = sum(x.amount for x in mine if x.loc[:2] == ("risks", r)) * (factor - 1)
            if grown > 0:
                where = (*loc, "impact") if own else loc
                extra[pk].append(Part(grown, where, f"impact {factor:g} on risk '{rid}'"))
    return extra


def _cost_parts(pf: Portfolio, tops: list[float], span: float) -> list[list[Part]]:
    """Per project, the parts of its largest cost."""
    out: list[list[Part]] = [
        [
            Part(p.cost, ("projects", k, "cost"), f"{p.cost:g}"),
            Part(
                p.overhead_per_day * span,
                ("projects", k, "overhead_per_day"),
                f"{p.overhead_per_day:g} a day",
            ),
        ]
        for k, p in enumerate(pf.projects)
    ]
    for i, t in enumerate(pf.tasks):
        loc = _task_loc(pf, i)
        out[t.project].append(Part(t.cost, (*loc, "cost"), f"{t.cost:g}"))
        if t.demand:
            q = max(t.demand, key=lambda d: d[1] * pf.pools[d[0]].cost_per_day)[0]
            rate = sum(u * pf.pools[pool].cost_per_day for pool, u in t.demand)
            elapsed = t.progress.elapsed if t.progress is not None else 0.0
            what = f"{pf.pools[q].cost_per_day:g} a day"
            out[t.project].append(
                Part(
                    (tops[i] + elapsed) * rate, ("resources", pf.pools[q].id, "cost_per_day"), what
                )
            )
    for r, risk in enumerate(pf.risks):
        if risk.cost is not None and risk.cost_projects:
            top = _top(risk.cost) / (len(risk.cost_projects) if risk.cost_share else 1)
            for k in risk.cost_projects:
                out[k].append(Part(top, ("risks", r, "cost"), _reaches(risk.cost, top, "")))
    return out


def _too_costly(ctx: Context, project: str, verb: str, parts: list[Part]) -> None:
    part = max(parts, key=lambda p: p.amount)
    total = sum(p.amount for p in parts)
    shown = f"{total:.3g}" if math.isfinite(total) else "more than a number can hold"
    ctx.error(
        part.loc,
        f"{part.what.rstrip()}: project '{project}' could {verb} up to {shown}, and amounts "
        f"must stay below {COST_LIMIT:.0e} (beyond, sums over iterations lose precision and "
        "overflow)",
    )
