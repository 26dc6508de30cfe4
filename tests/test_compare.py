"""Variants and paired comparisons: the semantics of each change on hand-checkable
portfolios, common random numbers, and the paired standard error against replication."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simulator.analysis import compare, metrics
from simulator.cli import cli
from simulator.errors import ScenarioError, SimulationError
from simulator.model import Portfolio, apply_variant
from simulator.montecarlo import simulate_portfolio
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "portfolio-2027.yaml"


def load(tmp_path: Path, text: str) -> Portfolio:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text))
    return load_scenario(path)


def variant(pf: Portfolio, name: str) -> Portfolio:
    return apply_variant(pf, next(v for v in pf.variants if v.name == name))


def finishes(pf: Portfolio, n: int = 200, seed: int = 1) -> dict[str, np.ndarray]:
    out = simulate_portfolio(pf, n, seed, trace=n)
    tr = out.trace
    return {pf.tasks[int(i)].key: tr[tr[:, 1] == i][:, 2:4] for i in range(len(pf.tasks))}


def test_a_variant_identical_to_the_base_gives_zero_difference_and_zero_se() -> None:
    pf = load_scenario(EXAMPLE)
    same = apply_variant(pf, type(pf.variants[0])("same"))
    assert same.tasks == pf.tasks
    c = compare(pf, [type(pf.variants[0])("same")], 1000, 5)
    for d in c.variants[0].differences:
        assert d.diff == 0.0, d
        assert d.se == 0.0, d


def test_a_difference_that_is_the_same_in_every_iteration_has_no_noise(tmp_path: Path) -> None:
    """Postponing a lone project 20 working days moves its finish by exactly 20 in every
    iteration: the paired s.e. is 0 (rounding in finish + 20 - finish gave 2e-16 and z of
    1e16), and the difference is significant."""
    pf = load(
        tmp_path,
        """
        start: 2027-01-04
        projects:
          - {id: a, tasks: [{id: x, duration: {uniform: {low: 3.3, high: 97.7}}}]}
        variants:
          - {name: later, postpone: {a: 20}}
        """,
    )
    c = compare(pf, list(pf.variants), 300, 2)
    (d,) = [d for d in c.variants[0].differences if d.metric == "finish[a]"]
    assert d.diff == pytest.approx(20.0, abs=1e-9)
    assert d.se == 0.0
    assert d.significant
    assert d.to_dict()["z"] is None  # infinite


def test_cancelling_a_project_frees_its_capacity(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        """
        resources: {R: {capacity: 1}}
        projects:
          - {id: a, priority: 1, tasks: [{id: x, duration: 10, resources: {R: 1}}]}
          - {id: b, priority: 2, tasks: [{id: y, duration: {uniform: {low: 4, high: 6}},
                                          resources: {R: 1}}]}
        variants:
          - {name: drop-a, cancel: [a]}
    """,
    )
    base, cut = finishes(pf), finishes(variant(pf, "drop-a"))
    assert np.all(base["b.y"][:, 0] == 10.0)  # waits for a.x
    assert "a.x" not in cut
    assert np.all(cut["b.y"][:, 0] == 0.0)  # starts at once
    # common random numbers: y's duration is the same draw in both runs
    assert np.allclose(
        np.diff(base["b.y"], axis=1), np.diff(cut["b.y"], axis=1), rtol=0, atol=1e-12
    )


def test_postponing_shifts_the_release_and_the_finish_by_exactly_that(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        """
        start: 2027-01-04
        projects:
          - id: p
            start: 2027-01-11
            tasks:
              - {id: a, duration: {pert: {low: 2, mode: 4, high: 9}}}
              - {id: b, duration: {triangular: {low: 1, mode: 2, high: 5}}, after: [a]}
        variants:
          - {name: later, postpone: {p: 15}}
          - {name: to-date, postpone: {p: 2027-02-01}}
    """,
    )
    base = finishes(pf)
    assert np.all(base["p.a"][:, 0] == 7.0)  # released on Monday 11 January, day 7
    later = finishes(variant(pf, "later"))
    # 15 working days later is three weeks later, in working time to the last bit
    work = np.vectorize(lambda t: pf.calendar.work(0, t))
    assert np.allclose(work(later["p.b"]), work(base["p.b"]) + 15, rtol=0, atol=1e-9)
    assert np.all(later["p.a"][:, 0] == 28.0)
    dated = finishes(variant(pf, "to-date"))
    assert np.all(dated["p.a"][:, 0] == 28.0)  # 1 February is day 28


def test_postponing_earlier_is_a_located_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load(
            tmp_path,
            """
            start: 2027-01-04
            projects:
              - {id: p, start: 2027-02-01, tasks: [{id: a, duration: 1}]}
            variants:
              - {name: sooner, postpone: {p: 2027-01-11}}
        """,
        )
    assert "s.yaml:6:" in str(info.value)
    assert "postpone moves a project later" in str(info.value)


def test_scope_cut_keeps_the_order_of_the_remaining_work(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        """
        projects:
          - id: p
            tasks:
              - {id: a, duration: 3}
              - {id: b, duration: 4, after: [a]}
              - {id: c, duration: 2, after: [{id: b, lag: 1}]}
              - {id: d, duration: 1}
        variants:
          - {name: no-b, remove_tasks: [p.b]}
    """,
    )
    cut = finishes(variant(pf, "no-b"), n=1)
    assert cut["p.c"][0, 0] == 3.0 + 1  # after a, with c's own lag on the removed link
    assert "p.b" not in cut


def test_capacity_delta_from_a_date(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        """
        start: 2027-01-04
        resources: {R: {capacity: 1, changes: [{at: 30, capacity: 3}]}}
        projects:
          - id: p
            tasks:
              - {id: a, duration: 10, resources: {R: 1}}
              - {id: b, duration: 10, resources: {R: 1}}
              - {id: c, duration: 10, resources: {R: 2}}
        variants:
          - {name: plus-one, capacity: {R: {delta: 1, from: 2027-01-11}}}
          - {name: set-two, capacity: {R: 2}}
    """,
    )
    pool = variant(pf, "plus-one").pools[0]
    # 11 January is day 7; 30 working days have passed on Monday 15 February, day 42
    assert (pool.capacity, pool.changes) == (1.0, ((7.0, 2.0), (42.0, 4.0)))
    plus = finishes(variant(pf, "plus-one"), n=1)
    # a runs two weeks from day 0; b waits for the second unit from day 7 and runs two weeks;
    # c needs 2 units: from day 21, when b is done
    assert (plus["p.a"][0, 0], plus["p.b"][0, 0], plus["p.c"][0, 0]) == (0.0, 7.0, 21.0)
    assert variant(pf, "set-two").pools[0].changes == ()


def test_capacity_that_can_never_fit_a_task_is_a_located_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"s.yaml:6:.*at most 1 units, but a task needs 2"):
        load(
            tmp_path,
            """
            resources: {R: {capacity: 2}}
            projects:
              - {id: p, tasks: [{id: a, duration: 1, resources: {R: 2}}]}
            variants:
              - {name: fewer, capacity: {R: -1}}
        """,
        )


def test_mitigating_a_risk_never_raises_its_cost(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        """
        projects:
          - {id: p, tasks: [{id: a, duration: {uniform: {low: 5, high: 8}}}]}
        risks:
          - id: r
            probability: 0.4
            affects: [p.a]
            delay: {uniform: {low: 2, high: 6}}
            cost: {uniform: {low: 1000, high: 5000}}
        variants:
          - {name: cheaper, mitigate: {r: {probability: 0.25, impact: 0.5, cost: 300}}}
    """,
    )
    n = 4000
    base = simulate_portfolio(pf, n, 3)
    mitigated = simulate_portfolio(variant(pf, "cheaper"), n, 3)
    risk_base = base.cost[:, 0]
    risk_mit = mitigated.cost[:, 0] - 300  # the mitigation cost is charged to p
    assert np.all(risk_mit <= risk_base + 1e-9)
    assert np.all(mitigated.occurred[:, 0] <= base.occurred[:, 0])  # same draws, lower p
    # theory: occurrence 0.25, impact halved: E[risk cost] = 0.25 * 3000 * 0.5 = 375
    extra = risk_mit - 0.0
    se = np.std(extra) / np.sqrt(n)
    assert abs(extra.mean() - 375) < 4 * se
    assert abs(np.mean(mitigated.occurred[:, 0]) - 0.25) < 4 * np.sqrt(0.25 * 0.75 / n)


def test_cost_of_delay_is_value_per_day_times_the_delay(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        """
        start: 2027-01-04
        value_horizon: 2028-12-29
        projects:
          - id: p
            value_per_month: 21740
            tasks: [{id: a, duration: {pert: {low: 10, mode: 20, high: 40}}}]
        variants:
          - {name: later, postpone: {p: 10}}
    """,
    )
    per_day = 21740 * 12 / (52.1775 * 5)
    c = compare(pf, pf.variants, 1000, 2)
    cod = c.variants[0].get("cost_of_delay")
    assert cod is not None
    assert cod.diff == pytest.approx(per_day * 10, rel=1e-9)
    assert cod.se == pytest.approx(0.0, abs=1e-6)  # the delay is the same in every iteration


def test_paired_standard_error_matches_replication(tmp_path: Path) -> None:
    """Across 30 independent seeds, the spread of the mean paired difference agrees with
    the reported paired standard error (chi-square, 29 degrees of freedom: the ratio of the
    observed to the reported s.d. lies within [0.6, 1.45] with probability > 0.998)."""
    pf = load(
        tmp_path,
        """
        resources: {R: {capacity: 2}}
        projects:
          - id: a
            deadline: 25
            tasks:
              - {id: x, duration: {triangular: {low: 5, mode: 8, high: 15}}, resources: {R: 1}}
              - {id: y, duration: {pert: {low: 4, mode: 6, high: 12}}, resources: {R: 2},
                 after: [x]}
          - id: b
            deadline: 30
            tasks:
              - {id: z, duration: {uniform: {low: 10, high: 20}}, resources: {R: 1}}
        variants:
          - {name: more, capacity: {R: +1}}
    """,
    )
    means, ses = [], []
    for seed in range(30):
        c = compare(pf, pf.variants, 500, 1000 + seed)
        d = c.variants[0].get("finish[a]")
        assert d is not None
        means.append(d.diff)
        ses.append(d.se)
    ratio = np.std(means, ddof=1) / np.sqrt(np.mean(np.square(ses)))
    assert 0.6 < ratio < 1.45


def test_paired_comparison_is_far_more_precise_on_the_example() -> None:
    pf = load_scenario(EXAMPLE)
    c = compare(pf, [v for v in pf.variants if v.name == "postpone-erp"], 2000, 11)
    result = c.variants[0]
    for metric in ("on_time[crm]", "cost", "finish[crm]"):
        d = result.get(metric)
        assert d is not None
        assert d.se < 0.5 * d.se_unpaired, d


def test_metrics_count_cancelled_projects_as_not_delivered(tmp_path: Path) -> None:
    pf = load_scenario(EXAMPLE)
    cut = variant(pf, "cancel-lake")
    out = simulate_portfolio(cut, 500, 1)
    m = metrics(cut, out, [p.id for p in pf.projects], {}, None)
    assert np.all(np.isnan(m["on_time[data-lake]"]))
    on_time = np.zeros(500)
    for k, p in enumerate(cut.projects):
        on_time += out.finish[:, k] <= p.deadline
    assert np.array_equal(m["projects_on_time"], on_time)


def test_compare_command_writes_the_decision_table(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        cli,
        [
            "compare",
            str(EXAMPLE),
            "-n",
            "500",
            "--variant",
            "hire-qa",
            "--variant",
            "cancel-lake",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "hire-qa" in result.output
    assert "cancel-lake" in result.output
    assert "postpone-erp" not in result.output
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["variant"]) == {"hire-qa", "cancel-lake"}
    doc = json.loads((out / "comparison.json").read_text())
    assert doc["iterations"] == 500
    assert {"comparison.png", "comparison-projects.png", "report.html"} <= {
        p.name for p in out.iterdir()
    }
    html = (out / "report.html").read_text()
    assert "<script" not in html
    assert "hire-qa" in html
    as_json = CliRunner().invoke(
        cli,
        [
            "compare",
            str(EXAMPLE),
            "-n",
            "200",
            "--variant",
            "hire-qa",
            "--out",
            str(tmp_path / "j"),
            "--json",
            "--no-report",
        ],
    )
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["variants"][0]["name"] == "hire-qa"
    assert not (tmp_path / "j" / "report.html").exists()
    bad = CliRunner().invoke(
        cli, ["compare", str(EXAMPLE), "--variant", "nope", "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code != 0
    assert "unknown variant 'nope'" in bad.output
    assert not (tmp_path / "x").exists()


def test_variant_references_are_located_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load(
            tmp_path,
            """
            resources: {R: {capacity: 2}}
            projects:
              - {id: p, tasks: [{id: a, duration: 1, resources: {R: 1}}]}
            variants:
              - {name: v1, cancel: [q], capacity: {S: +1}}
              - {name: v2, include: [v3], remove_tasks: [p.zz]}
              - {name: v2, mitigate: {nope: {probability: 0.1}}}
        """,
        )
    text = str(info.value)
    for expected in (
        "unknown project 'q'",
        "unknown pool 'S'",
        "unknown variant 'v3'",
        "unknown task 'p.zz'",
        "duplicate variant name 'v2'",
        "unknown risk 'nope'",
    ):
        assert expected in text, expected


def test_rank_by_value_without_any_value_per_month_is_refused(tmp_path: Path) -> None:
    """A value_horizon alone gives no value metric: ranking by it would silently keep the
    file order under a 'ranked by value' heading."""
    path = tmp_path / "s.yaml"
    path.write_text(
        textwrap.dedent(
            """
            scenario: no value
            value_horizon: 200
            resources: {dev: {capacity: 1}}
            projects:
              - id: a
                deadline: 30
                tasks: [{id: t, duration: 10, resources: {dev: 1}}]
            variants:
              - {name: later, postpone: {a: 5}}
            """
        )
    )
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        cli, ["compare", str(path), "-n", "10", "--rank-by", "value", "--out", str(out)]
    )
    assert result.exit_code != 0
    assert "--rank-by value needs projects with value_per_month" in result.output
    assert not out.exists()


def test_cancelling_or_cutting_started_work_warns_of_its_sunk_cost(tmp_path: Path) -> None:
    """A variant that cancels a project under way, or removes a task in progress, drops its
    cost to date with it: the comparison's cost difference then includes money already
    spent, and the file is warned so (it said nothing). A project not yet started is not."""
    text = (ROOT / "scenarios" / "portfolio-2027-status.yaml").read_text(encoding="utf-8")
    text += (
        "variants:\n"
        "  - {name: stop-erp, cancel: [erp]}\n"
        "  - {name: cut-ui, remove_tasks: [crm.build-ui]}\n"
        "  - {name: cut-later, remove_tasks: [crm.integrate]}\n"
    )
    path = tmp_path / "status.yaml"
    path.write_text(text, encoding="utf-8")
    warnings = [w for w in load_scenario(path).warnings if "money already spent" in w]
    assert len(warnings) == 2
    assert (
        "variants[0].cancel: cancelling 'erp' drops its cost to date too (2 task(s)"
        in (warnings[0])
    )
    assert "variants[1].remove_tasks: removing crm.build-ui, started by" in warnings[1]


def test_a_variant_that_cannot_be_simulated_is_named(tmp_path: Path) -> None:
    """The base runs; postponing a past the day its pool empties for good makes its task
    unstartable: the error names the variant (it said 'can never start' and nothing of
    which variant)."""
    pf = load(
        tmp_path,
        """
        resources: {dev: {capacity: 1, changes: [{at: 10, capacity: 0}]}}
        projects:
          - {id: a, tasks: [{id: t, duration: 3, resources: {dev: 1}}]}
        variants:
          - {name: too-late, postpone: {a: 12}}
        """,
    )
    with pytest.raises(SimulationError, match=r"^variant 'too-late': .*can never start"):
        compare(pf, list(pf.variants), 100, 1)
