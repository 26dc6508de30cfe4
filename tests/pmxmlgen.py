"""Small Primavera P6 XML (PMXML) plans written from text, for the tests and the plan
benchmark."""

from __future__ import annotations

from pathlib import Path

NS = "http://xmlns.oracle.com/Primavera/P6Professional/V20.12/API/BusinessObjects"


def pmxml(activities: str = "", extra: str = "", calendar: str = "") -> str:
    """A small PMXML plan: a 10-hour Mon-Fri calendar (ObjectId 5) and project P1 (ObjectId
    1), with the activities, relationships and other elements given."""
    week = "".join(
        f"<StandardWorkHours><DayOfWeek>{day}</DayOfWeek>{work}</StandardWorkHours>"
        for day, work in [
            ("Sunday", "<WorkTime/>"),
            (
                "Monday",
                calendar or "<WorkTime><Start>07:00:00</Start><Finish>16:59:00</Finish></WorkTime>",
            ),
            *(
                (d, "<WorkTime><Start>07:00:00</Start><Finish>16:59:00</Finish></WorkTime>")
                for d in ("Tuesday", "Wednesday", "Thursday", "Friday")
            ),
        ]
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<APIBusinessObjects xmlns="{NS}">
  <Calendar><HoursPerDay>10</HoursPerDay><IsDefault>1</IsDefault><Name>Ten hours</Name>
    <ObjectId>5</ObjectId><StandardWorkWeek>{week}</StandardWorkWeek>
    <HolidayOrExceptions><HolidayOrException><Date>2027-01-06T00:00:00</Date>
    </HolidayOrException></HolidayOrExceptions></Calendar>
  <Project><ObjectId>1</ObjectId><Id>P1</Id><PlannedStartDate>2027-01-04T00:00:00</PlannedStartDate>
    <DataDate>2027-01-04T00:00:00</DataDate>{activities}</Project>{extra}
</APIBusinessObjects>
"""


def activity(oid: int, code: str, hours: float | str, **more: str) -> str:
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in more.items())
    return (
        f"<Activity><ObjectId>{oid}</ObjectId><Id>{code}</Id><Name>{code} work</Name>"
        f"<CalendarObjectId>5</CalendarObjectId><PlannedDuration>{hours}</PlannedDuration>"
        f"<Status>Not Started</Status>{fields}</Activity>"
    )


def relationship(
    oid: int, pred: int, succ: int, kind: str = "Finish to Start", lag: float | str = 0
) -> str:
    return (
        f"<Relationship><ObjectId>{oid}</ObjectId><PredecessorActivityObjectId>{pred}"
        f"</PredecessorActivityObjectId><SuccessorActivityObjectId>{succ}"
        f"</SuccessorActivityObjectId><Type>{kind}</Type><Lag>{lag}</Lag></Relationship>"
    )


def chain(path: Path, n: int) -> Path:
    """``path``: a PMXML plan of ``n`` 8-hour activities A1 ... An, each after the one
    before (finish to start)."""
    acts = "".join(activity(k, f"A{k}", 8) for k in range(1, n + 1))
    links = "".join(relationship(n + k, k, k + 1) for k in range(1, n))
    path.write_text(pmxml(acts, links), encoding="utf-8")
    return path
