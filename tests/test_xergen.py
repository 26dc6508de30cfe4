"""The synthetic P6 XER generator of the plan benchmark (``benchmarks/xergen.py``): what it
says it wrote is what the file holds, read back with plain ``csv``; the file loads and
checks; and ``pmosim check`` finishes a small generated network where a hand computation
over the file's own durations, links and calendar does."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from graphlib import TopologicalSorter
from pathlib import Path

import numpy as np
import pytest
from benchmarks.xergen import Mix, XerCounts, write_xer
from click.testing import CliRunner

from simulator.cli import cli
from simulator.scenario import load_scenario

Tables = dict[str, list[dict[str, str]]]
FS_ONLY = Mix(
    links=(("PR_FS", 1.0),),
    lags=0.0,
    leads=0.0,
    milestones=0.0,
    loe=0.0,
    constraints=0.0,
    complete=0.0,
    cross_project=0.0,
)


def tables(path: Path) -> Tables:
    """Every table of an XER file as rows of field -> value (``%T``, ``%F``, ``%R``)."""
    out: Tables = {}
    fields: list[str] = []
    with path.open(newline="", encoding="ascii") as f:
        lines = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert lines[0][0] == "ERMHDR"
    assert lines[-1] == ["%E"]
    for row in lines[1:-1]:
        if row[0] == "%T":
            name = row[1]
            out[name] = []
        elif row[0] == "%F":
            fields = row[1:]
        else:
            assert row[0] == "%R"
            assert len(row) - 1 == len(fields)
            out[name].append(dict(zip(fields, row[1:], strict=True)))
    return out


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, XerCounts]:
    path = tmp_path_factory.mktemp("xer") / "generated.xer"
    return path, write_xer(path, activities=300, projects=2, seed=7)


def test_the_counts_are_what_the_file_holds(plan: tuple[Path, XerCounts]) -> None:
    path, counts = plan
    t = tables(path)
    assert counts.activities == Counter(r["task_type"] for r in t["TASK"])
    assert counts.links == Counter(r["pred_type"] for r in t["TASKPRED"])
    assert counts.calendars == len(t["CALENDAR"]) == 3
    assert counts.projects == len(t["PROJECT"]) == 2
    assert counts.status == Counter(r["status_code"] for r in t["TASK"])
    assert len(t["TASK"]) == 300
    assert set(counts.activities) == {"TT_Task", "TT_Mile", "TT_FinMile", "TT_LOE"}
    assert set(counts.links) == {"PR_FS", "PR_SS", "PR_FF", "PR_SF"}
    assert 1.3 < len(t["TASKPRED"]) / len(t["TASK"]) < 1.8
    lags = [float(r["lag_hr_cnt"]) for r in t["TASKPRED"]]
    assert (sum(g > 0 for g in lags), sum(g < 0 for g in lags)) == (counts.lags, counts.leads)
    assert 0.2 < sum(1 for r in t["TASK"] if r["cstr_type"]) / 300 < 0.4
    assert {"RSRC", "TASKRSRC", "PROJWBS", "ACTVTYPE", "ACTVCODE", "TASKACTV"} <= set(t)


def test_links_are_acyclic_and_started_work_follows_its_predecessors(
    plan: tuple[Path, XerCounts],
) -> None:
    t = tables(plan[0])
    status = {r["task_id"]: r["status_code"] for r in t["TASK"]}
    graph: dict[str, set[str]] = {r["task_id"]: set() for r in t["TASK"]}
    for r in t["TASKPRED"]:
        graph[r["task_id"]].add(r["pred_task_id"])
        started = status[r["task_id"]] != "TK_NotStart"
        if started and r["pred_type"] == "PR_FS" and float(r["lag_hr_cnt"]) >= 0:
            assert status[r["pred_task_id"]] == "TK_Complete", r
    assert len(list(TopologicalSorter(graph).static_order())) == len(graph)  # no CycleError
    assert 0.1 < Counter(status.values())["TK_Complete"] / len(status) < 0.2


def test_a_generated_plan_loads_and_checks(plan: tuple[Path, XerCounts]) -> None:
    path, counts = plan
    pf = load_scenario(path)
    assert len(pf.tasks) == 300 - counts.activities["TT_LOE"]
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code in (0, 1), result.output
    assert "early finish" in result.output


def test_the_generator_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.xer", tmp_path / "b.xer"
    write_xer(a, activities=60, seed=3)
    write_xer(b, activities=60, seed=3)
    assert a.read_bytes() == b.read_bytes()
    write_xer(b, activities=60, seed=4)
    assert a.read_bytes() != b.read_bytes()


def hand_early_finish(t: Tables) -> dt.date:
    """The project's early finish over the file's FS links (no lags), counting working days
    of its one calendar: an activity starts on the first working day after its last
    predecessor's work (a milestone takes no day)."""
    (cal,) = t["CALENDAR"]
    data = cal["clndr_data"]
    week = data.partition("Exceptions()")[0]
    days = re.findall(r"\(0\|\|(\d)\(\)\((.*?)\)\)", week)
    mask = [0] * 7  # Monday first, as numpy wants it; P6 numbers Sunday 1
    for number, times in days:
        mask[(int(number) + 5) % 7] = int("s|" in times)
    holidays = [
        dt.date(1899, 12, 30) + dt.timedelta(days=int(n))
        for n in re.findall(r"d\|(\d+)", data.partition("Exceptions()")[2])
    ]
    hours = float(cal["day_hr_cnt"])
    length = {r["task_id"]: round(float(r["target_drtn_hr_cnt"]) / hours) for r in t["TASK"]}
    preds: dict[str, set[str]] = {r["task_id"]: set() for r in t["TASK"]}
    for r in t["TASKPRED"]:
        assert (r["pred_type"], float(r["lag_hr_cnt"])) == ("PR_FS", 0.0)
        preds[r["task_id"]].add(r["pred_task_id"])
    end: dict[str, int] = {}  # working days from the project start to the end of its work
    for task in TopologicalSorter(preds).static_order():
        end[task] = max((end[p] for p in preds[task]), default=0) + length[task]
    (project,) = t["PROJECT"]
    start = np.datetime64(project["plan_start_date"][:10])
    finish = np.busday_offset(
        start, max(end.values()) - 1, roll="forward", weekmask=mask, holidays=holidays
    )
    return finish.astype(dt.date)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_check_finishes_a_small_network_where_a_hand_computation_does(
    tmp_path: Path, seed: int
) -> None:
    path = tmp_path / "small.xer"
    # starts a week before Christmas: the chain runs over two holidays and New Year's Day
    write_xer(
        path,
        activities=5,
        projects=1,
        calendars=1,
        seed=seed,
        mix=FS_ONLY,
        start=dt.date(2025, 12, 18),
    )
    t = tables(path)
    assert Counter(r["task_type"] for r in t["TASK"]) == {
        "TT_Mile": 1,
        "TT_Task": 3,
        "TT_FinMile": 1,
    }
    expected = hand_early_finish(t)
    assert expected > dt.date(2026, 1, 1)
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code in (0, 1), result.output
    assert f"GEN-01: early finish {expected.isoformat()}" in result.output


SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def test_the_example_plan_is_what_the_generator_writes(tmp_path: Path) -> None:
    """scenarios/plant-upgrade.xer is made by this code (as its scenario says): the same
    call writes the same bytes."""
    made = tmp_path / "plant-upgrade.xer"
    write_xer(made, activities=150, projects=1, calendars=2, seed=11, start=dt.date(2027, 1, 4))
    assert made.read_bytes() == (SCENARIOS / "plant-upgrade.xer").read_bytes()


def test_the_p6_walkthrough_runs(tmp_path: Path) -> None:
    """The README's walkthrough: a statused P6 export, uncertainty rules by code and
    calendar, two risks on named activities, pools overridden, a deadline: it runs, and the
    pump risk on the critical finish is among the drivers."""
    out = tmp_path / "out"
    scenario = str(SCENARIOS / "plant-upgrade.yaml")
    args = ["run", scenario, "-n", "400", "--seed", "1", "--no-report", "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert re.search(r"risk\s+pump-delivery \+[\d.]+ d at P80", result.output)
    pf = load_scenario(scenario)
    assert {p.id: p.capacity for p in pf.pools}["R003"] == 6  # the scenario's own pool won
    complete = sum(t.progress is not None and not t.running for t in pf.tasks)
    assert (complete, sum(t.running for t in pf.tasks)) == (22, 14)
