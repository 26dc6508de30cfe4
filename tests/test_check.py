"""``pmosim check``: the deterministic critical path against hand-computed dates and float,
the health checks' counts, and key dates' P(on time) against theory."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.analysis import check_schedule, cpm
from simulator.cli import cli
from simulator.output.frames import schedule_frame
from simulator.scenario import load_scenario


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


NETWORK = """
    projects:
      - id: p
        tasks:
          - {id: a, duration: {triangular: {low: 4, mode: 5, high: 9}}, resources: {R: 1}}
          - {id: b, duration: 3, resources: {R: 1}, after: [a]}
          - {id: c, duration: 2, resources: {R: 1}, after: [{id: a, type: SS, lag: 1}]}
          - {id: d, duration: 1, resources: {R: 1}, after: [b, c]}
    resources: {R: {capacity: 1}}
"""


def test_a_task_in_progress_with_no_work_left_starts_late_where_it_ends(tmp_path: Path) -> None:
    """Status Mon 11 Jan 2027. a began Mon 4 Jan and has no work left: its work ended on
    Fri 8 Jan. c runs from the status date for 10 days, Mon 11 to Fri 22 Jan, the project's
    end. a may end as late as Fri 22 Jan, and with no work left it starts late then too
    (late finish = late start + 0 working days): float 10 working days (11 to 22 Jan)."""
    path = write(
        tmp_path,
        """
        start: 2027-01-04
        status_date: 2027-01-11
        projects:
          - id: p
            start: 2027-01-04
            tasks:
              - {id: a, duration: 5, actual_start: 2027-01-04, remaining: 0}
              - {id: c, duration: 10}
        """,
    )
    pf = load_scenario(path)
    frame = schedule_frame(pf, cpm(pf))
    rows = [tuple(str(x) for x in r) for r in frame.itertuples(index=False)]
    assert rows == [
        ("p", "a", "a", "2027-01-04", "2027-01-08", "2027-01-22", "2027-01-22", "10.0"),
        ("p", "c", "c", "2027-01-11", "2027-01-22", "2027-01-11", "2027-01-22", "0.0"),
    ]


def test_actual_starts_are_shown_as_they_happened(tmp_path: Path) -> None:
    """Work done on a weekend: a ran Sat 9 - Sun 10 Jan, b began Sat 9 Jan and runs past the
    status date (Wed 13). Their starts are the actual days, not the Monday after (a showed
    'started' on Mon 11, after it had finished); a, done, starts late when it started."""
    path = write(
        tmp_path,
        """
        start: 2027-01-04
        status_date: 2027-01-13
        projects:
          - id: p
            tasks:
              - {id: a, duration: 2, actual_start: 2027-01-09, actual_finish: 2027-01-10}
              - {id: b, duration: 5, actual_start: 2027-01-09, after: [a]}
        """,
    )
    pf = load_scenario(path)
    frame = schedule_frame(pf, cpm(pf)).set_index("task")
    assert frame.loc["a", ["early_start", "early_finish"]].tolist() == ["2027-01-09", "2027-01-10"]
    assert frame.loc["a", ["late_start", "late_finish"]].tolist() == ["2027-01-09", "2027-01-10"]
    assert frame.loc["b", "early_start"] == "2027-01-09"
    assert (frame["early_start"] <= frame["early_finish"]).all()
    assert (frame["late_start"] <= frame["late_finish"]).all()


def test_critical_path_dates_and_float_by_hand(tmp_path: Path) -> None:
    # a: 0-5 (its mode). b after a: 5-8. c: a's start + 1: 1-3. d after b and c: 8-9.
    # Backward from d's finish 9: d 8-9; b 5-8; c must end by 8: 6-8 (float 5); a must end
    # by b's late start 5, and start by c's late start - 1 = 5 (end by 10): 0-5, float 0.
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["check", str(write(tmp_path, NETWORK)), "--out", str(out)])
    with (out / "schedule.csv").open(encoding="utf-8") as f:
        rows = {r["task"]: r for r in csv.DictReader(f)}
    want = {
        "a": (0, 5, 0, 5, 0),
        "b": (5, 8, 5, 8, 0),
        "c": (1, 3, 6, 8, 5),
        "d": (8, 9, 8, 9, 0),
    }
    for task, (es, ef, ls, lf, tf) in want.items():
        r = rows[task]
        got = tuple(
            float(r[k]) for k in ("early_start", "early_finish", "late_start", "late_finish")
        )
        assert got == (es, ef, ls, lf), task
        assert float(r["total_float"]) == tf, task
    assert "critical path test" in result.output
    # resources ignored by default; levelled, the one unit of R runs one task at a time
    levelled = cpm(load_scenario(write(tmp_path, NETWORK)), levelled=True)
    spans = sorted(zip(levelled.early_start.tolist(), levelled.early_finish.tolist(), strict=True))
    assert all(f <= s for (_, f), (s, _) in itertools.pairwise(spans))
    assert levelled.early_finish.max() == 11.0  # 5 + 3 + 2 + 1 in a row


def test_negative_float_fails_the_check_with_exit_1(tmp_path: Path) -> None:
    text = NETWORK.replace("after: [b, c]}", "after: [b, c], finish_no_later_than: 7}")
    path = write(tmp_path, text)
    pf = load_scenario(path)
    sched = cpm(pf)
    # d must finish by the end of working day 7 (time 7): it finishes at 9, two days late,
    # and every task on the chain a-b-d carries -2
    assert sched.total_float.tolist() == [-2.0, -2.0, 3.0, -2.0]
    checks = {c.name: c for c in check_schedule(pf, sched)}
    assert checks["negative float"].count == 3
    assert checks["negative float"].ok is False
    assert checks["hard constraints"].count == 1
    assert checks["relationship types: not finish-to-start"].count == 1
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output


def test_leads_and_lags_are_counted(tmp_path: Path) -> None:
    text = NETWORK.replace("after: [a]}", "after: [{id: a, lag: -1}]}").replace(
        "after: [b, c]}", "after: [{id: b, lag: 2}, c]}"
    )
    pf = load_scenario(write(tmp_path, text))
    checks = {c.name: c for c in check_schedule(pf, cpm(pf))}
    assert (checks["leads (negative lags)"].count, checks["leads (negative lags)"].total) == (1, 4)
    assert checks["lags"].count == 2  # the lag of 2 and the SS link's lag of 1
    assert checks["leads (negative lags)"].ok is False


def test_a_key_date_has_the_probability_theory_gives(tmp_path: Path) -> None:
    """A milestone after a uniform(5, 15) task, due by working day 12: P = 0.7."""
    path = write(
        tmp_path,
        """
        projects:
          - id: p
            tasks:
              - {id: a, duration: {uniform: {low: 5, high: 15}}}
              - {id: m, milestone: true, after: [a], finish_no_later_than: 12}
        """,
    )
    out = tmp_path / "out"
    n = 4000
    result = CliRunner().invoke(
        cli, ["run", str(path), "-n", str(n), "--seed", "7", "--no-report", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with (out / "milestones.csv").open(encoding="utf-8") as f:
        (row,) = list(csv.DictReader(f))
    se = math.sqrt(0.7 * 0.3 / n)
    assert abs(float(row["p_on_time"]) - 0.7) < 4 * se
    assert float(row["p_on_time_se"]) == pytest.approx(se, rel=0.05)
    assert abs(float(row["p50_day"]) - 10.0) < 0.3  # the median of uniform(5, 15)
    assert "p.m" in result.output  # the key-date table


def test_check_of_the_status_example_passes_the_critical_path_test() -> None:
    example = Path(__file__).resolve().parent.parent / "scenarios" / "portfolio-2027-status.yaml"
    pf = load_scenario(example)
    sched = cpm(pf)
    checks = {c.name: c for c in check_schedule(pf, sched)}
    assert checks["critical path test"].ok is True
    # the actual dates are kept: the complete design task ran 20 January - 16 February
    k = [t.key for t in pf.tasks].index("crm.design")
    assert pf.calendar.finish_date(sched.early_finish[k]) == "2027-02-16"
    assert sched.early_start[k] == pf.calendar.offset(dt.date(2027, 1, 20))
