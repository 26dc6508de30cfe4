"""Primavera P6 XER exports: tab-separated tables (``%T`` name, ``%F`` fields, ``%R`` rows),
durations in hours, read onto the scenario structure.

What is read: every project in the file (one scenario project each, links between them
kept), calendars (``clndr_data``: the week's working times and the exception dates),
activities (tasks, start and finish milestones; WBS summaries and level-of-effort
activities are noted and left out), relationships with their lags (in the predecessor's
calendar, P6's default), date constraints, actual dates and remaining durations at the
data date. Text is UTF-8 when it decodes as such, else Windows-1252 (or Windows-1251 when
the file's text is Cyrillic).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from ..errors import Problem, ScenarioError
from .mspdi import Plan

__all__ = ["read_xer"]

_DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
_EPOCH = dt.date(1899, 12, 30)  # clndr_data day numbers count from here
_TIMES = re.compile(r"([sf])\|(\d{1,2}):(\d{2})\|([sf])\|(\d{1,2}):(\d{2})")
_LINKS = {"PR_FS": "FS", "PR_SS": "SS", "PR_FF": "FF", "PR_SF": "SF"}
_CONSTRAINTS = {
    "CS_MSO": "must_start_on",
    "CS_MANDSTART": "must_start_on",
    "CS_MSOA": "start_no_earlier_than",
    "CS_MEOB": "finish_no_later_than",
    "CS_MANDFIN": "finish_no_later_than",
}


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    latin, cyrillic = raw.decode("cp1252", errors="replace"), raw.decode("cp1251", errors="replace")
    letters = sum(1 for ch in cyrillic if "\u0400" <= ch <= "\u04ff")
    return cyrillic if letters > 0.5 * sum(ch.isalpha() for ch in latin if ord(ch) > 127) else latin


def _tables(text: str, name: str) -> dict[str, list[dict[str, str]]]:
    """Every table's rows as field -> value."""
    tables: dict[str, list[dict[str, str]]] = {}
    fields: list[str] = []
    current = None
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.rstrip("\r").split("\t")
        if parts[0] == "%T" and len(parts) > 1:
            current, fields = parts[1], []
            tables[current] = []
        elif parts[0] == "%F":
            fields = parts[1:]
        elif parts[0] == "%R":
            if current is None or not fields:
                raise ScenarioError([Problem(name, number, 1, "", "a %R row before its %T and %F")])
            tables[current].append(dict(zip(fields, parts[1:], strict=False)))
    if "TASK" not in tables or "PROJECT" not in tables:
        raise ScenarioError(
            [Problem(name, 1, 1, "", "not a P6 XER file: no PROJECT or TASK table")]
        )
    return tables


def _when(value: str, name: str, where: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(value.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise ScenarioError(
            [Problem(name, 0, 0, where, f"expected a date like 2015-02-24 08:00, got {value!r}")]
        ) from None


def _hours(pairs: list[tuple[str, ...]]) -> float:
    total = 0.0
    for a, h1, m1, _b, h2, m2 in pairs:
        t1, t2 = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
        start, finish = (t1, t2) if a == "s" else (t2, t1)
        span = finish - start
        total += (span if span > 0 else span + 1440) / 60
    return total


def _calendar(row: dict[str, str], notes: list[str]) -> dict[str, Any]:
    """A CALENDAR row as a scenario calendar."""
    data = row.get("clndr_data", "")
    full = float(row.get("day_hr_cnt") or 8) or 8.0
    week_part, _, exc_part = data.partition("Exceptions()")
    days = re.split(r"\(0\|\|(\d)\(\)", week_part.partition("DaysOfWeek()")[2])
    hours = {int(days[k]): _hours(_TIMES.findall(days[k + 1])) for k in range(1, len(days) - 1, 2)}
    working = [d for d in range(1, 8) if hours.get(d, 0) > 0]
    odd = [_DAYS[d - 1] for d in working if abs(hours[d] - full) > 1e-6]
    if odd:
        notes.append(f"calendar {row.get('clndr_name')}: {', '.join(odd)} not {full:g} hours")
    spec: dict[str, Any] = {"workweek": [_DAYS[d - 1] for d in working] or ["Mon"]}
    spec["hours_per_day"] = full
    holidays, worked = [], []
    pieces = re.split(r"\(0\|\|\d+\(d\|(\d+)\)", exc_part)
    for k in range(1, len(pieces) - 1, 2):
        day = _EPOCH + dt.timedelta(days=int(pieces[k]))
        h = _hours(_TIMES.findall(pieces[k + 1]))
        if h > 0:
            worked.append({"date": day, "hours": min(h, 24.0)})
        else:
            holidays.append(day)
    if holidays:
        spec["holidays"] = holidays
    if worked:
        spec["exceptions"] = worked
    return spec


def _task(
    row: dict[str, str], day_hours: dict[str, float], cals: dict[str, str], ctx: Any
) -> dict[str, Any] | None:
    """A TASK row as a scenario task (None for a WBS summary or level of effort)."""
    name, notes, code = ctx
    kind, where = row.get("task_type", "TT_Task"), f"TASK[task_id={row.get('task_id')}]"
    if kind in ("TT_WBS", "TT_LOE"):
        notes.append(
            f"{where}: {'WBS summary' if kind == 'TT_WBS' else 'level of effort'} left out"
        )
        return None
    cal = row.get("clndr_id", "")
    per_day = day_hours.get(cal, 8.0)
    spec: dict[str, Any] = {"id": code, "name": row.get("task_name") or code}
    if cal in cals:
        spec["calendar"] = cals[cal]
    status = row.get("status_code", "TK_NotStart")
    planned = float(row.get("target_drtn_hr_cnt") or 0) / per_day
    if kind in ("TT_Mile", "TT_FinMile") or planned == 0:
        spec["milestone"] = True
    else:
        spec["duration"] = round(planned, 9)
    constraint = _CONSTRAINTS.get(row.get("cstr_type", ""))
    if row.get("cstr_type") and not constraint:
        notes.append(f"{where}: constraint {row['cstr_type']} not kept")
    if constraint and row.get("cstr_date"):
        spec[constraint] = _when(row["cstr_date"], name, f"{where}.cstr_date").date()
    if status != "TK_NotStart" and row.get("act_start_date"):
        spec["actual_start"] = _when(row["act_start_date"], name, f"{where}.act_start_date").date()
        if status == "TK_Complete" and row.get("act_end_date"):
            spec["actual_finish"] = _when(row["act_end_date"], name, f"{where}.act_end_date").date()
        elif not spec.get("milestone"):
            spec["remaining"] = round(float(row.get("remain_drtn_hr_cnt") or 0) / per_day, 9)
    return spec


class _Xer:
    """One XER file being read: its tables, and what has been mapped so far."""

    def __init__(self, tables: dict[str, list[dict[str, str]]], name: str) -> None:
        self.tables, self.name = tables, name
        self.notes: list[str] = []
        self.cals: dict[str, str] = {}  # clndr_id -> calendar name
        self.day_hours: dict[str, float] = {}
        self.calendars: dict[str, Any] = {}
        self.projects = {p["proj_id"]: p for p in tables["PROJECT"]}
        self.codes: dict[str, tuple[str, str]] = {}  # task_id -> (proj_id, task id)
        self.tasks: dict[str, dict[str, Any]] = {}
        self.rows = {r["task_id"]: r for r in tables["TASK"]}
        self.plan = Plan({})

    def read_calendars(self) -> None:
        for row in self.tables.get("CALENDAR", []):
            cid = row.get("clndr_id", "")
            label = re.sub(r"[^\w-]+", "-", row.get("clndr_name") or f"calendar-{cid}").strip("-")
            label = label if label not in self.calendars else f"{label}-{cid}"
            self.cals[cid], self.day_hours[cid] = label, float(row.get("day_hr_cnt") or 8) or 8.0
            self.calendars[label] = _calendar(row, self.notes)

    def read_activities(self) -> None:
        for row in self.tables["TASK"]:
            code = re.sub(r"[^\w-]+", "-", row.get("task_code") or row["task_id"]).strip("-")
            self.codes[row["task_id"]] = (row.get("proj_id", ""), code or f"t{row['task_id']}")
        for row in self.tables["TASK"]:
            code = self.codes[row["task_id"]][1]
            spec = _task(row, self.day_hours, self.cals, (self.name, self.notes, code))
            if spec is None:
                continue
            self.tasks[row["task_id"]] = spec
            first = row.get("early_start_date") or row.get("restart_date")
            last = row.get("early_end_date") or row.get("reend_date")
            if row.get("status_code") != "TK_Complete" and first and last:
                key = f"{_project_id(self.projects[row['proj_id']])}.{spec['id']}"
                self.plan.stored[key] = (
                    _when(first, self.name, "TASK"),
                    _when(last, self.name, "TASK"),
                )

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
        calendar_of = {r["task_id"]: r.get("clndr_id", "") for r in self.tables["TASK"]}
        for row in self.tables.get("TASKPRED", []):
            succ, pred = row.get("task_id", ""), row.get("pred_task_id", "")
            if succ not in self.tasks or pred not in self.tasks:
                where = f"TASKPRED[task_pred_id={row.get('task_pred_id')}]"
                self.notes.append(f"{where}: link to an activity not in the file left out")
                continue
            (pproj, pcode), sproj = self.codes[pred], self.codes[succ][0]
            ref = pcode if pproj == sproj else f"{_project_id(self.projects[pproj])}.{pcode}"
            kind = _LINKS.get(row.get("pred_type", "PR_FS"), "FS")
            item: dict[str, Any] = {"id": ref, "type": kind}
            hours = float(row.get("lag_hr_cnt") or 0)
            if hours:
                item["lag"] = round(hours / self.day_hours.get(calendar_of[pred], 8.0), 9)
                if "calendar" in self.tasks[pred]:  # P6: lags in the predecessor's calendar
                    item["calendar"] = self.tasks[pred]["calendar"]
            self.tasks[succ].setdefault("after", []).append(item)

    def scenario(self, stem: str) -> dict[str, Any]:
        """The scenario's data: one project per PROJECT row with activities, the earliest
        planned start the scenario's, the latest data date its status date."""
        out: list[dict[str, Any]] = []
        for pid, proj in self.projects.items():
            mine = [
                self.tasks[t] for t, (p, _) in self.codes.items() if p == pid and t in self.tasks
            ]
            start = _when(proj.get("plan_start_date") or "", self.name, f"PROJECT[{pid}]").date()
            if mine:
                out.append(
                    {
                        "id": _project_id(proj),
                        "name": proj.get("proj_short_name") or pid,
                        "start": start,
                        "tasks": mine,
                    }
                )
        if not out:
            raise ScenarioError([Problem(self.name, 0, 0, "TASK", "no activity to schedule")])
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
        dates = [p["last_recalc_date"] for p in self.projects.values() if p.get("last_recalc_date")]
        if dates:
            data["status_date"] = max(_when(x, self.name, "PROJECT") for x in dates).date()
        pools = self.read_resources()
        if pools:
            data["resources"] = pools
        return data

    def read_resources(self) -> dict[str, Any]:
        """Labour and equipment resources as pools (capacity: max units per hour; cost per
        day: the first rate per hour times the hours of a day), and the assignments' units
        per hour as each activity's demand, summed per resource."""
        from .mspdi import _fit

        rates: dict[str, dict[str, str]] = {}
        for row in self.tables.get("RSRCRATE", []):
            rates.setdefault(row.get("rsrc_id", ""), row)
        pools: dict[str, Any] = {}
        ids: dict[str, str] = {}
        for row in self.tables.get("RSRC", []):
            if row.get("rsrc_type") == "RT_Mat":
                continue
            rid = row.get("rsrc_id", "")
            pid = re.sub(r"[^\w-]+", "-", row.get("rsrc_short_name") or rid).strip("-")
            ids[rid] = pid if pid not in pools else f"{pid}-{rid}"
            rate = rates.get(rid, {})
            per_day = self.day_hours.get(row.get("clndr_id", ""), 8.0)
            pools[ids[rid]] = {
                "capacity": float(rate.get("max_qty_per_hr") or 1),
                "cost_per_day": round(float(rate.get("cost_per_qty") or 0) * per_day, 6),
            }
        demand: dict[str, dict[str, float]] = {}
        for row in self.tables.get("TASKRSRC", []):
            task, rid = row.get("task_id", ""), row.get("rsrc_id", "")
            if task not in self.tasks or rid not in ids:
                continue
            per_hour = float(row.get("remain_qty_per_hr") or row.get("target_qty_per_hr") or 1)
            mine = demand.setdefault(task, {})
            mine[ids[rid]] = mine.get(ids[rid], 0.0) + per_hour
        _fit(self.notes, pools, demand)
        for task, needs in demand.items():
            if not self.tasks[task].get("milestone"):
                self.tasks[task]["resources"] = needs
        return pools


def read_xer(path: Path, *, display: str | None = None) -> Plan:
    """The P6 XER plan in ``path``, on the scenario structure.

    Raises:
        ScenarioError: unreadable or malformed files, located.
    """
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ScenarioError([Problem(name, 0, 0, "", f"cannot read it: {e.strerror}")]) from None
    if b"\0" in raw[:4096]:
        raise ScenarioError([Problem(name, 1, 1, "", "binary data: not a P6 XER text file")])
    xer = _Xer(_tables(_decode(raw), name), name)
    xer.read_calendars()
    xer.read_activities()
    xer.read_codes()
    xer.read_relationships()
    data = xer.scenario(path.stem)
    xer.plan.data, xer.plan.notes = data, xer.notes
    return xer.plan


def _project_id(row: dict[str, str]) -> str:
    return re.sub(r"[^\w-]+", "-", row.get("proj_short_name") or row["proj_id"]).strip("-")


def _wbs_path(wbs: dict[str, dict[str, str]], node: str) -> str:
    """The short names from below the project's root node down to ``node``, joined by dots."""
    names: list[str] = []
    seen: set[str] = set()
    while node in wbs and node not in seen and wbs[node].get("proj_node_flag") != "Y":
        seen.add(node)
        names.append(wbs[node].get("wbs_short_name") or node)
        node = wbs[node].get("parent_wbs_id", "")
    return ".".join(reversed(names))


def _activity_codes(tables: dict[str, list[dict[str, str]]]) -> list[tuple[str, str, str]]:
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
