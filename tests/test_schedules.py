"""Real schedules: calendars, the four link types with lags and leads, date constraints,
milestones and progress at a status date.

Three kinds of test:

* a Hypothesis property: random dated portfolios using every one of these features give
  bit-identical schedules in the reference (simpy) engine and the compiled engine;
* hand-computed schedules: every expected date below is worked out in the comments from the
  calendar, never read back from the code;
* the laws of the remaining work of tasks in progress (conditioned draws) against theory,
  with tolerances from the Monte Carlo standard error, and the located validation errors.

The calendar used by hand: the scenario starts Monday 2027-01-04, so time ``t`` is the
beginning of day ``2027-01-04 + t``::

    Mon 4 = 0   Tue 5 = 1   Wed 6 = 2   Thu 7 = 3   Fri 8 = 4   Sat 9 = 5   Sun 10 = 6
    Mon 11 = 7  Tue 12 = 8  Wed 13 = 9  Thu 14 = 10 Fri 15 = 11 Sat 16 = 12 Sun 17 = 13
    Mon 18 = 14 ...

Work ending with Friday 8 ends at ``t = 5`` (Friday midnight, the reported finish); the
engines let the next work of a Mon-Fri calendar begin at ``t = 7`` (Monday 0:00).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy import stats

from simulator.engine import pack_capacity, simulate, simulate_batch, work_ends
from simulator.errors import ScenarioError
from simulator.model import Portfolio
from simulator.montecarlo import simulate_portfolio
from simulator.sampling import sample_block
from simulator.scenario import load_scenario

Array = NDArray[np.float64]

START = dt.date(2027, 1, 4)  # a Monday
PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def day(t: float) -> dt.date:
    return START + dt.timedelta(days=int(np.floor(t)))


def at(date: str) -> float:
    """The time of the beginning of ``date``."""
    return float((dt.date.fromisoformat(date) - START).days)


def load(tmp_path: Path, text: str, name: str = "s.yaml") -> Portfolio:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return load_scenario(path)


def schedule(pf: Portfolio, durations: Array | None = None) -> dict[str, tuple[float, float]]:
    """``task key -> (start, reported finish)`` from the reference engine, with each task's
    mean duration unless ``durations`` are given; the reported finish is where the work
    ended (``work_end``), the engines' finish being the start of the next working period."""
    d = np.array([t.mean_duration for t in pf.tasks]) if durations is None else durations
    net = pf.network
    s = simulate(net, d, pf.base_capacity_events())
    end = work_ends(*net.clock, net.calendar, s.finish[None, :])[0]
    return {t.key: (float(s.start[i]), float(end[i])) for i, t in enumerate(pf.tasks)}


def same(a: Array, b: Array) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


DATED = """\
start: 2027-01-04
calendar: office
calendars:
  office: {workweek: Mon-Fri}
  seven: {workweek: Mon-Sun}
"""


# --- the property: both engines, every feature --------------------------------------------

DAYS = [START + dt.timedelta(days=k) for k in range(35)]
STATUS = dt.date(2027, 1, 20)  # a Wednesday, t = 16
CALENDAR_NAMES = ["office", "seven", "half"]
CALENDARS: dict[str, Any] = {
    "office": {"workweek": "Mon-Fri", "holidays": ["2027-01-15", "2027-01-29"]},
    "seven": {"workweek": "Mon-Sun", "holidays": ["2027-01-10"]},
    "half": {
        "workweek": "Mon-Fri",
        "hours_per_day": 7.5,
        "exceptions": [
            {"date": "2027-01-12", "hours": 3},  # 0.4 of a day: inexact sums
            {"date": "2027-01-23", "hours": 5},  # a Saturday worked 2/3 of a day
            {"date": "2027-01-26", "hours": 0},
        ],
    },
}
TENTHS = st.integers(1, 60).map(lambda k: k / 10)
LAG_VALUES = st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.0, 0.3, 1.0, 2.5, 1 / 3])


def _iso(d: dt.date) -> str:
    return d.isoformat()


@st.composite
def durations(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["number", "fixed", "uniform", "triangular", "exponential"]))
    if kind == "number":
        return draw(TENTHS)
    if kind == "fixed":
        return {"fixed": draw(TENTHS)}
    low = draw(TENTHS)
    width = draw(TENTHS)
    if kind == "uniform":
        return {"uniform": {"low": low, "high": low + width}}
    if kind == "triangular":
        return {"triangular": {"low": low, "mode": low + width / 3, "high": low + width}}
    return {"exponential": {"mean": low + width, "low": draw(st.sampled_from([0.0, low]))}}


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A dated scenario (JSON is YAML) with three calendars, pools with small capacities
    that change, links of every type with lags, leads and lag calendars, constraints,
    milestones, and (usually) a status date with complete tasks, tasks in progress three
    ways, and progress out of sequence."""
    with_status = draw(st.booleans()) or draw(st.booleans())
    default = draw(st.sampled_from(["office", "half"]))
    n_pools = draw(st.integers(1, 3))
    resources: dict[str, Any] = {}
    caps: list[float] = []
    for p in range(n_pools):
        cap = float(draw(st.integers(1, 3)))
        caps.append(cap)
        pool: dict[str, Any] = {"capacity": cap}
        if draw(st.booleans()):
            pool["calendar"] = draw(st.sampled_from(CALENDAR_NAMES))
        if draw(st.booleans()):  # a dip (possibly to zero), then back to at least the start
            a = draw(st.integers(0, 20))
            b = a + draw(st.integers(1, 10))
            low = float(draw(st.integers(0, int(cap) - 1)))
            first: Any = _iso(DAYS[a]) if draw(st.booleans()) else float(a) / 2
            changes = [{"at": first, "capacity": low}, {"at": _iso(DAYS[b]), "capacity": cap}]
            if isinstance(first, float) and first > b:
                changes.reverse()
            pool["changes"] = changes
        resources[f"P{p}"] = pool
    n_projects = draw(st.integers(1, 3))
    projects: list[dict[str, Any]] = []
    keys: list[str] = []  # "project.task" of every task so far
    for k in range(n_projects):
        tasks: list[dict[str, Any]] = []
        for j in range(draw(st.integers(1, 5))):
            tid = f"t{j}"
            task: dict[str, Any] = {"id": tid}
            milestone = draw(st.integers(0, 5)) == 0
            if milestone:
                task["milestone"] = True
            else:
                task["duration"] = draw(durations())
                used = draw(st.sets(st.integers(0, n_pools - 1), max_size=n_pools))
                if used:
                    task["resources"] = {
                        f"P{p}": draw(st.integers(1, 2 * int(caps[p]))) / 2 for p in sorted(used)
                    }
            if draw(st.booleans()):
                task["calendar"] = draw(st.sampled_from(CALENDAR_NAMES))
            links: list[Any] = []
            for i in sorted(
                draw(st.sets(st.integers(0, len(keys) - 1), max_size=3)) if keys else []
            ):
                proj, other = keys[i].split(".")
                ref = other if proj == f"p{k}" else keys[i]
                kind = draw(st.sampled_from(["FS", "SS", "FF", "SF"]))
                shape = draw(st.integers(0, 3))
                if shape == 0 and kind == "FS":
                    links.append(ref)  # a plain string: FS, no lag
                    continue
                link: dict[str, Any] = {"id": ref, "type": kind, "lag": draw(LAG_VALUES)}
                if shape == 3:
                    link["calendar"] = draw(st.sampled_from(CALENDAR_NAMES))
                links.append(link)
            if links:
                task["after"] = links
            constraint = draw(st.integers(0, 5))
            if constraint == 1:
                task["start_no_earlier_than"] = _iso(DAYS[draw(st.integers(0, 30))])
            elif constraint == 2:
                task["must_start_on"] = _iso(DAYS[draw(st.integers(0, 30))])
            elif constraint == 3:
                task["finish_no_later_than"] = _iso(DAYS[draw(st.integers(5, 34))])
            if with_status and not milestone:
                _progress(draw, task)
            tasks.append(task)
            keys.append(f"p{k}.{tid}")
        project: dict[str, Any] = {"id": f"p{k}", "priority": draw(st.integers(1, 3))}
        if draw(st.integers(0, 3)) == 0:
            project["start"] = _iso(DAYS[draw(st.integers(0, 25))])
        if k and draw(st.integers(0, 3)) == 0:
            project["after"] = [
                {"id": f"p{k - 1}", "type": draw(st.sampled_from(["FS", "SS"])), "lag": 1.0}
            ]
        project["tasks"] = tasks
        projects.append(project)
    risks: list[dict[str, Any]] = []
    if draw(st.booleans()):
        risks.append(
            {
                "id": "outage",
                "probability": 0.5,
                "capacity_loss": {
                    "pool": "P0",
                    "units": 1,
                    "at": _iso(DAYS[draw(st.integers(0, 25))]),
                    "days": {"uniform": {"low": 0.5, "high": 4}},
                },
            }
        )
    if draw(st.booleans()):
        risks.append(
            {
                "id": "rework",
                "probability": 0.5,
                "affects": [keys[0]],
                "delay": {"uniform": {"low": 0.2, "high": 3}},
            }
        )
    out: dict[str, Any] = {
        "start": _iso(START),
        "calendar": default,
        "calendars": CALENDARS,
        "priority_rule": draw(st.sampled_from(["lft", "order"])),
        "resources": resources,
        "projects": projects,
        "risks": risks,
    }
    if with_status:
        out["status_date"] = _iso(STATUS)
    return out


def _progress(draw: st.DrawFn, task: dict[str, Any]) -> None:
    """Nothing, complete, or in progress with remaining, percent_complete or neither."""
    state = draw(st.sampled_from(["none", "none", "complete", "remaining", "percent", "running"]))
    if state == "none":
        return
    latest = (STATUS - START).days
    begun = draw(st.integers(0, latest))
    task["actual_start"] = _iso(DAYS[begun])
    if state == "complete" and begun < latest:
        task["actual_finish"] = _iso(DAYS[draw(st.integers(begun, latest - 1))])
    elif state == "remaining":
        task["remaining"] = draw(durations())
    elif state == "percent":
        task["percent_complete"] = draw(st.sampled_from([0, 12.5, 40, 99]))


@PROPERTY
@given(scenarios(), st.integers(0, 2**32 - 1))
def test_engines_agree_bit_for_bit_on_real_schedules(spec: dict[str, Any], seed: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.yaml"
        path.write_text(json.dumps(spec, indent=1))
        pf = load_scenario(path)
    n = 6
    sample = sample_block(pf, seed, 0, n)
    net = pf.network
    start, finish, ready = simulate_batch(net, sample.duration, *pack_capacity(sample.capacity))
    status = pf.calendar.status
    for it in range(n):
        ref = simulate(net, sample.duration[it], sample.capacity[it])
        for name, x, y in (
            ("start", ref.start, start[it]),
            ("finish", ref.finish, finish[it]),
            ("ready", ref.ready, ready[it]),
        ):
            assert same(x, y), (it, name, np.flatnonzero(x != y), x, y)
        # and what theory says of any such schedule
        for i, t in enumerate(pf.tasks):
            assert ref.finish[i] >= ref.start[i] >= ref.ready[i]
            if t.complete:  # it ran from its actual start to its actual finish, as given
                assert t.progress is not None
                assert ref.start[i] == t.progress.start
                assert t.progress.finish is not None
                assert ref.finish[i] == t.progress.finish
            elif status is not None:
                assert ref.start[i] >= status  # nothing else starts before the status date


# --- hand-computed schedules: links --------------------------------------------------------


def test_finish_to_start_lag_and_lead(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        DATED
        + """\
projects:
  - id: p
    tasks:
      - {id: a, duration: 5}
      - {id: lag, duration: 1, after: [{id: a, type: FS, lag: 2}]}
      - {id: lead, duration: 1, after: [{id: a, type: FS, lag: -1}]}
      - {id: plain, duration: 1, after: [a]}
""",
    )
    got = schedule(pf)
    # a: Mon 4 .. Fri 8, its work ends at Friday midnight (t = 5)
    assert got["p.a"] == (0.0, 5.0)
    # lag 2: Mon 11 and Tue 12 pass, the successor starts Wed 13 (t = 9) and ends with it
    assert got["p.lag"] == (at("2027-01-13"), at("2027-01-14"))
    # lead 1: it may start one working day before a's finish: on Fri 8, alongside a
    assert got["p.lead"] == (at("2027-01-08"), at("2027-01-09"))
    # no lag: Monday 11 (the next working period after Friday)
    assert got["p.plain"] == (at("2027-01-11"), at("2027-01-12"))


def test_start_to_start_lag_counts_working_days_across_the_weekend(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        DATED
        + """\
projects:
  - id: p
    tasks:
      - {id: a, duration: 10, start_no_earlier_than: 2027-01-06}
      - {id: b, duration: 2, after: [{id: a, type: SS, lag: 3}]}
      - {id: c, duration: 2, after: [{id: a, type: SS}]}
""",
    )
    got = schedule(pf)
    assert got["p.a"][0] == at("2027-01-06")  # Wednesday
    # Wed 6, Thu 7, Fri 8 are the three working days of lag: b starts Monday 11
    assert got["p.b"] == (at("2027-01-11"), at("2027-01-13"))
    assert got["p.c"][0] == at("2027-01-06")  # SS with no lag: together


def test_finish_to_finish_successor_shorter_and_longer(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        DATED
        + """\
projects:
  - id: p
    tasks:
      - {id: a, duration: 5, start_no_earlier_than: 2027-01-06}
      - {id: short, duration: 3, after: [{id: a, type: FF, lag: 1}]}
      - {id: long, duration: 7, after: [{id: a, type: FF, lag: 1}]}
      - {id: lead, duration: 2, after: [{id: a, type: FF, lag: -1}]}
""",
    )
    got = schedule(pf)
    # a: Wed 6, Thu 7, Fri 8, Mon 11, Tue 12: its work ends at the end of Tue 12
    assert got["p.a"] == (at("2027-01-06"), at("2027-01-13"))
    # bound: one working day later, the end of Wed 13. short (3 days) may start once 3 of
    # its working days are left before it: Mon 11 (Mon, Tue, Wed), finishing at the bound
    assert got["p.short"] == (at("2027-01-11"), at("2027-01-14"))
    # long (7 days) would have to start Tue 5, before a starts: it starts with a on Wed 6
    # and runs Wed-Fri, Mon-Thu: it ends with Thu 14, after the bound (allowed)
    assert got["p.long"] == (at("2027-01-06"), at("2027-01-15"))
    # a lead of 1: bound the end of Mon 11; 2 days: starts Fri 8, runs Fri and Mon
    assert got["p.lead"] == (at("2027-01-08"), at("2027-01-12"))


def test_start_to_finish(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        DATED
        + """\
projects:
  - id: p
    tasks:
      - {id: a, duration: 10, start_no_earlier_than: 2027-01-06}
      - {id: b, duration: 3, after: [{id: a, type: SF, lag: 4}]}
      - {id: c, duration: 3, after: [{id: a, type: SF, lag: 2}]}
""",
    )
    got = schedule(pf)
    # bound of b: a's start (Wed 6) + 4 working days (Wed, Thu, Fri, Mon): the end of Mon 11.
    # b (3 days) starts Thu 7 and runs Thu, Fri, Mon, finishing at the bound
    assert got["p.b"] == (at("2027-01-07"), at("2027-01-12"))
    # bound of c: the end of Thu 7; it would start Tue 5, before a: it starts with a on
    # Wed 6 and runs Wed, Thu, Fri
    assert got["p.c"] == (at("2027-01-06"), at("2027-01-09"))


def test_lag_in_a_calendar_the_link_names(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        DATED
        + """\
projects:
  - id: p
    tasks:
      - {id: a, duration: 5}
      - {id: own, duration: 1, after: [{id: a, lag: 2}]}
      - {id: named, duration: 1, after: [{id: a, lag: 2, calendar: seven}]}
""",
    )
    got = schedule(pf)
    # a ends at Friday midnight. Two working days of office: Mon 11, Tue 12 -> Wed 13.
    assert got["p.own"][0] == at("2027-01-13")
    # Two days of seven (Sat 9, Sun 10) elapse by Sunday midnight: the office successor
    # starts Monday 11
    assert got["p.named"][0] == at("2027-01-11")


# --- hand-computed schedules: calendars ----------------------------------------------------


def test_five_days_on_seven_day_and_mon_fri_calendars_from_a_thursday(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        DATED
        + """\
projects:
  - id: p
    tasks:
      - {id: seven, duration: 5, calendar: seven, start_no_earlier_than: 2027-01-07}
      - {id: office, duration: 5, start_no_earlier_than: 2027-01-07}
""",
    )
    got = schedule(pf)
    # seven-day: Thu 7, Fri 8, Sat 9, Sun 10, Mon 11: 5 calendar days
    assert got["p.seven"] == (at("2027-01-07"), at("2027-01-12"))
    # Mon-Fri: Thu 7, Fri 8, Mon 11, Tue 12, Wed 13
    assert got["p.office"] == (at("2027-01-07"), at("2027-01-14"))


def test_successor_on_its_own_calendar_starts_when_that_calendar_works(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        DATED
        + """\
resources:
  ops: {capacity: 1, calendar: seven}
projects:
  - id: p
    tasks:
      - {id: a, duration: 5}
      - {id: weekend, duration: 2, after: [a], calendar: seven}
      - {id: by_pool, duration: 2, after: [a], resources: {ops: 1}}
      - {id: weekday, duration: 2, after: [a]}
""",
    )
    got = schedule(pf)
    assert got["p.a"] == (0.0, 5.0)  # Mon 4 .. Fri 8
    # a 7-day successor starts on Saturday 9 and works the weekend
    assert got["p.weekend"] == (at("2027-01-09"), at("2027-01-11"))
    # a task of the seven-day pool is on the seven-day calendar
    assert got["p.by_pool"] == (at("2027-01-09"), at("2027-01-11"))
    # a Mon-Fri successor starts on Monday 11
    assert got["p.weekday"] == (at("2027-01-11"), at("2027-01-13"))


def test_holidays_and_a_half_day(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        """\
start: 2027-01-04
calendar: office
calendars:
  office:
    workweek: Mon-Fri
    holidays: [2027-01-06]
    exceptions: [{date: 2027-01-12, hours: 4}]
    working_days: [2027-01-09]
projects:
  - id: p
    tasks:
      - {id: a, duration: 3}
      - {id: b, duration: 3, after: [a]}
      - {id: c, duration: 1.5, after: [b]}
""",
    )
    got = schedule(pf)
    # a: Mon 4, Tue 5, (Wed 6 a holiday), Thu 7: ends at the end of Thu 7
    assert got["p.a"] == (0.0, at("2027-01-08"))
    # b: Fri 8, Sat 9 (worked), Mon 11
    assert got["p.b"] == (at("2027-01-08"), at("2027-01-12"))
    # c: 1.5 days from Tue 12, a half day (its morning: 0.5), then Wed 13 in full: it ends
    # with Wed 13
    assert got["p.c"] == (at("2027-01-12"), at("2027-01-14"))
    pf2 = load(
        tmp_path,
        """\
start: 2027-01-04
calendar: {workweek: Mon-Fri, exceptions: [{date: 2027-01-05, hours: 4}]}
calendars:
  seven: {workweek: Mon-Sun}
projects:
  - id: p
    tasks:
      - {id: a, duration: 2}
      - {id: b, duration: 1, after: [a]}
      - {id: c, duration: 1, after: [a], calendar: seven}
""",
        "half.yaml",
    )
    got = schedule(pf2)
    # a: Mon 4 (1), Tue 5 morning (0.5), Wed 6 first half (0.5): ends at Wed noon, t = 2.5
    assert got["p.a"] == (0.0, 2.5)
    # both successors start at Wednesday noon: the rest of Wednesday and Thursday morning
    assert got["p.b"] == (2.5, 3.5)
    assert got["p.c"] == (2.5, 3.5)


def test_milestones_take_no_time(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        DATED
        + """\
projects:
  - id: p
    tasks:
      - {id: a, duration: 5}
      - {id: m, milestone: true, after: [a]}
      - {id: b, duration: 1, after: [m]}
""",
    )
    got = schedule(pf)
    # the milestone is at a's finish; its successor starts Monday 11
    assert got["p.m"][1] == 5.0  # reported where the work ended: Friday midnight
    assert got["p.b"][0] == at("2027-01-11")
    assert pf.tasks[1].milestone
    assert pf.tasks[1].demand == ()


# --- constraints ---------------------------------------------------------------------------


def test_start_no_earlier_than_and_must_start_on_hold_a_task_back(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        DATED
        + """\
projects:
  - id: p
    tasks:
      - {id: a, duration: 2}
      - {id: snet, duration: 2, after: [a], start_no_earlier_than: 2027-01-13}
      - {id: weekend, duration: 1, start_no_earlier_than: 2027-01-09}
      - {id: mso, duration: 1, must_start_on: 2027-01-14}
      - {id: late, duration: 1, after: [{id: a, lag: 10}], start_no_earlier_than: 2027-01-05}
""",
    )
    got = schedule(pf)
    assert got["p.snet"][0] == at("2027-01-13")  # a is done Tue 5; held back to Wed 13
    assert got["p.weekend"][0] == at("2027-01-11")  # Sat 9: the first working day is Mon 11
    assert got["p.mso"][0] == at("2027-01-14")
    # a's work ends with Tue 5; 10 working days later is the end of Tue 19: starts Wed 20
    assert got["p.late"][0] == at("2027-01-20")
    mso = pf.tasks[3]
    assert mso.earliest == at("2027-01-14")
    assert mso.start_by == at("2027-01-15")  # the end of that day


def test_finish_no_later_than_is_measured_at_the_end_of_its_day(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        DATED
        + """\
projects:
  - id: p
    tasks:
      - {id: a, duration: 5, finish_no_later_than: 2027-01-08}
      - {id: b, duration: 5, after: [a], finish_no_later_than: 2027-01-14}
""",
    )
    a, b = pf.tasks
    assert a.deadline == at("2027-01-09")  # the end of Fri 8
    assert b.deadline == at("2027-01-15")
    keys = [(k.task, k.event, k.due) for k in pf.key_dates]
    assert keys == [(0, "finish", a.deadline), (1, "finish", b.deadline)]
    out = simulate_portfolio(pf, 20, 1)
    # a ends at Friday midnight: on time (its engine finish, Monday 0:00, would be late);
    # b runs Mon 11 - Fri 15, a day after its date
    assert np.all(out.keys[:, 0] == 5.0)
    assert np.all(out.keys[:, 0] <= a.deadline)
    assert np.all(out.keys[:, 1] == at("2027-01-16"))
    assert np.all(out.keys[:, 1] > b.deadline)
    assert np.all(out.finish[:, 0] == at("2027-01-16"))  # the project: where b's work ended


# --- progress ------------------------------------------------------------------------------

PROGRESS = DATED + "status_date: 2027-01-18\n"  # Monday 18, t = 14; 10 office days elapsed


def started(tmp_path: Path, duration: str) -> Portfolio:
    """One task in progress since Mon 4 Jan at the status date (10 office days elapsed),
    ``duration`` its law as the file writes it."""
    text = "projects:\n  - id: p\n    tasks:\n"
    text += f"      - {{id: a, duration: {duration}, actual_start: 2027-01-04}}\n"
    return load(tmp_path, PROGRESS + text)


def remaining(pf: Portfolio, task: int, blocks: int = 8, seed: int = 2027) -> Array:
    """The engine durations of ``task`` over ``blocks`` full blocks (4000 iterations)."""
    return np.concatenate([sample_block(pf, seed, b, 500).duration[:, task] for b in range(blocks)])


def assert_law(x: Array, law: Any, mean: float, sd: float) -> None:
    se = sd / np.sqrt(len(x))
    assert abs(x.mean() - mean) < 4 * se, (x.mean(), mean, se)
    p = stats.kstest(x, law.cdf).pvalue
    assert p > 1e-3, p


@pytest.mark.parametrize(("mean", "low"), [(5.0, 0.0), (7.0, 2.0)])
def test_in_progress_exponential_is_memoryless(tmp_path: Path, mean: float, low: float) -> None:
    pf = load(
        tmp_path,
        PROGRESS
        + f"""\
projects:
  - id: p
    tasks:
      - {{id: a, duration: {{exponential: {{mean: {mean}, low: {low}}}}}, actual_start: 2027-01-04}}
""",
    )
    assert pf.tasks[0].progress is not None
    assert pf.tasks[0].progress.elapsed == 10.0  # Mon 4 - Fri 15: two weeks
    x = remaining(pf, 0)
    # given D > 10 (above the shift), D - 10 is exponential with the same scale
    scale = mean - low
    assert x.min() >= 0
    assert_law(x, stats.expon(scale=scale), scale, scale)


def test_in_progress_exponential_below_its_shift(tmp_path: Path) -> None:
    pf = started(tmp_path, "{exponential: {mean: 16, low: 12}}")
    # elapsed 10 < low 12: the condition D > 10 always holds; D - 10 = 2 + Exp(4)
    x = remaining(pf, 0)
    assert_law(x, stats.expon(loc=2, scale=4), 6.0, 4.0)


@pytest.mark.parametrize(
    ("duration", "law"),
    [
        # memoryless: however far beyond its mean, the remaining work is Exp(mean 0.25)
        ("{exponential: {mean: 0.25}}", stats.expon(scale=0.25)),
        # D ~ N(3, 0.5) given D > 10 (14 sd out), less 10: a normal truncated at 10, shifted
        ("{normal: {mean: 3, sd: 0.5}}", stats.truncnorm(14.0, np.inf, loc=3 - 10, scale=0.5)),
    ],
    ids=["exponential", "normal"],
)
def test_in_progress_far_beyond_its_estimate(tmp_path: Path, duration: str, law: Any) -> None:
    """A task running 10 days on a 3-day estimate: its remaining work is the law's tail
    beyond the elapsed time, small and finite, and the run completes."""
    pf = started(tmp_path, duration)
    x = remaining(pf, 0)
    assert np.all(np.isfinite(x)), f"{np.mean(~np.isfinite(x)):.1%} of remaining draws not finite"
    assert np.all(x > 0), f"{np.mean(x <= 0):.1%} of remaining draws are 0"
    assert_law(x, law, float(law.mean()), float(law.std()))
    out = simulate_portfolio(pf, 50, 11)
    assert np.all(out.finish[:, 0] >= at("2027-01-18"))
    assert np.all(out.finish[:, 0] <= at("2027-01-18") + 7)


def test_in_progress_uniform_elapsed_inside_the_range(tmp_path: Path) -> None:
    pf = started(tmp_path, "{uniform: {low: 5, high: 20}}")
    # D ~ U(5, 20) given D > 10 is U(10, 20): the remaining D - 10 is U(0, 10)
    x = remaining(pf, 0)
    assert x.min() >= 0
    assert x.max() <= 10
    assert_law(x, stats.uniform(0, 10), 5.0, 10 / np.sqrt(12))


def test_in_progress_uniform_elapsed_below_the_range(tmp_path: Path) -> None:
    pf = started(tmp_path, "{uniform: {low: 12, high: 20}}")
    # E = 10 < low: remaining is U(12 - 10, 20 - 10) = U(2, 10)
    x = remaining(pf, 0)
    assert x.min() >= 2
    assert x.max() <= 10
    assert_law(x, stats.uniform(2, 8), 6.0, 8 / np.sqrt(12))


def test_percent_complete_rescales_a_fresh_draw(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        PROGRESS
        + """\
projects:
  - id: p
    tasks:
      - {id: a, duration: 10, actual_start: 2027-01-11, percent_complete: 40}
      - {id: b, duration: {uniform: {low: 10, high: 20}}, actual_start: 2027-01-11,
         percent_complete: 50}
      - {id: c, duration: 10, actual_start: 2027-01-11, remaining: 2}
""",
    )
    x = remaining(pf, 0, blocks=1)
    assert x == pytest.approx(np.full(500, 6.0))  # (1 - 0.4) x 10
    # half of a fresh U(10, 20) draw (not conditioned on the 5 days elapsed): U(5, 10)
    y = remaining(pf, 1)
    assert_law(y, stats.uniform(5, 5), 7.5, 5 / np.sqrt(12))
    assert np.all(remaining(pf, 2, blocks=1) == 2.0)
    out = simulate_portfolio(pf, 10, 3, trace=10)
    rows = out.trace[out.trace[:, 1] == 0]
    # a runs 6 days from the status date, Mon 18: Mon-Fri and Mon 25, ending with it
    assert np.all(rows[:, 3] == at("2027-01-26"))


def test_complete_tasks_keep_their_dates_and_nothing_starts_before_the_status_date(
    tmp_path: Path,
) -> None:
    pf = load(
        tmp_path,
        PROGRESS
        + """\
resources:
  R: {capacity: 1}
projects:
  - id: p
    tasks:
      - {id: done, duration: {uniform: {low: 1, high: 30}}, resources: {R: 1},
         actual_start: 2027-01-05, actual_finish: 2027-01-08}
      - {id: next, duration: 2, resources: {R: 1}, after: [done]}
      - {id: free, duration: 2, calendar: seven}
      - {id: early, duration: 1, start_no_earlier_than: 2027-01-06}
""",
    )
    out = simulate_portfolio(pf, 30, 5, trace=30)
    by_task = {int(i): out.trace[out.trace[:, 1] == i] for i in range(4)}
    done = by_task[0]
    assert np.all(done[:, 2] == at("2027-01-05"))  # its actual start
    assert np.all(done[:, 3] == at("2027-01-09"))  # the end of its actual finish date
    status = at("2027-01-18")
    for i in (1, 2, 3):  # not started: none before the status date
        assert np.all(by_task[i][:, 2] == status), by_task[i][:3]
    # next: Mon 18, Tue 19 (the complete task holds no unit of R)
    assert np.all(by_task[1][:, 3] == at("2027-01-20"))
    assert pf.network.demand[0].sum() == 0


def test_in_progress_task_reports_its_actual_start(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        PROGRESS
        + """\
resources:
  R: {capacity: 1}
projects:
  - id: p
    tasks:
      - {id: a, duration: {uniform: {low: 12, high: 20}}, resources: {R: 1},
         actual_start: 2027-01-06}
      - {id: b, duration: 3, resources: {R: 1}}
""",
    )
    out = simulate_portfolio(pf, 40, 7, trace=40)
    a = out.trace[out.trace[:, 1] == 0]
    b = out.trace[out.trace[:, 1] == 1]
    assert np.all(a[:, 2] == at("2027-01-06"))
    assert np.all(out.first_start[:, 0] == at("2027-01-06"))
    # a started Wed 6: 8 office days elapsed by Mon 18; remaining U(12-8, 20-8) = U(4, 12),
    # from the status date; b waits for R: it starts after a
    assert np.all(a[:, 3] > at("2027-01-18") + 4)
    assert np.all(b[:, 2] >= a[:, 3])


def test_links_into_started_tasks_are_history(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        PROGRESS
        + """\
projects:
  - id: p
    tasks:
      - {id: a, duration: 5}
      - {id: b, duration: 4, after: [a], actual_start: 2027-01-11}
      - {id: c, duration: 2, after: [a], actual_start: 2027-01-11, actual_finish: 2027-01-12}
""",
    )
    # b and c started before a (out of sequence): they run as they happened
    out = simulate_portfolio(pf, 5, 1, trace=5)
    rows = {i: out.trace[out.trace[:, 1] == i] for i in range(3)}
    assert np.all(rows[0][:, 2] == at("2027-01-18"))  # a: from the status date
    assert np.all(rows[1][:, 2] == at("2027-01-11"))  # b: its actual start
    # b: 4 days, 5 already elapsed (Mon 11 - Fri 15): the conditioned draw of a fixed
    # duration leaves nothing; it finishes at the status date (where its work stands)
    assert np.all(rows[1][:, 3] <= at("2027-01-18"))
    assert np.all(rows[2][:, 2:] == [at("2027-01-11"), at("2027-01-13")])


def trace_of(pf: Portfolio, iterations: int = 5, seed: int = 1) -> dict[str, Array]:
    """``task key -> (iterations, 2)`` reported (start, finish) from the runner's trace."""
    out = simulate_portfolio(pf, iterations, seed, trace=iterations)
    return {t.key: out.trace[out.trace[:, 1] == i][:, 2:] for i, t in enumerate(pf.tasks)}


def test_links_from_started_tasks_still_bind(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        PROGRESS
        + """\
projects:
  - id: p
    tasks:
      - {id: done, duration: 5, actual_start: 2027-01-11, actual_finish: 2027-01-15}
      - {id: fs, duration: 1, after: [{id: done, lag: 3}]}
      - {id: run, duration: 10, actual_start: 2027-01-11}
      - {id: ss, duration: 1, after: [{id: run, type: SS, lag: 7}]}
      - {id: lead, duration: 1, after: [{id: ss, lag: -5}]}
""",
    )
    got = trace_of(pf)
    # done's work ended with Fri 15; 3 working days (Mon 18, Tue 19, Wed 20): Thu 21
    assert np.all(got["p.fs"][:, 0] == at("2027-01-21"))
    # SS from a task in progress counts from its actual start: Mon 11 + 7 working days
    # (Mon 11 - Fri 15, Mon 18, Tue 19): Wed 20
    assert np.all(got["p.ss"] == [at("2027-01-20"), at("2027-01-21")])
    # a lead of 5 from ss's finish (the end of Wed 20) is before ss starts: it starts with ss
    assert np.all(got["p.lead"][:, 0] == at("2027-01-20"))
    # run: 10 days, 5 elapsed (fixed, so exactly 5 remain): Mon 18 - Fri 22
    assert np.all(got["p.run"] == [at("2027-01-11"), at("2027-01-23")])


def test_a_finish_link_into_a_task_in_progress_still_bounds_its_finish(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        PROGRESS
        + """\
projects:
  - id: p
    tasks:
      - {id: a, duration: 5}
      - {id: b, duration: 10, actual_start: 2027-01-11, remaining: 2,
         after: [{id: a, type: FF}]}
""",
    )
    got = trace_of(pf)
    # a runs from the status date, Mon 18 - Fri 22; b (2 days left) may not finish before
    # it: it ends with Fri 22 too; its reported start is its actual start
    assert np.all(got["p.a"] == [at("2027-01-18"), at("2027-01-23")])
    assert np.all(got["p.b"] == [at("2027-01-11"), at("2027-01-23")])


def test_a_lead_never_starts_a_task_before_its_predecessor(tmp_path: Path) -> None:
    pf = load(
        tmp_path,
        DATED
        + """\
projects:
  - id: p
    tasks:
      - {id: a, duration: 2, start_no_earlier_than: 2027-01-06}
      - {id: b, duration: 1, after: [{id: a, lag: -5}]}
      - {id: c, duration: 1, after: [{id: a, lag: -1, calendar: seven}]}
""",
    )
    got = schedule(pf)
    # a: Wed 6, Thu 7. The lead of 5 would put b on Thu 30 Dec: b starts with a
    assert got["p.b"][0] == at("2027-01-06")
    # c: one seven-day day before the end of Thu 7 is the start of Thu 7
    assert got["p.c"][0] == at("2027-01-07")


def test_complete_tasks_keep_actual_dates_on_non_working_days(tmp_path: Path) -> None:
    """Actuals are what happened, worked days or not: the reported start is the actual
    start, the reported finish the end of the actual finish date."""
    pf = load(
        tmp_path,
        PROGRESS
        + """\
projects:
  - id: p
    tasks:
      - {id: weekend, duration: 1, actual_start: 2027-01-09, actual_finish: 2027-01-09}
      - {id: from_sat, duration: 3, actual_start: 2027-01-09, actual_finish: 2027-01-12}
      - {id: to_sun, duration: 3, actual_start: 2027-01-04, actual_finish: 2027-01-10}
""",
    )
    got = trace_of(pf)
    expected = {
        "p.weekend": (at("2027-01-09"), at("2027-01-10")),  # Sat 9 .. the end of Sat 9
        "p.from_sat": (at("2027-01-09"), at("2027-01-13")),  # Sat 9 .. the end of Tue 12
        "p.to_sun": (at("2027-01-04"), at("2027-01-11")),  # Mon 4 .. the end of Sun 10
    }
    wrong = {
        key: (want, tuple(got[key][0]))
        for key, want in expected.items()
        if not np.all(got[key] == want)
    }
    assert not wrong, f"(start, finish) expected, got: {wrong}"


# --- validation: one located line each ------------------------------------------------------


def problems(tmp_path: Path, text: str) -> list[tuple[int, str]]:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, display="bad.yaml")
    shown = str(info.value)
    out = []
    for p in info.value.problems:
        assert p.file == "bad.yaml"
        assert p.line > 0
        assert p.col > 0
        assert f"bad.yaml:{p.line}:{p.col}: " in shown
        out.append((p.line, p.message))
    return out


HEAD = """\
start: 2027-01-04
status_date: 2027-01-18
calendars:
  seven: {workweek: Mon-Sun}
projects:
  - id: p
    tasks:
"""  # the first task's line is 8


@pytest.mark.parametrize(
    ("tasks", "line", "words"),
    [
        (
            "      - {id: a, duration: 1}\n      - {id: b, duration: 1, calendar: nine}\n",
            9,
            ["unknown calendar 'nine'", "seven"],
        ),
        (
            "      - id: a\n        duration: 3\n        actual_start: 2027-01-11\n"
            "        actual_finish: 2027-01-06\n",
            11,
            ["actual finish 2027-01-06 is before the actual start 2027-01-11"],
        ),
        (
            "      - {id: a, duration: 1}\n      - id: b\n        duration: 3\n"
            "        actual_start: 2027-01-20\n",
            11,
            ["actual start 2027-01-20 is after the status date"],
        ),
        (
            "      - id: a\n        duration: 3\n        remaining: 2\n",
            10,
            ["remaining needs actual_start"],
        ),
        (
            "      - {id: a, duration: 2, after: [{id: b, type: SS}]}\n"
            "      - {id: b, duration: 2, after: [a]}\n",
            (8, 9),  # either link of the cycle: a's SS link or b's FS link
            ["dependency cycle", "p.a", "p.b"],
        ),
    ],
    ids=["unknown-calendar", "finish-before-start", "start-after-status", "remaining", "cycle"],
)
def test_progress_and_calendar_mistakes_are_one_located_line(
    tmp_path: Path, tasks: str, line: int | tuple[int, ...], words: list[str]
) -> None:
    found = problems(tmp_path, HEAD + tasks)
    assert len(found) == 1, found
    ((got_line, message),) = found
    for w in words:
        assert w in message, (w, message)
    assert got_line in (line if isinstance(line, tuple) else (line,)), found


def test_actual_start_needs_a_status_date(tmp_path: Path) -> None:
    text = (
        "start: 2027-01-04\n"
        "projects:\n"
        "  - id: p\n"
        "    tasks:\n"
        "      - id: a\n"
        "        duration: 3\n"
        "        actual_start: 2027-01-05\n"
    )
    found = problems(tmp_path, text)
    assert len(found) == 1, found
    assert found[0][0] == 7
    assert "actual_start needs the scenario's status_date" in found[0][1]


@pytest.mark.parametrize(
    ("duration", "says", "left"),
    [
        ("{uniform: {low: 1, high: 5}}", "beyond the law's maximum: no work is left", False),
        ("{triangular: {low: 2, mode: 3, high: 6}}", "no work is left", False),
        ("{normal: {mean: 3, sd: 0.5}}", "drawn from the law's tail beyond that", True),
    ],
    ids=["uniform", "triangular", "normal"],
)
def test_the_far_beyond_warning_says_what_the_run_does(
    tmp_path: Path, duration: str, says: str, left: bool
) -> None:
    """10 days elapsed on a law that (nearly) never reaches 10: a bounded law has no work
    left (its sf there is a rounding error, not a tail: the warning said 'drawn from the
    law's tail'), an unbounded one draws its tail."""
    pf = started(tmp_path, duration)
    (warning,) = [w for w in pf.warnings if "far beyond its duration" in w]
    assert says in warning
    x = remaining(pf, 0, blocks=1)
    assert bool(np.all(x > 0)) is left
    assert bool(np.all(x == 0)) is not left
