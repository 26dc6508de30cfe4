"""Uncertainty rules on imported plans matched by WBS path, activity codes, user fields and
resources, and class rules that hand imported durations to the calibration.

The plan is a small P6 XER written here, field by field as P6 exports it, so that every
expected value below is read off the file by eye."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simulator.cli import cli
from simulator.errors import ScenarioError
from simulator.plans import read_plan
from simulator.sampling import sample_block
from simulator.scenario import load_scenario

WEEK = (
    "(0||CalendarData()((0||DaysOfWeek()((0||1()())"
    + "".join(f"(0||{d}()((0||0(s|08:00|f|16:00)())))" for d in range(2, 7))
    + "(0||7()())))(0||Exceptions()()))"
)


def _table(name: str, fields: list[str], rows: list[list[str]]) -> str:
    lines = [f"%T\t{name}", "%F\t" + "\t".join(fields)]
    lines += ["%R\t" + "\t".join(r) for r in rows]
    return "\n".join(lines)


def write_xer(path: Path) -> Path:
    """Project P1: WBS P1 > CIVILS > FOUND, P1 > MECH; four 5-day (40 h) activities in a
    chain; DISCIPLINE codes Civil, Civil, Mech and none; a RISK user field on A3; A4 uses
    resource CRANE."""
    task_fields = [
        "task_id", "proj_id", "wbs_id", "clndr_id", "task_code", "task_name", "task_type",
        "status_code", "target_drtn_hr_cnt", "remain_drtn_hr_cnt",
    ]  # fmt: skip
    tasks = [
        [str(k), "1", wbs, "10", f"A{k}", f"Activity {k}", "TT_Task", "TK_NotStart", "40", "40"]
        for k, wbs in ((1, "101"), (2, "102"), (3, "103"), (4, "103"))
    ]
    text = "\n".join(
        [
            "ERMHDR\t8.4\t2015-02-24\tProject\tadmin\tdbxDatabaseNoName\tProject Management\tUSD",
            _table(
                "PROJECT",
                ["proj_id", "proj_short_name", "plan_start_date", "last_recalc_date"],
                [["1", "P1", "2027-01-04 08:00", "2027-01-04 08:00"]],
            ),
            _table(
                "CALENDAR",
                ["clndr_id", "default_flag", "clndr_name", "day_hr_cnt", "clndr_data"],
                [["10", "Y", "Standard", "8", WEEK]],
            ),
            _table(
                "PROJWBS",
                ["wbs_id", "proj_id", "proj_node_flag", "wbs_short_name", "parent_wbs_id"],
                [
                    ["100", "1", "Y", "P1", ""],
                    ["101", "1", "N", "CIVILS", "100"],
                    ["102", "1", "N", "FOUND", "101"],
                    ["103", "1", "N", "MECH", "100"],
                ],
            ),
            _table("TASK", task_fields, tasks),
            _table(
                "TASKPRED",
                ["task_pred_id", "task_id", "pred_task_id", "pred_type", "lag_hr_cnt"],
                [[str(k), str(k + 1), str(k), "PR_FS", "0"] for k in (1, 2, 3)],
            ),
            _table(
                "RSRC", ["rsrc_id", "rsrc_short_name", "rsrc_type"], [["7", "CRANE", "RT_Equip"]]
            ),
            _table("TASKRSRC", ["taskrsrc_id", "task_id", "rsrc_id"], [["1", "4", "7"]]),
            _table("ACTVTYPE", ["actv_code_type_id", "actv_code_type"], [["5", "DISCIPLINE"]]),
            _table(
                "ACTVCODE",
                ["actv_code_id", "actv_code_type_id", "short_name"],
                [["51", "5", "Civil"], ["52", "5", "Mech"]],
            ),
            _table(
                "TASKACTV",
                ["task_id", "actv_code_type_id", "actv_code_id", "proj_id"],
                [["1", "5", "51", "1"], ["2", "5", "51", "1"], ["3", "5", "52", "1"]],
            ),
            _table(
                "UDFTYPE",
                ["udf_type_id", "table_name", "udf_type_name", "udf_type_label"],
                [["9", "TASK", "user_field_1", "RISK"]],
            ),
            _table(
                "UDFVALUE",
                ["udf_type_id", "fk_id", "proj_id", "udf_text"],
                [["9", "3", "1", "high"]],
            ),
            "%E",
        ]
    )
    path.write_text(text + "\n", encoding="utf-8")
    return path


def test_wbs_paths_codes_and_user_fields_are_read(tmp_path: Path) -> None:
    tasks = read_plan(write_xer(tmp_path / "p.xer")).data["projects"][0]["tasks"]
    assert [t.get("wbs") for t in tasks] == ["CIVILS", "CIVILS.FOUND", "MECH", "MECH"]
    assert [t.get("codes", {}) for t in tasks] == [
        {"DISCIPLINE": "Civil"},
        {"DISCIPLINE": "Civil"},
        {"DISCIPLINE": "Mech", "RISK": "high"},
        {},
    ]
    assert tasks[3]["resources"] == {"CRANE": 1.0}


def _scenario(tmp_path: Path, rules: str, head: str = "") -> Path:
    plan = write_xer(tmp_path / "p.xer")
    path = tmp_path / "s.yaml"
    path.write_text(f"{head}plans:\n  - file: {plan.name}\n    uncertainty:\n{rules}")
    return path


def _durations(path: Path) -> np.ndarray:
    pf = load_scenario(path)
    return sample_block(pf, 1, 0, 400).duration


def test_rules_match_wbs_codes_user_fields_and_resources(tmp_path: Path) -> None:
    """The first matching rule wins: A1 by its WBS path, A2 by its code (A2's WBS path
    CIVILS.FOUND fails the first rule's exact pattern), A3 by a user field, A4 by its
    resource; the multipliers 2, 3, 4 and 5 of 5 days are read off the draws."""
    path = _scenario(
        tmp_path,
        """      - {match: {wbs: "CIVILS"}, duration: 2}
      - {match: {code: {DISCIPLINE: "Civ*"}}, duration: 3}
      - {match: {code: {RISK: high}}, duration: 4}
      - {match: {resource: CRANE, wbs: "MECH*"}, duration: 5}
""",
    )
    d = _durations(path)
    assert np.allclose(d, [10.0, 15.0, 20.0, 25.0])


def test_a_rule_on_a_code_no_task_has_matches_nothing(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "      - {match: {code: {PHASE: '*'}}, duration: 2}\n")
    with pytest.raises(ScenarioError, match=r"s.yaml:4:17: .*this rule matches no imported task"):
        load_scenario(path)


def _calibration(tmp_path: Path) -> None:
    """A calibration with classes Civil and Mech from a made-up history: Civil tasks took
    about their estimate, Mech tasks about twice it."""
    rng = np.random.default_rng(4)
    rows = ["key,est,act,discipline"]
    for k in range(120):
        est, klass = 4 + k % 5, "Civil" if k < 60 else "Mech"
        ratio = rng.lognormal(0.0 if klass == "Civil" else np.log(2), 0.2)
        rows.append(f"t{k},{est},{est * ratio:.3f},{klass}")
    history = tmp_path / "history.csv"
    history.write_text("\n".join(rows) + "\n")
    args = ["calibrate", str(history), "--id-col", "key", "--estimate-col", "est"]
    args += ["--actual-col", "act", "--class-col", "discipline", "--units", "days"]
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "cal.yaml")])
    assert result.exit_code == 0, result.output


def test_class_from_an_activity_code_calibrates_imported_durations(tmp_path: Path) -> None:
    """Tasks coded Civil and Mech take their class from the code; the same plan written by
    hand with ``estimate`` and ``class`` draws the same durations (common random numbers);
    A4 has no code and keeps its planned 5 days."""
    _calibration(tmp_path)
    rules = "      - {match: {wbs: '*'}, class_from: activity_code.DISCIPLINE}\n"
    imported = _durations(_scenario(tmp_path, rules, head="calibration: cal.yaml\n"))
    by_hand = tmp_path / "hand.yaml"
    by_hand.write_text(
        """calibration: cal.yaml
start: 2027-01-04
projects:
  - id: P1
    tasks:
      - {id: A1, estimate: 5, class: Civil}
      - {id: A2, estimate: 5, class: Civil, after: [A1]}
      - {id: A3, estimate: 5, class: Mech, after: [A2]}
      - {id: A4, duration: 5, after: [A3]}
"""
    )
    assert np.array_equal(imported, _durations(by_hand))
    assert np.allclose(imported[:, 3], 5.0)
    assert np.median(imported[:, 2]) > np.median(imported[:, 0])  # Mech overran, Civil did not


def test_class_rules_are_checked(tmp_path: Path) -> None:
    for rule, message in (
        ("{match: {wbs: '*'}, class_from: phase}", r"class_from='phase': expected"),
        ("{match: {wbs: '*'}, duration: 2, class: Civil}", "give one of duration"),
    ):
        with pytest.raises(ScenarioError, match=message):
            load_scenario(_scenario(tmp_path, f"      - {rule}\n"))
    path = _scenario(tmp_path, "      - {match: {wbs: '*'}, class: Civil}\n")
    with pytest.raises(ScenarioError, match="an estimate needs a calibration file"):
        load_scenario(path)


MSPDI = """<?xml version="1.0"?>
<Project xmlns="http://schemas.microsoft.com/project">
  <StartDate>2027-01-04T08:00:00</StartDate>
  <ExtendedAttributes>
    <ExtendedAttribute><FieldID>188743731</FieldID><FieldName>Text1</FieldName>
      <Alias>Discipline</Alias></ExtendedAttribute>
    <ExtendedAttribute><FieldID>188743734</FieldID><FieldName>Text2</FieldName>
    </ExtendedAttribute>
  </ExtendedAttributes>
  <Tasks>
    <Task><UID>1</UID><Name>Dig</Name><WBS>1.2</WBS><Duration>PT40H0M0S</Duration>
      <ExtendedAttribute><FieldID>188743731</FieldID><Value>Civil</Value></ExtendedAttribute>
      <ExtendedAttribute><FieldID>188743734</FieldID><Value>north</Value></ExtendedAttribute>
    </Task>
  </Tasks>
</Project>
"""


def test_ms_project_wbs_and_custom_fields_are_read(tmp_path: Path) -> None:
    """A custom field is named by its alias, else by its field name."""
    path = tmp_path / "plan.xml"
    path.write_text(MSPDI, encoding="utf-8")
    (task,) = read_plan(path).data["projects"][0]["tasks"]
    assert task["wbs"] == "1.2"
    assert task["codes"] == {"Discipline": "Civil", "Text2": "north"}


def test_a_plans_entry_maps_a_task_lists_columns(tmp_path: Path) -> None:
    """``columns`` does what a ``.mapping.yaml`` beside the list would; its mistakes are
    located at the scenario's own lines; it is refused for a plan that has no columns."""
    (tmp_path / "list.csv").write_text("Key,What,Days,After\n1,Dig,5,\n2,Pour,3,1FS+1d\n")
    path = tmp_path / "s.yaml"
    head = "start: 2027-01-04\nplans:\n  - file: list.csv\n"
    mapping = "{id: Key, name: What, duration: Days, predecessors: After, plan_start: 2027-01-04}"
    path.write_text(f"{head}    columns: {mapping}\n")
    pf = load_scenario(path)
    assert [t.name for t in pf.tasks] == ["Dig", "Pour"]
    assert np.allclose(sample_block(pf, 1, 0, 5).duration, [5.0, 3.0])
    path.write_text(f"{head}    columns: {{id: Key, name: Wat}}\n")
    with pytest.raises(
        ScenarioError, match=r"s.yaml:4:\d+: plans\[0\].columns.name: no column 'Wat'"
    ):
        load_scenario(path)
    xer = write_xer(tmp_path / "p.xer")
    path.write_text(f"plans:\n  - file: {xer.name}\n    columns: {{name: Title}}\n")
    with pytest.raises(ScenarioError, match="a column mapping is for task lists"):
        load_scenario(path)


def test_a_scenario_project_without_tasks_adds_to_the_imported_one(tmp_path: Path) -> None:
    """Deadline, priority and budget come from the YAML for project P1 of the plan; its
    tasks from the plan; a mistake in the YAML's part is located on its own line."""
    write_xer(tmp_path / "p.xer")
    path = tmp_path / "s.yaml"
    head = "plans: [{file: p.xer}]\nprojects:\n"
    path.write_text(f"{head}  - {{id: P1, deadline: 2027-03-31, priority: 2, budget: 9000}}\n")
    pf = load_scenario(path)
    (project,) = pf.projects
    assert (project.priority, project.budget) == (2, 9000)
    assert project.deadline is not None
    assert [pf.tasks[i].key for i in project.tasks] == ["P1.A1", "P1.A2", "P1.A3", "P1.A4"]
    path.write_text(f"{head}  - {{id: P1, deadline: 2027-02-30}}\n")
    with pytest.raises(ScenarioError, match=r"s.yaml:3:\d+: projects\[P1\].deadline"):
        load_scenario(path)
