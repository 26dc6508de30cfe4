"""Working-day calendar: offsets, deadline ends, finish dates and reporting periods, checked
against dates worked out by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from simulator.model import WorkCalendar, parse_workweek

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


def test_offsets_deadlines_and_finish_dates() -> None:
    # Monday 4 January 2027; Friday 8 January is a holiday.
    cal = WorkCalendar(D(2027, 1, 4), "1111100", (D(2027, 1, 8),))
    assert cal.offset(D(2027, 1, 4)) == 0
    assert cal.offset(D(2027, 1, 11)) == 4  # Mon, Tue, Wed, Thu worked before it
    assert cal.end_of(D(2027, 1, 7)) == 4  # deadline Thursday: 4 working days available
    assert cal.end_of(D(2027, 1, 9)) == 4  # Saturday after the holiday: still 4
    # work of 4 days ends on Thursday; 4.5 days ends on Monday 11th (the 5th working day)
    got = cal.finish_dates(np.array([4.0, 4.5, 0.2, 0.0]))
    assert [str(d) for d in got] == ["2027-01-07", "2027-01-11", "2027-01-04", "2027-01-04"]


def test_monthly_periods_cover_the_horizon() -> None:
    cal = WorkCalendar(D(2027, 1, 4))
    labels, edges = cal.periods(45)
    assert labels == ["2027-01", "2027-02", "2027-03"]
    # January 2027 from the 4th: 20 working days; February: 20
    assert edges.tolist() == [0, 20, 40, 63]


def test_periods_without_a_start_are_blocks_of_20_working_days() -> None:
    labels, edges = WorkCalendar().periods(41)
    assert labels == ["wd 0-20", "wd 20-40", "wd 40-60"]
    assert edges.tolist() == [0, 20, 40, 60]
