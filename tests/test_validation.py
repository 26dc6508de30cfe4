"""Scenario validation: one row per malformed file and the located problem it must report.

Each row gives the file text and the problems expected in it as (line, column, a piece of the
field path, a piece of the message). ``None`` for a column means "anywhere on that line"; a
row listing several problems checks that every one of them is reported in the same pass.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import NamedTuple

import pytest

from simulator.errors import Problem, ScenarioError
from simulator.scenario import load_scenario

# Five lines of a valid frame: the first task of project ``p`` goes on line 6, column 9.
HEAD = """\
resources:
  R1: {capacity: 2}
projects:
  - id: p
    tasks:
"""


class Expect(NamedTuple):
    """One problem the file must produce; ``line``/``col`` None are not checked."""

    line: int | None
    col: int | None
    path: str
    message: str

    def matches(self, p: Problem) -> bool:
        return (
            (self.line is None or p.line == self.line)
            and (self.col is None or p.col == self.col)
            and self.path in p.path
            and self.message in p.message
        )


def _bomb(levels: int = 9, width: int = 9) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for k in range(1, levels):
        lines.append(f"l{k}: &l{k} [{', '.join([f'*l{k - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


BAD: list[tuple[str, str | bytes, list[Expect]]] = [
    # --- YAML itself -------------------------------------------------------------------------
    ("yaml-syntax-unclosed-flow", "projects: [a, b\n", [Expect(2, None, "", "YAML syntax error")]),
    (
        "yaml-syntax-bad-indent",
        "projects:\n  - id: p\n   tasks: []\n",
        [Expect(3, None, "", "YAML syntax error")],
    ),
    ("tab-indentation", "projects:\n\t- id: p\n", [Expect(2, 1, "", "tabs cannot indent YAML")]),
    ("empty-file", "", [Expect(0, None, "", "empty")]),
    ("only-a-comment", "# nothing here yet\n", [Expect(0, None, "", "empty")]),
    ("top-level-is-a-list", "- a\n- b\n", [Expect(1, 1, "", "expected a mapping")]),
    (
        "duplicate-key-names-first-line",
        HEAD + "      - id: a\n        duration: 1\n        duration: 2\n",
        [Expect(8, 9, "duration", "duplicate key 'duration' (first given at line 7)")],
    ),
    (
        "duplicate-top-level-key",
        "scenario: a\n" + HEAD + "      - {id: a, duration: 1}\nscenario: b\n",
        [Expect(8, 1, "scenario", "first given at line 1")],
    ),
    (
        "python-object-tag",
        "scenario: !!python/object:os.system x\n" + HEAD + "      - {id: a, duration: 1}\n",
        [Expect(1, 11, "scenario", "not allowed")],
    ),
    (
        "python-object-apply-tag",
        "scenario: !!python/object/apply:os.system ['echo pwned']\n"
        + HEAD
        + "      - {id: a, duration: 1}\n",
        [Expect(1, 11, "scenario", "not allowed")],
    ),
    (
        "merge-key",
        "base: &b {duration: 1}\n" + HEAD + "      - {id: a, <<: *b}\n",
        [Expect(7, 17, "", "'<<'")],
    ),
    (
        "alias-bomb",  # the second *l4 of line 6 takes the count past 200,000 (207,600)
        _bomb(),
        [Expect(6, 15, "", "alias *l4 takes the file past 200,000 values")],
    ),
    (
        "nesting-1000-deep",
        "projects: " + "[" * 1000 + "]" * 1000 + "\n",
        [Expect(None, None, "", "nesting")],
    ),
    (
        "nesting-100-deep",
        "projects: " + "[" * 100 + "]" * 100 + "\n",
        [Expect(1, None, "projects", "nesting deeper than")],
    ),
    (
        "over-the-size-cap",
        "# " + "x" * 32_000_000 + "\n" + HEAD + "      - {id: a, duration: 1}\n",
        [Expect(None, None, "", "the limit is 32,000,000")],
    ),
    (
        "not-utf8",
        b"scenario: caf\xe9\n" + HEAD.encode() + b"      - {id: a, duration: 1}\n",
        [Expect(1, None, "", "not UTF-8")],
    ),
    # --- unknown keys ------------------------------------------------------------------------
    (
        "unknown-key-top-level",
        HEAD + "      - {id: a, duration: 1}\nprojcts: []\n",
        [Expect(7, 1, "projcts", "unknown key 'projcts'; allowed keys: scenario,")],
    ),
    (
        "unknown-key-in-pool",
        "resources:\n  R1: {capacity: 2, colour: red}\nprojects:\n  - id: p\n    tasks:\n"
        "      - {id: a, duration: 1}\n",
        [
            Expect(
                2, 21, "resources.R1.colour", "unknown key 'colour'; allowed keys: name, capacity"
            )
        ],
    ),
    (
        "unknown-key-in-task",
        HEAD + "      - {id: a, duration: 1, colour: red}\n",
        [Expect(6, 30, "projects[p].tasks[a].colour", "unknown key 'colour'")],
    ),
    (
        "unknown-distribution-family",
        HEAD + "      - {id: a, duration: {gamma: {shape: 2, scale: 3}}}\n",
        [
            Expect(
                6,
                28,
                "projects[p].tasks[a].duration.gamma",
                "unknown key 'gamma'; allowed keys: fixed, uniform, triangular, pert",
            )
        ],
    ),
    (
        "unknown-key-in-distribution-parameters",
        HEAD + "      - {id: a, duration: {pert: {low: 1, mode: 2, high: 3, peak: 2}}}\n",
        [Expect(6, 61, "duration.pert.peak", "unknown key 'peak'; allowed keys: low, mode, high")],
    ),
    # --- wrong types ---------------------------------------------------------------------------
    (
        "capacity-not-a-number",
        "resources:\n  R1: {capacity: two}\nprojects:\n  - id: p\n    tasks:\n"
        "      - {id: a, duration: 1}\n",
        [Expect(2, 18, "resources.R1.capacity", "expected a number, got 'two'")],
    ),
    (
        "tasks-not-a-list",
        "projects:\n  - id: p\n    tasks: design, build\n",
        [Expect(3, 12, "projects[p].tasks", "expected a list")],
    ),
    (
        "tasks-a-mapping",
        "projects:\n  - id: p\n    tasks: {id: a, duration: 1}\n",
        [Expect(3, 12, "projects[p].tasks", "expected a list, got a mapping")],
    ),
    (
        "priority-rule-unknown",
        "priority_rule: fifo\n" + HEAD + "      - {id: a, duration: 1}\n",
        [Expect(1, 16, "priority_rule", "'lft' or 'order'")],
    ),
    (
        "iterations-zero",
        "iterations: 0\n" + HEAD + "      - {id: a, duration: 1}\n",
        [Expect(1, 13, "iterations", ">= 1")],
    ),
    (
        "start-not-a-calendar-date",
        "start: 2027-02-30\n" + HEAD + "      - {id: a, duration: 1}\n",
        [Expect(1, 8, "start", "2027-02-30")],
    ),
    # --- distribution parameters ---------------------------------------------------------------
    (
        "pert-low-above-mode",
        HEAD + "      - {id: a, duration: {pert: {low: 9, mode: 5, high: 15}}}\n",
        [Expect(6, None, "projects[p].tasks[a].duration.pert", "low=9.0 must not exceed mode=5.0")],
    ),
    (
        "triangular-mode-above-high",
        HEAD + "      - {id: a, duration: {triangular: {low: 1, mode: 9, high: 5}}}\n",
        [Expect(6, None, "duration.triangular", "mode=9.0 must not exceed high=5.0")],
    ),
    (
        "uniform-low-above-high",
        HEAD + "      - {id: a, duration: {uniform: {low: 5, high: 1}}}\n",
        [Expect(6, None, "duration.uniform", "low=5.0 must not exceed high=1.0")],
    ),
    (
        "lognormal-only-p10",
        HEAD + "      - {id: a, duration: {lognormal: {p10: 3}}}\n",
        [Expect(6, None, "duration.lognormal", "{p10, p90}")],
    ),
    (
        "two-distribution-families",
        HEAD + "      - {id: a, duration: {fixed: 2, uniform: {low: 1, high: 3}}}\n",
        [Expect(6, None, "projects[p].tasks[a].duration", "exactly one distribution")],
    ),
    (
        "negative-duration",
        HEAD + "      - {id: a, duration: -3}\n",
        [Expect(6, 27, "projects[p].tasks[a].duration", ">= 0")],
    ),
    (
        "nan-duration",
        HEAD + "      - {id: a, duration: .nan}\n",
        [Expect(6, 27, "projects[p].tasks[a].duration", "finite")],
    ),
    (
        "inf-in-uniform-high",
        HEAD + "      - {id: a, duration: {uniform: {low: 1, high: .inf}}}\n",
        [Expect(6, 52, "duration.uniform.high", "finite")],
    ),
    (
        "minus-inf-capacity",
        "resources:\n  R1: {capacity: -.inf}\nprojects:\n  - id: p\n    tasks:\n"
        "      - {id: a, duration: 1}\n",
        [Expect(2, 18, "resources.R1.capacity", "finite")],
    ),
    (
        "probability-above-one",
        HEAD + "      - {id: a, duration: 1}\n"
        "risks:\n  - {id: r, probability: 1.5, affects: [p.a], delay: 2}\n",
        [Expect(8, 26, "risks[r].probability", "<= 1")],
    ),
    (
        "probability-negative",
        HEAD + "      - {id: a, duration: 1}\n"
        "risks:\n  - {id: r, probability: -0.1, affects: [p.a], delay: 2}\n",
        [Expect(8, 26, "risks[r].probability", ">= 0")],
    ),
    # --- task size -----------------------------------------------------------------------------
    (
        "duration-and-effort",
        HEAD + "      - {id: a, duration: 1, effort: 2, resources: {R1: 1}}\n",
        [Expect(6, None, "projects[p].tasks[a]", "give one of duration")],
    ),
    (
        "neither-duration-nor-effort",
        HEAD + "      - {id: a, resources: {R1: 1}}\n",
        [Expect(6, None, "projects[p].tasks[a]", "give one of duration")],
    ),
    (
        "effort-without-resources",
        HEAD + "      - {id: a, effort: 4}\n",
        [Expect(6, None, "projects[p].tasks[a]", "effort needs resources")],
    ),
    (
        "empty-projects-list",
        "resources:\n  R1: {capacity: 2}\nprojects: []\n",
        [Expect(3, None, "projects", "at least 1")],
    ),
    ("missing-projects", "scenario: nothing\n", [Expect(1, None, "", "'projects' is missing")]),
    # --- references ----------------------------------------------------------------------------
    (
        "unknown-task-in-after",
        HEAD + "      - {id: a, duration: 1}\n      - {id: b, duration: 1, after: [desgin]}\n",
        [Expect(7, 38, "projects[p].tasks[b].after[0]", "unknown task 'desgin'")],
    ),
    (
        "unknown-task-of-other-project",
        HEAD + "      - {id: a, duration: 1}\n  - id: q\n    tasks:\n"
        "      - {id: b, duration: 1, after: [p.zz]}\n",
        [Expect(9, 38, "projects[q].tasks[b].after[0]", "unknown task 'p.zz'")],
    ),
    (
        "unknown-project-in-task-after",
        HEAD + "      - {id: a, duration: 1, after: [nope.a]}\n",
        [Expect(6, 38, "projects[p].tasks[a].after[0]", "unknown task 'nope.a'")],
    ),
    (
        "unknown-project-in-project-after",
        HEAD + "      - {id: a, duration: 1}\n  - id: q\n    after: [nope]\n    tasks:\n"
        "      - {id: b, duration: 1}\n",
        [Expect(8, 13, "projects[q].after[0]", "'nope': unknown project; projects: p, q")],
    ),
    (
        "project-after-itself",
        HEAD + "      - {id: a, duration: 1}\n    after: [p]\n",
        [Expect(7, 13, "projects[p].after[0]", "cannot follow itself")],
    ),
    (
        "unknown-pool-in-task",
        HEAD + "      - {id: a, duration: 1, resources: {R9: 1}}\n",
        [Expect(6, 42, "projects[p].tasks[a].resources.R9", "unknown pool 'R9'; pools: R1")],
    ),
    (
        "unknown-pool-in-capacity-loss",
        HEAD + "      - {id: a, duration: 1}\n"
        "risks:\n  - {id: r, probability: 0.5,\n"
        "     capacity_loss: {pool: R9, units: 1, at: 0, days: 5}}\n",
        [Expect(9, 28, "risks[r].capacity_loss.pool", "unknown pool 'R9'")],
    ),
    (
        "risk-affects-matches-nothing",
        HEAD + "      - {id: a, duration: 1}\n"
        "risks:\n  - {id: r, probability: 0.5, affects: [p.build*], delay: 2}\n",
        [Expect(8, 41, "risks[r].affects[0]", "'p.build*' matches no task")],
    ),
    (
        "risk-affects-unknown-project",
        HEAD + "      - {id: a, duration: 1}\n"
        "risks:\n  - {id: r, probability: 0.5, affects: [crm], cost: 100}\n",
        [Expect(8, 41, "risks[r].affects[0]", "'crm' matches no task")],
    ),
    (
        "task-in-two-correlation-groups",
        HEAD + "      - {id: a, duration: 1}\n      - {id: b, duration: 1}\n"
        "correlations:\n  - {id: g1, tasks: [p.a], rho: 0.5}\n"
        "  - {id: g2, tasks: [p.*], rho: 0.3}\n",
        [Expect(10, None, "correlations[g2]", "task 'p.a' is already in correlation group 'g1'")],
    ),
    (
        "every-task-in-two-groups-is-reported",
        HEAD + "      - {id: a, duration: 1}\n      - {id: b, duration: 1}\n"
        "      - {id: c, duration: 1}\n"
        "correlations:\n  - {id: g1, tasks: [p.a, p.b], rho: 0.5}\n"
        "  - {id: g2, tasks: [p.*], rho: 0.3}\n  - {id: g3, tasks: [p.c], rho: 0.2}\n",
        [
            Expect(11, None, "correlations[g2]", "task 'p.a' is already in correlation group 'g1'"),
            Expect(11, None, "correlations[g2]", "task 'p.b' is already in correlation group 'g1'"),
            Expect(12, None, "correlations[g3]", "task 'p.c' is already in correlation group 'g2'"),
        ],
    ),
    (
        "task-in-project-and-explicit-group",
        HEAD.replace("  - id: p\n", "  - id: p\n    correlation: 0.4\n")
        + "      - {id: a, duration: 1}\n"
        "correlations:\n  - {id: g1, tasks: [p.a], rho: 0.5}\n",
        [Expect(None, None, "", "task 'p.a' is already in correlation group")],
    ),
    (
        "duplicate-task-id",
        HEAD + "      - {id: a, duration: 1}\n      - {id: a, duration: 2}\n",
        [Expect(7, 14, "projects[p].tasks[a].id", "duplicate task id 'a'")],
    ),
    (
        "duplicate-project-id",
        HEAD
        + "      - {id: a, duration: 1}\n  - id: p\n    tasks:\n      - {id: b, duration: 1}\n",
        [Expect(7, 9, "projects[p].id", "duplicate project id 'p'")],
    ),
    # --- cycles --------------------------------------------------------------------------------
    (
        "cycle-within-project",
        HEAD
        + "      - {id: a, duration: 1, after: [c]}\n      - {id: b, duration: 1, after: [a]}\n"
        "      - {id: c, duration: 1, after: [b]}\n",
        [
            Expect(
                7, None, "projects[p].tasks[b].after", "dependency cycle: p.a -> p.b -> p.c -> p.a"
            )
        ],
    ),
    (
        "task-after-itself",
        HEAD + "      - {id: a, duration: 1, after: [a]}\n",
        [Expect(6, None, "projects[p].tasks[a].after", "dependency cycle: p.a -> p.a")],
    ),
    (
        "cycle-across-projects",
        HEAD + "      - {id: a, duration: 1, after: [q.b]}\n  - id: q\n    tasks:\n"
        "      - {id: b, duration: 1, after: [p.a]}\n",
        [Expect(9, None, "projects[q].tasks[b].after", "dependency cycle: p.a -> q.b -> p.a")],
    ),
    (
        "cycle-through-project-after",
        HEAD
        + "      - {id: a, duration: 1}\n    after: [q]\n  - id: q\n    after: [p]\n    tasks:\n"
        "      - {id: b, duration: 1}\n",
        [Expect(None, None, "after", "dependency cycle: p.a -> q.b -> p.a")],
    ),
    # --- capacity and dates --------------------------------------------------------------------
    (
        "demand-above-largest-capacity",
        HEAD + "      - {id: big, duration: 1, resources: {R1: 3}}\n",
        [
            Expect(
                6,
                48,
                "projects[p].tasks[big].resources.R1",
                "needs 3 units of 'R1' but the pool never has more than 2",
            )
        ],
    ),
    (
        "demand-above-capacity-even-after-changes",
        "resources:\n  R1: {capacity: 2, changes: [{at: 5, capacity: 4}]}\n"
        "projects:\n  - id: p\n    tasks:\n      - {id: big, duration: 1, resources: {R1: 5}}\n",
        [Expect(6, None, "tasks[big].resources.R1", "never has more than 4")],
    ),
    (  # the project starts on day 6; from day 5 on the pool is empty for good
        "demand-above-capacity-left-when-it-may-start",
        "resources:\n  R1: {capacity: 2, changes: [{at: 5, capacity: 0}]}\n"
        "projects:\n  - id: p\n    start: 6\n    tasks:\n"
        "      - {id: a, duration: 1, resources: {R1: 1}}\n"
        "      - {id: b, duration: 1, resources: {R1: 1}, start_no_earlier_than: 2}\n",
        [
            Expect(
                7,
                None,
                "tasks[a].resources.R1",
                "from working day 6, the earliest it may start, the pool never has more than 0",
            )
        ],
    ),
    (  # held back to the very day the pool empties
        "demand-above-capacity-left-after-a-start-constraint",
        "resources:\n  R1: {capacity: 2, changes: [{at: 5, capacity: 0}]}\n"
        "projects:\n  - id: p\n    tasks:\n"
        "      - {id: a, duration: 1, resources: {R1: 1}, start_no_earlier_than: 5}\n",
        [Expect(6, None, "tasks[a].resources.R1", "from working day 5, the earliest it may")],
    ),
    (
        "deadline-before-scenario-start",
        "start: 2027-01-04\nprojects:\n  - id: p\n    deadline: 2026-12-01\n    tasks:\n"
        "      - {id: a, duration: 1}\n",
        [
            Expect(
                4, 15, "projects[p].deadline", "2026-12-01 is before the scenario start 2027-01-04"
            )
        ],
    ),
    (
        "project-start-before-scenario-start",
        "start: 2027-01-04\nprojects:\n  - id: p\n    start: 2026-11-02\n    tasks:\n"
        "      - {id: a, duration: 1}\n",
        [Expect(4, 12, "projects[p].start", "before the scenario start")],
    ),
    (
        "deadline-before-project-start",
        "start: 2027-01-04\nprojects:\n  - id: p\n    start: 2027-03-01\n    deadline: 2027-02-01\n"
        "    tasks:\n      - {id: a, duration: 1}\n",
        [
            Expect(
                5,
                15,
                "projects[p].deadline",
                "deadline 2027-02-01 is not after the project start 2027-03-01",
            )
        ],
    ),
    (
        "deadline-equal-to-project-start-in-working-days",
        HEAD.replace("  - id: p\n", "  - id: p\n    start: 10\n    deadline: 10\n")
        + "      - {id: a, duration: 1}\n",
        [Expect(6, None, "projects[p].deadline", "is not after the project start")],
    ),
    (
        "date-without-scenario-start",
        "projects:\n  - id: p\n    deadline: 2027-02-01\n"
        "    tasks:\n      - {id: a, duration: 1}\n",
        [Expect(3, 15, "projects[p].deadline", "needs a scenario start date")],
    ),
    (
        "capacity-change-date-without-scenario-start",
        "resources:\n  R1: {capacity: 2, changes: [{at: 2027-04-01, capacity: 3}]}\n"
        "projects:\n  - id: p\n    tasks:\n      - {id: a, duration: 1}\n",
        [Expect(2, None, "resources.R1.changes[0].at", "needs a scenario start date")],
    ),
    (
        "bad-workweek",
        "calendar: {workweek: Mon-Fry}\n" + HEAD + "      - {id: a, duration: 1}\n",
        [Expect(1, None, "calendar.workweek", "Mon-Fry")],
    ),
    (
        "pool-named-but-none-defined",
        "projects:\n  - {id: p, tasks: [{id: a, duration: 1}]}\nrisks:\n"
        "  - {id: r, probability: 0.5, capacity_loss: {pool: qa, units: 1, at: 2, days: 3}}\n"
        "variants:\n  - {name: v, capacity: {qa: 2}}\n",
        [
            Expect(4, 53, "risks[r].capacity_loss.pool", "unknown pool 'qa'; pools: none defined"),
            Expect(6, 26, "variants[0].capacity.qa", "unknown pool 'qa'; pools: none defined"),
        ],
    ),
    (
        "default-calendar-named-but-none-defined",
        "start: 2027-01-04\ncalendar: office\n" + HEAD + "      - {id: a, duration: 1}\n",
        [Expect(2, 11, "calendar", "unknown calendar 'office'; calendars: none defined")],
    ),
    (
        "inline-calendar-unknown-key",
        "calendar: {workweek: Mon-Fri, colour: red}\n" + HEAD + "      - {id: a, duration: 1}\n",
        [Expect(1, 31, "calendar.colour", "unknown key 'colour'; allowed keys: workweek,")],
    ),
    (
        "inline-calendar-bad-holiday",
        "start: 2027-01-04\ncalendar: {holidays: [2027-13-01]}\n"
        + HEAD
        + "      - {id: a, duration: 1}\n",
        [Expect(2, 23, "calendar.holidays[0]", "expected a date YYYY-MM-DD")],
    ),
    # --- how far times and costs reach (a bound at the line of its largest part) ---------
    (
        "deadline-in-year-9999",
        "start: 2027-01-04\nprojects:\n  - id: p\n    deadline: 9999-12-31\n    tasks:\n"
        "      - {id: a, duration: 5}\n",
        [Expect(4, 15, "projects[p].deadline", "9999-12-31 is after 9000-12-31: dates from")],
    ),
    (
        "variant-deadline-in-year-9999",
        "start: 2027-01-04\n" + HEAD + "      - {id: a, duration: 5}\n"
        "variants:\n  - {name: v, deadline: {p: 9999-12-31}}\n",
        [Expect(9, 29, "variants[0].deadline.p", "9999-12-31 is after 9000-12-31")],
    ),
    (
        "constraint-in-year-9999",
        "start: 2027-01-04\n" + HEAD + "      - {id: a, duration: 5, must_start_on: 9999-12-30}\n",
        [Expect(7, 45, "tasks[a].must_start_on", "9999-12-30 is after 9000-12-31")],
    ),
    (
        "start-in-year-1",
        "start: 0001-01-01\n" + HEAD + "      - {id: a, duration: 5}\n",
        [Expect(1, 8, "start", "0001-01-01 is before 1000-01-01")],
    ),
    (
        "dated-duration-1e7",
        "start: 2027-01-04\n" + HEAD + "      - {id: a, duration: 1e7}\n",
        [
            Expect(
                7,
                27,
                "projects[p].tasks[a].duration",
                "reaches 1e+07 working days: it would end around year "
                "40,357, and a finish after 9000-12-31 cannot be shown as a date",
            )
        ],
    ),
    (
        "dated-duration-1e308",
        "start: 2027-01-04\n" + HEAD + "      - {id: a, duration: 1e308}\n",
        [Expect(7, 27, "tasks[a].duration", "would end beyond any year")],
    ),
    (
        "dated-lognormal-median-beyond-9000",
        "start: 2027-01-04\n"
        + HEAD
        + "      - {id: a, duration: {lognormal: {p10: 1e6, p90: 1e7}}}\n",
        [Expect(7, None, "tasks[a].duration", "at its median: it would end around year")],
    ),
    (
        "deadline-1e308-working-days",
        "start: 2027-01-04\nprojects:\n  - id: p\n    deadline: 1e308\n    tasks:\n"
        "      - {id: a, duration: 5}\n",
        [Expect(4, 15, "projects[p].deadline", "working day 1e+308 is after 9000-12-31")],
    ),
    (
        "capacity-loss-of-1e308-days",
        "start: 2027-01-04\n" + HEAD + "      - {id: a, duration: 5, resources: {R1: 1}}\n"
        "risks:\n  - {id: r, probability: 1,\n"
        "     capacity_loss: {pool: R1, units: 1, at: 0, days: 1e308}}\n",
        [Expect(10, 55, "risks[r].capacity_loss.days", "reaches 1e+308 working days")],
    ),
    (
        "postpone-by-1e308-days",
        "start: 2027-01-04\n" + HEAD + "      - {id: a, duration: 5}\n"
        "variants:\n  - {name: v, postpone: {p: 1e308}}\n",
        [Expect(9, 29, "variants[0].postpone.p", "1e+308 working days later is after 9000-12-31")],
    ),
    (
        "mitigation-impact-1e308",
        "start: 2027-01-04\n" + HEAD + "      - {id: a, duration: 5}\n"
        "risks:\n  - {id: r, probability: 1, affects: [p.a], delay: 5}\n"
        "variants:\n  - {name: v, mitigate: {r: {impact: 1e308}}}\n",
        [Expect(11, 38, "variants[0].mitigate.r.impact", "impact 1e+308 on risk 'r'")],
    ),
    (
        "undated-duration-1e12",
        HEAD + "      - {id: a, duration: 1e12}\n",
        [
            Expect(
                6,
                27,
                "projects[p].tasks[a].duration",
                "it would end at working day 1,000,000,000,000, after "
                "working day 10,000,000, the latest a scenario without a start date may reach",
            )
        ],
    ),
    (
        "cost-per-day-1e308",
        "resources:\n  R1: {capacity: 2, cost_per_day: 1e308}\nprojects:\n  - id: p\n"
        "    tasks:\n      - {id: a, duration: 5, resources: {R1: 1}}\n",
        [Expect(2, 35, "resources.R1.cost_per_day", "project 'p' could cost up to more than")],
    ),
    (
        "risk-cost-1e300",
        HEAD + "      - {id: a, duration: 5}\n"
        "risks:\n  - {id: r, probability: 1, affects: [p], cost: 1e300}\n",
        [Expect(8, 49, "risks[r].cost", "could cost up to 1e+300, and amounts must stay below")],
    ),
    # --- names that print alike ------------------------------------------------------------
    (
        "project-ids-differing-in-unicode-normalisation",
        HEAD + "      - {id: a, duration: 1}\n  - id: caf\u00e9\n    tasks:\n"
        "      - {id: a, duration: 1}\n  - id: cafe\u0301\n    tasks:\n"
        "      - {id: a, duration: 1}\n",
        [
            Expect(
                10,
                9,
                "projects",
                "project id 'cafe\u0301' ('cafe\\u0301') looks the same as project id "
                "'caf\u00e9' ('caf\\xe9') on line 7: they differ only in Unicode normalisation",
            )
        ],
    ),
    (
        "task-ids-differing-in-unicode-normalisation",
        HEAD + "      - {id: \u00c5, duration: 1}\n      - {id: A\u030a, duration: 1}\n",
        [Expect(7, 14, "tasks", "looks the same as task id '\u00c5' ('\\xc5') on line 6")],
    ),
    (
        "pool-names-differing-in-case",
        "resources:\n  QA: {capacity: 2}\n  qa: {capacity: 1}\nprojects:\n  - id: p\n"
        "    tasks:\n      - {id: a, duration: 1, resources: {qa: 1}}\n",
        [Expect(3, 3, "resources.qa", "pool 'qa' looks the same as pool 'QA' on line 2")],
    ),
    (
        "pool-names-differing-in-a-trailing-space",
        'resources:\n  QA: {capacity: 2}\n  "QA ": {capacity: 1}\nprojects:\n  - id: p\n'
        "    tasks:\n      - {id: a, duration: 1}\n",
        [Expect(3, 3, "resources", "differ only in spaces at either end")],
    ),
    # --- several problems, all reported in one pass --------------------------------------------
    (
        "several-schema-problems",
        "resources:\n  R1: {capacity: two}\nprojects:\n  - id: p\n    tasks:\n"
        "      - {id: a, duration: -1}\n      - {id: b, duration: 1, colour: red}\n"
        "      - {id: c, duration: {pert: {low: 9, mode: 5, high: 15}}}\n",
        [
            Expect(2, 18, "resources.R1.capacity", "expected a number"),
            Expect(6, 27, "projects[p].tasks[a].duration", ">= 0"),
            Expect(7, 30, "projects[p].tasks[b].colour", "unknown key 'colour'"),
            Expect(8, None, "projects[p].tasks[c].duration.pert", "must not exceed mode"),
        ],
    ),
    (
        "several-reference-problems",
        "start: 2027-01-04\n" + HEAD + "      - {id: a, duration: 1, after: [zz]}\n"
        "      - {id: b, duration: 1, resources: {R9: 1}}\n"
        "      - {id: c, duration: 1, resources: {R1: 5}}\n"
        "  - id: q\n    deadline: 2026-01-01\n    tasks:\n"
        "      - {id: d, duration: 1, after: [e]}\n      - {id: e, duration: 1, after: [d]}\n"
        "risks:\n  - {id: r, probability: 0.5, affects: [nothing.*], delay: 2}\n",
        [
            Expect(7, None, "projects[p].tasks[a].after[0]", "unknown task 'zz'"),
            Expect(8, None, "projects[p].tasks[b].resources.R9", "unknown pool 'R9'"),
            Expect(9, None, "projects[p].tasks[c].resources.R1", "never has more than 2"),
            Expect(11, None, "projects[q].deadline", "before the scenario start"),
            Expect(None, None, "projects[q]", "dependency cycle: q.d -> q.e -> q.d"),
            Expect(16, None, "risks[r].affects[0]", "matches no task"),
        ],
    ),
    (
        "duplicate-task-id-and-unknown-pool",
        HEAD + "      - {id: a, duration: 1}\n      - {id: a, duration: 2}\n"
        "  - id: q\n    tasks:\n      - {id: b, duration: 1, resources: {R9: 1}}\n",
        [
            Expect(7, None, "projects[p].tasks[a].id", "duplicate task id 'a'"),
            Expect(10, None, "projects[q].tasks[b].resources.R9", "unknown pool 'R9'"),
        ],
    ),
    (
        "duplicate-keys-in-several-places",
        "scenario: a\nscenario: b\n" + HEAD + "      - id: a\n        duration: 1\n"
        "        duration: 2\n",
        [
            Expect(2, 1, "scenario", "first given at line 1"),
            Expect(10, 9, "duration", "first given at line 9"),
        ],
    ),
]


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


@pytest.mark.parametrize(
    ("text", "expected"), [row[1:] for row in BAD], ids=[row[0] for row in BAD]
)
def test_bad_scenario_reports_every_problem(
    tmp_path: Path, text: str | bytes, expected: list[Expect]
) -> None:
    path = _write(tmp_path, text)
    tracemalloc.start()
    try:
        with pytest.raises(ScenarioError) as info:
            load_scenario(path, display="scenario.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # traced bytes, the same on every machine: a few MB; an expanded alias bomb far more
    assert peak < 200 * 2**20, f"rejecting a bad file took {peak / 2**20:.0f} MiB"
    problems = info.value.problems
    shown = "\n".join(str(p) for p in problems)
    for want in expected:
        assert any(want.matches(p) for p in problems), f"missing {want} in:\n{shown}"
    assert len(problems) >= len(expected)
    for p in problems:
        assert p.file == "scenario.yaml"
        assert p.message, "every problem says what is wrong"
    assert str(info.value) == shown


def test_a_task_that_may_start_before_its_pool_empties_is_accepted(tmp_path: Path) -> None:
    """Released on day 4, before the pool empties on day 5: it can start (and must)."""
    text = (
        "resources:\n  R1: {capacity: 2, changes: [{at: 5, capacity: 0}]}\n"
        "projects:\n  - id: p\n    start: 4\n    tasks:\n"
        "      - {id: a, duration: 3, resources: {R1: 2}}\n"
    )
    pf = load_scenario(_write(tmp_path, text))
    assert [t.id for t in pf.tasks] == ["a"]


def test_a_bad_inline_calendar_is_one_problem_beside_the_rest(tmp_path: Path) -> None:
    """The inline calendar is a mapping or a calendar's name: a mistake inside the mapping
    is that one problem (not also 'expected text'), and the references are still checked."""
    text = "calendar: {workweek: Mon-Fri, colour: red}\n" + HEAD
    path = _write(tmp_path, text + "      - {id: a, duration: 1, resources: {R9: 1}}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, display="scenario.yaml")
    assert [(p.line, p.path) for p in info.value.problems] == [
        (1, "calendar.colour"),
        (7, "projects[p].tasks[a].resources.R9"),
    ]


def test_problem_prints_as_file_line_col_path_message(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD + "      - {id: a, duration: 1, resources: {R9: 1}}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, display="s.yaml")
    assert [str(p) for p in info.value.problems] == [
        "s.yaml:6:42: projects[p].tasks[a].resources.R9: unknown pool 'R9'; pools: R1"
    ]


def test_file_name_defaults_to_the_path_given(tmp_path: Path) -> None:
    path = _write(tmp_path, "projects: []\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems[0].file == str(path)


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "absent.yaml")
    assert "cannot read" in str(info.value)


# --- files that must load ---------------------------------------------------------------------

YAML11_IDS = ["NO", "0012", "12:30", "1e3", "on", "2027-01-04"]


def test_yaml_1_1_lookalikes_stay_text_ids(tmp_path: Path) -> None:
    tasks = "".join(f"      - {{id: {i}, duration: 1}}\n" for i in YAML11_IDS)
    tasks += "      - {id: last, duration: 1, after: [NO, 0012, '12:30', 1e3, on, 2027-01-04]}\n"
    pf = load_scenario(_write(tmp_path, HEAD.replace("id: p", "id: off") + tasks))
    assert [t.id for t in pf.tasks] == [*YAML11_IDS, "last"]
    assert pf.projects[0].id == "off"
    assert [t.key for t in pf.tasks][:2] == ["off.NO", "off.0012"]
    assert sorted(j for j, *_ in pf.tasks[-1].preds) == list(range(len(YAML11_IDS)))


@pytest.mark.parametrize("ident", YAML11_IDS)
def test_yaml_1_1_lookalike_id_is_kept_exactly(tmp_path: Path, ident: str) -> None:
    pf = load_scenario(_write(tmp_path, HEAD + f"      - id: {ident}\n        duration: 2\n"))
    assert pf.tasks[0].id == ident
    assert isinstance(pf.tasks[0].id, str)


CONFORMANCE = (Path(__file__).parent / "data" / "conformance.yaml").read_text()


def test_conformance_example_loads(tmp_path: Path) -> None:
    pf = load_scenario(_write(tmp_path, CONFORMANCE))
    assert pf.name == "example"
    assert pf.priority_rule == "lft"
    assert [(p.id, p.capacity) for p in pf.pools] == [("R1", 12.0)]
    assert [t.id for t in pf.tasks] == ["t2", "t3", "t4"]
    t2, t3, t4 = pf.tasks
    assert t2.size.mean == 8
    assert t3.size.mean == pytest.approx(3.5)
    assert t4.size.mean == pytest.approx(3.0)
    assert t2.demand == ((0, 4.0),)
    assert t3.demand == ((0, 2.0),)
    assert t4.demand == ()
    assert t2.preds == ()
    assert [j for j, *_ in t3.preds] == [0]
    assert [j for j, *_ in t4.preds] == [0]
    assert len(pf.source_hash) == 64


FULL = """\
scenario: Portfolio 2027
start: 2027-01-04
currency: EUR
seed: 7
iterations: 300
calendar: {workweek: Mon-Fri, holidays: [2027-04-02, 2027-12-24]}
resources:
  backend: {capacity: 6, cost_per_day: 800}
  qa: {capacity: 2, cost_per_day: 600, changes: [{at: 2027-04-01, capacity: 3}]}
projects:
  - id: crm
    priority: 1
    deadline: 2027-06-30
    budget: 400000
    tasks:
      - {id: design, duration: {pert: {low: 5, mode: 8, high: 15}}, resources: {backend: 2}}
      - {id: build, effort: {lognormal: {p10: 20, p90: 60}}, resources: {backend: 3},
         after: [design]}
      - {id: test, duration: {triangular: {low: 5, mode: 7, high: 12}}, resources: {qa: 3},
         after: [build]}
  - id: erp
    priority: 2
    start: 2027-02-01
    deadline: 2027-09-30
    after: [crm]
    correlation: 0.4
    tasks:
      - {id: spec, duration: {normal: {mean: 10, sd: 2}}, resources: {backend: 1}}
      - {id: code, duration: {empirical: [5, 8, 13]}, resources: {backend: 2},
         after: [{id: spec, lag: 2}, crm.design]}
risks:
  - id: vendor-late
    probability: 0.3
    affects: [crm.build]
    delay: {triangular: {low: 5, mode: 10, high: 20}}
    cost: {uniform: {low: 10000, high: 30000}}
  - id: flu
    probability: 0.2
    capacity_loss: {pool: qa, units: 1, at: 2027-03-01, days: {uniform: {low: 5, high: 10}}}
correlations:
  - {id: crm-dev, tasks: [crm.design, crm.build], rho: 0.5}
"""


def test_full_featured_scenario_loads(tmp_path: Path) -> None:
    pf = load_scenario(_write(tmp_path, FULL))
    assert pf.name == "Portfolio 2027"
    assert pf.seed == 7
    assert pf.iterations == 300
    assert pf.currency == "EUR"
    assert str(pf.calendar.start) == "2027-01-04"
    assert [str(h) for h in pf.calendar.holidays] == ["2027-04-02", "2027-12-24"]
    backend, qa = pf.pools
    assert (backend.id, backend.capacity, backend.cost_per_day) == ("backend", 6, 800)
    assert qa.changes
    assert qa.changes[0][1] == 3
    assert qa.changes[0][0] > 0  # 2027-04-01 is some working days after the start
    assert [p.id for p in pf.projects] == ["crm", "erp"]
    crm, erp = pf.projects
    assert crm.deadline is not None
    assert erp.deadline is not None
    assert crm.deadline < erp.deadline
    assert erp.release > 0
    keys = [t.key for t in pf.tasks]
    assert keys == ["crm.design", "crm.build", "crm.test", "erp.spec", "erp.code"]
    assert pf.tasks[1].per_unit  # effort
    code = pf.tasks[4]
    assert {j for j, *_ in code.preds} >= {keys.index("erp.spec"), keys.index("crm.design")}
    assert (keys.index("erp.spec"), 2.0) in [x[:2] for x in code.preds]
    spec = pf.tasks[3]
    assert keys.index("crm.test") in {j for j, *_ in spec.preds}  # project-level 'after'
    vendor, flu = pf.risks
    assert vendor.probability == 0.3
    assert vendor.targets == (keys.index("crm.build"),)
    assert flu.loss is not None
    assert flu.loss[0] == 1
    assert len(pf.groups) == 2
    assert "crm-dev" in {g.id for g in pf.groups}


def test_correlation_group_ids_must_be_unique(tmp_path: Path) -> None:
    path = tmp_path / "groups.yaml"
    path.write_text(
        "projects:\n"
        "  - id: p\n"
        "    correlation: 0.5\n"
        "    tasks: [{id: a, duration: {uniform: {low: 1, high: 2}}}]\n"
        "  - id: q\n"
        "    tasks: [{id: b, duration: {uniform: {low: 1, high: 2}}}]\n"
        "correlations:\n"
        "  - {id: 'project:p', tasks: [q.b], rho: 0.8}\n"
    )
    with pytest.raises(ScenarioError, match=r"correlation group id 'project:p' is used twice"):
        load_scenario(path)


def test_exponential_mean_must_exceed_its_shift(tmp_path: Path) -> None:
    path = tmp_path / "expo.yaml"
    path.write_text(
        "projects: [{id: p, tasks: [{id: a, duration: {exponential: {mean: 2, low: 3}}}]}]\n"
    )
    with pytest.raises(ScenarioError, match=r"mean=2.0 must exceed low=3.0"):
        load_scenario(path)


def test_task_ids_may_not_contain_dots(tmp_path: Path) -> None:
    # 'q.t1' would be ambiguous with task t1 of project q in `after` lists
    path = tmp_path / "dots.yaml"
    path.write_text("projects: [{id: p, tasks: [{id: q.t1, duration: 1}]}]\n")
    with pytest.raises(ScenarioError, match=r"task id 'q.t1' may not contain \."):
        load_scenario(path)


def test_a_chain_of_1500_includes_resolves_without_recursion(tmp_path: Path) -> None:
    chain = "".join(f"  - {{name: v{k}, include: [v{k - 1}]}}\n" for k in range(1, 1500))
    text = HEAD + "      - {id: a, duration: 1}\nvariants:\n  - {name: v0}\n" + chain
    pf = load_scenario(_write(tmp_path, text))
    assert len(pf.variants) == 1500


def test_far_dates_that_can_be_shown_load(tmp_path: Path) -> None:
    """The last date a scenario may reach, and a holiday in year 9999 (outside that range,
    it only lengthens the calendar's table), are accepted."""
    text = (
        "start: 2027-01-04\ncalendar: {holidays: [9999-12-31]}\nprojects:\n  - id: p\n"
        "    deadline: 9000-12-31\n    tasks:\n      - {id: a, duration: 5}\n"
    )
    pf = load_scenario(_write(tmp_path, text))
    assert pf.projects[0].deadline == pf.calendar.latest


def test_a_problem_on_many_lines_is_printed_on_three_then_counted_with_its_lines() -> None:
    """Four occurrences are printed whole (a count of one would say less); more are cut
    to three and one line listing the rest as ranges, the first eight of them."""

    def at(lines: list[int], file: str = "s.yaml", message: str = "bad") -> list[Problem]:
        return [Problem(file, n, 5, "projects[a].duration", message) for n in lines]

    four = ScenarioError(at([3, 4, 5, 6]))
    assert four.lines == [f"s.yaml:{n}:5: projects[a].duration: bad" for n in (3, 4, 5, 6)]
    gaps = [2, 3, 4, *range(10, 40, 2), 50, 51, 52]  # 15 single lines, then a run
    many = ScenarioError([*at(gaps), *at([7], message="other")])
    assert many.lines == [
        "s.yaml:2:5: projects[a].duration: bad",
        "s.yaml:3:5: projects[a].duration: bad",
        "s.yaml:4:5: projects[a].duration: bad",
        "s.yaml: projects[a].duration: the same problem on 18 more lines: "
        "10, 12, 14, 16, 18, 20, 22, 24, …",
        "s.yaml:7:5: projects[a].duration: other",
    ]
    assert str(many) == "\n".join(many.lines)
    assert len(many.problems) == 22
    rows = ScenarioError(at([2, 3, 4, 5, 6, 8], file="h.csv"))
    assert rows.lines[3] == "h.csv: projects[a].duration: the same problem on 3 more rows: 5-6, 8"
