"""Real schedules worked out by hand: each link type with lags and leads, calendars of 5
and 7 days, constraints; progress at a status date against the conditional laws theory
gives; the validation of calendars and progress."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from simulator.engine import simulate
from simulator.errors import ScenarioError
from simulator.model import Portfolio
from simulator.sampling import sample_block
from simulator.scenario import load_scenario

# Monday 4 January 2027 is day 0; Friday 8 is day 4, Saturday 9 day 5, Monday 11 day 7
HEAD = """\
start: 2027-01-04
calendars:
  office: {workweek: Mon-Fri}
  seven: {workweek: Mon-Sun}
calendar: office
"""


def load(tmp_path: Path, body: str, head: str = HEAD) -> Portfolio:
    path = tmp_path / "s.yaml"
    path.write_text(head + textwrap.dedent(body), encoding="utf-8")
    return load_scenario(path)


def dates(pf: Portfolio) -> dict[str, tuple[str, str]]:
    """Each task's first and last working day (fixed durations: one iteration says all)."""
    d = sample_block(pf, 1, 0, 1).duration[0]
    s = simulate(pf.network, d)
    cal = pf.calendar
    out = {}
    for i, t in enumerate(pf.tasks):
        last = cal.ends(t.calendar, s.start[i], d[i])
        first = cal.start_dates(np.array([s.start[i]]), t.calendar)
        assert first is not None
        out[t.id] = (str(first[0]), cal.finish_date(last) or "")
    return out


LINKS = """
projects:
  - id: p
    tasks:
      - {id: a, duration: 3}
      - {id: fs, duration: 1, after: [{id: a, lag: 2}]}
      - {id: lead, duration: 2, after: [{id: a, lag: -1}]}
      - {id: five, duration: 5}
      - {id: ss, duration: 2, after: [{id: five, type: SS, lag: 3}]}
      - {id: ff, duration: 2, after: [{id: five, type: FF, lag: 1}]}
      - {id: two, duration: 2}
      - {id: ff-long, duration: 5, after: [{id: two, type: FF}]}
      - {id: sf, duration: 2, after: [{id: a, type: SF, lag: 4}]}
"""


def test_each_link_type_by_hand(tmp_path: Path) -> None:
    got = dates(load(tmp_path, LINKS))
    assert got["a"] == ("2027-01-04", "2027-01-06")  # Mon-Wed
    # FS +2: Thursday and Friday pass, b starts on Monday 11
    assert got["fs"] == ("2027-01-11", "2027-01-11")
    # FS -1: a lead of a day: it starts on Wednesday, a's last day
    assert got["lead"] == ("2027-01-06", "2027-01-07")
    # SS +3: three working days after five's start: Thursday
    assert got["ss"] == ("2027-01-07", "2027-01-08")
    # FF +1: it may not finish before Monday 11 (five ends Friday): two days end there
    assert got["ff"] == ("2027-01-08", "2027-01-11")
    # FF with a longer successor: it would start before its predecessor; a link never
    # fires before the predecessor's start, so it starts with it and finishes later
    assert got["ff-long"] == ("2027-01-04", "2027-01-08")
    # SF +4: not finish before a's start + 4 working days (end of Thursday 7): Wed-Thu
    assert got["sf"] == ("2027-01-06", "2027-01-07")


def test_five_days_on_seven_and_five_day_calendars(tmp_path: Path) -> None:
    got = dates(
        load(
            tmp_path,
            """
            projects:
              - id: p
                tasks:
                  - {id: a, duration: 3}
                  - {id: week, duration: 5, after: [a]}
                  - {id: every, duration: 5, calendar: seven, after: [a]}
                  - {id: mon-fri, duration: 5}
                  - {id: cure, duration: 2, calendar: seven, after: [mon-fri]}
                  - {id: settle, duration: 1, after: [cure]}
            """,
        )
    )
    assert got["week"] == ("2027-01-07", "2027-01-13")  # Thu, Fri, Mon, Tue, Wed
    assert got["every"] == ("2027-01-07", "2027-01-11")  # Thu-Mon: five calendar days
    # a seven-day successor of work ending on Friday works the weekend; the office task
    # after it starts on Monday
    assert got["cure"] == ("2027-01-09", "2027-01-10")
    assert got["settle"] == ("2027-01-11", "2027-01-11")


def test_a_calendar_named_default_is_the_default(tmp_path: Path) -> None:
    """Without 'calendar:', 'calendars: {default: ...}' is the scenario's calendar: seven
    days from Monday 4 January end on Sunday the 10th (it was ignored for Mon-Fri: the
    13th); beside an inline 'calendar:' it is a located problem."""
    body = """
        projects:
          - id: p
            tasks:
              - {id: a, duration: 7}
              - {id: b, duration: 7, calendar: default}
        """
    head = "start: 2027-01-04\ncalendars:\n  default: {workweek: Mon-Sun}\n"
    got = dates(load(tmp_path, body, head))
    assert got["a"] == got["b"] == ("2027-01-04", "2027-01-10")
    with pytest.raises(ScenarioError, match=r"s.yaml:3:3: calendars.default: 'default' names"):
        load(tmp_path, body, head + "calendar: {workweek: Mon-Fri}\n")


def test_start_constraints_and_key_dates(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        """
        projects:
          - id: p
            tasks:
              - {id: a, duration: 2, start_no_earlier_than: 2027-01-13}
              - {id: b, duration: 1, must_start_on: 2027-01-06}
              - {id: m, milestone: true, after: [a], finish_no_later_than: 2027-01-14}
        """,
    )
    got = dates(pf)
    assert got["a"] == ("2027-01-13", "2027-01-14")
    assert got["b"] == ("2027-01-06", "2027-01-06")
    keys = {(pf.tasks[k.task].id, k.event): k for k in pf.key_dates}
    assert keys[("m", "finish")].due == 11.0  # the end of Thursday 14 January
    assert keys[("b", "start")].due == 3.0  # the end of Wednesday 6 January
    assert keys[("m", "finish")].given == "2027-01-14"


def test_must_start_on_in_working_days_is_due_by_the_end_of_that_day(tmp_path: Path) -> None:
    """``must_start_on: 5`` holds the start to working day 5, Monday 11 January (day 7):
    starting then is on time, so the key date is the end of that Monday (day 8), not the
    end of Friday 8 (day 5, where five working days have passed); ``3`` is Thursday 7."""
    pf = load(
        tmp_path,
        """
        projects:
          - id: p
            tasks:
              - {id: a, duration: 1, must_start_on: 5}
              - {id: b, duration: 1, must_start_on: 3}
        """,
    )
    assert dates(pf)["a"] == ("2027-01-11", "2027-01-11")
    assert dates(pf)["b"] == ("2027-01-07", "2027-01-07")
    keys = {pf.tasks[k.task].id: k.due for k in pf.key_dates}
    assert keys == {"a": 8.0, "b": 4.0}


def progress_portfolio(tmp_path: Path, duration: str, extra: str = "") -> Portfolio:
    """A task started on Monday 4 January, status date Monday 11: 5 working days done."""
    return load(
        tmp_path,
        f"""
        status_date: 2027-01-11
        projects:
          - id: p
            tasks:
              - {{id: a, duration: {duration}, actual_start: 2027-01-04{extra}}}
              - {{id: b, duration: 1, after: [a]}}
        """,
    )


def remaining(pf: Portfolio, blocks: int = 8) -> np.ndarray:
    return np.concatenate([sample_block(pf, 11, k, 500).duration[:, 0] for k in range(blocks)])


def test_exponential_remaining_work_is_memoryless(tmp_path: Path) -> None:
    """P(D > 5 + x | D > 5) = P(D > x): the remaining law is the unconditional one."""
    r = remaining(progress_portfolio(tmp_path, "{exponential: {mean: 8}}"))
    assert abs(r.mean() - 8) < 4 * 8 / math.sqrt(len(r))
    assert stats.kstest(r, stats.expon(scale=8).cdf).pvalue > 0.001


def test_uniform_remaining_work_given_the_elapsed_time(tmp_path: Path) -> None:
    """Uniform(3, 12) with 5 days elapsed: D | D > 5 is uniform(5, 12), so the remaining
    work is uniform(0, 7)."""
    r = remaining(progress_portfolio(tmp_path, "{uniform: {low: 3, high: 12}}"))
    assert r.min() >= 0
    assert r.max() <= 7
    assert abs(r.mean() - 3.5) < 4 * (7 / math.sqrt(12)) / math.sqrt(len(r))
    assert stats.kstest(r, stats.uniform(0, 7).cdf).pvalue > 0.001
    # elapsed time below the low end: uniform(6, 12) less 5 is uniform(1, 7)
    r = remaining(progress_portfolio(tmp_path, "{uniform: {low: 6, high: 12}}"))
    assert stats.kstest(r, stats.uniform(1, 6).cdf).pvalue > 0.001


def test_percent_complete_rescales_and_remaining_replaces(tmp_path: Path) -> None:
    pf = progress_portfolio(tmp_path, "10", ", percent_complete: 40")
    assert np.all(remaining(pf, 1) == 6.0)
    pf = progress_portfolio(tmp_path, "10", ", remaining: {uniform: {low: 1, high: 2}}")
    r = remaining(pf, 2)
    assert r.min() >= 1
    assert r.max() <= 2
    assert abs(r.mean() - 1.5) < 4 * (1 / math.sqrt(12)) / math.sqrt(len(r))


def test_complete_and_running_tasks_at_the_status_date(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        """
        status_date: 2027-01-11
        resources: {R: {capacity: 1}}
        projects:
          - id: p
            tasks:
              - {id: done, duration: 9, resources: {R: 1},
                 actual_start: 2027-01-04, actual_finish: 2027-01-06}
              - {id: late, duration: 2, resources: {R: 1}}
              - {id: going, duration: 4, resources: {R: 1}, after: [done],
                 actual_start: 2027-01-07, percent_complete: 50}
        """,
    )
    got = dates(pf)
    # the complete task keeps its dates, whatever its planned duration
    assert got["done"] == ("2027-01-04", "2027-01-06")
    # nothing new starts before the status date, and the task in progress holds the one
    # unit first: 2 days left, Mon-Tue; then the task not started
    net = pf.network
    d = sample_block(pf, 1, 0, 1).duration[0]
    s = simulate(net, d)
    assert d.tolist() == [3.0, 2.0, 2.0]
    assert s.start[2] == 7.0  # Monday 11
    assert s.start[1] == 9.0  # Wednesday 13


@pytest.mark.parametrize(
    ("body", "line", "text"),
    [
        (
            "      - {id: a, duration: 1, calendar: night}\n",
            10,
            "unknown calendar 'night'; calendars: office, seven",
        ),
        (
            "      - {id: a, duration: 1, actual_start: 2027-01-06, actual_finish: 2027-01-05}\n",
            10,
            "actual finish 2027-01-05 is before the actual start 2027-01-06",
        ),
        (  # in working days the finish is a time: 2 and 2 is no time at all, not "before"
            "      - {id: a, duration: 1, actual_start: 2, actual_finish: 2}\n",
            10,
            "actual finish 2 is at the actual start 2: in working days, the finish is where",
        ),
        (
            "      - {id: a, duration: 1, actual_start: 2027-02-02}\n",
            10,
            "actual start 2027-02-02 is after the status date",
        ),
        (
            "      - {id: a, duration: 1, remaining: 2}\n",
            10,
            "remaining needs actual_start",
        ),
        (
            "      - {id: a, duration: 1, after: [{id: b, type: SS}]}\n"
            "      - {id: b, duration: 1, after: [{id: a, type: FF, lag: -2}]}\n",
            11,
            "dependency cycle: p.a -> p.b -> p.a",
        ),
    ],
)
def test_bad_schedules_are_located_errors(tmp_path: Path, body: str, line: int, text: str) -> None:
    head = HEAD + "status_date: 2027-02-01\nprojects:\n  - id: p\n    tasks:\n"
    path = tmp_path / "s.yaml"
    path.write_text(head + body, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert f"s.yaml:{line}:" in message, message
    assert text in message, message


def test_progress_needs_a_status_date(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        HEAD + "projects:\n  - id: p\n    tasks:\n"
        "      - {id: a, duration: 1, actual_start: 2027-01-04}\n",
        encoding="utf-8",
    )
    with pytest.raises(
        ScenarioError, match=r"s.yaml:9:.*actual_start needs the scenario's status_date"
    ):
        load_scenario(path)
