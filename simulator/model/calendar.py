"""Working-day calendars: the engine's clock is working days since the scenario start.

Day ``k`` is the k-th working day on or after the start date. A task occupying ``[s, f)``
starts on day ``floor(s)`` and finishes on day ``ceil(f) - 1``; a deadline date ``D`` is the
offset of the end of ``D``, so a project finishing at ``f`` is on time when ``f <= deadline``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["WorkCalendar", "parse_workweek"]

_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
PERIOD_DAYS = 20  # period length when a scenario has no start date


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
class WorkCalendar:
    """Maps working-day offsets to dates.

    Attributes:
        start: the scenario start date, or None for a scenario in working days only.
        weekmask: numpy weekmask, Monday first (``1111100`` is Mon-Fri).
        holidays: dates not worked.
    """

    start: dt.date | None = None
    weekmask: str = "1111100"
    holidays: tuple[dt.date, ...] = ()

    def _cal(self) -> np.busdaycalendar:
        return np.busdaycalendar(
            weekmask=self.weekmask, holidays=[np.datetime64(h, "D") for h in self.holidays]
        )

    def offset(self, day: dt.date) -> float:
        """Working days before ``day`` (the beginning of ``day``)."""
        assert self.start is not None
        return float(
            np.busday_count(
                np.datetime64(self.start, "D"), np.datetime64(day, "D"), busdaycal=self._cal()
            )
        )

    def end_of(self, day: dt.date) -> float:
        """Offset of the end of ``day`` (used for deadlines)."""
        return self.offset(day + dt.timedelta(days=1))

    def finish_dates(self, finish: NDArray[np.float64]) -> NDArray[np.datetime64] | None:
        """The working day on which work ending at offset ``finish`` ends."""
        if self.start is None:
            return None
        idx = np.maximum(np.ceil(np.asarray(finish, dtype=float)) - 1, 0).astype(np.int64)
        return np.busday_offset(
            np.datetime64(self.start, "D"), idx, roll="forward", busdaycal=self._cal()
        )

    def finish_date(self, finish: float) -> str | None:
        dates = self.finish_dates(np.array([finish]))
        return None if dates is None else str(dates[0])

    def periods(self, horizon: float) -> tuple[list[str], NDArray[np.float64]]:
        """Reporting periods covering ``[0, horizon)``: calendar months when the scenario has
        a start date, otherwise blocks of 20 working days. Returns labels and the boundary
        offsets (one more than labels)."""
        horizon = max(horizon, 1.0)
        if self.start is None:
            n = math.ceil(horizon / PERIOD_DAYS)
            grid = np.arange(n + 1, dtype=float) * PERIOD_DAYS
            return [f"wd {int(a)}-{int(b)}" for a, b in itertools.pairwise(grid)], grid
        labels: list[str] = []
        edges = [0.0]
        year, month = self.start.year, self.start.month
        while True:
            labels.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            edge = self.offset(dt.date(year, month, 1))
            edges.append(edge)
            if edge >= horizon:
                return labels, np.array(edges)
