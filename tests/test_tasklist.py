"""Task lists and tracker exports as plans: the column mapping, the predecessor grammar,
progress from workflow states, cycle-time laws from closed items, located mistakes, and the
same results through ``pmosim run``, ``check`` and ``import``."""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simulator.cli import cli
from simulator.errors import ScenarioError
from simulator.plans import read_plan
from simulator.plans.links import LinkRef, parse_links, parse_span
from simulator.plans.tasklist import read_tasklist
from simulator.scenario import load_scenario

ADO = Path(__file__).resolve().parents[2] / "shared" / "data" / "plans" / "lighthouse_adodata.csv"
needs_ado = pytest.mark.skipif(not ADO.is_file(), reason="shared plan data not present")

# An MS Project-style list: every link form, durations in days and hours, a milestone.
LIST = (
    "ID,Task Name,Duration,Predecessors\n"
    "1,Design,5 days,\n"
    "2,Build,10d,1FS+2d\n"
    "3,Docs,3d,1SS\n"
    '4,Test,16h,"2;3FF-1d"\n'
    "5,Release,0d,4\n"
)


def _write(folder: Path, text: str, name: str = "list.csv", start: str = "2027-01-04") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8", newline="")
    if start:
        path.with_name(f"{path.stem}.mapping.yaml").write_text(f"plan_start: {start}\n")
    return path


# --- the CPM dates of a task list, worked by hand -----------------------------------------


def test_check_gives_the_hand_worked_dates(tmp_path: Path) -> None:
    """Mon 4 Jan 2027, Mon-Fri. Design days 0-4 (4-8 Jan). Build FS+2d: from day 7 (Wed 13)
    for 10 days to Tue 26. Docs SS: 4-6 Jan. Test (16 h = 2 days) FS after Build: 27-28 Jan;
    its FF-1d with Docs asks only finish >= 5 Jan. Release: a milestone at Test's finish.
    Docs may slip to Test's finish (FF-1d would allow 29 Jan, the project ends 28 Jan):
    late finish 28 Jan, 16 days of float."""
    path = _write(tmp_path, LIST)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["check", str(path), "--out", str(out)])
    assert "list: early finish 2027-01-28" in result.output
    with (out / "schedule.csv").open(encoding="utf-8") as f:
        rows = {r["task"]: r for r in csv.DictReader(f)}
    expected = {
        "1": ("2027-01-04", "2027-01-08", "0"),
        "2": ("2027-01-13", "2027-01-26", "0"),
        "3": ("2027-01-04", "2027-01-06", "16"),
        "4": ("2027-01-27", "2027-01-28", "0"),
        "5": ("2027-01-28", "2027-01-28", "0"),
    }
    got = {t: (r["early_start"], r["early_finish"], r["total_float"]) for t, r in rows.items()}
    assert got == expected


def test_the_list_reads_onto_the_scenario_structure(tmp_path: Path) -> None:
    plan = read_plan(_write(tmp_path, LIST))
    tasks = {t["id"]: t for t in plan.data["projects"][0]["tasks"]}
    assert plan.data["start"] == dt.date(2027, 1, 4)
    assert tasks["2"]["after"] == [{"id": "1", "type": "FS", "lag": 2.0}]
    assert tasks["4"] == {
        "id": "4",
        "name": "Test",
        "duration": 2.0,
        "after": [{"id": "2", "type": "FS"}, {"id": "3", "type": "FF", "lag": -1.0}],
    }
    assert tasks["5"]["milestone"] is True


# --- the predecessor and duration grammars --------------------------------------------------

KNOWN = {"3", "4", "7", "12", "14", "PROJ-12", "CONFS"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12FS+2d;14SS", [LinkRef("12", "FS", 2.0), LinkRef("14", "SS")]),
        ("3,4", [LinkRef("3"), LinkRef("4")]),
        ("7FF-1d", [LinkRef("7", "FF", -1.0)]),
        ("7sf+4h", [LinkRef("7", "SF", 0.5)]),
        ("12FS + 1 wk", [LinkRef("12", "FS", 5.0)]),
        ("12SS+2 days; 14", [LinkRef("12", "SS", 2.0), LinkRef("14")]),
        ("12FS+1,5d;14", [LinkRef("12", "FS", 1.5), LinkRef("14")]),
        ("12FS+3", [LinkRef("12", "FS", 3.0)]),
        ("PROJ-12SS-1d", [LinkRef("PROJ-12", "SS", -1.0)]),
        ("12FS+50%", [LinkRef("12", "FS", None, 50.0)]),
        ("CONFS", [LinkRef("CONFS")]),
        ("", []),
    ],
)
def test_predecessor_grammar(text: str, expected: list[LinkRef]) -> None:
    got = parse_links(text, KNOWN)
    assert [(r.ref, r.type, r.lag, r.percent) for r in got] == [
        (r.ref, r.type, r.lag, r.percent) for r in expected
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12+2d", "a lag needs a link type, e.g. 12FS+2d"),
        ("12FS+2x", "unknown unit 'x'"),
        ("12FS+2ed", "elapsed time"),
        ("12FS+abc", "is not a duration"),
        ("12FS+x%", "is not a percentage"),
    ],
)
def test_bad_predecessors_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_links(text, KNOWN)


@pytest.mark.parametrize(
    ("text", "days"),
    [("5d", 5), ("3 days", 3), ("16h", 2), ("2 wks", 10), ("1 mon", 20), ("4", 4)],
)
def test_durations(text: str, days: float) -> None:
    assert parse_span(text) == days
    assert parse_span("5d?") == 5  # MS Project's estimated mark


def test_a_bad_predecessor_is_located_at_its_row_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, LIST.replace("1FS+2d", "1FS+2x"))
    with pytest.raises(ScenarioError) as info:
        read_plan(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:3:4: Predecessors: '1FS+2x': lag '+2x': unknown unit 'x'; use d (days), "
        "h (hours), m (minutes), w (weeks of 5 days) or mo (months of 20 days); "
        "write e.g. 12FS+2d;14SS"
    ]


# --- the bad-input corpus: one located line each ---------------------------------------------

CORPUS = [
    (
        "unknown-column",
        LIST,
        "name: Task Nmae\n",
        "list.mapping.yaml:2:7: name: no column 'Task Nmae' in {list}; did you mean 'Task Name'?",
    ),
    (
        "missing-predecessor",
        LIST.replace("1SS", "9SS"),
        "",
        "{list}:4:4: Predecessors: '9SS': no task with id '9'",
    ),
    (
        "cycle",
        LIST.replace("1SS", "4SS"),
        "",
        "{list}:4:4: Predecessors: a dependency cycle: 3 after 4 after 3",
    ),
    (
        "bad-duration",
        LIST.replace("10d", "ten days"),
        "",
        "{list}:3:3: Duration: 'ten days' is not a duration; write e.g. 5d, 3 days, 16h, 2w",
    ),
    (
        "negative-duration",
        LIST.replace("10d", "-2d"),
        "",
        "{list}:3:3: Duration: '-2d' is negative",
    ),
    (
        "repeated-id",
        LIST + "2,Again,1d,\n",
        "",
        "{list}:7:1: id: id '2' repeats row 3; ids must be unique",
    ),
    ("unknown-key", LIST, "colums: x\n", "list.mapping.yaml:2:9: colums: unknown key 'colums'"),
    (
        "bad-percent",
        "ID,Name,Duration,% Complete,Actual Start\n1,a,5d,150%,2027-01-04\n",
        "",
        "{list}:2:4: % Complete: '150' is not a percentage from 0 to 100",
    ),
    (
        "self-link",
        LIST.replace("1SS", "3SS"),
        "",
        "{list}:4:4: Predecessors: '3SS': a task cannot follow itself",
    ),
]


@pytest.mark.parametrize(
    ("text", "mapping", "expected"), [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS]
)
def test_bad_input_is_one_located_line(
    tmp_path: Path, text: str, mapping: str, expected: str
) -> None:
    path = _write(tmp_path, text)
    side = path.with_name("list.mapping.yaml")
    side.write_text("plan_start: 2027-01-04\n" + mapping)
    with pytest.raises(ScenarioError) as info:
        read_plan(path, display=str(path))
    (problem,) = info.value.problems
    line = str(problem).replace(str(side), side.name)
    assert line.startswith(expected.format(list=path)), line
    assert "\n" not in line


def test_the_cli_prints_the_located_line_without_a_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, LIST.replace("1SS", "9SS"))
    result = CliRunner().invoke(cli, ["run", str(path), "-n", "10"])
    assert result.exit_code != 0
    assert f"{path}:4:4: Predecessors: '9SS': no task with id '9'" in result.output
    assert "Traceback" not in result.output


# --- Excel and CSV give the same plan ------------------------------------------------------


def test_excel_and_csv_versions_give_identical_plans(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    rows = list(csv.reader(LIST.splitlines()))
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:  # durations as numbers of days where a spreadsheet would hold them
        sheet.append([int(c) if c.isdigit() else c for c in row])
    book.save(tmp_path / "list.xlsx")
    (tmp_path / "list.mapping.yaml").write_text("plan_start: 2027-01-04\n")
    csv_path = _write(tmp_path, LIST)
    a, b = read_plan(csv_path), read_plan(tmp_path / "list.xlsx")
    assert a.data == b.data
    assert a.notes == b.notes


# --- a header that cannot be read: one line for the file, not one per row --------------------


def test_a_list_without_a_duration_column_is_one_line(tmp_path: Path) -> None:
    """300 rows, no column a size is read from and no closed item: the file is at fault,
    not each row."""
    path = _write(tmp_path, "Name,Foo\n" + "".join(f"task{k},x\n" for k in range(300)))
    with pytest.raises(ScenarioError) as info:
        read_plan(path, display="list.csv")
    assert [str(p).replace(f"{tmp_path}{os.sep}", "") for p in info.value.problems] == [
        "list.csv:1:0: duration: no column could be read as the duration: the header (row 1) "
        "has 'Name', 'Foo', and a duration is read from a column named Duration, Planned "
        "Duration, Original Duration, or an estimate from Original Estimate, Original Work, "
        "Estimate, Time Estimate; no closed item has start and finish dates to take a cycle "
        "time from either; map a duration column in list.mapping.yaml (duration: <column>)"
    ]


def test_a_blank_duration_column_is_printed_three_times_then_counted(tmp_path: Path) -> None:
    """A Duration column left blank in 300 rows is one problem per row (each row is at
    fault), but the user reads its first three and one line naming the other rows, not 300
    lines; every other problem is printed whole, in order, and the count is of them all."""
    rows = [f"{k},task {k},,\n" for k in range(1, 301)]
    rows[149] = "150,task 150,3d,999\n"  # a row with its own problem, among the blank ones
    path = _write(tmp_path, "ID,Name,Duration,Predecessors\n" + "".join(rows))
    result = CliRunner().invoke(cli, ["import", str(path), "--out", str(tmp_path / "o.yaml")])
    assert result.exit_code != 0
    lines = result.stderr.splitlines()
    blank = "no duration or estimate, and no closed item with start and finish dates"
    assert [line.split(": Duration: ")[0] for line in lines[:3]] == [
        f"{path}:{r}:3" for r in (2, 3, 4)
    ]
    assert all(blank in line for line in lines[:3])
    assert lines[3] == f"{path}: Duration: the same problem on 296 more rows: 5-150, 152-301"
    assert lines[4].startswith(f"{path}:151:4: Predecessors: '999': no task with id '999'")
    assert lines[5:] == [f"Error: {path}: cannot import it; nothing was written"]
    assert not (tmp_path / "o.yaml").exists()


def test_a_title_above_the_header_is_named_once(tmp_path: Path) -> None:
    """A workbook with a title merged across row 1, a blank row 2 and the header in row 3:
    one line that names row 3, where the flood of one line per row named nothing."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Plant upgrade: task list"])
    sheet.merge_cells("A1:D1")
    sheet.append([])
    sheet.append(["ID", "Task Name", "Duration", "Predecessors"])
    for k in range(1, 301):
        sheet.append([k, f"t{k}", 5, str(k - 1) if k > 1 else None])
    book.save(tmp_path / "list.xlsx")
    with pytest.raises(ScenarioError) as info:
        read_plan(tmp_path / "list.xlsx", display="list.xlsx")
    assert [str(p) for p in info.value.problems] == [
        "list.xlsx:1:1: header: row 1 ('Plant upgrade: task list') does not look like the "
        "header: it names 0 of the columns a task list is read by; row 3 ('ID', 'Task Name', "
        "'Duration', 'Predecessors') looks like the header: delete the rows above it, or save "
        "the table alone"
    ]


def test_a_header_of_unknown_columns_asks_for_a_mapping(tmp_path: Path) -> None:
    path = _write(tmp_path, "Titel,Dauer\na,3\nb,4\n")
    with pytest.raises(ScenarioError) as info:
        read_plan(path, display="list.csv")
    assert [str(p).replace(f"{tmp_path}{os.sep}", "") for p in info.value.problems] == [
        "list.csv:1:1: header: row 1 ('Titel', 'Dauer') does not look like the header: it "
        "names 0 of the columns a task list is read by (such as ID, Task Name, Duration, "
        "Predecessors, Summary, Original Estimate); name its columns in list.mapping.yaml"
    ]
    side = tmp_path / "list.mapping.yaml"
    side.write_text("plan_start: 2027-01-04\nname: Titel\nduration: Dauer\n")
    assert [t["duration"] for t in read_plan(path).data["projects"][0]["tasks"]] == [3.0, 4.0]


# --- trackers: Jira ---------------------------------------------------------------------------

JIRA = (
    "Summary,Issue key,Issue id,Issue Type,Status,Assignee,Created,Resolved,"
    "Original Estimate,Remaining Estimate,Story Points,"
    "Inward issue link (Blocks),Inward issue link (Blocks)\n"
    "Login,WEB-1,10001,Story,Done,Ann,02/03/2026 09:00,05/03/2026 17:00,57600,,3,,\n"
    "Signup,WEB-2,10002,Story,In Progress,Bob,09/03/2026 10:00,,28800,14400,2,10001,\n"
    "Profile,WEB-3,10003,Story,To Do,Ann,16/03/2026 10:00,,,,5,WEB-1,WEB-2\n"
    "Old idea,WEB-4,10004,Story,Won't Do,,01/03/2026 10:00,,,,,,\n"
    "Reports,WEB-5,10005,Story,Done,Bob,03/03/2026 10:00,13/03/2026 16:00,,,,,\n"
)


def test_a_jira_export(tmp_path: Path) -> None:
    plan = read_plan(_write(tmp_path, JIRA, "jira.csv", start=""))
    tasks = {t["id"]: t for t in plan.data["projects"][0]["tasks"]}
    assert set(tasks) == {"WEB-1", "WEB-2", "WEB-3", "WEB-5"}  # Won't Do left out
    assert tasks["WEB-1"]["duration"] == 2.0  # 57,600 s at 8 h a day
    assert tasks["WEB-1"]["actual_finish"] == dt.date(2026, 3, 5)
    assert tasks["WEB-2"]["actual_start"] == dt.date(2026, 3, 9)  # Created, noted
    assert tasks["WEB-2"]["remaining"] == 0.5
    assert tasks["WEB-2"]["after"] == [{"id": "WEB-1", "type": "FS"}]  # via the Issue id
    assert tasks["WEB-3"]["after"] == [{"id": "WEB-1", "type": "FS"}, {"id": "WEB-2", "type": "FS"}]
    assert tasks["WEB-3"]["duration"] == {"empirical": [4.0, 9.0]}  # WEB-1 and WEB-5
    assert tasks["WEB-3"]["resources"] == {"Ann": 1.0}
    assert plan.data["status_date"] == dt.date(2026, 3, 14)  # after WEB-5 resolved
    assert any("dates read day-first: '13/03/2026 16:00'" in n for n in plan.notes)
    assert any("Created date stands for the start" in n for n in plan.notes)
    assert load_scenario(tmp_path / "jira.csv").tasks  # and it is a valid scenario


def test_ambiguous_dates_ask_for_a_format(tmp_path: Path) -> None:
    text = JIRA.replace("16/03", "06/03").replace("13/03", "11/03")
    path = _write(tmp_path, text, "jira.csv", start="")
    with pytest.raises(ScenarioError) as info:
        read_plan(path)
    (problem,) = info.value.problems
    assert "could be day-first or month-first" in problem.message
    assert "'%d/%m/%Y %H:%M' if the day comes first" in problem.message
    path.with_name("jira.mapping.yaml").write_text('date_format: "%d/%m/%Y %H:%M"\n')
    assert read_plan(path).data["status_date"] == dt.date(2026, 3, 12)


# --- trackers: the Azure DevOps export ------------------------------------------------------


def _ado_rows() -> list[dict[str, str]]:
    with ADO.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _day(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%d.%m.%Y %H:%M:%S").date()


@needs_ado
def test_ado_counts_match_an_independent_count() -> None:
    rows = _ado_rows()
    parents = {r["Parent"] for r in rows if r["Parent"]}
    removed = [r for r in rows if r["State"] == "Removed"]
    containers = [r for r in rows if r["Work Item Type"] == "Epic" and r["ID"] in parents]
    kept = [r for r in rows if r not in removed and r not in containers]
    complete = [r for r in kept if r["State"] == "Closed"]
    running = [r for r in kept if r["State"] in ("Active", "Resolved")]  # Resolved: no date
    waiting = [r for r in kept if r["State"] in ("New", "Planned")]
    assert (len(rows), len(removed), len(containers)) == (117, 6, 8)
    assert (len(complete), len(running), len(waiting)) == (81, 2, 20)

    plan = read_plan(ADO)
    tasks = plan.data["projects"][0]["tasks"]
    done = [t for t in tasks if "actual_finish" in t]
    started = [t for t in tasks if "actual_start" in t and "actual_finish" not in t]
    assert len(tasks) == len(kept)
    assert (len(done), len(started)) == (len(complete), len(running))
    assert len(tasks) - len(done) - len(started) == len(waiting)
    assert sum("left out" in n and "'Removed'" in n for n in plan.notes) == len(removed)
    assert sum("with items below it, left out" in n for n in plan.notes) == len(containers)
    last = max(_day(r[k]) for r in rows for k in ("Activated Date", "Closed Date") if r[k])
    assert plan.data["status_date"] == last + dt.timedelta(days=1)


@needs_ado
def test_ado_cycle_time_law_against_numpy() -> None:
    """Closed user stories' Activated -> Closed, in working days of the file's week (seven
    days: most of its dates fall on weekends), both days counted."""
    rows = _ado_rows()
    raw = np.array(
        [
            (_day(r["Closed Date"]) - _day(r["Activated Date"])).days + 1
            for r in rows
            if r["State"] == "Closed" and r["Work Item Type"] == "User Story"
        ],
        dtype=float,
    )
    plan = read_plan(ADO)
    assert plan.data["calendar"] == {"workweek": "Mon-Sun"}
    story = next(
        t
        for t in plan.data["projects"][0]["tasks"]
        if t.get("codes", {}).get("type") == "User Story" and "actual_start" not in t
    )
    values = np.array(story["duration"]["empirical"])
    assert len(values) == len(raw) == 70
    q = [0.1, 0.5, 0.8, 0.9]
    np.testing.assert_allclose(np.quantile(values, q), np.quantile(raw, q))
    assert values.mean() == pytest.approx(raw.mean())


@needs_ado
def test_ado_runs_and_checks(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["check", str(ADO)])
    assert "lighthouse_adodata: early finish" in result.output
    out = tmp_path / "run"
    args = ["run", str(ADO), "-n", "200", "--seed", "3", "--no-report", "--out", str(out)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert (out / "projects.csv").is_file()


# --- import, then run: the same bytes --------------------------------------------------------


def test_import_then_run_equals_running_the_list(tmp_path: Path) -> None:
    path = _write(tmp_path, JIRA, "jira.csv", start="")
    yaml_file = tmp_path / "jira.yaml"
    runner = CliRunner()
    result = runner.invoke(cli, ["import", str(path), "--out", str(yaml_file)])
    assert result.exit_code == 0, result.output
    text = yaml_file.read_text(encoding="utf-8")
    assert "# note: " in text
    assert "&id" not in text  # no YAML anchors: a file a person reads
    outs = []
    for source, name in ((path, "a"), (yaml_file, "b")):
        out = tmp_path / name
        args = ["run", str(source), "-n", "200", "--seed", "4", "--no-report", "--out", str(out)]
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        outs.append(out)
    for table in ("projects.csv", "capacity.csv", "drivers.csv"):
        assert (outs[0] / table).read_bytes() == (outs[1] / table).read_bytes(), table


def test_a_mapping_given_in_code_wins_over_the_file(tmp_path: Path) -> None:
    text = LIST.replace("Task Name", "Title").replace("Predecessors", "Depends")
    path = _write(tmp_path, text)
    plan = read_tasklist(path, columns={"predecessors": "Depends", "plan_start": "2027-02-01"})
    tasks = {t["id"]: t for t in plan.data["projects"][0]["tasks"]}
    assert tasks["2"]["name"] == "Build"  # Title is a default header
    assert tasks["2"]["after"] == [{"id": "1", "type": "FS", "lag": 2.0}]
    assert plan.data["start"] == dt.date(2027, 2, 1)
