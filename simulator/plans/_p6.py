"""Primavera P6 plans onto the scenario structure, whatever the file: XER and P6 XML (PMXML)
carry the same objects, which their readers hand over here as rows of P6's own tables and
fields (the XER names: ``TASK.task_type`` ``TT_Task``, ``TASKPRED.lag_hr_cnt`` in hours, ...).

The mapping: one scenario project per P6 project, links between them kept; activities
become tasks and milestones (WBS summaries and level-of-effort activities are noted and
left out), durations in working days of the activity's calendar; relationship lags in the
predecessor's calendar (P6's default); date constraints; actual dates and remaining
durations at the data date; labour and equipment resources become pools, assignments
demands. Every decision that loses information is noted, naming the element.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, ClassVar

from ..errors import Problem, ScenarioError
from .mspdi import Plan, _fit, finite

_DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
_LINKS = {"PR_FS": "FS", "PR_SS": "SS", "PR_FF": "FF", "PR_SF": "SF"}
_CONSTRAINTS = {
    "CS_MSO": "must_start_on",
    "CS_MANDSTART": "must_start_on",
    "CS_MSOA": "start_no_earlier_than",
    "CS_MEOB": "finish_no_later_than",
    "CS_MANDFIN": "finish_no_later_than",
}

Row = dict[str, str]


def calendar_spec(
    name: str,
    full: float,
    hours: dict[int, float],
    days: list[tuple[dt.date, float]],
    notes: list[str],
) -> dict[str, Any]:
    """A scenario calendar from a P6 calendar's hours per week day (1 = Sunday ... 7 =
    Saturday), its usual day's hours and its exception dates (0 hours: a holiday)."""
    working = [d for d in range(1, 8) if hours.get(d, 0) > 0]
    odd = [_DAYS[d - 1] for d in working if abs(hours[d] - full) > 1e-6]
    if odd:
        notes.append(f"calendar {name}: {', '.join(odd)} not {full:g} hours")
    spec: dict[str, Any] = {"workweek": [_DAYS[d - 1] for d in working] or ["Mon"]}
    spec["hours_per_day"] = full
    holidays = [day for day, h in days if h <= 0]
    worked = [{"date": day, "hours": min(h, 24.0)} for day, h in days if h > 0]
    if holidays:
        spec["holidays"] = holidays
    if worked:
        spec["exceptions"] = worked
    return spec


def ident(text: str) -> str:
    """An id made of a P6 name or code: runs of other characters than letters, digits, ``_``
    and ``-`` become one ``-``."""
    return re.sub(r"[^\w-]+", "-", text).strip("-")


class P6:
    """One P6 plan being read: its tables (rows of field -> text), and what has been mapped
    so far. A reader subclasses it to say how its file names things and reads calendars."""

    #: per table: the element a message names, the key it shows, and the field holding it
    LABELS: ClassVar[dict[str, tuple[str, str, str]]] = {
        t: (t, k, k)
        for t, k in [
            ("PROJECT", "proj_id"),
            ("CALENDAR", "clndr_id"),
            ("TASK", "task_id"),
            ("TASKPRED", "task_pred_id"),
            ("RSRC", "rsrc_id"),
            ("RSRCRATE", "rsrc_rate_id"),
            ("TASKRSRC", "taskrsrc_id"),
        ]
    }
    #: per table: a field's name in the file, where it differs
    FIELDS: ClassVar[dict[str, dict[str, str]]] = {}
    SEP: ClassVar[str] = "."  # between an element and a field in messages
    EXAMPLE: ClassVar[str] = "2015-02-24 08:00"  # a date as the file writes it

    def __init__(self, tables: dict[str, list[Row]], name: str) -> None:
        self.tables, self.name = tables, name
        self.notes: list[str] = []
        self.cals: dict[str, str] = {}  # clndr_id -> calendar name
        self.default = ""  # the clndr_id of the default calendar (default_flag Y)
        self.day_hours: dict[str, float] = {}
        self.calendars: dict[str, Any] = {}
        self.projects = {p["proj_id"]: p for p in tables["PROJECT"]}
        self.codes: dict[str, tuple[str, str]] = {}  # task_id -> (proj_id, task id)
        self.tasks: dict[str, dict[str, Any]] = {}
        self.rows = {r["task_id"]: r for r in tables["TASK"]}
        self.plan = Plan({})
        self.lines: dict[int, int] = {}  # id of a row -> its line in the file, where known
        self._data_date: tuple[dt.datetime, Row] | None = None

    def where(self, table: str, row: Row, field: str = "") -> str:
        """The element (and field) as the file names it, e.g. ``TASK[task_id=7].cstr_date``."""
        element, key, held = self.LABELS[table]
        place = f"{element}[{key}={row.get(held, '')}]"
        return (
            f"{place}{self.SEP}{self.FIELDS.get(table, {}).get(field, field)}" if field else place
        )

    def fail(self, where: str, message: str, row: Row | None = None) -> ScenarioError:
        """The error at ``where``, on the row's line when the file has lines."""
        line = self.lines.get(id(row), 0) if row is not None else 0
        return ScenarioError([Problem(self.name, line, 1 if line else 0, where, message)])

    def when(self, table: str, row: Row, field: str) -> dt.datetime:
        return self.moment(row.get(field, ""), self.where(table, row, field), row)

    def moment(self, value: str, where: str, row: Row | None = None) -> dt.datetime:
        try:
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            message = f"expected a date like {self.EXAMPLE}, got {value!r}"
            raise self.fail(where, message, row) from None

    def number(self, table: str, row: Row, field: str, default: float) -> float:
        """The field's number (``default`` when it is empty)."""
        value = (row.get(field) or "").strip()
        if not value:
            return default
        number = finite(value)
        if not math.isfinite(number):
            where = self.where(table, row, field)
            raise self.fail(where, f"expected a number, got {value!r}", row)
        return number

    def hours(self, row: Row, field: str) -> float:
        """A TASK row's duration field, in hours: a number, at least 0."""
        hours = self.number("TASK", row, field, 0.0)
        if hours < 0:
            where = self.where("TASK", row, field)
            raise self.fail(where, f"must be >= 0, got {row[field].strip()}", row)
        return hours

    def data_date(self) -> tuple[dt.datetime, Row] | None:
        """The latest data date of the file's projects (the scenario's status date), and
        the project that has it."""
        if self._data_date is None:
            dates = [
                (self.when("PROJECT", p, "last_recalc_date"), p)
                for p in self.projects.values()
                if p.get("last_recalc_date")
            ]
            self._data_date = max(dates, key=lambda d: d[0], default=None)
        return self._data_date

    def calendar(self, row: Row) -> dict[str, Any]:
        """A CALENDAR row as a scenario calendar (the file's own way of writing the week)."""
        raise NotImplementedError

    def read_calendars(self) -> None:
        for row in self.tables.get("CALENDAR", []):
            cid = row.get("clndr_id", "")
            name = ident(row.get("clndr_name") or f"calendar-{cid}")
            name = name if name not in self.calendars else f"{name}-{cid}"
            self.cals[cid] = name
            if row.get("default_flag") == "Y" and not self.default:
                self.default = cid
            self.day_hours[cid] = self.number("CALENDAR", row, "day_hr_cnt", 8.0) or 8.0
            self.calendars[name] = self.calendar(row)

    def read_activities(self) -> None:
        for row in self.tables["TASK"]:
            if row.get("proj_id", "") not in self.projects:
                table = self.LABELS["PROJECT"][0]
                message = f"project {row.get('proj_id', '')!r} is not in the {table} table"
                raise self.fail(self.where("TASK", row, "proj_id"), message, row)
            code = ident(row.get("task_code") or row["task_id"])
            self.codes[row["task_id"]] = (row.get("proj_id", ""), code or f"t{row['task_id']}")
        for row in self.tables["TASK"]:
            spec = self.task(row, self.codes[row["task_id"]][1])
            if spec is None:
                continue
            self.tasks[row["task_id"]] = spec
            first = "early_start_date" if row.get("early_start_date") else "restart_date"
            last = "early_end_date" if row.get("early_end_date") else "reend_date"
            if row.get("status_code") != "TK_Complete" and row.get(first) and row.get(last):
                key = f"{project_id(self.projects[row['proj_id']])}.{spec['id']}"
                self.plan.stored[key] = (
                    self.when("TASK", row, first),
                    self.when("TASK", row, last),
                )

    def task(self, row: Row, code: str) -> dict[str, Any] | None:
        """A TASK row as a scenario task (None for a WBS summary or level of effort)."""
        kind, where = row.get("task_type", "TT_Task"), self.where("TASK", row)
        if kind in ("TT_WBS", "TT_LOE"):
            what = "WBS summary" if kind == "TT_WBS" else "level of effort"
            self.notes.append(f"{where}: {what} left out")
            return None
        cal = self.calendar_of(row)
        per_day = self.day_hours.get(cal, 8.0)
        spec: dict[str, Any] = {"id": code, "name": row.get("task_name") or code}
        if cal in self.cals:
            spec["calendar"] = self.cals[cal]
        planned = self.hours(row, "target_drtn_hr_cnt") / per_day
        if kind in ("TT_Mile", "TT_FinMile") or planned == 0:
            spec["milestone"] = True
        else:
            spec["duration"] = round(planned, 9)
        self.constraint(row, spec)
        status = row.get("status_code", "TK_NotStart")
        if status != "TK_NotStart" and row.get("act_start_date"):
            spec["actual_start"] = self.actual(row, "act_start_date").date()
            if status == "TK_Complete" and row.get("act_end_date"):
                spec["actual_finish"] = self.actual(row, "act_end_date").date()
            elif not spec.get("milestone"):
                left = self.hours(row, "remain_drtn_hr_cnt")
                spec["remaining"] = round(left / per_day, 9)
        return spec

    def actual(self, row: Row, field: str) -> dt.datetime:
        """A TASK row's actual start or finish: work that has happened by the data date (a
        start on its day at the latest, a finish on a day before it, as the scenario's status
        date counts), and a finish not before the start."""
        when, where = self.when("TASK", row, field), self.where("TASK", row, field)
        finish = field != "act_start_date"
        data = self.data_date()
        if data is not None and (when.date() - data[0].date()).days >= (0 if finish else 1):
            held = self.where("PROJECT", data[1], "last_recalc_date")
            message = (
                f"{row[field].strip()} is {'on or ' if finish else ''}after the data date "
                f"{data[1]['last_recalc_date'].strip()} ({held}): work after the data date "
                "has not happened yet"
            )
            raise self.fail(where, message, row)
        if finish and when.date() < self.when("TASK", row, "act_start_date").date():
            start = row["act_start_date"].strip()
            raise self.fail(where, f"{row[field].strip()} is before the actual start {start}", row)
        return when

    def calendar_of(self, row: Row) -> str:
        """The clndr_id an activity is scheduled on: its own, else (noted) the default
        calendar's (a WBS summary or level of effort, left out, keeps its own)."""
        cal = row.get("clndr_id", "")
        if cal in self.cals or row.get("task_type") in ("TT_WBS", "TT_LOE"):
            return cal
        where = self.where("TASK", row, "clndr_id")
        default = self.cals.get(self.default, "the scenario's default")
        self.notes.append(f"{where}: calendar {cal!r} is not in the file: run on {default}")
        return self.default

    def constraint(self, row: Row, spec: dict[str, Any]) -> None:
        """The activity's primary constraint, where pmosim has its kind; the others noted."""
        kind, where = row.get("cstr_type", ""), self.where("TASK", row)
        constraint = _CONSTRAINTS.get(kind)
        if kind and not constraint:
            self.notes.append(f"{where}: constraint {self.shown(kind)} not kept")
        if constraint and row.get("cstr_date"):
            spec[constraint] = self.when("TASK", row, "cstr_date").date()
            if kind == "CS_MANDFIN":
                self.notes.append(
                    f"{where}: constraint {self.shown(kind)} read as finish no later than"
                    " (a key date: the finish is not forced)"
                )
        if row.get("cstr_type2"):
            self.notes.append(
                f"{where}: secondary constraint {self.shown(row['cstr_type2'])} not kept"
            )

    def shown(self, value: str) -> str:
        """A P6 code as the file writes it."""
        return value

    def read_codes(self) -> None:
        """Each activity's WBS path (the short names from the project's node down, joined
        by dots) and its activity codes and text or number user fields (UDFs), by name: what
        uncertainty rules match on."""
        wbs = {r.get("wbs_id", ""): r for r in self.tables.get("PROJWBS", [])}
        for tid, spec in self.tasks.items():
            path = _wbs_path(wbs, self.rows[tid].get("wbs_id", ""))
            if path:
                spec["wbs"] = path
        for tid, name, value in _activity_codes(self.tables):
            if tid in self.tasks and value:
                self.tasks[tid].setdefault("codes", {})[name] = value

    def read_relationships(self) -> None:
        calendar_of = {t: self.tasks[t].get("calendar", "") for t in self.tasks}
        day_hours = {self.cals[c]: h for c, h in self.day_hours.items() if c in self.cals}
        for row in self.tables.get("TASKPRED", []):
            succ, pred = row.get("task_id", ""), row.get("pred_task_id", "")
            if succ not in self.tasks or pred not in self.tasks:
                where = self.where("TASKPRED", row)
                self.notes.append(f"{where}: link to an activity not in the file left out")
                continue
            (pproj, pcode), sproj = self.codes[pred], self.codes[succ][0]
            ref = pcode if pproj == sproj else f"{project_id(self.projects[pproj])}.{pcode}"
            item: dict[str, Any] = {"id": ref, "type": self.link_type(row)}
            hours = self.number("TASKPRED", row, "lag_hr_cnt", 0.0)
            if hours:
                item["lag"] = round(hours / day_hours.get(calendar_of[pred], 8.0), 9)
                if "calendar" in self.tasks[pred]:  # P6: lags in the predecessor's calendar
                    item["calendar"] = self.tasks[pred]["calendar"]
            self.tasks[succ].setdefault("after", []).append(item)

    def link_type(self, row: Row) -> str:
        """A TASKPRED row's link type (FS when it is empty); an unknown one is an error."""
        kind = row.get("pred_type") or "PR_FS"
        if kind not in _LINKS:
            known = ", ".join(self.shown(k) for k in _LINKS)
            where = self.where("TASKPRED", row, "pred_type")
            raise self.fail(where, f"expected a link type ({known}), got {kind!r}", row)
        return _LINKS[kind]

    def finish(self, stem: str) -> Plan:
        """The plan: the scenario's data, the notes and the stored dates."""
        self.plan.data = self.scenario(stem)
        self.plan.notes = self.notes
        return self.plan

    def scenario(self, stem: str) -> dict[str, Any]:
        """The scenario's data: one project per PROJECT row with activities, the earliest
        planned start the scenario's, the latest data date its status date."""
        out: list[dict[str, Any]] = []
        by_project: dict[str, list[dict[str, Any]]] = {}
        for t, (owner, _) in self.codes.items():
            if t in self.tasks:
                by_project.setdefault(owner, []).append(self.tasks[t])
        for pid, proj in self.projects.items():
            mine = by_project.get(pid, [])
            start = self.when("PROJECT", proj, "plan_start_date").date()
            if mine:
                out.append(
                    {
                        "id": project_id(proj),
                        "name": proj.get("proj_short_name") or pid,
                        "start": start,
                        "tasks": mine,
                    }
                )
        if not out:
            raise self.fail(self.LABELS["TASK"][0], "no activity to schedule")
        first: dt.date = min(p["start"] for p in out)
        for p in out:
            if p["start"] == first:
                del p["start"]
        data: dict[str, Any] = {"scenario": stem, "start": first, "calendars": self.calendars}
        data["projects"] = out
        rows = self.tables.get("CALENDAR", [])
        default = next(
            (self.cals[r["clndr_id"]] for r in rows if r.get("default_flag") == "Y"), None
        )
        if default:
            data["calendar"] = default
        latest = self.data_date()
        if latest is not None:
            data["status_date"] = latest[0].date()
        pools = self.read_resources()
        if pools:
            data["resources"] = pools
        return data

    def read_resources(self) -> dict[str, Any]:
        """Labour and equipment resources as pools (capacity: max units per hour; cost per
        day: the first rate per hour times the hours of a day), and the assignments' units
        per hour as each activity's demand, summed per resource."""
        rates: dict[str, Row] = {}
        for row in self.tables.get("RSRCRATE", []):
            rates.setdefault(row.get("rsrc_id", ""), row)
        pools: dict[str, Any] = {}
        ids: dict[str, str] = {}
        for row in self.tables.get("RSRC", []):
            if row.get("rsrc_type") == "RT_Mat":
                self.notes.append(f"{self.where('RSRC', row)}: material resource left out")
                continue
            rid = row.get("rsrc_id", "")
            pid = ident(row.get("rsrc_short_name") or rid)
            ids[rid] = pid if pid not in pools else f"{pid}-{rid}"
            rate = rates.get(rid, {})
            per_day = self.day_hours.get(row.get("clndr_id", ""), 8.0)
            price = self.number("RSRCRATE", rate, "cost_per_qty", 0.0)
            pools[ids[rid]] = {
                "capacity": self.number("RSRCRATE", rate, "max_qty_per_hr", 1.0),
                "cost_per_day": round(price * per_day, 6),
            }
        demand: dict[str, dict[str, float]] = {}
        for row in self.tables.get("TASKRSRC", []):
            task, rid = row.get("task_id", ""), row.get("rsrc_id", "")
            if task not in self.tasks or rid not in ids:
                continue
            planned = self.number("TASKRSRC", row, "target_qty_per_hr", 1.0)
            per_hour = self.number("TASKRSRC", row, "remain_qty_per_hr", planned)
            if per_hour <= 0:
                where = self.where("TASKRSRC", row, "remain_qty_per_hr")
                self.notes.append(f"{where}: {per_hour:g} units per hour: no demand, left out")
                continue
            mine = demand.setdefault(task, {})
            mine[ids[rid]] = mine.get(ids[rid], 0.0) + per_hour
        _fit(self.notes, pools, demand)
        for task, needs in demand.items():
            if not self.tasks[task].get("milestone"):
                self.tasks[task]["resources"] = needs
        return pools


def project_id(row: Row) -> str:
    return ident(row.get("proj_short_name") or row["proj_id"])


def _wbs_path(wbs: dict[str, Row], node: str) -> str:
    """The short names from below the project's root node down to ``node``, joined by dots."""
    names: list[str] = []
    seen: set[str] = set()
    while node in wbs and node not in seen and wbs[node].get("proj_node_flag") != "Y":
        seen.add(node)
        names.append(wbs[node].get("wbs_short_name") or node)
        node = wbs[node].get("parent_wbs_id", "")
    return ".".join(reversed(names))


def _activity_codes(tables: dict[str, list[Row]]) -> list[tuple[str, str, str]]:
    """(task_id, code or field name, value) for every activity code assignment (TASKACTV)
    and every text or number user field of an activity (UDFVALUE on TASK)."""
    kinds = {
        r.get("actv_code_type_id"): r.get("actv_code_type", "") for r in tables.get("ACTVTYPE", [])
    }
    codes = {r.get("actv_code_id"): r.get("short_name", "") for r in tables.get("ACTVCODE", [])}
    out = [
        (
            r.get("task_id", ""),
            kinds.get(r.get("actv_code_type_id"), ""),
            codes.get(r.get("actv_code_id"), ""),
        )
        for r in tables.get("TASKACTV", [])
    ]
    fields = {
        r.get("udf_type_id"): r.get("udf_type_label") or r.get("udf_type_name", "")
        for r in tables.get("UDFTYPE", [])
        if r.get("table_name") == "TASK"
    }
    for r in tables.get("UDFVALUE", []):
        if r.get("udf_type_id") in fields:
            value = r.get("udf_text") or r.get("udf_number") or ""
            out.append((r.get("fk_id", ""), fields[r.get("udf_type_id")], value))
    return [(t, name, value) for t, name, value in out if name]
