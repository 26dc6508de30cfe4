"""Working-day calendar: offsets, deadline ends, finish dates and reporting periods, checked
against dates worked out by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from simulator.model import Calendar, WorkCalendar, parse_workweek

D = dt.date


@pytest.mark.parametrize(
    ("spec", "mask"),
    [
        ("Mon-Fri", "1111100"),
        ("Sun-Thu", "1111001"),
        (["Mon", "wed", "Friday"], "1010100"),
        ("1111110", "1111110"),
        ("sat-mon", "1000011"),
    ],
)
def test_workweek_forms(spec: str | list[str], mask: str) -> None:
    assert parse_workweek(spec) == mask


@pytest.mark.parametrize("spec", ["Mon-Funday", "0000000", "weekdays", ["Mon", "Xyz"]])
def test_bad_workweeks_are_rejected(spec: str | list[str]) -> None:
    with pytest.raises(ValueError, match=r"workweek|day"):
        parse_workweek(spec)


def test_times_deadlines_and_finish_dates() -> None:
    # Monday 4 January 2027; Friday 8 January is a holiday. Times are days since the start.
    cal = WorkCalendar(D(2027, 1, 4), (Calendar("default", "1111100", (D(2027, 1, 8),)),))
    assert cal.offset(D(2027, 1, 4)) == 0
    assert cal.offset(D(2027, 1, 11)) == 7
    assert cal.end_of(D(2027, 1, 7)) == 4  # the end of Thursday
    assert cal.work(0, 7.0) == 4  # Mon, Tue, Wed, Thu worked before the 11th
    # 4 working days from the start end on Thursday night, and the next work begins on
    # Monday the 11th (Friday is the holiday); 4.5 days end at noon on Monday the 11th
    assert cal.ends(0, 0.0, 4.0) == 4.0
    assert cal.advance(0, 0.0, 4.0) == 7.0
    assert cal.ends(0, 0.0, 4.5) == cal.advance(0, 0.0, 4.5) == 7.5
    got = cal.finish_dates(np.array([4.0, 7.5, 0.2, 0.0]))
    assert [str(d) for d in got] == ["2027-01-07", "2027-01-11", "2027-01-04", "2027-01-04"]
    # a start at a non-working instant (Friday the holiday) begins on the next working day
    assert [str(d) for d in cal.start_dates(np.array([4.0, 5.5]), 0)] == ["2027-01-11"] * 2


def test_start_dates_follow_the_calendar_s_own_working_days() -> None:
    """Monday 4 January 2027; Wednesday 6 is worked 4 of 8 hours, Saturday 9 in full. Work
    starting on Saturday begins that day; starting at Wednesday noon, on Thursday."""
    office = Calendar("default", "1111100", exceptions=((D(2027, 1, 6), 4.0), (D(2027, 1, 9), 8.0)))
    cal = WorkCalendar(D(2027, 1, 4), (office,))
    got = cal.start_dates(np.array([5.0, 5.3, 2.5, 2.2, 6.0]), 0)
    assert [str(d) for d in got] == [
        "2027-01-09",
        "2027-01-09",
        "2027-01-07",
        "2027-01-06",
        "2027-01-11",
    ]


def test_five_day_and_seven_day_calendars() -> None:
    """A 5-day task takes 5 calendar days on a 7-day calendar and 7 on a 5-day one when it
    spans a weekend; a half day is half a day's work."""
    week = Calendar("default", "1111100", exceptions=((D(2027, 1, 15), 4.0),))
    every = Calendar("7d", "1111111")
    cal = WorkCalendar(D(2027, 1, 4), (week, every))
    assert cal.advance(1, 3.0, 5.0) == 8.0  # Thursday 0:00 + 5 days, weekend worked
    assert cal.advance(0, 3.0, 5.0) == 10.0  # Thu, Fri, Mon, Tue, Wed
    # Friday 15 January is worked 4 of 8 hours: from Thursday the 14th, 1.5 days end at its
    # noon, and the next work begins on Monday the 18th
    assert cal.ends(0, 10.0, 1.5) == 11.5
    assert cal.advance(0, 10.0, 1.5) == 14.0
    assert cal.advance(0, 10.0, 2.0) == 14.5  # and the rest is Monday morning
    assert cal.work(0, 12.0) - cal.work(0, 11.0) == 0.5


@pytest.mark.parametrize("t", [0.0, 3.25, 4.999, 5.0, 6.5, 13.0, 200.0, 3650.75])
def test_working_time_beyond_the_table_repeats_the_week(t: float) -> None:
    """Far past the last exception the week repeats; compare with numpy's busday_count."""
    cal = WorkCalendar(D(2027, 1, 4), (Calendar("default", "1111100", (D(2027, 1, 8),)),))
    day = int(np.floor(t))
    whole = np.busday_count(
        np.datetime64("2027-01-04"),
        np.datetime64("2027-01-04") + day,
        weekmask="1111100",
        holidays=["2027-01-08"],
    )
    worked = np.is_busday(
        np.datetime64("2027-01-04") + day, weekmask="1111100", holidays=["2027-01-08"]
    )
    assert cal.work(0, t) == pytest.approx(whole + (t - day if worked else 0.0), abs=1e-9)
    # ends is the earliest instant by which the work is done; advance the latest
    for d in (0.5, 1.0, 7.0, 101.25):
        end, resume = cal.ends(0, t, d), cal.advance(0, t, d)
        for x in (end, resume):
            assert cal.work(0, x) == pytest.approx(cal.work(0, t) + d, abs=1e-9)
        assert cal.work(0, end - 1e-6) < cal.work(0, t) + d
        assert cal.work(0, resume + 1e-6) > cal.work(0, t) + d


def test_monthly_periods_cover_the_horizon() -> None:
    cal = WorkCalendar(D(2027, 1, 4))
    labels, edges = cal.periods(60)
    assert labels == ["2027-01", "2027-02", "2027-03"]
    # January 2027 from the 4th: 28 days; February: 28; March: 31
    assert edges.tolist() == [0, 28, 56, 87]


def test_periods_without_a_start_are_blocks_of_20_working_days() -> None:
    labels, edges = WorkCalendar().periods(41)
    assert labels == ["wd 0-20", "wd 20-40", "wd 40-60"]
    assert edges.tolist() == [0, 20, 40, 60]


def test_periods_are_bounded_and_end_where_dates_end() -> None:
    """However far the horizon, at most MAX_PERIODS periods (per-period arrays stay small);
    a scenario starting in December 9999 still has its month."""
    from simulator.model.calendar import MAX_PERIODS

    labels, edges = WorkCalendar().periods(1e12)
    assert len(labels) == MAX_PERIODS == len(edges) - 1
    labels, edges = WorkCalendar(dt.date(2027, 1, 4)).periods(1e9)
    assert len(labels) == MAX_PERIODS
    assert labels[-1] == "2076-12"
    labels, edges = WorkCalendar(dt.date(9999, 12, 31)).periods(5.0)
    assert labels == ["9999-12"]
    assert list(edges) == [0.0, 1.0]
