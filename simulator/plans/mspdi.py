"""MS Project XML (MSPDI) plans, read with the standard library behind ``defusedxml``
(see :mod:`._xml`).

What is read: the project's start and status dates, its calendars (work week from the week
days, exceptions as holidays, worked days or partial days), its tasks (summary tasks give
their links to the tasks below them; milestones; durations in working days of the task's
calendar), links (type and lag: working or elapsed minutes, days, weeks, months, or a
percentage of the predecessor's duration), date constraints and progress. Every decision
that loses information (a constraint kind pmosim does not have, a resource) is noted.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from ..errors import Problem, ScenarioError
from ._xml import MSPDI_ROOT, parse_xml

__all__ = ["Plan", "finite", "read_mspdi"]

NS = "{http://schemas.microsoft.com/project}"
_DURATION = re.compile(r"^-?PT(\d+(?:\.\d+)?)H(\d+(?:\.\d+)?)M(\d+(?:\.\d+)?)S$")
# MSPDI link types: 0 FF, 1 FS, 2 SF, 3 SS
_LINK_TYPES = {"0": "FF", "1": "FS", "2": "SF", "3": "SS"}
# LagFormat: elapsed units are even; 19/20 are percentages of the predecessor's duration
_ELAPSED = {4, 6, 8, 10, 12, 20, 36, 38, 40, 42, 44, 52}
_PERCENT = {19, 20, 51, 52}
_DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]


def finite(value: str) -> float:
    """The number ``value`` holds, NaN when it holds none (the readers refuse NaN and
    infinities alike, at the field)."""
    try:
        return float(value)
    except ValueError:
        return math.nan


@dataclass
class Plan:
    """A plan read onto the scenario structure.

    Attributes:
        data: the scenario's plain data (what its YAML file would hold).
        notes: every mapping decision and every item left out, one line each.
        stored: per ``project.task``, the start and finish the file's own scheduler stored
            (of the remaining work, for a task in progress; none for a complete task), to
            check a schedule against.
    """

    data: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    stored: dict[str, tuple[dt.datetime, dt.datetime]] = field(default_factory=dict)


def _text(el: ET.Element, tag: str, default: str = "") -> str:
    found = el.find(NS + tag)
    return default if found is None or found.text is None else found.text.strip()


class _Reader:
    def __init__(self, root: ET.Element, name: str) -> None:
        self.root, self.name = root, name
        self.notes: list[str] = []
        self.minutes_per_day = self.number(root, "", "MinutesPerDay", 480.0, positive=True)
        self.start = self.when(_text(root, "StartDate"), "StartDate").date()
        self.day_hours: dict[str, float] = {}  # hours of each calendar's working day
        self.default = "1"  # the project calendar's UID
        self.status: tuple[dt.datetime, str, str] | None = None  # when, as written, where
        self.fields = {  # custom field id -> its alias, else its name
            _text(a, "FieldID"): _text(a, "Alias") or _text(a, "FieldName")
            for a in root.findall(f"{NS}ExtendedAttributes/{NS}ExtendedAttribute")
        }

    def fail(self, where: str, message: str) -> NoReturn:
        raise ScenarioError([Problem(self.name, 0, 0, where, message)])

    def when(self, value: str, where: str) -> dt.datetime:
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            self.fail(where, f"expected a date and time like 2018-10-18T08:00:00, got {value!r}")

    def number(
        self, el: ET.Element, where: str, tag: str, default: float, *, positive: bool = False
    ) -> float:
        """The finite number in ``el``'s child ``tag`` (``default`` when it is absent or
        empty), located at ``where/tag`` when it is not one."""
        value = _text(el, tag)
        if not value:
            return default
        number = finite(value)
        if not math.isfinite(number) or (positive and number <= 0):
            rule = "a positive number" if positive else "a number"
            self.fail(f"{where}/{tag}" if where else tag, f"expected {rule}, got {value!r}")
        return number

    def actual(self, el: ET.Element, where: str, tag: str, days: int) -> dt.datetime:
        """The actual date in ``el``'s child ``tag``, at least ``days`` before the status
        date's day (1: a start on it at the latest, 0: a finish before it)."""
        value = _text(el, tag)
        when = self.when(value, f"{where}/{tag}")
        if self.status is not None and (when.date() - self.status[0].date()).days >= days:
            message = (
                f"{value} is {'on or ' if days == 0 else ''}after the status date "
                f"{self.status[1]} ({self.status[2]}): work after it has not happened yet"
            )
            self.fail(f"{where}/{tag}", message)
        return when

    def integer(self, el: ET.Element, where: str, tag: str, default: int) -> int:
        """The whole number in ``el``'s child ``tag`` (``default`` when absent or empty)."""
        value = _text(el, tag)
        try:
            return int(value) if value else default
        except ValueError:
            self.fail(f"{where}/{tag}", f"expected a whole number, got {value!r}")

    def clock(self, el: ET.Element, where: str, tag: str) -> float:
        """The time of day in ``el``'s child ``tag``, in hours since midnight."""
        value = _text(el, tag)
        try:
            t = dt.datetime.strptime(value, "%H:%M:%S")
        except ValueError:
            self.fail(f"{where}/{tag}", f"expected a time like 08:00:00, got {value!r}")
        return t.hour + t.minute / 60 + t.second / 3600

    def hours(self, value: str, where: str) -> float:
        m = _DURATION.match(value)
        if not m:
            self.fail(where, f"expected a duration like PT8H0M0S, got {value!r}")
        h, mi, s = (float(x) for x in m.groups())
        sign = -1.0 if value.startswith("-") else 1.0
        return sign * (h + mi / 60 + s / 3600)

    def calendars(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The ``calendars`` section, and the name of each calendar by UID."""
        found = self.root.findall(f"{NS}Calendars/{NS}Calendar")
        by_uid = {_text(c, "UID"): c for c in found}
        names: dict[str, str] = {}
        out: dict[str, Any] = {}
        for uid, cal in by_uid.items():
            name = re.sub(r"[^\w-]+", "-", _text(cal, "Name") or f"calendar-{uid}").strip("-")
            name = name if name not in out else f"{name}-{uid}"
            names[uid] = name
            out[name] = self.calendar(cal, by_uid, f"Calendars/Calendar[UID={uid}]")
        return out, names

    def week(
        self, cal: ET.Element, by_uid: dict[str, ET.Element], below: tuple[str, ...] = ()
    ) -> dict[int, float]:
        """Hours worked per week day (1 = Sunday ... 7 = Saturday), the base calendar's
        where this one says nothing (``below``: the calendars based on this one, in turn)."""
        uid, base_uid = _text(cal, "UID"), _text(cal, "BaseCalendarUID", "-1")
        where = f"Calendars/Calendar[UID={uid}]"
        if base_uid in (*below, uid):
            chain = " -> ".join([*below, uid, base_uid])
            self.fail(f"{where}/BaseCalendarUID", f"base calendars in a cycle: {chain}")
        hours = self.week(by_uid[base_uid], by_uid, (*below, uid)) if base_uid in by_uid else {}
        for day in cal.findall(f"{NS}WeekDays/{NS}WeekDay"):
            kind = self.integer(day, f"{where}/WeekDays/WeekDay", "DayType", 0)
            if 1 <= kind <= 7:
                at = f"{where}/WeekDays/WeekDay[DayType={kind}]"
                hours[kind] = self.worked(day, at) if _text(day, "DayWorking") == "1" else 0.0
        return hours

    def calendar(
        self, cal: ET.Element, by_uid: dict[str, ET.Element], where: str
    ) -> dict[str, Any]:
        hours = self.week(cal, by_uid)
        default = self.minutes_per_day / 60
        working = [d for d in range(1, 8) if hours.get(d, 8.0 if 2 <= d <= 6 else 0.0) > 0]
        spans = [hours.get(d, default) for d in working]
        full = max(set(spans), key=spans.count) if spans else default  # its usual day
        self.day_hours[_text(cal, "UID")] = full
        odd = [_DAYS[d - 1] for d in working if abs(hours.get(d, full) - full) > 1e-9]
        if odd:
            self.notes.append(
                f"{where}: {', '.join(odd)} worked for other than {full:g} hours: read as full days"
            )
        spec: dict[str, Any] = {
            "workweek": [_DAYS[d - 1] for d in working] or ["Mon"],
            "hours_per_day": full,
        }
        holidays, exceptions = self.exceptions(cal, where)
        if holidays:
            spec["holidays"] = holidays
        if exceptions:
            spec["exceptions"] = exceptions
        return spec

    def exceptions(self, cal: ET.Element, where: str) -> tuple[list[dt.date], list[dict[str, Any]]]:
        """Non-working dates, and dates worked for some hours (MSPDI 2007+ ``Exceptions``
        and the older week days of ``DayType`` 0)."""
        items = cal.findall(f"{NS}Exceptions/{NS}Exception") + [
            d for d in cal.findall(f"{NS}WeekDays/{NS}WeekDay") if _text(d, "DayType") == "0"
        ]
        holidays: list[dt.date] = []
        worked: list[dict[str, Any]] = []
        for item in items:
            period = item.find(f"{NS}TimePeriod")
            if period is None:
                continue
            first = self.when(_text(period, "FromDate"), f"{where}/Exception/FromDate").date()
            last = self.when(_text(period, "ToDate"), f"{where}/Exception/ToDate").date()
            if (last - first).days > 3660:
                self.fail(f"{where}/Exception", f"an exception of {(last - first).days} days")
            hours = (
                self.worked(item, f"{where}/Exception") if _text(item, "DayWorking") == "1" else 0.0
            )
            for k in range((last - first).days + 1):
                day = first + dt.timedelta(days=k)
                if hours == 0:
                    holidays.append(day)
                else:
                    worked.append({"date": day, "hours": min(hours, 24.0)})
        return holidays, worked

    def worked(self, el: ET.Element, where: str) -> float:
        """Hours of the ``WorkingTimes`` of a week day or an exception."""
        total = 0.0
        at = f"{where}/WorkingTimes/WorkingTime"
        for wt in el.findall(f"{NS}WorkingTimes/{NS}WorkingTime"):
            if not _text(wt, "FromTime") or not _text(wt, "ToTime"):
                continue
            span = self.clock(wt, at, "ToTime") - self.clock(wt, at, "FromTime")
            total += span if span > 0 else span + 24  # ToTime 00:00:00 is midnight
        return total


@dataclass
class _Task:
    uid: str
    el: ET.Element
    level: int
    summary: bool
    leaves: list[str] = field(default_factory=list)  # for a summary: the tasks below it
    parents: list[str] = field(default_factory=list)  # the summary tasks above it


def _outline(r: _Reader) -> dict[str, _Task]:
    """Every task by UID, with each summary task's leaf tasks."""
    tasks: dict[str, _Task] = {}
    stack: list[_Task] = []
    for el in r.root.findall(f"{NS}Tasks/{NS}Task"):
        uid = _text(el, "UID")
        if uid == "0" or _text(el, "IsNull") == "1":
            continue
        if _text(el, "Active", "1") == "0":
            r.notes.append(f"Tasks/Task[UID={uid}]: inactive task left out")
            continue
        level = r.integer(el, f"Tasks/Task[UID={uid}]", "OutlineLevel", 1)
        task = _Task(uid, el, level, _text(el, "Summary") == "1")
        while stack and stack[-1].level >= task.level:
            stack.pop()
        task.parents = [p.uid for p in stack]
        if not task.summary:
            for parent in stack:
                parent.leaves.append(uid)
        tasks[uid] = task
        if task.summary:
            stack.append(task)
    return tasks


def _ends(tasks: dict[str, _Task], uid: str) -> list[str]:
    """The tasks a link to or from ``uid`` stands for: a summary's leaf tasks."""
    t = tasks.get(uid)
    if t is None:
        return []
    return t.leaves if t.summary else [uid]


def _lag(r: _Reader, link: ET.Element, where: str, pred_days: float) -> tuple[float, bool]:
    """A link's lag in days, and whether it is elapsed (calendar) time."""
    tenths = r.number(link, where, "LinkLag", 0.0)
    fmt = r.integer(link, where, "LagFormat", 7)
    if fmt in _PERCENT:
        return pred_days * tenths / 1000.0, False  # tenths of a percent
    minutes = tenths / 10.0
    if fmt in _ELAPSED:
        return minutes / 1440.0, True
    return minutes / r.minutes_per_day, False


_CONSTRAINTS = {"2": "must_start_on", "4": "start_no_earlier_than", "7": "finish_no_later_than"}
_UNSUPPORTED = {
    "1": "as late as possible",
    "3": "must finish on (read as finish no later than)",
    "5": "start no later than",
    "6": "finish no earlier than",
}


def _task_spec(r: _Reader, t: _Task, cal_names: dict[str, str]) -> dict[str, Any]:
    el, where = t.el, f"Tasks/Task[UID={t.uid}]"
    cal = _text(el, "CalendarUID", "-1")
    per_day = r.day_hours.get(cal if cal in cal_names else r.default, r.minutes_per_day / 60)
    days = r.hours(_text(el, "Duration", "PT0H0M0S"), f"{where}/Duration") / per_day
    if days < 0:
        r.fail(f"{where}/Duration", f"must be >= 0, got {_text(el, 'Duration')}")
    spec: dict[str, Any] = {"id": f"t{t.uid}", "name": _text(el, "Name") or f"task {t.uid}"}
    if _text(el, "WBS"):
        spec["wbs"] = _text(el, "WBS")
    codes = _codes(r, el)
    if codes:
        spec["codes"] = codes
    if days == 0:
        spec["milestone"] = True
    else:
        spec["duration"] = round(days, 9)
    if cal in cal_names:
        spec["calendar"] = cal_names[cal]
    elif cal not in ("", "-1"):  # -1: the project's calendar
        message = f"calendar {cal!r} is not in the file: run on the project's calendar"
        r.notes.append(f"{where}/CalendarUID: {message}")
    kind, date = _text(el, "ConstraintType") or "0", _text(el, "ConstraintDate")
    if kind in _UNSUPPORTED:
        r.notes.append(f"{where}: constraint '{_UNSUPPORTED[kind]}' not kept")
    elif kind != "0" and kind not in _CONSTRAINTS:
        r.notes.append(f"{where}/ConstraintType: unknown constraint type {kind!r} not kept")
    key = _CONSTRAINTS.get(kind) or ("finish_no_later_than" if kind == "3" else None)
    if key and date:
        when = r.when(date, f"{where}/ConstraintDate").date()
        if when >= r.start:
            spec[key] = when
        else:
            r.notes.append(f"{where}: constraint date {when} before the project start left out")
    _progress(r, el, where, spec, per_day)
    return spec


def _progress(r: _Reader, el: ET.Element, where: str, spec: dict[str, Any], per_day: float) -> None:
    """The task's actual dates (work that has happened by the status date: a start on its
    day at the latest, a finish on a day before it) and its remaining duration (>= 0)."""
    start, finish = _text(el, "ActualStart"), _text(el, "ActualFinish")
    if not start:
        return
    spec["actual_start"] = r.actual(el, where, "ActualStart", 1).date()
    if finish:
        spec["actual_finish"] = r.actual(el, where, "ActualFinish", 0).date()
        if spec["actual_finish"] < spec["actual_start"]:
            message = f"{finish} is before the actual start {start}"
            r.fail(f"{where}/ActualFinish", message)
        return
    left = _text(el, "RemainingDuration")
    if left:
        rest = r.hours(left, f"{where}/RemainingDuration") / per_day
        if rest < 0:
            r.fail(f"{where}/RemainingDuration", f"must be >= 0, got {left}")
        spec["remaining"] = round(rest, 9)


def _codes(r: _Reader, el: ET.Element) -> dict[str, str]:
    """The task's custom fields with a text value (outline codes, text and number fields),
    by their alias or field name: what uncertainty rules match on."""
    out: dict[str, str] = {}
    for attr in el.findall(f"{NS}ExtendedAttribute"):
        name = r.fields.get(_text(attr, "FieldID"))
        value = _text(attr, "Value")
        if name and value:
            out[name] = value
    return out


def _links(r: _Reader, tasks: dict[str, _Task], t: _Task, days: dict[str, float]) -> list[Any]:
    """The task's links, with those of the summary tasks above it (a link into a summary
    binds every task below it)."""
    out: list[Any] = []
    own = [t, *(tasks[p] for p in t.parents)]
    for holder, link in ((h, x) for h in own for x in h.el.findall(f"{NS}PredecessorLink")):
        pred = _text(link, "PredecessorUID")
        where = f"Tasks/Task[UID={holder.uid}]/PredecessorLink[PredecessorUID={pred}]"
        ends = _ends(tasks, pred)
        if not ends:
            r.notes.append(
                f"Tasks/Task[UID={t.uid}]: link from task {pred}, not in the file, left out"
            )
            continue
        kind = _link_type(r, link, where)
        for p in ends:
            if p == t.uid:
                continue
            lag, elapsed = _lag(r, link, where, days.get(p, 0.0))
            item: dict[str, Any] = {"id": f"t{p}", "type": kind, "lag": round(lag, 9)}
            if elapsed and lag:
                item["calendar"] = "elapsed"
            out.append(item)
    return out


def _link_type(r: _Reader, link: ET.Element, where: str) -> str:
    """A link's type (FS when it is absent); an unknown one is an error."""
    code = _text(link, "Type") or "1"
    if code not in _LINK_TYPES:
        known = ", ".join(f"{k} {v}" for k, v in _LINK_TYPES.items())
        r.fail(f"{where}/Type", f"expected a link type ({known}), got {code!r}")
    return _LINK_TYPES[code]


def _stored(r: _Reader, t: _Task) -> tuple[dt.datetime, dt.datetime] | None:
    """The early start and finish the file's scheduler stored (None when it stored none)."""
    start, finish = _text(t.el, "Start"), _text(t.el, "Finish")
    if not start or not finish or _text(t.el, "ActualFinish"):
        return None
    where = f"Tasks/Task[UID={t.uid}]"
    return r.when(start, f"{where}/Start"), r.when(finish, f"{where}/Finish")


def read_mspdi(path: Path, *, display: str | None = None) -> Plan:
    """The MSPDI plan in ``path``, on the scenario structure.

    Raises:
        ScenarioError: unreadable, hostile or malformed files, located.
    """
    name = display or str(path)
    return plan_from(parse_xml(path, name), path, name)


def plan_from(root: ET.Element, path: Path, name: str) -> Plan:
    """The MSPDI plan whose root element is ``root``, read from ``path``."""
    if root.tag != NS + MSPDI_ROOT:
        raise ScenarioError(
            [Problem(name, 1, 1, "", "not an MS Project XML file (MSPDI): no <Project> root")]
        )
    r = _Reader(root, name)
    r.default = _text(root, "CalendarUID", "1")
    calendars, names = r.calendars()
    default = names.get(_text(root, "CalendarUID", "1"))
    status = _text(root, "StatusDate")
    r.status = _status(r, root)
    tasks = _outline(r)
    leaves = [t for t in tasks.values() if not t.summary]
    specs = {t.uid: _task_spec(r, t, names) for t in leaves}
    days = {u: float(s.get("duration", 0.0)) for u, s in specs.items()}
    plan = Plan({})
    project = re.sub(r"[^\w-]+", "-", path.stem).strip("-") or "plan"
    for t in leaves:
        links = _links(r, tasks, t, days)
        if links:
            specs[t.uid]["after"] = links
        stored = _stored(r, t)
        if stored is not None:
            plan.stored[f"{project}.t{t.uid}"] = stored
    if any(a.get("calendar") == "elapsed" for s in specs.values() for a in s.get("after", [])):
        calendars["elapsed"] = {"workweek": "Mon-Sun", "hours_per_day": 24}
    start = r.start
    data: dict[str, Any] = {
        "scenario": _text(root, "Title") or _text(root, "Name") or path.stem,
        "start": start,
        "calendars": calendars,
        "projects": [{"id": project, "tasks": [specs[t.uid] for t in leaves]}],
    }
    if default:
        data["calendar"] = default
    if status or any("actual_start" in s for s in specs.values()):
        when = status or _text(root, "CurrentDate")
        data["status_date"] = r.when(when, "StatusDate").date()
        if not status:
            r.notes.append("no StatusDate: the progress is read as of the CurrentDate")
    resources, demand = _resources(r, tasks, names)
    if resources:
        data["resources"] = resources
        for uid, units in demand.items():
            specs[uid]["resources"] = units
    plan.data, plan.notes = data, r.notes
    return plan


def _status(r: _Reader, root: ET.Element) -> tuple[dt.datetime, str, str] | None:
    """The status date (else the current date, when it reads as one): when, as written, and
    the element holding it."""
    status, current = _text(root, "StatusDate"), _text(root, "CurrentDate")
    if status:
        return r.when(status, "StatusDate"), status, "StatusDate"
    try:
        return (dt.datetime.fromisoformat(current), current, "CurrentDate") if current else None
    except ValueError:
        return None


def _resources(
    r: _Reader, tasks: dict[str, _Task], names: dict[str, str]
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Work resources as pools (capacity: their maximum units, raised to the largest demand
    of one task, noted; cost per day: the standard rate per hour times the hours of a day),
    and each leaf task's units per pool (its assignments, summed per resource)."""
    pools: dict[str, Any] = {}
    ids: dict[str, str] = {}
    for res in r.root.findall(f"{NS}Resources/{NS}Resource"):
        uid = _text(res, "UID")
        if uid == "0" or _text(res, "IsNull") == "1" or _text(res, "Type", "1") != "1":
            continue
        pid = re.sub(r"[^\w-]+", "-", _text(res, "Name") or f"resource-{uid}").strip("-")
        pid = pid if pid not in pools else f"{pid}-{uid}"
        ids[uid] = pid
        where = f"Resources/Resource[UID={uid}]"
        rate = r.number(res, where, "StandardRate", 0.0)
        pools[pid] = {
            "capacity": r.number(res, where, "MaxUnits", 1.0),
            "cost_per_day": round(rate * r.minutes_per_day / 60, 6),
        }
    demand: dict[str, dict[str, float]] = {}
    for a in r.root.findall(f"{NS}Assignments/{NS}Assignment"):
        task, who = _text(a, "TaskUID"), _text(a, "ResourceUID")
        t = tasks.get(task)
        if who not in ids or t is None or t.summary:
            continue
        share = r.number(a, f"Assignments/Assignment[UID={_text(a, 'UID')}]", "Units", 1.0)
        mine = demand.setdefault(task, {})
        mine[ids[who]] = mine.get(ids[who], 0.0) + share
    _fit(r.notes, pools, demand)
    return pools, demand


def _fit(notes: list[str], pools: dict[str, Any], demand: dict[str, dict[str, float]]) -> None:
    """Raise a pool's capacity to the largest demand of one task (a plan may over-allocate;
    the simulation needs every task to fit), noting each."""
    largest: dict[str, float] = {}  # one pass over the demands (not one per pool)
    for units in demand.values():
        for pid, u in units.items():
            largest[pid] = max(u, largest.get(pid, 0.0))
    for pid, pool in pools.items():
        most = largest.get(pid, 0.0)
        if most > pool["capacity"]:
            notes.append(f"resource {pid}: capacity {pool['capacity']:g} raised to {most:g}")
            pool["capacity"] = most
