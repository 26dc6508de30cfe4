"""What a risk does when it occurs, checked on fixed durations against schedules worked out by
hand: ``apply: each`` (the default) adds the one sampled delay to every matched task,
``apply: once`` to the matched tasks no other matched task precedes; ``cost_split: each``
(the default) charges the one sampled cost in full to every affected project, ``share``
splits it equally among them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.errors import ScenarioError
from simulator.montecarlo import simulate_portfolio
from simulator.scenario import load_scenario

N = 500

# a: 5 days; b after a: 3 days; c after a: 4 days; d after b and c: 2 days. Without risks
# the project finishes at 5 + 4 + 2 = 11 (path a-c-d). Project q (one task of 6 days) is
# independent. No pools, so nothing waits.
BASE = """\
scenario: risks
iterations: 500
projects:
  - id: p
    tasks:
      - {id: a, duration: 5}
      - {id: b, duration: 3, after: [a]}
      - {id: c, duration: 4, after: [a]}
      - {id: d, duration: 2, after: [b, c]}
  - id: q
    tasks:
      - {id: x, duration: 6}
risks:
"""


def _run(tmp_path: Path, risk: str) -> tuple[np.ndarray, np.ndarray]:
    path = tmp_path / "s.yaml"
    path.write_text(BASE + risk, encoding="utf-8")
    out = simulate_portfolio(load_scenario(path), N, 1)
    return out.finish, out.cost


@pytest.mark.parametrize(
    ("affects", "apply", "finish_p"),
    [
        # each: every matched task +3; a chain a-c-d: 5+3 + 4+3 + 2+3 = 20
        ("[p]", "each", 20.0),
        # once: only a (every other task follows it): 11 + 3
        ("[p]", "once", 14.0),
        # b and c are parallel: once delays both, the finish moves by 3 exactly once
        ("[p.b, p.c]", "once", 14.0),
        ("[p.b, p.c]", "each", 14.0),
        # c and d in a chain: each adds 6 to that path, once adds 3 (to c)
        ("[p.c, p.d]", "each", 17.0),
        ("[p.c, p.d]", "once", 14.0),
    ],
)
def test_delay_each_or_once(tmp_path: Path, affects: str, apply: str, finish_p: float) -> None:
    risk = f"  - {{id: r, probability: 1, affects: {affects}, delay: 3, apply: {apply}}}\n"
    finish, _ = _run(tmp_path, risk)
    np.testing.assert_array_equal(finish[:, 0], finish_p)
    np.testing.assert_array_equal(finish[:, 1], 6.0)  # q is not affected


def test_once_is_per_chain_across_projects(tmp_path: Path) -> None:
    """A target in another project that follows a target is not delayed again: with q.x
    after p.d and both matched, once delays p.d only, and q.x starts 3 days later through
    its link."""
    text = BASE.replace(
        "      - {id: x, duration: 6}", "      - {id: x, duration: 6, after: [p.d]}"
    )
    path = tmp_path / "s.yaml"
    risk = "  - {id: r, probability: 1, affects: [p.d, q.x], delay: 3, apply: once}\n"
    path.write_text(text + risk, encoding="utf-8")
    out = simulate_portfolio(load_scenario(path), N, 1)
    np.testing.assert_array_equal(out.finish[:, 0], 14.0)  # 11 + 3 on p.d
    np.testing.assert_array_equal(out.finish[:, 1], 20.0)  # 14 + 6, no second delay


@pytest.mark.parametrize(("split", "per_project"), [("each", 900.0), ("share", 450.0)])
def test_cost_each_or_share(tmp_path: Path, split: str, per_project: float) -> None:
    risk = f"  - {{id: r, probability: 1, affects: [p, q], cost: 900, cost_split: {split}}}\n"
    _, cost = _run(tmp_path, risk)
    np.testing.assert_array_equal(cost[:, 0], per_project)
    np.testing.assert_array_equal(cost[:, 1], per_project)
    np.testing.assert_array_equal(cost.sum(axis=1), 2 * per_project)


def test_a_shared_cost_keeps_its_distribution(tmp_path: Path) -> None:
    """share divides the one draw: each project pays half of the same uniform draw, so the
    two are equal in every iteration and their sum has the full mean (P(r) = 0.5)."""
    risk = (
        "  - {id: r, probability: 0.5, affects: [p, q], cost: {uniform: {low: 0, high: 1000}},"
        " cost_split: share}\n"
    )
    _, cost = _run(tmp_path, risk)
    np.testing.assert_array_equal(cost[:, 0], cost[:, 1])
    total = cost.sum(axis=1)
    # E = 0.5 * 500 = 250; Var = E[X^2] - E^2 with X = B * U: 0.5 * (1000^2 / 3) - 250^2
    sd = np.sqrt(0.5 * 1000**2 / 3 - 250**2)
    assert abs(total.mean() - 250) < 4 * sd / np.sqrt(N)


def test_an_unknown_apply_is_refused(tmp_path: Path) -> None:
    risk = "  - {id: r, probability: 1, affects: [p], delay: 3, apply: twice}\n"
    path = tmp_path / "s.yaml"
    path.write_text(BASE + risk, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "risks[r].apply" in str(info.value)
    assert "'each'" in str(info.value)
    assert "'once'" in str(info.value)
