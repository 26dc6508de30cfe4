"""Forecasts over time: what moved between two forecasts and whether the move is larger than
Monte Carlo noise, which projects and key dates joined or left, the early-warning alerts,
the schedule contingency, and the accuracy of past forecasts once the actual finishes are
known. Pure: history rows in, values out.

**Noise.** A history row keeps each figure's standard error but nothing per iteration, so a
change is judged *unpaired*: P(on time) moves by ``p2 - p1`` with standard error
``sqrt(se1^2 + se2^2)``; a P80 date moves by a number of working days whose standard error
comes from the two P80s' 95 % intervals (half-width / 1.96 each). A move is *beyond noise*
when it exceeds :data:`NOISE_Z` (2) standard errors. Two runs with the same seed share
random numbers only where their inputs agree; their figures are then positively correlated
and the unpaired standard error is an upper bound: a move called beyond noise is so; a small
one may be called noise when a paired comparison would have resolved it. Same scenario
hash, same seed and iterations: the same figures, no move.

**Working days.** Slips and contingencies are counted in working days of the scenario's
default calendar, as the later forecast records it (work week and days off).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .forecasts import ForecastRow, working_days
from .scores import brier, coverage, pinball
from .summary import QUANTILES, Z95

__all__ = [
    "NOISE_Z",
    "Alert",
    "Change",
    "Forecast",
    "Move",
    "Score",
    "accuracy",
    "alerts",
    "changes",
    "contingency",
    "counted",
    "forecasts",
    "move",
    "moves",
]

NOISE_Z = 2.0  # a move is beyond Monte Carlo noise beyond this many standard errors
LEVELS = tuple(q / 100 for q in QUANTILES)  # the levels of ForecastRow.finish
_EPOCH = dt.date(2000, 1, 3)  # working days are counted from here (differences only)
WATCHED = ("project", "key_date")  # the kinds of rows alerts and moves are about


@dataclass(frozen=True)
class Forecast:
    """One forecast of the history: its rows, all with the same status date and hash."""

    rows: tuple[ForecastRow, ...]

    @property
    def status_date(self) -> dt.date:
        return self.rows[0].status_date

    @property
    def first(self) -> ForecastRow:
        return self.rows[0]

    def row(self, item: str) -> ForecastRow | None:
        return next((r for r in self.rows if r.item == item), None)


def forecasts(rows: Iterable[ForecastRow]) -> tuple[Forecast, ...]:
    """The rows grouped into forecasts by (status date, scenario hash), in status-date order
    (forecasts of one status date in the order they were recorded)."""
    groups: dict[tuple[dt.date, str], list[ForecastRow]] = {}
    for r in rows:
        groups.setdefault(r.key, []).append(r)
    ordered = sorted(enumerate(groups.values()), key=lambda kv: (kv[1][0].status_date, kv[0]))
    return tuple(Forecast(tuple(g)) for _, g in ordered)


@dataclass(frozen=True)
class Move:
    """How one project or key date moved from the forecast ``before`` to the next.

    Attributes:
        item, kind: as in :class:`ForecastRow`.
        p_before, p_after: P(on time) (None without a deadline); ``p_change`` their
            difference with standard error ``p_se`` (unpaired); ``p_beyond``: larger than
            :data:`NOISE_Z` standard errors.
        p80_before, p80_after: the P80 dates; ``slip``: working days later (negative:
            earlier), ``slip_se`` its standard error, ``slip_beyond`` as for P(on time).
    """

    item: str
    kind: str
    p_before: float | None
    p_after: float | None
    p_change: float | None
    p_se: float | None
    p_beyond: bool
    p80_before: dt.date | None
    p80_after: dt.date | None
    slip: int | None
    slip_se: float | None
    slip_beyond: bool

    @property
    def beyond(self) -> bool:
        """Whether either figure moved beyond noise."""
        return self.p_beyond or self.slip_beyond


def _p80_se(r: ForecastRow, workweek: str, holidays: tuple[dt.date, ...]) -> float:
    """The standard error of the P80 in working days, from its 95 % interval."""
    if r.p80_low is None or r.p80_high is None:
        return 0.0
    return working_days(r.p80_low, r.p80_high, workweek, holidays) / (2 * Z95)


def _beyond(change: float, se: float) -> bool:
    return abs(change) > NOISE_Z * se + 1e-12


def move(a: ForecastRow, b: ForecastRow) -> Move:
    """How ``a`` (earlier) moved to ``b``."""
    p_change = p_se = None
    if a.p_on_time is not None and b.p_on_time is not None:
        p_change = b.p_on_time - a.p_on_time
        p_se = math.hypot(a.p_on_time_se or 0.0, b.p_on_time_se or 0.0)
    slip = slip_se = None
    if a.p80 is not None and b.p80 is not None:
        slip = working_days(a.p80, b.p80, b.workweek, b.holidays)
        slip_se = math.hypot(_p80_se(a, b.workweek, b.holidays), _p80_se(b, b.workweek, b.holidays))
    return Move(
        b.item,
        b.kind,
        a.p_on_time,
        b.p_on_time,
        p_change,
        p_se,
        p_change is not None and p_se is not None and _beyond(p_change, p_se),
        a.p80,
        b.p80,
        slip,
        slip_se,
        slip is not None and slip_se is not None and _beyond(slip, slip_se),
    )


def moves(before: Forecast, after: Forecast) -> tuple[Move, ...]:
    """Every project and key date of ``after`` that ``before`` also forecast."""
    out = []
    for b in after.rows:
        a = before.row(b.item)
        if b.kind in WATCHED and a is not None and a.kind == b.kind:
            out.append(move(a, b))
    return tuple(out)


@dataclass(frozen=True)
class Change:
    """A project or key date in only one of two forecasts.

    Attributes:
        item, kind: as in :class:`ForecastRow`.
        added: in the later forecast only (False: in the earlier one only).
        seen: for an added item, the latest forecast before the later one that had it (None:
            none did); for a dropped item, the last forecast that had it.
    """

    item: str
    kind: str
    added: bool
    seen: dt.date | None


def _owner(item: str, projects: set[str]) -> str | None:
    """The project of the key date ``item`` (``project.task``, ids may hold dots)."""
    return max((p for p in projects if item.startswith(p + ".")), key=len, default=None)


def changes(history: Sequence[Forecast], before: Forecast, after: Forecast) -> tuple[Change, ...]:
    """The projects and key dates in only one of ``before`` and the later ``after``, both
    forecasts of ``history``; a key date whose project is itself in only one is left out
    (its project's change says it)."""
    earlier = history[: list(history).index(after)]
    had = {(r.kind, r.item) for r in before.rows if r.kind in WATCHED}
    has = {(r.kind, r.item) for r in after.rows if r.kind in WATCHED}
    projects = {item for kind, item in had | has if kind == "project"}
    moved = {item for kind, item in had ^ has if kind == "project"}
    out = []
    for rows, added, others in ((after.rows, True, had), (before.rows, False, has)):
        for r in rows:
            if r.kind not in WATCHED or (r.kind, r.item) in others:
                continue
            if r.kind == "key_date" and _owner(r.item, projects) in moved:
                continue
            seen = next((f.status_date for f in reversed(earlier) if _has(f, r.kind, r.item)), None)
            out.append(Change(r.item, r.kind, added, seen))
    return tuple(out)


def _has(f: Forecast, kind: str, item: str) -> bool:
    return any(r.kind == kind and r.item == item for r in f.rows)


def counted(f: Forecast) -> tuple[str, ...]:
    """The projects the forecast's P(all on time) counts: those with a deadline."""
    return tuple(r.item for r in f.rows if r.kind == "project" and r.deadline is not None)


def contingency(r: ForecastRow) -> int | None:
    """The schedule contingency: working days from the deterministic finish to the P80."""
    if r.p80 is None or r.deterministic is None:
        return None
    return working_days(r.deterministic, r.p80, r.workweek, r.holidays)


@dataclass(frozen=True)
class Alert:
    """An early warning about ``item`` in the latest forecast.

    Attributes:
        rule: ``p_on_time_below`` or ``p80_slip_days``; ``threshold`` the scenario's value.
        value: the P(on time) (± ``se``), or the P80 slip in working days.
        since: the status date of the previous forecast, when there is one.
        crossed: for ``p_on_time_below``: the previous forecast was at or above the
            threshold (None without a previous forecast).
    """

    item: str
    rule: str
    value: float
    threshold: float
    se: float | None = None
    since: dt.date | None = None
    crossed: bool | None = None


def _below(r: ForecastRow, prev: Forecast | None) -> Alert | None:
    limit = r.alert_p_on_time_below
    if limit is None or r.kind not in WATCHED or r.p_on_time is None or r.p_on_time >= limit:
        return None
    a = None if prev is None else prev.row(r.item)
    was = None if a is None else a.p_on_time
    crossed = None if was is None else was >= limit
    since = None if prev is None else prev.status_date
    return Alert(r.item, "p_on_time_below", r.p_on_time, limit, r.p_on_time_se, since, crossed)


def alerts(latest: Forecast, previous: Forecast | None = None) -> tuple[Alert, ...]:
    """The alerts of ``latest`` under its scenario's thresholds: every P(on time) below
    ``p_on_time_below``, and (with a previous forecast) every P80 that slipped more than
    ``p80_slip_days`` working days since it. Point estimates are compared with the
    thresholds; the standard error is reported beside them."""
    found = [a for r in latest.rows if (a := _below(r, previous)) is not None]
    limit = latest.first.alert_p80_slip_days
    if previous is not None and limit is not None:
        for m in moves(previous, latest):
            if m.slip is not None and m.slip > limit:
                found.append(
                    Alert(m.item, "p80_slip_days", m.slip, limit, m.slip_se, previous.status_date)
                )
    return tuple(found)


@dataclass(frozen=True)
class Score:
    """The accuracy of forecasts against actual finishes.

    Attributes:
        status_date: the forecast's (None for all forecasts together).
        n: projects scored (an actual finish known, after the status date).
        coverage: the share of actual finishes within the P10-P90 dates (ideal 0.8).
        pinball: pinball loss over the P10, P50, P80 and P90, in working days.
        brier: Brier score of P(on time) over the ``n_brier`` projects with a deadline.
    """

    status_date: dt.date | None
    n: int
    coverage: float
    pinball: float
    brier: float | None
    n_brier: int


def _index(day: dt.date, r: ForecastRow) -> int:
    return working_days(_EPOCH, day, r.workweek, r.holidays)


def _score(status: dt.date | None, pairs: list[tuple[ForecastRow, dt.date]]) -> Score:
    y = np.array([_index(actual, r) for r, actual in pairs], dtype=float)
    q = np.array([[_index(d, r) for d in r.finish if d is not None] for r, _ in pairs], float)
    dated = [(r, a) for r, a in pairs if r.p_on_time is not None and r.deadline is not None]
    p = [float(r.p_on_time or 0.0) for r, _ in dated]
    hit = [a <= r.deadline for r, a in dated]  # type: ignore[operator]
    return Score(
        status,
        len(pairs),
        coverage(y, q[:, 0], q[:, -1]),
        float(np.mean(pinball(y, q, LEVELS))),
        brier(p, hit) if dated else None,
        len(dated),
    )


def accuracy(
    history: tuple[Forecast, ...], actuals: Mapping[str, dt.date]
) -> tuple[tuple[Score, ...], Score | None]:
    """Per forecast and overall, the scores of the project forecasts whose actual finish is
    known. A forecast made on or after a project's actual finish is not scored for it (it
    already knew the answer)."""
    per: list[Score] = []
    pooled: list[tuple[ForecastRow, dt.date]] = []
    for f in history:
        pairs = [
            (r, actuals[r.item])
            for r in f.rows
            if r.kind == "project"
            and r.item in actuals
            and r.status_date < actuals[r.item]
            and None not in r.finish
        ]
        if pairs:
            per.append(_score(f.status_date, pairs))
            pooled += pairs
    return tuple(per), (_score(None, pooled) if pooled else None)
