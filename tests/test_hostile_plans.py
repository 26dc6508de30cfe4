"""Malformed and hostile plan files, every format: refused in one located line, before any
simulation, with nothing written and no traceback, within a bounded time."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import cli

MSPDI = '<Project xmlns="http://schemas.microsoft.com/project">'
CASES = [
    (
        "plan.xml",
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f"{MSPDI}<Name>&x;</Name></Project>",
        "entities are not allowed",
    ),
    (
        "plan.xml",
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa">'
        + "".join(
            f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
            for p, c in zip("abcdefg", "bcdefgh", strict=True)
        )
        + f"]>{MSPDI}<Name>&h;</Name></Project>",
        "entities are not allowed",
    ),
    ("plan.xml", f'{MSPDI}<Name a="{"x" * 12_000_000}"/></Project>', "over 10,000,000 bytes"),
    ("plan.xml", bytes(range(256)) * 64, "not well-formed XML"),
    ("plan.xml", "", "not well-formed XML"),
    ("plan.xer", bytes(range(256)) * 64, "binary data: not a P6 XER text file"),
    ("plan.xer", "ERMHDR\t8.4\n%T\tPROJECT\n%F\tproj_id\n%E\n", "no PROJECT or TASK table"),
    ("plan.pmxml", "<html><body/></html>", "not an MS Project XML file"),
    ("plan.mpp", None, "a zip archive: not an MS Project .mpp file"),
]


@pytest.mark.parametrize(
    ("name", "content", "message"), CASES, ids=[f"{c[0]}-{c[2][:24]}" for c in CASES]
)
def test_hostile_plan_files_are_refused(
    tmp_path: Path, name: str, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is None:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
    else:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "out"
    for command in (["run", str(path), "-n", "10", "--out", str(out)], ["check", str(path)]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code != 0
        problems = [ln for ln in result.output.splitlines() if ln.startswith(str(path))]
        assert len(problems) == 1, result.output
        assert message in problems[0]
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert not out.exists()


ROOT = Path(__file__).resolve().parent.parent
XER = ROOT / "scenarios" / "plant-upgrade.xer"


def refused_everywhere(tmp_path: Path, path: Path, message: str) -> str:
    """The one located line each of ``import``, ``check``, ``run`` and ``validate`` gives for
    ``path`` (the same for all four), with no traceback and nothing written."""
    out, yaml = tmp_path / "out", tmp_path / "imported.yaml"
    commands = [
        ["import", str(path), "--out", str(yaml)],
        ["check", str(path)],
        ["run", str(path), "-n", "10", "--out", str(out)],
        ["validate", str(path)],
    ]
    lines = set()
    for command in commands:
        result = CliRunner().invoke(cli, command)
        assert result.exit_code != 0, (command, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        problems = [ln for ln in result.output.splitlines() if ln.startswith(str(path))]
        assert len(problems) == 1, result.output
        assert message in problems[0], problems[0]
        lines.add(problems[0])
    assert not out.exists()
    assert not yaml.exists()
    assert len(lines) == 1
    return lines.pop()


def xer_lines() -> list[str]:
    return XER.read_text(encoding="utf-8").split("\n")


@pytest.mark.parametrize(
    ("cut", "line"),
    [(lambda raw: raw[:30000], 111), (lambda raw: b"\n".join(raw.split(b"\n")[:200]), 200)],
    ids=["mid-row", "after-a-header"],
)
def test_a_truncated_xer_is_refused_at_its_last_line(
    tmp_path: Path, cut: Callable[[bytes], bytes], line: int
) -> None:
    path = tmp_path / "trunc.xer"
    path.write_bytes(cut(XER.read_bytes()))
    problem = refused_everywhere(tmp_path, path, "ends without %E: truncated?")
    assert problem.startswith(f"{path}:{line}:1: ")


@pytest.mark.parametrize("extra", [-2, 1], ids=["short", "long"])
def test_an_xer_row_of_other_than_its_declared_fields_is_refused(
    tmp_path: Path, extra: int
) -> None:
    lines = xer_lines()
    k = next(k for k, ln in enumerate(lines) if ln.startswith("%T\tTASK"))
    declared = len(lines[k + 1].split("\t")) - 1
    row = lines[k + 2].split("\t")
    lines[k + 2] = "\t".join(row[:extra] if extra < 0 else [*row, "x"])
    path = tmp_path / "rows.xer"
    path.write_text("\n".join(lines), encoding="utf-8")
    found = declared + extra
    message = f"TASK row: {found} fields where %F declares {declared}"
    assert refused_everywhere(tmp_path, path, message).startswith(f"{path}:{k + 3}:1: ")


PLAN = """<?xml version="1.0"?>
<Project xmlns="http://schemas.microsoft.com/project">
  <StartDate>2027-01-04T08:00:00</StartDate><MinutesPerDay>{minutes}</MinutesPerDay>
  <StatusDate>2027-01-06T08:00:00</StatusDate>
  <CalendarUID>1</CalendarUID>
  <Calendars>
    <Calendar><UID>1</UID><Name>Standard</Name><BaseCalendarUID>{base}</BaseCalendarUID>
      <WeekDays><WeekDay><DayType>{day}</DayType><DayWorking>1</DayWorking><WorkingTimes>
        <WorkingTime><FromTime>{start}</FromTime><ToTime>12:00:00</ToTime></WorkingTime>
        <WorkingTime><FromTime>13:00:00</FromTime><ToTime>17:00:00</ToTime></WorkingTime>
      </WorkingTimes></WeekDay></WeekDays>
    </Calendar>
    <Calendar><UID>3</UID><Name>Base</Name><BaseCalendarUID>-1</BaseCalendarUID></Calendar>
  </Calendars>
  <Tasks>
    <Task><UID>1</UID><Name>Dig</Name><OutlineLevel>{level}</OutlineLevel>
      <Duration>PT40H0M0S</Duration>{progress}</Task>
    <Task><UID>2</UID><Name>Pour</Name><OutlineLevel>1</OutlineLevel>
      <Duration>PT8H0M0S</Duration>
      <PredecessorLink><PredecessorUID>1</PredecessorUID><Type>{kind}</Type>
        <LinkLag>{lag}</LinkLag><LagFormat>{format}</LagFormat></PredecessorLink></Task>
  </Tasks>
  <Resources><Resource><UID>1</UID><Name>Crew</Name><Type>1</Type>
    <MaxUnits>{units}</MaxUnits></Resource></Resources>
</Project>
"""
FIELDS = {
    "minutes": "480",
    "base": "3",
    "day": "2",
    "start": "08:00:00",
    "level": "1",
    "kind": "1",
    "lag": "4800",
    "format": "7",
    "units": "1",
    "progress": "<ActualStart>2027-01-04T08:00:00</ActualStart>"
    "<RemainingDuration>PT24H0M0S</RemainingDuration>",
}
TASK = "Tasks/Task[UID=2]/PredecessorLink[PredecessorUID=1]"
BAD_FIELDS = [
    ("lag", "abc", f"{TASK}/LinkLag: expected a number, got 'abc'"),
    ("lag", "nan", f"{TASK}/LinkLag: expected a number, got 'nan'"),
    ("format", "abc", f"{TASK}/LagFormat: expected a whole number, got 'abc'"),
    ("day", "abc", "Calendar[UID=1]/WeekDays/WeekDay/DayType: expected a whole number, got 'abc'"),
    ("level", "abc", "Tasks/Task[UID=1]/OutlineLevel: expected a whole number, got 'abc'"),
    ("minutes", "abc", ": MinutesPerDay: expected a positive number, got 'abc'"),
    ("minutes", "0", ": MinutesPerDay: expected a positive number, got '0'"),
    (
        "start",
        "8:00",
        "Calendars/Calendar[UID=1]/WeekDays/WeekDay[DayType=2]/WorkingTimes/WorkingTime/"
        "FromTime: expected a time like 08:00:00, got '8:00'",
    ),
    ("base", "1", "Calendars/Calendar[UID=1]/BaseCalendarUID: base calendars in a cycle: 1 -> 1"),
    ("units", "lots", "Resources/Resource[UID=1]/MaxUnits: expected a number, got 'lots'"),
    ("kind", "7", f"{TASK}/Type: expected a link type (0 FF, 1 FS, 2 SF, 3 SS), got '7'"),
    (
        "progress",
        "<ActualStart>2027-01-04T08:00:00</ActualStart>"
        "<RemainingDuration>-PT8H0M0S</RemainingDuration>",
        "Tasks/Task[UID=1]/RemainingDuration: must be >= 0, got -PT8H0M0S",
    ),
    (
        "progress",
        "<ActualStart>2027-01-07T08:00:00</ActualStart>",
        "Tasks/Task[UID=1]/ActualStart: 2027-01-07T08:00:00 is after the status date "
        "2027-01-06T08:00:00 (StatusDate): work after it has not happened yet",
    ),
    (
        "progress",
        "<ActualStart>2027-01-04T08:00:00</ActualStart>"
        "<ActualFinish>2027-01-06T12:00:00</ActualFinish>",
        "Tasks/Task[UID=1]/ActualFinish: 2027-01-06T12:00:00 is on or after the status date "
        "2027-01-06T08:00:00 (StatusDate): work after it has not happened yet",
    ),
]


def test_the_mspdi_template_is_a_valid_plan(tmp_path: Path) -> None:
    path = tmp_path / "plan.xml"
    path.write_text(PLAN.format(**FIELDS), encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", str(path), "--out", str(tmp_path / "p.yaml")])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("field", "value", "message"), BAD_FIELDS, ids=[f"{f}={v[:60]}" for f, v, _ in BAD_FIELDS]
)
def test_a_bad_mspdi_value_is_one_located_line_in_every_command(
    tmp_path: Path, field: str, value: str, message: str
) -> None:
    path = tmp_path / "plan.xml"
    path.write_text(PLAN.format(**{**FIELDS, field: value}), encoding="utf-8")
    refused_everywhere(tmp_path, path, message)


def test_base_calendars_in_a_cycle_are_refused(tmp_path: Path) -> None:
    """Calendar 1 is based on 3, and 3 on 1: the cycle is named where it closes."""
    text = PLAN.format(**FIELDS).replace(
        "<Name>Base</Name><BaseCalendarUID>-1", "<Name>Base</Name><BaseCalendarUID>1"
    )
    path = tmp_path / "plan.xml"
    path.write_text(text, encoding="utf-8")
    message = "Calendars/Calendar[UID=3]/BaseCalendarUID: base calendars in a cycle: 1 -> 3 -> 1"
    refused_everywhere(tmp_path, path, message)


def xer_table(lines: list[str], table: str) -> tuple[int, list[str]]:
    """The line index of ``table``'s %F line and its fields."""
    k = lines.index(f"%T\t{table}") + 1
    return k, lines[k].split("\t")[1:]


def test_an_activity_of_a_project_not_in_the_file_is_refused(tmp_path: Path) -> None:
    lines = xer_lines()
    k, fields = xer_table(lines, "TASK")
    row = lines[k + 1].split("\t")
    row[1 + fields.index("proj_id")] = "5494"
    lines[k + 1] = "\t".join(row)
    path = tmp_path / "plan.xer"
    path.write_text("\n".join(lines), encoding="utf-8")
    task = row[1 + fields.index("task_id")]
    message = f"TASK[task_id={task}].proj_id: project '5494' is not in the PROJECT table"
    refused_everywhere(tmp_path, path, message)


@pytest.mark.parametrize(
    ("table", "key"), [("TASK", "task_id"), ("TASK", "proj_id"), ("PROJECT", "proj_id")]
)
def test_an_xer_table_without_its_key_field_is_refused(
    tmp_path: Path, table: str, key: str
) -> None:
    lines = xer_lines()
    k, fields = xer_table(lines, table)
    lines[k] = "\t".join(["%F", *(f"x{f}" if f == key else f for f in fields)])
    path = tmp_path / "plan.xer"
    path.write_text("\n".join(lines), encoding="utf-8")
    problem = refused_everywhere(tmp_path, path, f"table {table}: %F declares no {key}")
    assert problem.startswith(f"{path}:{k + 1}:1: ")


def test_an_unknown_xer_link_type_is_refused(tmp_path: Path) -> None:
    lines = xer_lines()
    k, fields = xer_table(lines, "TASKPRED")
    row = lines[k + 1].split("\t")
    row[1 + fields.index("pred_type")] = "PR_XX"
    lines[k + 1] = "\t".join(row)
    path = tmp_path / "plan.xer"
    path.write_text("\n".join(lines), encoding="utf-8")
    link = row[1 + fields.index("task_pred_id")]
    message = (
        f"TASKPRED[task_pred_id={link}].pred_type: expected a link type"
        " (PR_FS, PR_SS, PR_FF, PR_SF), got 'PR_XX'"
    )
    refused_everywhere(tmp_path, path, message)


# P6 values the scenario would refuse at line 1 in days, refused by the reader at the row, in
# the file's field and units: A1030 of plant-upgrade.xer is in progress (task_id 100003),
# the data date 2027-01-25 00:00, A1000 (task_id 100000) complete from 2027-01-04 08:00.
BAD_ACTUALS = [
    ("A1030", "remain_drtn_hr_cnt", "-40", "must be >= 0, got -40"),
    ("A1030", "target_drtn_hr_cnt", "-8", "must be >= 0, got -8"),
    (
        "A1030",
        "act_start_date",
        "2027-02-10 08:00",
        "2027-02-10 08:00 is after the data date 2027-01-25 00:00 "
        "(PROJECT[proj_id=1000].last_recalc_date): work after the data date has not happened yet",
    ),
    (
        "A1000",
        "act_end_date",
        "2027-01-25 17:00",
        "2027-01-25 17:00 is on or after the data date 2027-01-25 00:00 "
        "(PROJECT[proj_id=1000].last_recalc_date): work after the data date has not happened yet",
    ),
    (
        "A1000",
        "act_end_date",
        "2027-01-01 17:00",
        "2027-01-01 17:00 is before the actual start 2027-01-04 08:00",
    ),
]


@pytest.mark.parametrize(
    ("code", "field", "value", "message"),
    BAD_ACTUALS,
    ids=[f"{f}={v}" for _, f, v, _ in BAD_ACTUALS],
)
def test_bad_xer_progress_is_refused_at_its_row_and_field(
    tmp_path: Path, code: str, field: str, value: str, message: str
) -> None:
    lines = xer_lines()
    k, fields = xer_table(lines, "TASK")
    n = next(n for n in range(k + 1, len(lines)) if f"\t{code}\t" in lines[n])
    row = lines[n].split("\t")
    row[1 + fields.index(field)] = value
    lines[n] = "\t".join(row)
    path = tmp_path / "plan.xer"
    path.write_text("\n".join(lines), encoding="utf-8")
    task = row[1 + fields.index("task_id")]
    line = refused_everywhere(tmp_path, path, message)
    assert line == f"{path}:{n + 1}:1: TASK[task_id={task}].{field}: {message}"
