"""Primavera P6 XML exports (PMXML: an ``APIBusinessObjects`` root), read safely and mapped
onto the scenario structure exactly as XER files are (see :mod:`._p6`).

What is read: every ``Project`` in the file (one scenario project each, links between them
kept; ``BaselineProject`` copies are noted and left out), calendars (``StandardWorkWeek``
and ``HolidayOrExceptions``; a work time's finish at hh:14, :29, :44 or :59 is the last
minute worked), activities with their WBS paths, activity codes and user fields (``WBS``,
``Code`` and ``UDF``), relationships with their lags, date constraints, actual dates
and remaining durations at the data date, resources with their first rate, and resource
assignments. Each element becomes a row of the P6 table and fields XER would hold, its
values translated (``Finish to Start`` is ``PR_FS``); the mapping itself is shared.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from ..errors import Problem, ScenarioError
from ._p6 import _DAYS, P6, Row, calendar_spec
from ._xml import PMXML_ROOT, local, parse_xml
from .mspdi import Plan

__all__ = ["read_pmxml"]

# per P6 table: the PMXML element holding its rows, and each child element's field
_TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "PROJECT": (
        "Project",
        {
            "ObjectId": "proj_id",
            "Id": "proj_short_name",
            "PlannedStartDate": "plan_start_date",
            "DataDate": "last_recalc_date",
            "RelationshipLagCalendar": "sched_calendar_on_relationship_lag",
        },
    ),
    "CALENDAR": (
        "Calendar",
        {
            "ObjectId": "clndr_id",
            "Name": "clndr_name",
            "HoursPerDay": "day_hr_cnt",
            "IsDefault": "default_flag",
        },
    ),
    "TASK": (
        "Activity",
        {
            "ObjectId": "task_id",
            "Id": "task_code",
            "Name": "task_name",
            "Type": "task_type",
            "Status": "status_code",
            "CalendarObjectId": "clndr_id",
            "PlannedDuration": "target_drtn_hr_cnt",
            "RemainingDuration": "remain_drtn_hr_cnt",
            "PrimaryConstraintType": "cstr_type",
            "PrimaryConstraintDate": "cstr_date",
            "SecondaryConstraintType": "cstr_type2",
            "ActualStartDate": "act_start_date",
            "ActualFinishDate": "act_end_date",
            "EarlyStartDate": "early_start_date",
            "EarlyFinishDate": "early_end_date",
            "RemainingEarlyStartDate": "restart_date",
            "RemainingEarlyFinishDate": "reend_date",
            "WBSObjectId": "wbs_id",
        },
    ),
    "PROJWBS": (
        "WBS",
        {"ObjectId": "wbs_id", "ParentObjectId": "parent_wbs_id", "Code": "wbs_short_name"},
    ),
    "ACTVTYPE": ("ActivityCodeType", {"ObjectId": "actv_code_type_id", "Name": "actv_code_type"}),
    "ACTVCODE": (
        "ActivityCode",
        {
            "ObjectId": "actv_code_id",
            "CodeTypeObjectId": "actv_code_type_id",
            "CodeValue": "short_name",
        },
    ),
    "UDFTYPE": (
        "UDFType",
        {"ObjectId": "udf_type_id", "SubjectArea": "table_name", "Title": "udf_type_label"},
    ),
    "TASKPRED": (
        "Relationship",
        {
            "ObjectId": "task_pred_id",
            "SuccessorActivityObjectId": "task_id",
            "PredecessorActivityObjectId": "pred_task_id",
            "Type": "pred_type",
            "Lag": "lag_hr_cnt",
        },
    ),
    "RSRC": (
        "Resource",
        {
            "ObjectId": "rsrc_id",
            "Id": "rsrc_short_name",
            "ResourceType": "rsrc_type",
            "CalendarObjectId": "clndr_id",
        },
    ),
    "RSRCRATE": (
        "ResourceRate",
        {
            "ObjectId": "rsrc_rate_id",
            "ResourceObjectId": "rsrc_id",
            "MaxUnitsPerTime": "max_qty_per_hr",
            "PricePerUnit": "cost_per_qty",
        },
    ),
    "TASKRSRC": (
        "ResourceAssignment",
        {
            "ObjectId": "taskrsrc_id",
            "ActivityObjectId": "task_id",
            "ResourceObjectId": "rsrc_id",
            "RemainingUnitsPerTime": "remain_qty_per_hr",
            "PlannedUnitsPerTime": "target_qty_per_hr",
        },
    ),
}
_TABLE_OF = {element: table for table, (element, _) in _TABLES.items()}
# an activity's own code assignments and user field values, as rows of their P6 tables
# (table, the field naming the activity, the fields)
_OWN: dict[str, tuple[str, str, dict[str, str]]] = {
    "Code": (
        "TASKACTV",
        "task_id",
        {"TypeObjectId": "actv_code_type_id", "ValueObjectId": "actv_code_id"},
    ),
    "UDF": (
        "UDFVALUE",
        "fk_id",
        {
            "TypeObjectId": "udf_type_id",
            "TextValue": "udf_text",
            "DoubleValue": "udf_number",
            "IntegerValue": "udf_number",
        },
    ),
}
_CONSTRAINT_CODES = {
    "Start On": "CS_MSO",
    "Start On or Before": "CS_MSOB",
    "Start On or After": "CS_MSOA",
    "Finish On": "CS_MEO",
    "Finish On or Before": "CS_MEOB",
    "Finish On or After": "CS_MEOA",
    "As Late As Possible": "CS_ALAP",
    "Mandatory Start": "CS_MANDSTART",
    "Mandatory Finish": "CS_MANDFIN",
}
# PMXML values as XER codes (a value not listed is kept as written)
_CODES: dict[str, dict[str, str]] = {
    "task_type": {
        "Task Dependent": "TT_Task",
        "Resource Dependent": "TT_Rsrc",
        "Level of Effort": "TT_LOE",
        "Start Milestone": "TT_Mile",
        "Finish Milestone": "TT_FinMile",
        "WBS Summary": "TT_WBS",
    },
    "status_code": {
        "Not Started": "TK_NotStart",
        "In Progress": "TK_Active",
        "Completed": "TK_Complete",
    },
    "cstr_type": _CONSTRAINT_CODES,
    "cstr_type2": _CONSTRAINT_CODES,
    "pred_type": {
        "Finish to Start": "PR_FS",
        "Start to Start": "PR_SS",
        "Finish to Finish": "PR_FF",
        "Start to Finish": "PR_SF",
    },
    "rsrc_type": {"Labor": "RT_Labor", "Nonlabor": "RT_Equip", "Material": "RT_Mat"},
    "default_flag": {"1": "Y", "0": "N", "true": "Y", "false": "N"},
    "table_name": {"Activity": "TASK"},
}
_PREDECESSOR = "Predecessor Activity Calendar"


def _row(el: ET.Element, fields: dict[str, str]) -> Row:
    """The element's children as a P6 table's fields (empty and nil ones left out)."""
    row: Row = {}
    for child in el:
        field = fields.get(local(child.tag))
        text = (child.text or "").strip()
        if field and text:
            row[field] = _CODES.get(field, {}).get(text, text)
    return row


def _children(el: ET.Element, *path: str) -> Iterator[ET.Element]:
    """The elements below ``el`` along ``path`` of tag names (namespaces aside)."""
    if not path:
        yield el
        return
    for child in el:
        if local(child.tag) == path[0]:
            yield from _children(child, *path[1:])


def _text(el: ET.Element, tag: str) -> str:
    return next(((c.text or "").strip() for c in _children(el, tag)), "")


class _Pmxml(P6):
    """One PMXML file being read: its elements as P6 tables."""

    LABELS: ClassVar[dict[str, tuple[str, str, str]]] = {
        table: (("Project/" if table == "TASK" else "") + element, "ObjectId", fields["ObjectId"])
        for table, (element, fields) in _TABLES.items()
    }
    FIELDS: ClassVar[dict[str, dict[str, str]]] = {
        table: {field: tag for tag, field in fields.items()}
        for table, (_, fields) in _TABLES.items()
    }
    SEP: ClassVar[str] = "/"
    EXAMPLE: ClassVar[str] = "2015-02-24T08:00:00"

    def __init__(self, root: ET.Element, name: str) -> None:
        self.elements: dict[str, ET.Element] = {}  # clndr_id -> its Calendar element
        notes: list[str] = []
        tables: dict[str, list[Row]] = {t: [] for t in [*_TABLES, "TASKACTV", "UDFVALUE"]}
        for el in root:
            tag = local(el.tag)
            if tag == "Project":
                project = self.add(tables, el, "PROJECT", name)
                for child in el:
                    if local(child.tag) in _TABLE_OF and local(child.tag) != "Project":
                        self.add(tables, child, _TABLE_OF[local(child.tag)], name, project)
            elif tag in ("BaselineProject", "Activity"):
                what = "a baseline" if tag == "BaselineProject" else "outside a Project"
                notes.append(f"{tag}[ObjectId={_text(el, 'ObjectId')}]: {what}, left out")
            elif tag in _TABLE_OF and tag != "Project":
                self.add(tables, el, _TABLE_OF[tag], name)
        super().__init__(tables, name)
        self.notes.extend(notes)
        for proj in tables["PROJECT"]:
            lags = proj.get("sched_calendar_on_relationship_lag", _PREDECESSOR)
            if lags != _PREDECESSOR:
                where = self.where("PROJECT", proj, "sched_calendar_on_relationship_lag")
                self.notes.append(f"{where}: {lags!r}: lags read in the predecessor's calendar")

    def add(
        self,
        tables: dict[str, list[Row]],
        el: ET.Element,
        table: str,
        name: str,
        project: Row | None = None,
    ) -> Row:
        """The element as a row of ``table`` (an activity belonging to ``project``)."""
        fields = _TABLES[table][1]
        row = _row(el, fields)
        if table in ("PROJECT", "TASK", "CALENDAR") and not row.get(fields["ObjectId"]):
            inside = f"Project[ObjectId={project['proj_id']}]/" if project else ""
            where = f"{inside}{_TABLES[table][0]}[Id={_text(el, 'Id') or _text(el, 'Name')}]"
            raise ScenarioError([Problem(name, 0, 0, where, "no ObjectId")])
        if table == "TASK" and project is not None:
            row["proj_id"] = project["proj_id"]
            for child in el:
                own, key, own_fields = _OWN.get(local(child.tag), ("", "", {}))
                if own:
                    tables[own].append({**_row(child, own_fields), key: row["task_id"]})
        if table == "CALENDAR":
            self.elements[row["clndr_id"]] = el
        tables[table].append(row)
        return row

    def shown(self, value: str) -> str:
        codes = (*_CONSTRAINT_CODES.items(), *_CODES["pred_type"].items())
        return next((k for k, v in codes if v == value), value)

    def calendar(self, row: Row) -> dict[str, Any]:
        """A ``Calendar`` element as a scenario calendar."""
        el, where = self.elements[row["clndr_id"]], self.where("CALENDAR", row)
        hours: dict[int, float] = {}
        for day in _children(el, "StandardWorkWeek", "StandardWorkHours"):
            name = _text(day, "DayOfWeek")
            if name[:3] in _DAYS:
                at = f"{where}/StandardWorkWeek/StandardWorkHours[DayOfWeek={name}]"
                hours[_DAYS.index(name[:3]) + 1] = self.worked(day, at)
        days: list[tuple[dt.date, float]] = []
        for item in _children(el, "HolidayOrExceptions", "HolidayOrException"):
            at = f"{where}/HolidayOrExceptions/HolidayOrException"
            when = self.moment(_text(item, "Date"), f"{at}/Date")
            days.append((when.date(), self.worked(item, at)))
        name = row.get("clndr_name") or row["clndr_id"]
        return calendar_spec(name, self.day_hours[row["clndr_id"]], hours, days, self.notes)

    def worked(self, el: ET.Element, where: str) -> float:
        """Hours of the element's ``WorkTime`` spans."""
        total = 0.0
        for span in _children(el, "WorkTime"):
            start, finish = _text(span, "Start"), _text(span, "Finish")
            if not start or not finish:
                continue
            t0 = self.minutes(start, f"{where}/WorkTime/Start")
            t1 = self.minutes(finish, f"{where}/WorkTime/Finish")
            t1 += 1 if (t1 + 1) % 15 == 0 else 0  # the last minute worked, inclusive
            total += ((t1 - t0) if t1 > t0 else (t1 - t0 + 1440)) / 60
        return total

    def minutes(self, value: str, where: str) -> int:
        try:
            t = dt.time.fromisoformat(value)
        except ValueError:
            raise self.fail(where, f"expected a time like 08:00:00, got {value!r}") from None
        return t.hour * 60 + t.minute


def plan_from(root: ET.Element, path: Path, name: str) -> Plan:
    """The PMXML plan whose root element is ``root``, read from ``path``."""
    if local(root.tag) != PMXML_ROOT:
        raise ScenarioError(
            [Problem(name, 1, 1, "", f"not a P6 XML file (PMXML): no <{PMXML_ROOT}> root")]
        )
    p6 = _Pmxml(root, name)
    p6.read_calendars()
    p6.read_activities()
    p6.read_codes()
    p6.read_relationships()
    return p6.finish(path.stem)


def read_pmxml(path: Path, *, display: str | None = None) -> Plan:
    """The Primavera P6 XML plan in ``path``, on the scenario structure.

    Raises:
        ScenarioError: unreadable, hostile or malformed files, located.
    """
    name = display or str(path)
    return plan_from(parse_xml(path, name), path, name)
