"""Forecasts over time: working-day slips, moves against Monte Carlo noise, alerts and
accuracy scores against hand computation; the history file (append, identity, replace,
damaged files); and end to end, three monthly re-forecasts of the example whose trend names
the project that slipped."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import importlib.util
import math
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner, Result

from simulator.analysis import (
    Change,
    Forecast,
    ForecastRow,
    accuracy,
    alerts,
    brier,
    changes,
    contingency,
    counted,
    coverage,
    forecasts,
    moves,
    pinball,
    working_days,
)
from simulator.cli import cli, main
from simulator.errors import PmosimError
from simulator.output import publish, publish_file
from simulator.output.history import append_history, history_frame, read_history
from simulator.output.trend import trend_text

D = dt.date
STATUS = Path(__file__).resolve().parents[1] / "scenarios" / "portfolio-2027-status.yaml"
Z95 = 1.959963984540054


def row(**kw: Any) -> ForecastRow:
    base: dict[str, Any] = {
        "status_date": D(2027, 6, 1),
        "scenario": "s",
        "scenario_sha256": "a" * 64,
        "seed": 1,
        "iterations": 1000,
        "kind": "project",
        "item": "crm",
    }
    return ForecastRow(**{**base, **kw})


# --- hand computation ------------------------------------------------------------------------


def test_slips_are_counted_in_working_days_of_the_calendar() -> None:
    # Thu 26 Aug to Mon 13 Sep 2027: 26, 27 | 30 Aug-3 Sep | 6-10 Sep = 12 working days
    assert working_days(D(2027, 8, 26), D(2027, 9, 13), "1111100", ()) == 12
    assert working_days(D(2027, 8, 26), D(2027, 9, 13), "1111100", (D(2027, 9, 6),)) == 11
    assert working_days(D(2027, 9, 13), D(2027, 8, 26), "1111100", ()) == -12
    assert working_days(D(2027, 8, 26), D(2027, 9, 13), "1111111", ()) == 18


def test_a_move_is_judged_against_the_two_standard_errors() -> None:
    # P80 intervals 10 working days wide: each P80 has s.e. 10 / (2 x 1.96) days
    a = row(
        p_on_time=0.61,
        p_on_time_se=0.010,
        finish=(None, None, D(2027, 8, 26), None),
        p80_low=D(2027, 8, 19),
        p80_high=D(2027, 9, 2),
    )
    b = row(
        status_date=D(2027, 7, 1),
        scenario_sha256="b" * 64,
        p_on_time=0.44,
        p_on_time_se=0.012,
        finish=(None, None, D(2027, 9, 13), None),
        p80_low=D(2027, 9, 6),
        p80_high=D(2027, 9, 20),
    )
    (m,) = moves(Forecast((a,)), Forecast((b,)))
    assert m.p_change == pytest.approx(-0.17)
    assert m.p_se == pytest.approx(math.sqrt(0.010**2 + 0.012**2))
    assert m.p_beyond
    assert m.slip == 12
    assert m.slip_se == pytest.approx(math.sqrt(2) * 10 / (2 * Z95))  # 3.61 days
    assert m.slip_beyond  # 12 > 2 x 3.61
    small = dataclasses.replace(b, finish=(None, None, D(2027, 9, 2), None), p_on_time=0.60)
    (m,) = moves(Forecast((a,)), Forecast((small,)))
    assert m.slip == 5  # Thu 26 Aug to Thu 2 Sep
    assert not m.slip_beyond  # 5 < 7.2
    assert not m.p_beyond  # 0.01 < 2 x 0.0156


def _portfolio_forecast(month: int, p_all: float, *items: str) -> Forecast:
    """A forecast of the 1st of ``month`` 2027: each project of ``items`` with a deadline
    (a ``project.task`` item is a key date) and the portfolio's P(all on time) ± 0.01."""
    common = {"status_date": D(2027, month, 1), "scenario_sha256": f"{month}" * 64}
    rows = [
        row(
            **common,
            item=item,
            kind="key_date" if "." in item else "project",
            deadline=D(2027, 9, 30),
            p_on_time=0.5,
            p_on_time_se=0.01,
        )
        for item in items
    ]
    rows.append(row(**common, kind="portfolio", item="portfolio", p_on_time=p_all,
                    p_on_time_se=0.01))  # fmt: skip
    return Forecast(tuple(rows))


# the QA's portfolio: GEN-01 alone, SIDE added, SIDE removed, SIDE back (and a key date)
FEB = _portfolio_forecast(2, 0.8, "GEN-01")
MAR = _portfolio_forecast(3, 0.5, "GEN-01", "SIDE", "SIDE.handover")
APR = _portfolio_forecast(4, 0.7, "GEN-01")
MAY = _portfolio_forecast(5, 0.4, "GEN-01", "SIDE", "GEN-01.go-live")


def test_projects_added_and_removed_between_forecasts_are_named() -> None:
    history = (FEB, MAR, APR, MAY)
    # SIDE's key date goes with SIDE: only the project is named
    assert changes(history, FEB, MAR) == (Change("SIDE", "project", True, None),)
    assert changes(history, MAR, APR) == (Change("SIDE", "project", False, D(2027, 3, 1)),)
    assert changes(history, APR, MAY) == (
        Change("SIDE", "project", True, D(2027, 3, 1)),  # it was in the March forecast
        Change("GEN-01.go-live", "key_date", True, None),  # a new key date of a kept project
    )
    assert changes(history, FEB, MAY)[0] == Change("SIDE", "project", True, D(2027, 3, 1))
    assert changes(history, FEB, APR) == ()
    assert counted(MAR) == ("GEN-01", "SIDE")
    assert counted(Forecast((row(), row(item="erp", deadline=D(2027, 9, 30))))) == ("erp",)


def test_the_trend_says_what_joined_or_left_the_portfolio() -> None:
    text = " ".join(trend_text((FEB, MAR, APR, MAY)).split())  # unwrapped
    previous, first = text.split("Since 2027-04-01 (the previous forecast): ")[1].split(
        " Since 2027-02-01 (the first forecast): "
    )
    assert previous.startswith(
        "Portfolio: P(all on time) 0.700 for 1 project -> 0.400 for 2, not comparable: the "
        "projects with a deadline changed (added: SIDE) "
        "SIDE: new since 2027-04-01 (also in 2027-03-01) "
        "GEN-01.go-live: new since 2027-04-01 "
    )
    assert first.startswith(
        "Portfolio: P(all on time) 0.800 for 1 project -> 0.400 for 2, not comparable: the "
        "projects with a deadline changed (added: SIDE) "
        "SIDE: new since 2027-02-01 (also in 2027-03-01) "
    )
    text = " ".join(trend_text((FEB, MAR, APR)).split())
    assert (
        "Since 2027-03-01 (the previous forecast): "
        "Portfolio: P(all on time) 0.500 for 2 projects -> 0.700 for 1, not comparable: the "
        "projects with a deadline changed (removed: SIDE) "
        "SIDE: not in this forecast (last in 2027-03-01) "
    ) in text
    assert "SIDE" not in text.split("(the first forecast): ")[1]  # in neither
    # the same projects: P(all on time) is a move like any other, 0.1 > 2 x 0.014
    text = " ".join(trend_text((FEB, APR)).split())
    assert (
        "Portfolio: P(its 1 project with a deadline on time) fell from 0.800 to 0.700, "
        "beyond noise (noise ±0.028)" in text
    )


def test_contingency_is_p80_minus_the_deterministic_finish() -> None:
    r = row(finish=(None, None, D(2027, 9, 13), None), deterministic=D(2027, 8, 30))
    assert contingency(r) == 10
    assert contingency(row()) is None


def test_alerts_name_threshold_crossings_and_slips() -> None:
    limits = {"alert_p_on_time_below": 0.7, "alert_p80_slip_days": 10.0}
    before = Forecast(
        (
            row(p_on_time=0.72, p_on_time_se=0.01, finish=(None, None, D(2027, 8, 26), None)),
            row(item="lake", p_on_time=0.5, p_on_time_se=0.01),
        )
    )
    after = Forecast(
        (
            row(
                status_date=D(2027, 7, 1),
                p_on_time=0.65,
                p_on_time_se=0.01,
                finish=(None, None, D(2027, 9, 13), None),
                **limits,
            ),
            row(status_date=D(2027, 7, 1), item="lake", p_on_time=0.69, **limits),
            row(status_date=D(2027, 7, 1), item="web", p_on_time=0.9, **limits),
        )
    )
    found = {(a.item, a.rule): a for a in alerts(after, before)}
    assert set(found) == {("crm", "p_on_time_below"), ("lake", "p_on_time_below"),
                          ("crm", "p80_slip_days")}  # fmt: skip
    assert found["crm", "p_on_time_below"].crossed is True
    assert found["lake", "p_on_time_below"].crossed is False  # it was already below
    assert found["crm", "p80_slip_days"].value == 12
    assert found["crm", "p80_slip_days"].since == D(2027, 6, 1)
    assert {a.rule for a in alerts(after)} == {"p_on_time_below"}  # no history: no slips


def test_accuracy_scores_match_hand_computation() -> None:
    # P10/P50/P80/P90 on Mondays 1, 8, 15 and 22 March 2027; deadline Fri 12 March
    quantiles = (D(2027, 3, 1), D(2027, 3, 8), D(2027, 3, 15), D(2027, 3, 22))
    common = {"finish": quantiles, "deadline": D(2027, 3, 12), "p_on_time": 0.7}
    jan = D(2027, 1, 4)
    f = Forecast((row(status_date=jan, **common), row(status_date=jan, item="b", **common)))
    late = Forecast((row(status_date=D(2027, 3, 11), scenario_sha256="c" * 64, **common),))
    per, overall = accuracy((f, late), {"crm": D(2027, 3, 10), "b": D(2027, 3, 29)})
    # crm, Wed 10 March: y - f = +7, +2, -3, -8 working days
    #   pinball: 0.1 x 7, 0.5 x 2, 0.2 x 3, 0.1 x 8 -> 0.775; covered; Brier (0.7 - 1)^2
    # b, Mon 29 March: y - f = 20, 15, 10, 5 -> 2, 7.5, 8, 4.5 -> 5.5; not covered; 0.7^2
    # the forecast of 11 March came after crm finished (10 March): not scored
    assert [s.n for s in per] == [2]
    assert overall is not None
    assert overall.n == 2
    assert overall.coverage == pytest.approx(0.5)
    assert overall.pinball == pytest.approx((0.775 + 5.5) / 2)
    assert overall.brier == pytest.approx((0.09 + 0.49) / 2)


def test_the_shared_scores_match_their_definitions() -> None:
    assert pinball([10.0], [[3.0, 8.0, 13.0, 18.0]], [0.1, 0.5, 0.8, 0.9])[0] == pytest.approx(
        0.775
    )
    assert coverage([1, 5, 9], [0, 0, 0], [4, 5, 8]) == pytest.approx(2 / 3)
    assert brier([0.7, 0.7, 0.2], [1, 0, 0]) == pytest.approx((0.09 + 0.49 + 0.04) / 3)


# --- the history file ----------------------------------------------------------------------


def test_history_round_trips_and_refuses_a_second_copy(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    first = (
        row(
            deadline=D(2027, 7, 30),
            p_on_time=0.398,
            p_on_time_se=0.015,
            finish=(D(2027, 7, 20), D(2027, 8, 3), D(2027, 8, 26), D(2027, 9, 3)),
            holidays=(D(2027, 3, 26), D(2027, 12, 27)),
            cost_p50=428000.0,
            alert_p_on_time_below=0.7,
        ),
        row(
            kind="portfolio",
            item="portfolio",
            p_on_time=0.4,
            p_on_time_se=0.015,
            expected_on_time=3.4,
            expected_on_time_se=0.03,
        ),
    )
    assert append_history(path, first) == first
    assert read_history(path) == first
    before = path.read_bytes()
    with pytest.raises(PmosimError, match="already has the forecast of status date 2027-06-01"):
        append_history(path, first)
    assert path.read_bytes() == before  # nothing written
    again = (dataclasses.replace(first[0], p_on_time=0.5),)
    assert read_history(path) == first
    assert append_history(path, again, replace=True) == again
    later = (row(status_date=D(2027, 7, 1)),)
    assert len(append_history(path, later)) == 2
    assert [f.status_date for f in forecasts(read_history(path))] == [D(2027, 6, 1), D(2027, 7, 1)]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    yield
    os.umask(old)


def test_appending_keeps_the_history_s_permissions(tmp_path: Path, umask_027: None) -> None:
    path = tmp_path / "history.csv"
    append_history(path, (row(),))
    assert _mode(path) == 0o640  # a new file: 0666 & ~umask 027
    path.chmod(0o664)
    append_history(path, (row(status_date=D(2027, 7, 1)),))
    assert _mode(path) == 0o664  # a replaced file keeps its bits
    path.chmod(0o600)
    append_history(path, (row(status_date=D(2027, 8, 2)),))
    assert _mode(path) == 0o600


def test_published_files_and_folders_get_the_usual_permissions(
    tmp_path: Path, umask_027: None
) -> None:
    file, folder = tmp_path / "x.yaml", tmp_path / "results"
    publish_file(file, False, lambda tmp: tmp.write_text("a"))
    publish(folder, False, lambda tmp: (tmp / "a.csv").write_text("a"))
    assert (_mode(file), _mode(folder)) == (0o640, 0o750)  # 0666 / 0777 & ~027
    file.chmod(0o444)
    folder.chmod(0o775)
    publish_file(file, True, lambda tmp: tmp.write_text("b"))
    publish(folder, True, lambda tmp: (tmp / "b.csv").write_text("b"))
    assert (_mode(file), _mode(folder)) == (0o444, 0o775)
    assert file.read_text() == "b"
    assert (folder / "b.csv").exists()
    assert not (folder / "a.csv").exists()


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (
            "finish_p80",
            "2027-13-01",
            r"h\.csv: row 3, column finish_p80: '2027-13-01' is not a date",
        ),
        ("status_date", "", r"row 3, column status_date: '' is not a date"),
        ("p_on_time", "high", r"row 3, column p_on_time: 'high' is not a number"),
        ("seed", "1.5", r"row 3, column seed: '1.5' is not a whole number"),
        ("kind", "team", r"row 3, column kind: 'team' is not one of project"),
        ("workweek", "Mon-Fri", r"row 3, column workweek: 'Mon-Fri' is not a work week mask"),
    ],
    ids=["bad-date", "no-status-date", "bad-number", "bad-seed", "bad-kind", "bad-workweek"],
)
def test_a_damaged_history_names_file_row_and_column(
    tmp_path: Path, column: str, value: str, message: str
) -> None:
    frame = history_frame([row(), row(item="erp")]).astype(object)
    frame.loc[1, column] = value
    path = tmp_path / "h.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(PmosimError, match=message):
        read_history(path)


def _full_forecast() -> list[ForecastRow]:
    """Rows 2 (crm), 3 (erp) and 4 (the portfolio) of a consistent history file."""
    project = {
        "deadline": D(2027, 7, 30),
        "p_on_time": 0.4,
        "p_on_time_se": 0.015,
        "finish": (D(2027, 7, 20), D(2027, 8, 3), D(2027, 8, 26), D(2027, 9, 3)),
        "p80_low": D(2027, 8, 19),
        "p80_high": D(2027, 9, 2),
        "cost_p50": 1000.0,
        "cost_p80": 1200.0,
        "alert_p_on_time_below": 0.3,
    }
    return [
        row(**project),
        row(item="erp", **project),
        row(kind="portfolio", item="portfolio", p_on_time=0.2, p_on_time_se=0.01,
            expected_on_time=0.8, expected_on_time_se=0.02),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "changes", "message"),
    [
        (3, {"p_on_time": "1.7"}, "column p_on_time: 1.7 is not a probability"),
        (3, {"p_on_time": "-0.1"}, "column p_on_time: -0.1 is not a probability"),
        (2, {"p_on_time_se": "nan"},
         "column p_on_time_se: is empty or not a number while p_on_time is 0.4"),
        (3, {"p_on_time_se": "-0.01"}, "column p_on_time_se: -0.01 is negative"),
        (3, {"p_on_time_se": "inf"}, "column p_on_time_se: 'inf' is not a finite number"),
        (3, {"p_on_time_se": "0.01", "p_on_time": ""},
         "column p_on_time: is empty or not a number while p_on_time_se is 0.01"),
        (4, {"expected_on_time_se": ""},
         "column expected_on_time_se: is empty or not a number while expected_on_time is 0.8"),
        (4, {"expected_on_time": "-1"}, "column expected_on_time: -1 is negative"),
        (3, {"alert_p_on_time_below": "30"}, "column alert_p_on_time_below: 30 is not a"),
        (3, {"p80_low": "2027-09-02", "p80_high": "2027-08-19"},
         "column p80_low: 2027-09-02 is after p80_high 2027-08-19"),
        (3, {"finish_p10": "2027-08-10"},
         "column finish_p10: 2027-08-10 is after finish_p50 2027-08-03"),
        (3, {"finish_p80": "2027-09-03"},
         "column finish_p80: 2027-09-03 is after p80_high 2027-09-02"),
        (3, {"p80_low": "2027-08-27"},
         "column p80_low: 2027-08-27 is after finish_p80 2027-08-26"),
        (3, {"cost_p50": "1500"}, "column cost_p50: 1500 exceeds cost_p80 1200"),
        (3, {"item": "crm"}, "column item: project 'crm' is already in the forecast of "
         "status date 2027-06-01 (row 2)"),
    ],
    ids=["p-above-1", "p-below-0", "se-nan", "se-negative", "se-infinite", "se-without-p",
         "expected-without-se", "expected-negative", "alert-threshold", "p80-bounds-swapped",
         "p10-after-p50", "p80-above-its-interval", "p80-below-its-interval",
         "cost-p50-above-p80", "item-twice"],
)  # fmt: skip
def test_an_inconsistent_history_names_file_row_and_column(
    tmp_path: Path, line: int, changes: dict[str, str], message: str
) -> None:
    rows = _full_forecast()
    path = tmp_path / "h.csv"
    history_frame(rows).to_csv(path, index=False)
    assert read_history(path) == tuple(rows)  # the untouched file is a valid history
    frame = history_frame(rows).astype(object)
    for column, value in changes.items():
        frame.loc[line - 2, column] = value
    frame.to_csv(path, index=False)
    with pytest.raises(PmosimError, match="^" + re.escape(f"{path}: row {line}, {message}")):
        read_history(path)


def test_the_same_item_in_two_forecasts_is_no_duplicate(tmp_path: Path) -> None:
    later = [dataclasses.replace(r, status_date=D(2027, 7, 1)) for r in _full_forecast()]
    path = tmp_path / "h.csv"
    history_frame([*_full_forecast(), *later]).to_csv(path, index=False)
    assert len(read_history(path)) == 6


def test_trend_refuses_a_damaged_history_in_one_line(tmp_path: Path) -> None:
    frame = history_frame(_full_forecast()).astype(object)
    frame.loc[1, "p_on_time"] = "1.7"
    path = tmp_path / "h.csv"
    frame.to_csv(path, index=False)
    result = invoke("trend", path, "--out", tmp_path / "t", "--no-charts")
    assert result.exit_code != 0
    assert result.output.strip().splitlines() == [
        f"Error: {path}: row 3, column p_on_time: 1.7 is not a probability: it must lie from 0 to 1"
    ]
    assert not (tmp_path / "t").exists()


def test_a_file_that_is_not_a_history_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    pd.DataFrame({"project": ["crm"], "finish": ["2027-01-01"]}).to_csv(path, index=False)
    with pytest.raises(PmosimError, match=r"h\.csv: row 1: missing column\(s\) status_date"):
        read_history(path)
    path.write_text("")
    with pytest.raises(PmosimError, match="the file is empty"):
        read_history(path)


def test_parquet_without_pyarrow_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "pyarrow" else real(n, *a)
    )
    with pytest.raises(PmosimError, match=r"needs pyarrow: pip install 'pmosim\[parquet\]'"):
        append_history(tmp_path / "h.parquet", (row(),))
    assert not (tmp_path / "h.parquet").exists()


@pytest.mark.skipif(
    importlib.util.find_spec("pyarrow") is None, reason="needs the 'parquet' extra (pyarrow)"
)
def test_a_parquet_history_round_trips_and_refuses_a_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "h.parquet"
    first = (row(finish=(D(2027, 7, 1), None, D(2027, 8, 2), None)),)
    append_history(path, first)
    assert read_history(path) == first
    before = path.read_bytes()
    with pytest.raises(PmosimError, match="already has the forecast"):
        append_history(path, first)
    assert path.read_bytes() == before


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_fresh_128_bit_seed_round_trips_exactly(tmp_path: Path, suffix: str) -> None:
    """A run without a seed draws a 128-bit one; the history keeps it to the digit (a
    .parquet history failed with an int64 overflow traceback, a .csv one read it back as a
    rounded float)."""
    if suffix == ".parquet" and importlib.util.find_spec("pyarrow") is None:
        pytest.skip("needs the 'parquet' extra (pyarrow)")
    seed = 170226789801034345072402708133579485716
    path = tmp_path / f"h{suffix}"
    append_history(path, (row(seed=seed),))
    (back,) = read_history(path)
    assert back.seed == seed


# --- end to end --------------------------------------------------------------------------


def _task(d: dict[str, Any], ref: str) -> dict[str, Any]:
    project, task = ref.split(".")
    proj = next(p for p in d["projects"] if p["id"] == project)
    found: dict[str, Any] = next(t for t in proj["tasks"] if t["id"] == task)
    return found


def _month(n: int) -> dict[str, Any]:
    """The status example re-forecast on 1 June (n=1), 1 July (2) and 2 August (3): work
    done advances; in August the CRM integration turns out to need 15-30 more days."""
    d = copy.deepcopy(yaml.safe_load(STATUS.read_text()))
    d["alerts"] = {"p_on_time_below": 0.3, "p80_slip_days": 10}
    d["resources"]["qa"]["capacity"] = 4  # CRM's test no longer waits for ERP's UAT
    if n >= 2:
        d["status_date"] = "2027-07-01"
        _task(d, "crm.build-api").update(actual_finish="2027-06-25")
        _task(d, "crm.build-api").pop("remaining")
        _task(d, "crm.build-ui").update(percent_complete=95)
        _task(d, "security-audit.retest").update(
            actual_start="2027-06-01", actual_finish="2027-06-07"
        )
        _task(d, "security-audit.report").update(
            actual_start="2027-06-07", actual_finish="2027-06-07"
        )
        _task(d, "dc-move.plan").update(actual_start="2027-06-07", actual_finish="2027-06-25")
        _task(d, "erp.configure").update(remaining={"pert": {"low": 20, "mode": 30, "high": 45}})
        _task(d, "erp.data-migration").update(
            actual_start="2027-06-01", remaining={"pert": {"low": 5, "mode": 8, "high": 15}}
        )
        _task(d, "erp.reports").update(actual_start="2027-06-01", actual_finish="2027-06-25")
    if n >= 3:
        d["status_date"] = "2027-08-02"
        _task(d, "crm.build-ui").update(actual_finish="2027-07-02")
        _task(d, "crm.build-ui").pop("percent_complete")
        _task(d, "crm.integrate").update(
            actual_start="2027-07-05", remaining={"triangular": {"low": 15, "mode": 20, "high": 30}}
        )
        _task(d, "dc-move.move-1").update(actual_start="2027-06-26", actual_finish="2027-06-27")
        _task(d, "dc-move.move-2").update(actual_start="2027-07-03", actual_finish="2027-07-04")
        _task(d, "dc-move.settle").update(actual_start="2027-07-05", actual_finish="2027-07-12")
        _task(d, "dc-move.done").update(actual_start="2027-07-12", actual_finish="2027-07-12")
        _task(d, "erp.configure").update(remaining={"pert": {"low": 5, "mode": 10, "high": 20}})
        _task(d, "erp.data-migration").update(actual_finish="2027-07-09")
        _task(d, "erp.data-migration").pop("remaining")
    return d


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def _run(tmp: Path, n: int, *extra: str) -> Result:
    scenario = tmp / f"month-{n}.yaml"
    scenario.write_text(yaml.safe_dump(_month(n), sort_keys=False))
    return invoke(
        "run", scenario, "-n", "500", "--no-report", "--no-risk-drivers",
        "--out", tmp / f"run-{n}", "--history", tmp / "history.csv", *extra,
    )  # fmt: skip


@pytest.fixture(scope="module")
def monthly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("monthly")
    for n in (1, 2, 3):
        result = _run(tmp, n)
        assert result.exit_code == 0, result.output
    return tmp


def test_three_monthly_forecasts_are_recorded_once_each(monthly: Path) -> None:
    history = read_history(monthly / "history.csv")
    got = forecasts(history)
    assert [f.status_date for f in got] == [D(2027, 6, 1), D(2027, 7, 1), D(2027, 8, 2)]
    assert {r.seed for r in history} == {20270601}
    assert {r.iterations for r in history} == {500}
    kinds = [r.kind for r in got[0].rows]
    assert kinds.count("project") == 4
    assert kinds.count("key_date") == 4
    assert kinds.count("portfolio") == 1
    # the run's own table: crm in the last run is what projects.csv says
    projects = pd.read_csv(monthly / "run-3" / "projects.csv").set_index("project")
    crm = got[2].row("crm")
    assert crm is not None
    assert crm.p_on_time == pytest.approx(projects.loc["crm", "p_on_time"])
    assert str(crm.p80) == projects.loc["crm", "finish_p80"]


def test_recording_the_same_forecast_again_is_refused_before_running(monthly: Path) -> None:
    before = (monthly / "history.csv").read_bytes()
    result = _run(monthly, 3, "--out", str(monthly / "again"))
    assert result.exit_code != 0
    assert "already has the forecast of status date 2027-08-02" in result.output
    assert "--history-replace" in result.output
    assert not (monthly / "again").exists()  # nothing run, nothing written
    assert (monthly / "history.csv").read_bytes() == before


def _damaged(path: Path) -> Path:
    frame = history_frame(_full_forecast()).astype(object)
    frame.loc[0, "p_on_time"] = "1.7"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("history", "message"),
    [
        (lambda tmp: tmp / "nope" / "h.csv", "nope does not exist; create it first"),
        (lambda tmp: tmp / "month-1.yaml" / "h.csv", "month-1.yaml is not a folder"),
        (lambda tmp: Path("/proc/self/h.csv"), "/proc/self does not take new files"),
        (lambda tmp: _damaged(tmp / "h.csv"), "h.csv: row 2, column p_on_time: 1.7 is not"),
        (lambda tmp: tmp / "h.txt", "a history is a .csv or a .parquet file"),
    ],
    ids=["no-folder", "folder-is-a-file", "unwritable-folder", "damaged-history", "suffix"],
)
def test_a_bad_history_fails_before_the_run_writes_anything(
    tmp_path: Path, history: Callable[[Path], Path], message: str
) -> None:
    if not Path("/proc/self").is_dir():
        pytest.skip("needs Linux's /proc")
    scenario = tmp_path / "month-1.yaml"
    scenario.write_text(yaml.safe_dump(_month(1), sort_keys=False))
    path = history(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    result = invoke("run", scenario, "-n", "50", "--no-report", "--no-risk-drivers",
                    "--out", tmp_path / "run", "--history", path)  # fmt: skip
    assert result.exit_code != 0
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: ")
    assert message in line
    assert sorted(tmp_path.rglob("*")) == before  # no results folder, no history, no probe


def test_the_trend_names_the_slipping_project_and_the_steady_one(monthly: Path) -> None:
    out = monthly / "trend"
    result = invoke("trend", monthly / "history.csv", "--out", out)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # unwrapped
    since = text.split("Since 2027-07-01 (the previous forecast):")[1].split("Since 2027-06-01")[0]
    # the integration risk occurred: crm's P80 moves by weeks, far beyond its noise
    assert "crm: P80 slipped" in since
    crm = since.split("crm: ")[1].split(";")[0]
    assert "beyond noise" in crm
    assert "within noise" not in crm
    # erp's plan did not change in substance: no move beyond noise
    steady = since.split("no move beyond Monte Carlo noise: ")[1]
    assert "erp," in steady
    assert "ALERT crm: P80 slipped" in result.output
    table = pd.read_csv(out / "trend.csv")
    last = table[(table["status_date"] == "2027-08-02") & (table["item"] == "crm")].iloc[0]
    assert last["p80_slip_days"] > 2 * last["p80_slip_se"]
    assert last["p80_slip_days"] >= 15  # 15-30 more days of integration
    erp = table[(table["status_date"] == "2027-08-02") & (table["item"] == "erp")].iloc[0]
    assert abs(erp["p_on_time_change"]) <= 2 * erp["p_on_time_change_se"]
    assert not erp["p_on_time_beyond_noise"]
    assert {p.name for p in out.glob("*.png")} == {
        "trend-p80.png",
        "trend-p-on-time.png",
        "trend-contingency.png",
    }


def test_fail_on_alert_exits_1_through_the_entry_point(
    monthly: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        sys,
        "argv",
        ["pmosim", "trend", str(monthly / "history.csv"), "--out", str(monthly / "t2"),
         "--no-charts", "--fail-on-alert"],
    )  # fmt: skip
    with pytest.raises(SystemExit) as e:
        main()
    assert e.value.code == 1
    assert "ALERT crm" in capsys.readouterr().out


def test_actuals_score_the_forecasts(monthly: Path) -> None:
    actuals = monthly / "actuals.csv"
    actuals.write_text("project,actual_finish\ncrm,2027-09-08\nerp,2027-10-18\n")
    result = invoke("trend", monthly / "history.csv", "--out", monthly / "acc", "--no-charts",
                    "--actuals", actuals)  # fmt: skip
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(monthly / "acc" / "accuracy.csv").set_index("status_date")
    assert list(scores.index) == ["2027-06-01", "2027-07-01", "2027-08-02", "all"]
    assert (scores["projects"] == [2, 2, 2, 6]).all()
    # crm finished 8 Sep, after its 30 July deadline; erp 18 Oct, before its 29 Oct one
    history = forecasts(read_history(monthly / "history.csv"))
    expected = [
        ((f.row("crm").p_on_time or 0.0) ** 2 + (1 - (f.row("erp").p_on_time or 0.0)) ** 2) / 2
        for f in history
        if f.row("crm") and f.row("erp")
    ]
    assert scores["brier"].iloc[:3].to_numpy() == pytest.approx(expected)
    assert "Accuracy against the actual finishes" in result.output
    bad = monthly / "bad.csv"
    bad.write_text("project,actual_finish\ncrm,08/09/2027\n")
    result = invoke("trend", monthly / "history.csv", "--out", monthly / "x", "--actuals", bad)
    assert result.exit_code != 0
    assert "bad.csv: row 2, column actual_finish: '08/09/2027' is not a date" in result.output
    assert not (monthly / "x").exists()


def test_quiet_with_fail_on_alert_still_says_which_alert(tmp_path: Path) -> None:
    """-q prints nothing but errors; with --fail-on-alert an alert is why the run fails, so
    it is said (on stderr) instead of a bare exit status 1."""
    for n in (1, 2):
        assert _run(tmp_path, n, "-q").exit_code == 0
    result = _run(tmp_path, 3, "-q", "--fail-on-alert")
    assert result.exit_code == 1
    assert "ALERT crm: P80 slipped" in result.output
    assert "Results written" not in result.output  # otherwise quiet
