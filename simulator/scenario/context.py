"""What every builder of a scenario shares: the file, its validated spec, the problems found
so far, and the calendar that turns the file's dates into working days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Problem
from ..model import Distribution, Fixed, WorkCalendar, parse_workweek
from . import schema as S
from .yamlfile import Located, display_path

__all__ = ["Context", "dist"]

_GLOB = set("*?[]")


@dataclass
class Context:
    """A scenario being built.

    Attributes:
        located: the file's data with the position of every value.
        spec: the file, validated against the schema.
        folder: the scenario's folder (files it cites are read relative to it).
        problems: every problem found so far, each located in the file.
        calendar: the scenario's calendar (see :meth:`read_calendar`).
    """

    located: Located
    spec: S.ScenarioFile
    folder: Path
    problems: list[Problem] = field(default_factory=list)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)

    def error(self, loc: tuple[Any, ...], message: str, *, key: bool = False) -> None:
        """Record a problem at field path ``loc`` (at its key when ``key``)."""
        line, col = self.located.where(loc, key=key)
        self.problems.append(
            Problem(self.located.file, line, col, display_path(self.located.data, loc), message)
        )

    def read_calendar(self) -> None:
        cal = self.spec.calendar
        try:
            mask = parse_workweek(cal.workweek)
        except ValueError as e:
            self.error(("calendar", "workweek"), str(e))
            mask = "1111100"
        self.calendar = WorkCalendar(self.spec.start, mask, tuple(sorted(set(cal.holidays))))

    def offset(self, when: dt.date | float, loc: tuple[Any, ...], *, end: bool = False) -> float:
        """Working days since the start for a date (its end with ``end``) or a number."""
        if not isinstance(when, dt.date):
            return float(when)
        start = self.calendar.start
        if start is None:
            self.error(
                loc,
                f"the date {when} needs a scenario start date: add 'start: "
                "YYYY-MM-DD' at the top or give a number of working days",
            )
            return 0.0
        if when < start:
            self.error(loc, f"{when} is before the scenario start {start}")
            return 0.0
        return self.calendar.end_of(when) if end else self.calendar.offset(when)

    def check_ids(
        self, ids: list[str], loc: tuple[Any, ...], what: str, *, dots: bool = True
    ) -> None:
        """Duplicate ids, and ids with wildcard characters (or dots, unless ``dots``)."""
        seen: dict[str, int] = {}
        for k, ident in enumerate(ids):
            where = (*loc, k, "id")
            if ident in seen:
                self.error(where, f"duplicate {what} id '{ident}' (also {what} #{seen[ident] + 1})")
            seen.setdefault(ident, k)
            bad = _GLOB | ({"."} if not dots else set())
            if bad & set(ident):
                self.error(
                    where,
                    f"{what} id '{ident}' may not contain {' '.join(sorted(bad & set(ident)))}",
                )

    def lookup(
        self,
        index: dict[str, int],
        ident: str,
        loc: tuple[Any, ...],
        what: str,
        *,
        key: bool = True,
    ) -> int | None:
        """``index[ident]``, or a problem naming the known ones."""
        if ident in index:
            return index[ident]
        self.error(loc, f"unknown {what} '{ident}'; {what}s: {', '.join(index)}", key=key)
        return None


def dist(spec: Any) -> Distribution:
    """A distribution spec of the file, or a plain number (a fixed value), as a model
    distribution."""
    if isinstance(spec, S.DistSpec):
        return spec.build()
    return Fixed(float(spec))
