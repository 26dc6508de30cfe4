"""Capacity figures (busy, shortfall, capacity per period) against schedules worked out by
hand, and the run summary's bookkeeping."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simulator.analysis import summarise
from simulator.cli import cli
from simulator.montecarlo import simulate_portfolio
from simulator.output import summary_text
from simulator.scenario import load_scenario


def capacity_table(tmp_path: Path, text: str, n: int = 3) -> dict[tuple[str, str], dict]:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text))
    pf = load_scenario(path)
    summary = summarise(pf, simulate_portfolio(pf, n, seed=1), seed=1)
    return {(r.pool, r.period): r for r in summary.capacity}


def test_busy_and_shortfall_of_a_queue_on_one_unit(tmp_path: Path) -> None:
    # A runs 0-5 on the single unit; B is ready at 0 and waits until 5, runs 5-30.
    rows = capacity_table(
        tmp_path,
        """
        priority_rule: order
        resources: {R: {capacity: 1}}
        projects:
          - id: p
            tasks:
              - {id: a, duration: 5, resources: {R: 1}}
              - {id: b, duration: 25, resources: {R: 1}}
    """,
    )
    first, second = rows[("R", "wd 0-20")], rows[("R", "wd 20-40")]
    assert first.busy == pytest.approx(1.0)
    assert first.shortfall_mean == pytest.approx(5 / 20)
    assert first.p_shortfall.estimate == 1.0
    assert second.busy == pytest.approx(10 / 20)
    assert second.shortfall_mean == 0.0
    assert second.p_shortfall.estimate == 0.0
    assert second.utilisation == pytest.approx(0.5)


def test_capacity_is_averaged_over_the_period(tmp_path: Path) -> None:
    rows = capacity_table(
        tmp_path,
        """
        resources: {R: {capacity: 2, changes: [{at: 10, capacity: 4}, {at: 30, capacity: 1}]}}
        projects: [{id: p, tasks: [{id: a, duration: 45, resources: {R: 1}}]}]
    """,
    )
    assert rows[("R", "wd 0-20")].capacity == pytest.approx(3.0)
    assert rows[("R", "wd 20-40")].capacity == pytest.approx(2.5)
    assert rows[("R", "wd 40-60")].capacity == pytest.approx(1.0)
    assert rows[("R", "wd 40-60")].busy == pytest.approx(5 / 20)


def test_monthly_periods_use_working_days(tmp_path: Path) -> None:
    # January 2027 from Monday the 4th has 20 working days; the task runs the first 10.
    rows = capacity_table(
        tmp_path,
        """
        start: 2027-01-04
        resources: {R: {capacity: 2}}
        projects: [{id: p, tasks: [{id: a, duration: 30, resources: {R: 2}}]}]
    """,
    )
    assert rows[("R", "2027-01")].busy == pytest.approx(2.0)
    assert rows[("R", "2027-02")].busy == pytest.approx(2 * 10 / 20)


def test_capacity_loss_lowers_capacity_only_in_iterations_where_the_risk_occurs(
    tmp_path: Path,
) -> None:
    n = 2000
    rows = capacity_table(
        tmp_path,
        """
        resources: {R: {capacity: 4}}
        projects: [{id: p, tasks: [{id: a, duration: 50, resources: {R: 1}}]}]
        risks:
          - {id: flu, probability: 0.25, capacity_loss: {pool: R, units: 2, at: 0, days: 20}}
    """,
        n=n,
    )
    cap = rows[("R", "wd 0-20")].capacity
    # mean capacity = 4 - 2 * P(occurs); binomial standard error of the occurrence rate
    se = 2 * np.sqrt(0.25 * 0.75 / n)
    assert abs(cap - (4 - 2 * 0.25)) < 4 * se
    assert rows[("R", "wd 20-40")].capacity == pytest.approx(4.0)


def test_portfolio_figures_add_up(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        textwrap.dedent("""
        projects:
          - id: a
            deadline: 5
            budget: 10
            tasks: [{id: t, duration: {uniform: {low: 0, high: 10}}, cost: 5}]
          - {id: b, deadline: 5, tasks: [{id: t, duration: {uniform: {low: 0, high: 10}}}]}
    """)
    )
    pf = load_scenario(path)
    out = simulate_portfolio(pf, 1000, seed=3)
    s = summarise(pf, out, seed=3)
    hits = out.finish <= 5
    assert s.p_all_on_time is not None
    assert s.expected_on_time is not None
    assert s.p_all_on_time.estimate == pytest.approx(hits.all(axis=1).mean())
    assert s.expected_on_time.estimate == pytest.approx(hits.sum(axis=1).mean())
    assert s.projects[0].p_within_budget is not None
    assert s.projects[0].p_within_budget.estimate == 1.0
    assert s.projects[1].p_within_budget is None
    assert s.total_cost_mean.estimate == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("duration", "on_time"),
    [(5, True), (6, False)],  # Mon 2027-01-04 + 5 working days ends Fri 2027-01-08
)
def test_a_deadline_on_a_saturday_is_shown_as_given_and_read_as_friday_evening(
    tmp_path: Path, duration: int, on_time: bool
) -> None:
    from click.testing import CliRunner

    from simulator.cli import cli

    path = tmp_path / "s.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            start: 2027-01-04
            projects:
              - id: p
                deadline: 2027-01-09
                tasks:
                  - {{id: a, duration: {duration}}}
            """
        )
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["run", str(path), "-n", "5", "--seed", "1", "--no-report", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines() if line.startswith("p ")]
    assert rows[0][:2] == ["p", "2027-01-09"]  # the date as given
    assert (
        "Note: p: deadline 2027-01-09 is not a working day; it means the end of 2027-01-08, "
        "the last working day before it." in " ".join(result.output.split())
    )
    import csv
    import json

    with (out / "projects.csv").open(encoding="utf-8") as f:
        (row,) = list(csv.DictReader(f))
    assert row["deadline"] == "2027-01-09"
    assert row["deadline_day"] == "6"  # the end of Saturday the 9th (day 5 from Monday)
    assert float(row["p_on_time"]) == (1.0 if on_time else 0.0)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["projects"][0]["deadline_date"] == "2027-01-09"


def test_a_deadline_on_a_working_day_gets_no_note(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "start: 2027-01-04\nprojects:\n  - id: p\n    deadline: 2027-01-08\n"
        "    tasks:\n      - {id: a, duration: 5}\n"
    )
    pf = load_scenario(path)
    summary = summarise(pf, simulate_portfolio(pf, 5, seed=1), seed=1)
    assert summary.projects[0].deadline_date == "2027-01-08"
    assert summary.deadline_notes() == []


def test_a_capacity_loss_under_running_tasks_is_overload_not_utilisation(
    tmp_path: Path,
) -> None:
    # Two 1-unit tasks hold both units of R over [0, 10); a loss of 1 unit over [4, 14) does
    # not stop them: over [4, 10) 2 units are in use with capacity 1, an overload of 1 unit
    # for 6 of the period's 20 working days.
    rows = capacity_table(
        tmp_path,
        """
        resources: {R: {capacity: 2}}
        projects:
          - id: p
            tasks:
              - {id: a, duration: 10, resources: {R: 1}}
              - {id: b, duration: 10, resources: {R: 1}}
        risks:
          - {id: loss, probability: 1, capacity_loss: {pool: R, units: 1, at: 4, days: 10}}
        """,
    )
    r = rows[("R", "wd 0-20")]
    assert r.busy == pytest.approx(20 / 20)  # all units held, within capacity or not
    assert r.capacity == pytest.approx((2 * 4 + 1 * 10 + 2 * 6) / 20)
    assert r.overload_mean == pytest.approx(6 / 20)
    assert r.p_overload.estimate == 1.0
    assert r.utilisation == pytest.approx((8 + 6) / 30)  # within capacity, at most 1
    assert r.utilisation <= 1


def test_no_overload_without_a_fall_in_capacity(tmp_path: Path) -> None:
    rows = capacity_table(
        tmp_path,
        """
        resources: {R: {capacity: 1, changes: [{at: 5, capacity: 2}]}}
        projects:
          - id: p
            tasks:
              - {id: a, duration: 10, resources: {R: 1}}
              - {id: b, duration: 10, resources: {R: 1}}
        """,
    )
    assert all(r.overload_mean == 0 for r in rows.values())


def test_capacity_csv_without_pools_has_its_header(tmp_path: Path) -> None:
    """A portfolio without pools: capacity.csv has no rows but keeps its columns, so that
    pandas and spreadsheets can read it (it was a lone newline)."""
    path = tmp_path / "s.yaml"
    path.write_text("scenario: none\nprojects:\n  - {id: p, tasks: [{id: a, duration: 3}]}\n")
    out = tmp_path / "out"
    args = ["run", str(path), "-n", "50", "--seed", "1", "--out", str(out), "--no-report", "-q"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out / "capacity.csv")
    assert len(frame) == 0
    assert list(frame.columns)[:3] == ["pool", "period", "capacity"]
    assert "p_overload" in frame.columns


def test_the_portfolio_line_reads_well_for_one_project(tmp_path: Path) -> None:
    """'P(all 1 on time)' read badly: one project with a deadline is named as such."""
    path = tmp_path / "s.yaml"
    path.write_text("projects:\n  - {id: p, deadline: 12, tasks: [{id: a, duration: 10}]}\n")
    pf = load_scenario(path)
    text = summary_text(summarise(pf, simulate_portfolio(pf, 20, seed=1), seed=1))
    assert "Portfolio: P(its 1 project with a deadline on time) 1.000" in text
    assert "P(all 1" not in text
