"""MS Project XML plans: ``pmosim check`` on the public files in ``../shared/data/plans``
reproduces the early dates their own scheduler stored; hostile and malformed files are
refused in one located line."""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simulator.analysis import cpm
from simulator.cli import cli
from simulator.errors import ScenarioError
from simulator.output.frames import schedule_frame
from simulator.plans import read_plan
from simulator.sampling import sample_block
from simulator.scenario import load_scenario

PLANS = Path(__file__).resolve().parents[2] / "shared" / "data" / "plans"
needs_plans = pytest.mark.skipif(not PLANS.is_dir(), reason=f"{PLANS} is absent")


def matches(path: Path) -> tuple[int, int]:
    """Tasks whose early start and finish (dates) equal the stored ones, of those stored."""
    plan, pf = read_plan(path), load_scenario(path)
    sched, cal = cpm(pf), pf.calendar
    hits = 0
    for i, t in enumerate(pf.tasks):
        if t.key not in plan.stored:
            continue
        start, finish = plan.stored[t.key]
        last = finish.date()
        if finish.time() <= dt.time(8, 0) and finish > start:  # ended the working day before
            day = np.datetime64(last - dt.timedelta(days=1))
            busy = cal.calendars[t.calendar].busdaycal()
            last = np.busday_offset(day, 0, roll="backward", busdaycal=busy).astype(dt.date)
        began = cal.status if t.running and cal.status is not None else sched.early_start[i]
        first = cal.start_dates(np.array([began]), t.calendar)  # of the remaining work
        end = cal.finish_dates(np.array([sched.early_finish[i]]))
        assert first is not None
        assert end is not None
        if t.milestone:
            hits += str(end[0]) in (str(start.date()), str(last))
        else:
            hits += str(first[0]) == str(start.date()) and str(end[0]) == str(last)
    return hits, len(plan.stored)


@needs_plans
@pytest.mark.parametrize(
    ("name", "least"),
    [
        ("task-links-project2019-mspdi.xml", 16),  # every link type, lags in days and weeks
        ("mspdirelations.xml", 5),  # SS, FF and an SF whose successor starts first
        ("task-baselines-project2019-mspdi.xml", 110),
        # one task's dates are driven by its resources' calendars (not read yet)
        ("sample.xml", 15),
        ("percent-complete-8.4.xer", 12),  # P6: progress of every percent-complete type
        ("resource-rates-test.xer", 1),
        ("aspose_encoding1251.xer", 2),
    ],
)
def test_check_reproduces_the_dates_ms_project_stored(name: str, least: int) -> None:
    hits, stored = matches(PLANS / name)
    assert hits >= least, f"{hits}/{stored}"
    assert hits >= 0.9 * stored


@needs_plans
def test_check_runs_on_a_plan_file() -> None:
    result = CliRunner().invoke(cli, ["check", str(PLANS / "mspdirelations.xml")])
    assert result.exit_code in (0, 1), result.output
    assert "mspdirelations: early finish 2006-09-25" in result.output


@needs_plans
def test_no_task_of_a_real_plan_starts_after_it_finishes() -> None:
    """Early and late start on or before the matching finish, for every task of every plan
    file (the .mpp ones when MPXJ and Java are there). A1030 is in progress with no remaining
    work: it starts late where it finishes late, on the project's end (A1000's 800 h from
    24 Feb 2015, which P6 stored as ending 13 Jul 2015)."""
    mpxj = importlib.util.find_spec("mpxj") is not None and shutil.which("java") is not None
    suffixes = {".xer", ".xml", ".pmxml", ".csv", *((".mpp",) if mpxj else ())}
    files = sorted(f for f in PLANS.iterdir() if f.suffix.lower() in suffixes)
    assert len(files) >= 15
    for path in files:
        pf = load_scenario(path)
        frame = schedule_frame(pf, cpm(pf))
        for r in frame.itertuples(index=False):
            assert r.early_start <= r.early_finish, (path.name, r)
            assert r.late_start <= r.late_finish, (path.name, r)
        if path.stem == "percent-complete-8.4":
            (a1030,) = frame[frame.task == "A1030"].itertuples(index=False)
            assert (a1030.late_start, a1030.late_finish) == ("2015-07-13", "2015-07-13")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
            '<Project xmlns="http://schemas.microsoft.com/project">&b;</Project>',
            "entities are not allowed",
        ),
        ("<Project><Name>x</Project>", "not well-formed XML"),
        ("<html/>", "not an MS Project XML file"),
    ],
)
def test_hostile_or_malformed_plans_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "plan.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=message) as info:
        load_scenario(path)
    assert len(info.value.problems) == 1


@needs_plans
def test_import_writes_a_scenario_that_runs_as_the_plan_does(tmp_path: Path) -> None:
    plan = PLANS / "task-links-project2019-mspdi.xml"
    yaml_file = tmp_path / "links.yaml"
    runner = CliRunner()
    result = runner.invoke(cli, ["import", str(plan), "--out", str(yaml_file)])
    assert result.exit_code == 0, result.output
    text = yaml_file.read_text(encoding="utf-8")
    assert text.startswith("# Imported from task-links-project2019-mspdi.xml")
    assert "# Nothing was left out." in text
    outs = []
    for source, name in ((plan, "a"), (yaml_file, "b")):
        out = tmp_path / name
        args = ["run", str(source), "-n", "50", "--seed", "4", "--no-report", "--out", str(out)]
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        outs.append(out)
    for table in ("projects.csv", "capacity.csv", "drivers.csv"):
        assert (outs[0] / table).read_bytes() == (outs[1] / table).read_bytes(), table
    # and it does not overwrite without --force
    again = runner.invoke(cli, ["import", str(plan), "--out", str(yaml_file)])
    assert again.exit_code != 0
    assert "already exists" in again.output


@needs_plans
def test_a_p6_xml_file_is_read_as_such() -> None:
    """An ``.xml`` file with an ``APIBusinessObjects`` root is read as P6 XML (PMXML): its
    project, its calendar of two work spans a day, its one activity (complete)."""
    pf = load_scenario(PLANS / "PredecessorCalendar.pmxml.xml")
    assert [p.id for p in pf.projects] == ["201020"]
    (task,) = pf.tasks
    assert task.key == "201020.A1000"
    assert read_plan(PLANS / "PredecessorCalendar.pmxml.xml").data["calendars"] == {
        "Test-Calendar": {"workweek": ["Mon", "Tue", "Wed", "Thu", "Fri"], "hours_per_day": 8.0}
    }


def test_xer_files_that_are_not_xer_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.xer"
    path.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(ScenarioError, match="binary data: not a P6 XER text file"):
        load_scenario(path)
    path.write_text("ERMHDR\t20.12\n%T\tCALENDAR\n%F\tclndr_id\n%R\t1\n%E\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="no PROJECT or TASK table"):
        load_scenario(path)


def write_scenario(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(body, encoding="utf-8")
    return path


@needs_plans
def test_a_plans_section_runs_as_the_imported_file_does(tmp_path: Path) -> None:
    """Round trip: ``import`` then ``run`` equals ``run`` of a scenario naming the plan."""
    plan = PLANS / "percent-complete-8.4.xer"
    scenario = write_scenario(tmp_path, f"plans: [{{file: {plan}}}]\n")
    imported = tmp_path / "imported.yaml"
    runner = CliRunner()
    assert runner.invoke(cli, ["import", str(plan), "--out", str(imported)]).exit_code == 0
    outs = []
    for source, name in ((scenario, "a"), (imported, "b")):
        out = tmp_path / name
        args = ["run", str(source), "-n", "30", "--seed", "8", "--no-report", "--out", str(out)]
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        outs.append(out)
    for table in ("projects.csv", "capacity.csv", "drivers.csv"):
        assert (outs[0] / table).read_bytes() == (outs[1] / table).read_bytes(), table


@needs_plans
def test_uncertainty_rules_scale_the_imported_durations(tmp_path: Path) -> None:
    """A uniform(1, 2) multiplier on 'Duration 0%' (100 planned days, not started): its
    draws are uniform on [100, 200]; the first rule that matches wins; others unchanged."""
    plan = PLANS / "percent-complete-8.4.xer"
    scenario = write_scenario(
        tmp_path,
        f"""plans:
  - file: {plan}
    uncertainty:
      - {{match: {{name: "Duration 0%"}}, duration: {{uniform: {{low: 1, high: 2}}}}}}
      - {{match: {{name: "Duration*"}}, duration: 1.5}}
""",
    )
    pf = load_scenario(scenario)
    names = [t.name for t in pf.tasks]
    first = names.index("Duration 0%")
    d = np.concatenate([sample_block(pf, 3, k, 500).duration[:, first] for k in range(4)])
    assert d.min() >= 100
    assert d.max() <= 200
    assert abs(d.mean() - 150) < 4 * (100 / np.sqrt(12)) / np.sqrt(len(d))
    other = names.index("Duration 25%")  # in progress: 600 of 800 hours left, times 1.5
    assert np.allclose(sample_block(pf, 3, 0, 10).duration[:, other], 75 * 1.5)


@needs_plans
def test_plans_section_mistakes_are_located(tmp_path: Path) -> None:
    plan = PLANS / "percent-complete-8.4.xer"
    scenario = write_scenario(
        tmp_path,
        f"""plans:
  - file: {plan}
    projects: [NOPE]
""",
    )
    with pytest.raises(
        ScenarioError, match=r"s.yaml:3:\d+: plans\[0\].projects: no project 'NOPE'"
    ):
        load_scenario(scenario)
    scenario = write_scenario(
        tmp_path,
        f"""plans:
  - file: {plan}
    uncertainty:
      - {{match: {{name: "Nothing like it"}}, duration: 2}}
""",
    )
    with pytest.raises(ScenarioError, match=r"s.yaml:4:.*this rule matches no imported task"):
        load_scenario(scenario)
    scenario = write_scenario(tmp_path, "plans: [{file: missing.xer}]\n")
    with pytest.raises(ScenarioError, match=r"s.yaml:1:.*no such plan file"):
        load_scenario(scenario)


@needs_plans
def test_resources_and_assignments_become_pools_and_demands() -> None:
    """MS Project: work resources with their maximum units and rate per hour (times the
    8-hour day), assignment units per task; P6: units per hour, several assignments of one
    resource to an activity summed, the capacity raised to fit and noted."""
    data = read_plan(PLANS / "sample.xml").data
    pools = data["resources"]
    assert pools["First-Resource"] == {"capacity": 1.0, "cost_per_day": 80.0}
    assert pools["Second-Resource"] == {"capacity": 1.0, "cost_per_day": 40.0}
    second = next(t for t in data["projects"][0]["tasks"] if t["name"] == "Second Task")
    assert second["resources"] == {"First-Resource": 0.5, "Second-Resource": 0.75}
    plan = read_plan(PLANS / "resource-rates-test.xer")
    (task,) = plan.data["projects"][0]["tasks"]
    assert plan.data["resources"]["R1"]["cost_per_day"] == 8.0  # 1 per hour, first rate
    assert task["resources"] == {"R1": 5.0}
    assert any("capacity 1 raised to 5" in n for n in plan.notes)


XER = Path(__file__).resolve().parent.parent / "scenarios" / "plant-upgrade.xer"


def xer_text() -> str:
    return XER.read_text(encoding="utf-8").replace("\r\n", "\n")


def xer_rows(text: str, table: str) -> tuple[int, list[str]]:
    """The line index of ``table``'s ``%F`` line in the XER ``text``, and its fields."""
    lines = text.split("\n")
    k = lines.index(f"%T\t{table}") + 1
    return k, lines[k].split("\t")[1:]


def edit_xer(text: str, table: str, row: int, **values: str) -> tuple[str, dict[str, str]]:
    """The XER ``text`` with fields of ``table``'s row ``row`` (0: the first) set to
    ``values``, and that row as it was."""
    lines = text.split("\n")
    k, fields = xer_rows(text, table)
    cells = lines[k + 1 + row].split("\t")
    was = dict(zip(fields, cells[1:], strict=True))
    for name, value in values.items():
        cells[1 + fields.index(name)] = value
    lines[k + 1 + row] = "\t".join(cells)
    return "\n".join(lines), was


def test_an_activity_whose_calendar_is_missing_runs_on_the_default_one_noted(
    tmp_path: Path,
) -> None:
    """As P6 does when it imports such an activity: its days are the default calendar's."""
    text = xer_text()
    text, _ = edit_xer(text, "CALENDAR", 0, day_hr_cnt="10")  # the default calendar
    text, task = edit_xer(text, "TASK", 4, clndr_id="999")
    assert task["task_type"] == "TT_Task"
    assert task["status_code"] == "TK_NotStart"
    path = tmp_path / "plan.xer"
    path.write_text(text, encoding="utf-8")
    plan = read_plan(path)
    (spec,) = [t for t in plan.data["projects"][0]["tasks"] if t["id"] == task["task_code"]]
    assert spec["calendar"] == "Standard-5-Day-8h"
    assert spec["duration"] == pytest.approx(float(task["target_drtn_hr_cnt"]) / 10)
    where = f"TASK[task_id={task['task_id']}].clndr_id"
    assert f"{where}: calendar '999' is not in the file: run on Standard-5-Day-8h" in plan.notes


def test_a_p6_mandatory_finish_is_read_as_finish_no_later_than_noted() -> None:
    text = xer_text()
    k, fields = xer_rows(text, "TASK")
    lines = text.split("\n")[k + 1 :]
    ends = next(n for n, ln in enumerate(lines) if not ln.startswith("%R"))
    rows = [dict(zip(fields, ln.split("\t")[1:], strict=True)) for ln in lines[:ends]]
    mandatory = [r for r in rows if r["cstr_type"] == "CS_MANDFIN"]
    assert mandatory
    plan = read_plan(XER)
    tasks = {t["id"]: t for t in plan.data["projects"][0]["tasks"]}
    for r in mandatory:
        assert tasks[r["task_code"]]["finish_no_later_than"] == dt.date.fromisoformat(
            r["cstr_date"][:10]
        )
        note = f"TASK[task_id={r['task_id']}]: constraint CS_MANDFIN read as finish no later than"
        assert any(n.startswith(note) for n in plan.notes)


MSPDI = """<Project xmlns="http://schemas.microsoft.com/project">
  <StartDate>2027-01-04T08:00:00</StartDate><CalendarUID>1</CalendarUID>
  <Calendars><Calendar><UID>1</UID><Name>Standard</Name></Calendar></Calendars>
  <Tasks><Task><UID>1</UID><Name>Dig</Name><Duration>PT40H0M0S</Duration>
    <CalendarUID>{calendar}</CalendarUID><ConstraintType>{constraint}</ConstraintType>
  </Task></Tasks>
</Project>"""


@pytest.mark.parametrize(
    ("calendar", "constraint", "note"),
    [
        ("-1", "0", None),
        ("9", "0", "CalendarUID: calendar '9' is not in the file: run on the project's calendar"),
        ("1", "9", "ConstraintType: unknown constraint type '9' not kept"),
    ],
)
def test_ms_project_calendars_and_constraints_not_known_are_noted(
    tmp_path: Path, calendar: str, constraint: str, note: str | None
) -> None:
    path = tmp_path / "plan.xml"
    path.write_text(MSPDI.format(calendar=calendar, constraint=constraint), encoding="utf-8")
    plan = read_plan(path)
    assert plan.notes == ([f"Tasks/Task[UID=1]/{note}"] if note else [])
