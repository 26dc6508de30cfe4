"""Calendars and the clock: absolute time since the scenario start, working time per calendar.

The engine's clock is **absolute time in days** since the beginning of the scenario's start
date: day ``k`` is ``[k, k + 1)``. Each calendar says how much of each day is worked: a
working day of ``h`` hours is the first ``h / hours_per_day`` of the day, a full working day
the whole of it. A task's duration, and a link's lag, are amounts of working time in a
calendar: work of ``d`` days that starts at ``t`` ends at the earliest instant by which ``d``
days of that calendar's working time have passed since ``t``.

Working time up to each day is a precomputed cumulative table (:class:`ClockTable`): a
calendar's table covers its exceptions and beyond them repeats its work week, so any horizon
is exact without per-day loops. A scenario without a start date has no weekdays: its one
calendar works every day (*continuous*), and the clock is plain working days as it always
was.

Two instants have the same working time at the end of a working period: where the work
ends (Friday at midnight) and where the next can begin (Monday at 0:00). The engines use the
second for every event (a task releases its units, a successor becomes ready, a project is
released, at the start of the calendar's next working period), so that on one calendar
events that are simultaneous in working time are simultaneous in time, as they always were;
reported finishes and deadlines use the first (:func:`work_end`).

:func:`work_at`, :func:`time_at` and :func:`delay` are plain Python over the table's arrays,
so that the engines compile these very functions (``simulator.engine.clock``) and every stage
does the same arithmetic.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "FIRST_DATE",
    "LAST_DATE",
    "MAX_PERIODS",
    "UNDATED_LIMIT",
    "Calendar",
    "ClockTable",
    "WorkCalendar",
    "delay",
    "parse_workweek",
    "resume",
    "time_at",
    "work_at",
    "work_end",
]

_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
PERIOD_DAYS = 20  # period length when a scenario has no start date
MAX_PERIODS = 600  # reporting periods at most (50 years of months): per-period arrays stay small
# the dates a scenario may reach: Python's dates end with 9999, and a chart pads its axis
# beyond the data by a share of its span (from 1000 to 9000 there is room on either side)
FIRST_DATE = dt.date(1000, 1, 1)
LAST_DATE = dt.date(9000, 12, 31)
UNDATED_LIMIT = 10_000_000.0  # the latest working day a scenario without a start date reaches


def parse_workweek(spec: str | list[str]) -> str:
    """Turn ``Mon-Fri``, ``[Mon, Tue]``, ``Sun-Thu`` or ``1111100`` into numpy's weekmask."""
    if isinstance(spec, list):
        names = [s.strip().lower()[:3] for s in spec]
        bad = [s for s, n in zip(spec, names, strict=True) if n not in _DAYS]
        if bad:
            raise ValueError(f"unknown day name {bad[0]!r}; use Mon, Tue, Wed, Thu, Fri, Sat, Sun")
        mask = "".join("1" if d in names else "0" for d in _DAYS)
    elif len(spec) == 7 and set(spec) <= {"0", "1"}:
        mask = spec
    elif "-" in spec:
        a, _, b = (x.strip().lower()[:3] for x in spec.partition("-"))
        if a not in _DAYS or b not in _DAYS:
            raise ValueError(f"workweek {spec!r}: expected a range like Mon-Fri")
        i, j = _DAYS.index(a), _DAYS.index(b)
        days = [(i + k) % 7 for k in range((j - i) % 7 + 1)]
        mask = "".join("1" if k in days else "0" for k in range(7))
    else:
        raise ValueError(
            f"workweek {spec!r}: use a range like Mon-Fri, a list of day names, "
            "or a 7-character mask like 1111100"
        )
    if "1" not in mask:
        raise ValueError("workweek has no working day")
    return mask


@dataclass(frozen=True)
class Calendar:
    """One working calendar.

    Attributes:
        name: its key under ``calendars`` (``default`` for the scenario's ``calendar``).
        weekmask: numpy weekmask, Monday first (``1111100`` is Mon-Fri).
        holidays: dates not worked.
        hours_per_day: the hours of a full working day (durations given in hours, and
            partial working days, are measured against it).
        exceptions: ``(date, hours)``: that date is worked for ``hours`` (a half day, or a
            weekend day worked); 0 is a holiday. Exceptions win over holidays.
    """

    name: str = "default"
    weekmask: str = "1111100"
    holidays: tuple[dt.date, ...] = ()
    hours_per_day: float = 8.0
    exceptions: tuple[tuple[dt.date, float], ...] = ()

    def day_work(self, day: dt.date) -> float:
        """The share of ``day`` that is worked (0 to 1)."""
        for when, hours in self.exceptions:
            if when == day:
                return min(hours / self.hours_per_day, 1.0)
        if day in self.holidays:
            return 0.0
        return 1.0 if self.weekmask[day.weekday()] == "1" else 0.0

    def special_days(self) -> list[dt.date]:
        return [*self.holidays, *(d for d, _ in self.exceptions)]

    def busdaycal(self) -> np.busdaycalendar:
        """numpy's view: the days with some work (partial days count as working days)."""
        off = [d for d in self.special_days() if self.day_work(d) == 0]
        return np.busdaycalendar(weekmask=self.weekmask, holidays=[np.datetime64(h) for h in off])


def _day_work(cal: Calendar, start: dt.date, h: int, pattern: list[float]) -> NDArray[np.float64]:
    """The share of each of the ``h`` days from ``start`` that ``cal`` works (as
    :meth:`Calendar.day_work`, in one numpy pass: a holiday in year 9999 costs no loop)."""
    days = np.resize(np.array(pattern), h)
    origin = np.datetime64(start, "D")

    def index(dates: list[dt.date]) -> NDArray[np.int64]:
        k = (np.array(dates, dtype="datetime64[D]") - origin).astype(np.int64)
        return k[(k >= 0) & (k < h)]

    days[index(list(cal.holidays))] = 0.0
    for when, hours in reversed(cal.exceptions):  # the first given for a date wins
        days[index([when])] = min(hours / cal.hours_per_day, 1.0)
    return days


class ClockTable(NamedTuple):
    """Cumulative working time of every calendar, as the engines read it.

    Attributes:
        flat: 1 for a continuous calendar (every instant worked: working time is time).
        cum: ``(calendars, H + 1)``: working days before day ``k`` for ``k <= H`` (``H`` a
            multiple of 7).
        week: ``(calendars, 8)``: working days in the first ``j`` days of any week from day
            ``H`` on (the calendar's work week, no exceptions).
    """

    flat: NDArray[np.int64]
    cum: NDArray[np.float64]
    week: NDArray[np.float64]


def work_at(
    flat: NDArray[np.int64],
    cum: NDArray[np.float64],
    week: NDArray[np.float64],
    c: int,
    t: float,
) -> float:
    """Working time of calendar ``c`` in ``[0, t)``."""
    if flat[c] == 1:
        return t
    if not t > 0.0:
        return 0.0
    h = cum.shape[1] - 1
    k = math.floor(t)
    if k < h:
        base = cum[c, k]
        width = cum[c, k + 1] - base
    else:
        q, r = (k - h) // 7, (k - h) % 7
        base = cum[c, h] + q * week[c, 7] + week[c, r]
        width = week[c, r + 1] - week[c, r]
    x = t - k
    return base + (x if x < width else width)


def time_at(
    flat: NDArray[np.int64],
    cum: NDArray[np.float64],
    week: NDArray[np.float64],
    c: int,
    v: float,
    late: bool,
) -> float:
    """The instant at which calendar ``c`` has worked ``v`` days (``v <= 0``: 0 days): the
    earliest such instant (where that work ends), or with ``late`` the latest (where work
    after it begins: the start of the next working period when ``v`` ends one)."""
    if flat[c] == 1:
        return v
    v = v if v > 0.0 else 0.0
    if not late and v == 0.0:
        return 0.0
    h = cum.shape[1] - 1
    if v < cum[c, h] or (not late and v == cum[c, h]):
        lo, hi = 0, h - 1  # the first day k whose end has worked v (more than v if late)
        while lo < hi:
            mid = (lo + hi) // 2
            if cum[c, mid + 1] > v or (not late and cum[c, mid + 1] == v):
                hi = mid
            else:
                lo = mid + 1
        return lo + (v - cum[c, lo])
    rest = v - cum[c, h]
    q = math.floor(rest / week[c, 7]) if late else math.ceil(rest / week[c, 7]) - 1
    rem = rest - q * week[c, 7]
    r = 0
    while r < 6 and (week[c, r + 1] < rem or (late and week[c, r + 1] == rem)):
        r += 1
    return (h + 7 * q + r) + (rem - week[c, r])


def delay(
    flat: NDArray[np.int64],
    cum: NDArray[np.float64],
    week: NDArray[np.float64],
    c: int,
    t: float,
    d: float,
) -> float:
    """How long after ``t`` work of ``d`` days in calendar ``c`` ends and the calendar's
    next work can begin (the late instant; ``d < 0``: before ``t``, a negative number). A
    continuous calendar's delay is ``d`` itself, so ``t + delay`` is ``t + d`` exactly."""
    if d == 0.0 or flat[c] == 1:
        return d
    out = time_at(flat, cum, week, c, work_at(flat, cum, week, c, t) + d, True) - t
    if d > 0.0 and not out > 0.0:
        return 0.0
    return out


def work_end(
    flat: NDArray[np.int64],
    cum: NDArray[np.float64],
    week: NDArray[np.float64],
    c: int,
    t: float,
) -> float:
    """Where the work done by ``t`` ended: the earliest instant with as much work done."""
    if flat[c] == 1:
        return t
    return time_at(flat, cum, week, c, work_at(flat, cum, week, c, t), False)


def resume(
    flat: NDArray[np.int64],
    cum: NDArray[np.float64],
    week: NDArray[np.float64],
    c: int,
    t: float,
) -> float:
    """Where work after ``t`` can begin: ``t`` itself while the calendar works, else the
    start of its next working period."""
    if flat[c] == 1:
        return t
    return time_at(flat, cum, week, c, work_at(flat, cum, week, c, t), True)


@dataclass(frozen=True)
class WorkCalendar:
    """The scenario's time base: its start date and calendars.

    Attributes:
        start: the scenario start date, or None for a scenario in working days only.
        calendars: the named calendars; ``calendars[default]`` is the scenario's own.
        default: index of the default calendar (projects' overhead, value and periods).
        status: the status date as a time (None without progress).
    """

    start: dt.date | None = None
    calendars: tuple[Calendar, ...] = (Calendar(),)
    default: int = 0
    status: float | None = None

    @property
    def weekmask(self) -> str:
        return self.calendars[self.default].weekmask

    @property
    def holidays(self) -> tuple[dt.date, ...]:
        return self.calendars[self.default].holidays

    def index(self, name: str) -> int | None:
        return next((k for k, c in enumerate(self.calendars) if c.name == name), None)

    @property
    def continuous(self) -> int:
        """The index of the clock's own continuous calendar, after the named ones: every
        instant is worked (what a complete task ran on: its actual dates, as given)."""
        return len(self.calendars)

    @cached_property
    def table(self) -> ClockTable:
        """The cumulative working-time tables of every calendar, and of :attr:`continuous`."""
        n = len(self.calendars) + 1
        flat = np.zeros(n, np.int64)
        flat[-1] = 1
        if self.start is None:
            return ClockTable(np.ones(n, np.int64), np.zeros((n, 8)), np.ones((n, 8)))
        start = self.start
        last = max([start, *(d for c in self.calendars for d in c.special_days())])
        h = 7 * ((last - start).days // 7 + 1)
        cum = np.zeros((n, h + 1))
        week = np.ones((n, 8))
        for c, cal in enumerate(self.calendars):
            pattern = [float(cal.weekmask[(start.weekday() + k) % 7]) for k in range(7)]
            cum[c, 1:] = np.cumsum(_day_work(cal, start, h, pattern))
            week[c, 0] = 0.0
            week[c, 1:] = np.cumsum(pattern)
        return ClockTable(flat, cum, week)

    def work(self, c: int, t: float) -> float:
        """Working time of calendar ``c`` before time ``t``."""
        return work_at(*self.table, c, t)

    def advance(self, c: int, t: float, d: float) -> float:
        """Where work of ``d`` days of calendar ``c`` from ``t`` ends and the next can begin
        (the start of the next working period when it ends one)."""
        return t + delay(*self.table, c, t, d)

    def ends(self, c: int, t: float, d: float) -> float:
        """The earliest instant by which ``d`` working days of calendar ``c`` have passed
        after ``t`` (where that work ends)."""
        return work_end(*self.table, c, self.advance(c, t, d))

    def resume(self, c: int, t: float) -> float:
        """``t``, or the start of calendar ``c``'s next working period when it does not work
        at ``t``."""
        return resume(*self.table, c, t)

    def offset(self, day: dt.date) -> float:
        """The time of the beginning of ``day``."""
        assert self.start is not None
        return float((day - self.start).days)

    def end_of(self, day: dt.date) -> float:
        """The time of the end of ``day`` (used for deadlines)."""
        return self.offset(day) + 1.0

    @property
    def latest(self) -> float:
        """The latest time a scenario may reach: the end of :data:`LAST_DATE`, or working
        day :data:`UNDATED_LIMIT` without a start date."""
        return UNDATED_LIMIT if self.start is None else self.end_of(LAST_DATE)

    def date_of(self, t: float) -> dt.date:
        """The date of instant ``t``."""
        assert self.start is not None
        return self.start + dt.timedelta(days=math.floor(t))

    def finish_dates(self, finish: NDArray[np.float64]) -> NDArray[np.datetime64] | None:
        """The day on which work ending at time ``finish`` ends (the day before midnight)."""
        if self.start is None:
            return None
        idx = np.maximum(np.ceil(np.asarray(finish, dtype=float)) - 1, 0).astype(np.int64)
        return np.datetime64(self.start, "D") + idx

    def start_dates(self, start: NDArray[np.float64], c: int) -> NDArray[np.datetime64] | None:
        """The working day of calendar ``c`` on which work starting at ``start`` begins: the
        day of :meth:`resume`, so a weekend day worked counts and a half day's afternoon
        does not."""
        if self.start is None:
            return None
        begins = [self.resume(c, float(t)) for t in np.asarray(start, dtype=float)]
        idx = np.floor(np.array(begins, dtype=float)).astype(np.int64)
        return np.datetime64(self.start, "D") + idx

    def finish_date(self, finish: float) -> str | None:
        dates = self.finish_dates(np.array([finish]))
        return None if dates is None else str(dates[0])

    def periods(self, horizon: float) -> tuple[list[str], NDArray[np.float64]]:
        """Reporting periods covering ``[0, horizon)``: calendar months when the scenario has
        a start date, otherwise blocks of 20 working days; at most :data:`MAX_PERIODS` of
        them (a longer horizon is covered up to their end). Returns labels and the boundary
        times (one more than labels)."""
        horizon = max(horizon, 1.0)
        if self.start is None:
            n = min(math.ceil(horizon / PERIOD_DAYS), MAX_PERIODS)
            grid = np.arange(n + 1, dtype=float) * PERIOD_DAYS
            return [f"wd {int(a)}-{int(b)}" for a, b in itertools.pairwise(grid)], grid
        labels: list[str] = []
        edges = [0.0]
        year, month = self.start.year, self.start.month
        while True:
            labels.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            last = year > dt.MAXYEAR  # December 9999 ends where dates end
            end = dt.date(dt.MAXYEAR, 12, 31)
            edge = self.end_of(end) if last else self.offset(dt.date(year, month, 1))
            edges.append(edge)
            if edge >= horizon or last or len(labels) == MAX_PERIODS:
                return labels, np.array(edges)
