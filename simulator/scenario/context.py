"""What every builder of a scenario shares: the file, its validated spec, the problems found
so far, and the calendars that turn the file's dates into times."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Problem
from ..model import Calendar, Distribution, Fixed, WorkCalendar, parse_workweek
from ..model.calendar import FIRST_DATE, LAST_DATE, UNDATED_LIMIT
from . import schema as S
from .yamlfile import Located, display_path

__all__ = ["Context", "dist"]

_GLOB = set("*?[]")
_SHOWN = f"dates from {FIRST_DATE} to {LAST_DATE} can be shown (charts need room up to year 9999)"
_FAR = 1e9  # working days beyond any time a scenario may reach (no arithmetic on them)


@dataclass
class Context:
    """A scenario being built.

    Attributes:
        located: the file's data with the position of every value.
        spec: the file, validated against the schema.
        folder: the scenario's folder (files it cites are read relative to it).
        problems: every problem found so far, each located in the file.
        warnings: things accepted but worth saying (out-of-sequence progress), located.
        calendar: the scenario's calendar (see :meth:`read_calendar`).
    """

    located: Located
    spec: S.ScenarioFile
    folder: Path
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)

    def error(self, loc: tuple[Any, ...], message: str, *, key: bool = False) -> None:
        """Record a problem at field path ``loc`` (at its key when ``key``)."""
        line, col = self.located.where(loc, key=key)
        self.problems.append(
            Problem(self.located.file, line, col, display_path(self.located.data, loc), message)
        )

    def warn(self, loc: tuple[Any, ...], message: str) -> None:
        """Record a warning at field path ``loc``: reported, not an error."""
        line, col = self.located.where(loc)
        self.warnings.append(
            Problem(self.located.file, line, col, display_path(self.located.data, loc), message)
        )

    def read_calendar(self) -> None:
        """The default calendar (``calendar``: inline, or the name of one of ``calendars``),
        the named calendars, and the status date."""
        spec = self.spec
        named = [self._calendar(name, c, ("calendars", name)) for name, c in spec.calendars.items()]
        chosen = spec.calendar
        if "calendar" not in spec.model_fields_set and "default" in spec.calendars:
            chosen = "default"  # calendars.default is the default when 'calendar' is not given
        if isinstance(chosen, str):
            default = next((k for k, c in enumerate(named) if c.name == chosen), None)
            if default is None:
                self.unknown_calendar(chosen, ("calendar",), named)
            calendars, index = tuple(named) or (Calendar(),), default or 0
        else:
            own = self._calendar("default", chosen, ("calendar",))
            calendars, index = (own, *(c for c in named if c.name != "default")), 0
            if "default" in spec.calendars:
                self.error(
                    ("calendars", "default"),
                    "'default' names the scenario's own calendar, given inline as 'calendar:', "
                    "which would replace this one: give one of them another name",
                    key=True,
                )
        if spec.start is not None and spec.start < FIRST_DATE:
            self.error(("start",), f"{spec.start} is before {FIRST_DATE}: {_SHOWN}")
        if spec.start is None and spec.calendars:
            self.error(("calendars",), "calendars need the scenario's start date: add 'start:'")
        self.calendar = WorkCalendar(spec.start, calendars, index)
        if spec.status_date is not None:
            status = self.offset(spec.status_date, ("status_date",))
            self.calendar = WorkCalendar(spec.start, calendars, index, status)

    def _calendar(self, name: str, cal: S.CalendarSpec, loc: tuple[Any, ...]) -> Calendar:
        try:
            mask = parse_workweek(cal.workweek)
        except ValueError as e:
            self.error((*loc, "workweek"), str(e))
            mask = "1111100"
        exceptions = [(d, cal.hours_per_day) for d in cal.working_days]
        exceptions += [(x.date, x.hours) for x in cal.exceptions]
        return Calendar(
            name, mask, tuple(sorted(set(cal.holidays))), cal.hours_per_day, tuple(exceptions)
        )

    def unknown_calendar(self, name: str, loc: tuple[Any, ...], named: Any = None) -> None:
        known = [c.name for c in (named if named is not None else self.calendar.calendars)]
        listed = ", ".join(known) or "none defined (add a 'calendars:' section)"
        self.error(loc, f"unknown calendar '{name}'; calendars: {listed}")

    def calendar_index(self, name: str | None, loc: tuple[Any, ...], fallback: int) -> int:
        """The index of calendar ``name`` (``fallback`` when None or unknown, reported)."""
        if name is None:
            return fallback
        found = self.calendar.index(name)
        if found is None:
            self.unknown_calendar(name, loc)
            return fallback
        return found

    def offset(self, when: dt.date | float, loc: tuple[Any, ...], *, end: bool = False) -> float:
        """The time of a date (its end with ``end``), or of a number of working days of the
        default calendar since the start (the instant by which they have passed)."""
        if not isinstance(when, dt.date):
            return self.working_day(self.calendar.default, 0.0, float(when), loc, end=end)
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
        if when > LAST_DATE:
            self.beyond(str(when), loc)
            return self.calendar.latest
        return self.calendar.end_of(when) if end else self.calendar.offset(when)

    def working_day(
        self,
        c: int,
        t: float,
        days: float,
        loc: tuple[Any, ...],
        *,
        end: bool = False,
        what: str = "working day {days:g}",
    ) -> float:
        """Where ``days`` working days of calendar ``c`` after ``t`` have passed (where that
        work ends with ``end``); past what a scenario may reach, a problem at ``loc`` saying
        ``what`` (formatted with ``days``) is too late."""
        cal = self.calendar
        if days < _FAR:
            t = cal.ends(c, t, days) if end else cal.advance(c, t, days)
        if days >= _FAR or t > cal.latest:
            self.beyond(what.format(days=days), loc)
            return cal.latest
        return t

    def beyond(self, what: str, loc: tuple[Any, ...]) -> None:
        """A problem at ``loc``: ``what`` (a time) is later than a scenario may reach."""
        if self.calendar.start is None:
            self.error(
                loc,
                f"{what} is after working day {UNDATED_LIMIT:,.0f}, the latest a scenario "
                "without a start date may reach",
            )
        else:
            self.error(loc, f"{what} is after {LAST_DATE}: {_SHOWN}")

    def check_alike(
        self, names: list[tuple[str, tuple[Any, ...]]], what: str, *, key: bool = False
    ) -> None:
        """Names that differ yet print alike (in Unicode normalisation, NFC or NFD, or in
        spaces at either end; pool names also in letter case): each after the first is a
        problem naming the first one's line."""
        first: dict[str, tuple[str, tuple[Any, ...]]] = {}
        for name, loc in names:
            folded = unicodedata.normalize("NFC", name).strip()
            folded = folded.casefold() if what == "pool" else folded
            other, where = first.setdefault(folded, (name, loc))
            if other != name:
                line = self.located.where(where, key=key)[0]
                self.error(
                    loc,
                    f"{what} {_shown(name)} looks the same as {what} {_shown(other)} on line "
                    f"{line}: they differ only in {_difference(name, other)}; write them "
                    "alike or give them different names",
                    key=key,
                )

    def check_ids(
        self, ids: list[str], loc: tuple[Any, ...], what: str, *, dots: bool = True
    ) -> None:
        """Duplicate ids, and ids with wildcard characters (or dots, unless ``dots``)."""
        self.check_alike([(ident, (*loc, k, "id")) for k, ident in enumerate(ids)], f"{what} id")
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
        known = ", ".join(index) or "none defined"
        self.error(loc, f"unknown {what} '{ident}'; {what}s: {known}", key=key)
        return None


def _shown(name: str) -> str:
    """``'café'``, and its code points when they are not plain ASCII (``caf\\xe9``)."""
    escaped = ascii(name)
    return f"{name!r}" if escaped == repr(name) else f"{name!r} ({escaped})"


def _difference(a: str, b: str) -> str:
    if unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b):
        return "Unicode normalisation (composed or decomposed accents, NFC or NFD)"
    if a.strip() == b.strip():
        return "spaces at either end"
    return "letter case or spaces"


def dist(spec: Any) -> Distribution:
    """A distribution spec of the file, or a plain number (a fixed value), as a model
    distribution."""
    if isinstance(spec, S.DistSpec):
        return spec.build()
    return Fixed(float(spec))
