"""Capacity figures (busy, shortfall, capacity per period) against schedules worked out by
hand, and the run summary's bookkeeping."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from simulator.analysis import summarise
from simulator.montecarlo import simulate_portfolio
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
