"""Primavera P6 XML (PMXML) plans: ``pmosim check`` on the public files in
``../shared/data/plans`` reproduces the early dates P6 stored; a PMXML file and the XER
export of the same plan read the same; the mapping is XER's; malformed files are refused in
one located line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pmxmlgen import NS, activity, chain, pmxml, relationship
from test_plans import PLANS, matches, needs_plans

from simulator.cli import cli
from simulator.errors import ScenarioError
from simulator.plans import PLAN_SUFFIXES, read_plan
from simulator.plans.pmxml import read_pmxml
from simulator.scenario import load_scenario


@needs_plans
@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("percent-complete-8.4.pmxml", 12),  # progress of every percent-complete type
        ("resource-rates-test.xml", 1),  # five assignments of one resource, two rates
        ("aspose_BaselineProjects.xml", 1),  # statused; its two baselines are left out
        ("PredecessorCalendar.pmxml.xml", 0),  # its one activity is complete
    ],
)
def test_check_reproduces_the_dates_p6_stored(name: str, stored: int) -> None:
    hits, total = matches(PLANS / name)
    assert total == stored
    assert hits == total, f"{hits}/{total}"


def _same_order(data: dict[str, Any]) -> dict[str, Any]:
    """The plan's data with each calendar's dates sorted (XER lists exceptions unordered)."""
    out = dict(data)
    out["calendars"] = {
        name: {k: sorted(v, key=str) if isinstance(v, list) else v for k, v in cal.items()}
        for name, cal in data["calendars"].items()
    }
    del out["scenario"]  # the file's name
    return out


@needs_plans
@pytest.mark.parametrize(
    ("xml", "xer"),
    [
        ("percent-complete-8.4.pmxml", "percent-complete-8.4.xer"),
        ("resource-rates-test.xml", "resource-rates-test.xer"),
    ],
)
def test_a_p6_xml_file_reads_as_the_xer_export_of_the_same_plan(xml: str, xer: str) -> None:
    """Tasks, durations, progress, calendars, pools and demands, and the stored dates."""
    a, b = read_plan(PLANS / xml), read_plan(PLANS / xer)
    assert _same_order(a.data) == _same_order(b.data)
    assert a.stored == b.stored
    assert a.notes == b.notes
    assert len(a.data["projects"][0]["tasks"]) == (12 if "percent" in xml else 1)


def test_activities_links_and_constraints_map_as_in_xer(tmp_path: Path) -> None:
    """Durations in days of the activity's calendar; a lag in hours becomes days of the
    predecessor's calendar, in that calendar; a level of effort is left out; a constraint
    pmosim has is kept and one it lacks noted by its P6 name."""
    acts = "".join(
        [
            activity(
                1,
                "A",
                20,
                PrimaryConstraintType="Start On or After",
                PrimaryConstraintDate="2027-01-05T07:00:00",
            ),
            activity(2, "B", 5, SecondaryConstraintType="Finish On or After"),
            activity(3, "LOE", 40, Type="Level of Effort"),
            activity(
                4,
                "M",
                0,
                Type="Finish Milestone",
                PrimaryConstraintType="Start On or Before",
                PrimaryConstraintDate="2027-01-05T07:00:00",
            ),
        ]
    )
    links = (
        relationship(7, 1, 2, "Start to Start", 15) + relationship(8, 2, 4) + relationship(9, 99, 4)
    )
    path = tmp_path / "plan.pmxml"
    path.write_text(pmxml(acts, links), encoding="utf-8")
    plan = read_plan(path)
    a, b, m = plan.data["projects"][0]["tasks"]
    assert a == {
        "id": "A",
        "name": "A work",
        "calendar": "Ten-hours",
        "duration": 2.0,
        "start_no_earlier_than": dt.date(2027, 1, 5),
    }
    assert b["after"] == [{"id": "A", "type": "SS", "lag": 1.5, "calendar": "Ten-hours"}]
    assert m["milestone"] is True
    assert m["after"] == [{"id": "B", "type": "FS"}]
    assert plan.data["calendars"]["Ten-hours"]["holidays"] == [dt.date(2027, 1, 6)]
    assert plan.notes == [
        "Project/Activity[ObjectId=2]: secondary constraint Finish On or After not kept",
        "Project/Activity[ObjectId=3]: level of effort left out",
        "Project/Activity[ObjectId=4]: constraint Start On or Before not kept",
        "Relationship[ObjectId=9]: link to an activity not in the file left out",
    ]
    load_scenario(path)  # and it is a valid scenario


def test_wbs_paths_activity_codes_and_user_fields_are_read(tmp_path: Path) -> None:
    """As from XER: the WBS codes from the top down joined by dots, and each activity code
    and text or number user field by its name."""
    wbs = (
        "<WBS><ObjectId>20</ObjectId><Code>CIVILS</Code></WBS>"
        "<WBS><ObjectId>21</ObjectId><ParentObjectId>20</ParentObjectId><Code>FOUND</Code></WBS>"
    )
    code = "<TypeObjectId>50</TypeObjectId><ValueObjectId>51</ValueObjectId>"
    udf = "<TypeObjectId>9</TypeObjectId><DoubleValue>0.3</DoubleValue>"
    acts = activity(1, "A", 8, WBSObjectId="21", Code=code, UDF=udf) + activity(2, "B", 8)
    kinds = (
        "<ActivityCodeType><ObjectId>50</ObjectId><Name>DISCIPLINE</Name></ActivityCodeType>"
        "<ActivityCode><ObjectId>51</ObjectId><CodeTypeObjectId>50</CodeTypeObjectId>"
        "<CodeValue>Civil</CodeValue></ActivityCode>"
        "<UDFType><ObjectId>9</ObjectId><SubjectArea>Activity</SubjectArea>"
        "<Title>RISK</Title></UDFType>"
    )
    path = tmp_path / "plan.xml"
    path.write_text(pmxml(wbs + acts, kinds), encoding="utf-8")
    a, b = read_plan(path).data["projects"][0]["tasks"]
    assert a["wbs"] == "CIVILS.FOUND"
    assert a["codes"] == {"DISCIPLINE": "Civil", "RISK": "0.3"}
    assert "wbs" not in b
    assert "codes" not in b


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            pmxml(activity(1, "A", "ten")),
            r"plan.xml: Project/Activity\[ObjectId=1\]/PlannedDuration: "
            r"expected a number, got 'ten'$",
            id="duration",
        ),
        pytest.param(
            pmxml(activity(1, "A", 8, Status="In Progress", ActualStartDate="yesterday")),
            r"plan.xml: Project/Activity\[ObjectId=1\]/ActualStartDate: "
            r"expected a date like 2015-02-24T08:00:00, got 'yesterday'$",
            id="date",
        ),
        pytest.param(
            pmxml("<Activity><Id>A</Id></Activity>"),
            r"plan.xml: Project\[ObjectId=1\]/Activity\[Id=A\]: no ObjectId$",
            id="no-object-id",
        ),
        pytest.param(
            pmxml(activity(1, "A", 8), relationship(3, 1, 1, lag="soon")),
            r"plan.xml: Relationship\[ObjectId=3\]/Lag: expected a number, got 'soon'$",
            id="lag",
        ),
        pytest.param(
            pmxml(
                activity(1, "A", 8),
                calendar="<WorkTime><Start>7am</Start><Finish>16:59:00</Finish></WorkTime>",
            ),
            r"plan.xml: Calendar\[ObjectId=5\]/StandardWorkWeek/StandardWorkHours"
            r"\[DayOfWeek=Monday\]/WorkTime/Start: expected a time like 08:00:00, got '7am'$",
            id="work-time",
        ),
        pytest.param(
            pmxml(activity(1, "A", 8) + activity(2, "B", 8) + relationship(3, 1, 2, "Finish")),
            r"plan.xml: Relationship\[ObjectId=3\]/Type: expected a link type \(Finish to Start,"
            r" Start to Start, Finish to Finish, Start to Finish\), got 'Finish'$",
            id="link-type",
        ),
        pytest.param(
            pmxml(),
            r"plan.xml: Project/Activity: no activity to schedule$",
            id="empty",
        ),
        pytest.param(
            pmxml(
                activity(
                    1,
                    "A",
                    40,
                    Status="In Progress",
                    ActualStartDate="2027-01-04T07:00:00",
                    RemainingDuration="-40",
                )
            ),
            r"plan.xml: Project/Activity\[ObjectId=1\]/RemainingDuration: must be >= 0, got -40$",
            id="negative-remaining",
        ),
        pytest.param(
            pmxml(activity(1, "A", 8, Status="In Progress", ActualStartDate="2027-01-05T07:00:00")),
            r"plan.xml: Project/Activity\[ObjectId=1\]/ActualStartDate: 2027-01-05T07:00:00 is "
            r"after the data date 2027-01-04T00:00:00 \(Project\[ObjectId=1\]/DataDate\): work "
            r"after the data date has not happened yet$",
            id="started-after-the-data-date",
        ),
        pytest.param(
            f'<APIBusinessObjects xmlns="{NS}"><Project></APIBusinessObjects>',
            r"plan.xml:1:\d+: not well-formed XML",
            id="not-well-formed",
        ),
        pytest.param(
            '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]>'
            f'<APIBusinessObjects xmlns="{NS}">&a;</APIBusinessObjects>',
            r"plan.xml: refused: .*entities are not allowed",
            id="entities",
        ),
        pytest.param(
            "<html/>",
            r"plan.xml:1:1: not an MS Project XML file \(MSPDI.*nor a P6 XML file",
            id="neither",
        ),
    ],
)
def test_malformed_p6_xml_is_refused_in_one_located_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "plan.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=message) as info:
        read_plan(path, display="plan.xml")
    assert len(info.value.problems) == 1
    assert "\n" not in str(info.value)


def test_xml_files_are_told_apart_by_their_root_not_their_suffix(tmp_path: Path) -> None:
    assert ".pmxml" in PLAN_SUFFIXES
    p6 = tmp_path / "p6.xml"
    p6.write_text(pmxml(activity(1, "A", 8)), encoding="utf-8")
    assert read_plan(p6).data["projects"][0]["id"] == "P1"
    ms = tmp_path / "ms.pmxml"
    ms.write_text(
        '<Project xmlns="http://schemas.microsoft.com/project"><StartDate>2027-01-04T08:00:00'
        "</StartDate><Tasks><Task><UID>1</UID><Name>x</Name><Duration>PT8H0M0S</Duration>"
        "</Task></Tasks></Project>",
        encoding="utf-8",
    )
    assert read_plan(ms).data["projects"][0]["tasks"][0]["id"] == "t1"
    with pytest.raises(ScenarioError, match="not a P6 XML file"):
        read_pmxml(ms)


@needs_plans
def test_check_and_import_take_a_pmxml_file(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["check", str(PLANS / "percent-complete-8.4.pmxml")])
    assert result.exit_code in (0, 1), result.output
    assert "EC00640: early finish 2015-07-13" in result.output
    out = tmp_path / "imported.yaml"
    result = runner.invoke(
        cli, ["import", str(PLANS / "aspose_BaselineProjects.xml"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "BaselineProject[ObjectId=5492]: a baseline, left out" in text
    assert "material resource left out" in text


def test_a_long_chain_keeps_every_activity_and_link(tmp_path: Path) -> None:
    """A chain of 6,000 activities: every one read and every link kept (its reading time
    per activity against 1,000 is measured by tests/benchmarks/bench_plans.py)."""
    n = 6000
    path = chain(tmp_path / "big.xml", n)
    tasks = read_plan(path).data["projects"][0]["tasks"]
    assert len(tasks) == n
    assert sum(len(t.get("after", [])) for t in tasks) == n - 1
    assert all(tasks[k]["after"] == [{"id": f"A{k}", "type": "FS"}] for k in range(1, n))


@needs_plans
def test_a_plans_section_takes_a_pmxml_file_as_it_takes_the_xer(tmp_path: Path) -> None:
    loaded = []
    for name in ("percent-complete-8.4.pmxml", "percent-complete-8.4.xer"):
        scenario = tmp_path / f"{name}.yaml"
        scenario.write_text(f"plans: [{{file: {PLANS / name}}}]\n", encoding="utf-8")
        loaded.append(load_scenario(scenario))
    a, b = loaded
    assert len(a.tasks) == 12
    assert a.tasks == b.tasks  # durations, progress, links, calendars
    assert a.calendar == b.calendar
