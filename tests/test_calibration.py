"""Calibration end to end: the SiP backtest figures the issue asks for, the commands, and
scenario tasks that sample estimate x calibrated ratio."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from scipy.stats import norm

from calibration.backtest import backtest
from calibration.history import Mapping, load_history
from simulator.cli import cli
from simulator.errors import ScenarioError
from simulator.montecarlo import simulate_portfolio
from simulator.scenario import load_scenario

SIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "sip"
needs_sip = pytest.mark.skipif(
    not (SIP / "Sip-task-info.csv").exists(), reason="../shared/data/sip is not beside the checkout"
)
SIP_MAPPING = Mapping(
    estimate_col="HoursEstimate",
    actual_col="HoursActual",
    id_col="TaskNumber",
    class_cols=("Category",),
    date_col="EstimateOn",
    date_format="%d-%b-%y",
    units="hours",
    joins=(SIP / "est-act-dates.csv",),
)
SIP_OPTIONS = [
    "--id-col",
    "TaskNumber",
    "--estimate-col",
    "HoursEstimate",
    "--actual-col",
    "HoursActual",
    "--class-col",
    "Category",
    "--date-col",
    "EstimateOn",
    "--date-format",
    "%d-%b-%y",
    "--units",
    "hours",
    "--join",
    str(SIP / "est-act-dates.csv"),
]


@pytest.fixture(scope="module")
def sip_backtest() -> pd.DataFrame:
    history = load_history(SIP / "Sip-task-info.csv", SIP_MAPPING)
    import datetime as dt

    return backtest(history.tasks, ("Category",), [dt.date(2012, 1, 1)]).overall


@needs_sip
def test_sip_backtest_intervals_are_honest_out_of_sample(sip_backtest: pd.DataFrame) -> None:
    cal = sip_backtest.set_index("method").loc["calibrated"]
    assert cal["n"] > 1000
    assert 0.75 <= cal["coverage_p10_p90"] <= 0.85
    assert 0.45 <= cal["coverage_p25_p75"] <= 0.55


@needs_sip
def test_sip_backtest_beats_both_baselines(sip_backtest: pd.DataFrame) -> None:
    scores = sip_backtest.set_index("method")
    assert scores.loc["calibrated", "pinball"] < scores.loc["raw estimate", "pinball"]
    assert scores.loc["calibrated", "pinball"] < scores.loc["global ratio", "pinball"]
    assert scores.loc["calibrated", "crps"] < scores.loc["raw estimate", "crps"]


@needs_sip
def test_calibrate_command_writes_provenance(tmp_path: Path) -> None:
    out = tmp_path / "sip.yaml"
    result = CliRunner().invoke(
        cli, ["calibrate", str(SIP / "Sip-task-info.csv"), *SIP_OPTIONS, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(out.read_text())
    digest = hashlib.sha256((SIP / "Sip-task-info.csv").read_bytes()).hexdigest()
    assert doc["source"]["sha256"] == digest
    assert doc["source"]["rows_read"] == 12299
    assert doc["source"]["date_range"][0].startswith("2004")
    assert doc["by"] == ["Category"]
    assert {c["class"]["Category"] for c in doc["classes"]} == {
        "Development",
        "Management",
        "Operational",
    }
    for line in ("Development", "Management", "Operational"):
        assert line in result.output
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
    table = [
        line
        for line in result.output.splitlines()
        if line.lstrip().startswith(("class ", "(all)", "Development", "Management"))
    ]
    assert len(table) == 8  # the classes' fits, then which candidate won for each
    assert max(len(line) for line in table) <= 80
    assert [s["unit"] for s in doc["selection"]] == [
        "(all)",
        "Development",
        "Management",
        "Operational",
    ]


def test_min_class_above_min_own_is_a_usage_error(tmp_path: Path) -> None:
    history = tmp_path / "h.csv"
    history.write_text("id,est,act\n1,4,5\n2,4,4\n3,2,3\n")
    out = tmp_path / "c.yaml"
    args = ["--id-col", "id", "--estimate-col", "est", "--actual-col", "act", "--out", str(out)]
    result = CliRunner().invoke(
        cli, ["calibrate", str(history), *args, "--min-class", "50", "--min-own", "30"]
    )
    assert result.exit_code == 2
    assert "--min-class (50) must not exceed --min-own (30)" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def _synthetic_history(path: Path, n: int = 3000, seed: int = 1) -> None:
    """Ratios lognormal(mu=0.2, sigma=0.5) for class A, x2 for class B; 25 % exact."""
    rng = np.random.default_rng(seed)
    est = rng.choice([2.0, 4.0, 8.0, 16.0, 24.0], size=n)
    klass = rng.choice(["A", "B"], size=n)
    ratio = np.exp(rng.normal(0.2, 0.5, size=n)) * np.where(klass == "B", 2.0, 1.0)
    ratio[rng.random(n) < 0.25] = 1.0
    pd.DataFrame({"key": np.arange(n), "team": klass, "est": est, "act": est * ratio}).to_csv(
        path, index=False
    )


def test_estimate_command_single_and_batch(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    _synthetic_history(history)
    cal = tmp_path / "cal.yaml"
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "calibrate",
            str(history),
            "--id-col",
            "key",
            "--estimate-col",
            "est",
            "--actual-col",
            "act",
            "--class-col",
            "team",
            "--units",
            "days",
            "--out",
            str(cal),
        ],
    )
    assert result.exit_code == 0, result.output
    one = runner.invoke(
        cli, ["estimate", "--calibration", str(cal), "--class", "A", "--estimate", "8"]
    )
    assert one.exit_code == 0, one.output
    # theory for class A: ratio 1 with probability 0.25, else lognormal(0.2, 0.5), so
    # P10 = exp(0.2 + 0.5 z(0.1/0.75)), P50 = 1 (the heap spans 0.26..0.51, just above 0.5),
    # P80 = exp(0.2 + 0.5 z((0.8-0.25)/0.75)); the fit rests on ~1,500 tasks, so allow 10 %
    printed = _printed(one.output)
    assert printed["P10"] == pytest.approx(8 * np.exp(0.2 + 0.5 * norm.ppf(0.1 / 0.75)), rel=0.1)
    assert printed["P50"] == pytest.approx(8.0, rel=0.1)
    assert printed["P80"] == pytest.approx(8 * np.exp(0.2 + 0.5 * norm.ppf(0.55 / 0.75)), rel=0.1)
    assert "P(overrun)" in one.output
    hours = runner.invoke(
        cli,
        [
            "estimate",
            "--calibration",
            str(cal),
            "--class",
            "A",
            "--estimate",
            "64",
            "--units",
            "hours",
        ],
    )
    assert hours.exit_code == 0, hours.output
    assert "(hours)" in hours.output
    for name, days in printed.items():  # 64 hours at 8 hours a day is 8 days
        assert _printed(hours.output)[name] == pytest.approx(8 * days, rel=1e-2)  # 3 digits
    tasks = tmp_path / "tasks.csv"
    pd.DataFrame({"name": ["x", "y", "z"], "team": ["A", "B", "A"], "est": [1, 5, 10]}).to_csv(
        tasks, index=False
    )
    ranges = tmp_path / "ranges.csv"
    batch = runner.invoke(
        cli,
        [
            "estimate",
            "--calibration",
            str(cal),
            "--input",
            str(tasks),
            "--estimate-col",
            "est",
            "--class-col",
            "team",
            "--out",
            str(ranges),
        ],
    )
    assert batch.exit_code == 0, batch.output
    out = pd.read_csv(ranges)
    assert list(out["name"]) == ["x", "y", "z"]
    assert (out["p10"] <= out["p50"]).all()
    assert (out["p50"] <= out["p90"]).all()
    # class B's ratios are twice class A's: its P50 per unit of estimate is about double
    a = out.loc[0, "p50"] / 1
    b = out.loc[1, "p50"] / 5
    assert 1.6 < b / a < 2.5
    bad = runner.invoke(
        cli, ["estimate", "--calibration", str(cal), "--class", "C", "--estimate", "8"]
    )
    assert bad.exit_code != 0
    assert "known classes: A, B" in bad.output
    # a bad row in the batch names file, row and column, and writes nothing
    tasks.write_text("name,team,est\nx,A,1\n\ny,A,abc\nz,C,3\n")
    bad_row = runner.invoke(
        cli,
        [
            "estimate",
            "--calibration",
            str(cal),
            "--input",
            str(tasks),
            "--estimate-col",
            "est",
            "--class-col",
            "team",
            "--out",
            str(tmp_path / "never.csv"),
        ],
    )
    assert bad_row.exit_code != 0
    assert f"{tasks}:4:3: est: 'abc' is not a positive number" in bad_row.output
    assert not (tmp_path / "never.csv").exists()
    tasks.write_text("name,team,est\nx,A,1\nz,C,3\n")
    bad_class = runner.invoke(
        cli,
        [
            "estimate",
            "--calibration",
            str(cal),
            "--input",
            str(tasks),
            "--estimate-col",
            "est",
            "--class-col",
            "team",
            "--out",
            str(tmp_path / "never.csv"),
        ],
    )
    assert bad_class.exit_code != 0
    assert f"{tasks}:3:2: team: unknown class 'C'" in bad_class.output
    assert not (tmp_path / "never.csv").exists()


def _printed(output: str) -> dict[str, float]:
    """``P10 0.385  P50 1.48 ...`` from the estimate command's output."""
    line = next(x for x in output.splitlines() if x.startswith("P10"))
    words = line.split()
    return {words[i]: float(words[i + 1]) for i in range(0, 8, 2)}


def test_backtest_rolling_origins_on_a_stationary_history(tmp_path: Path) -> None:
    """A history whose ratios do not change over time: every rolling origin's forecast is
    honest, so coverage is near nominal within the binomial standard error."""
    history = tmp_path / "history.csv"
    _synthetic_history(history, n=6000, seed=5)
    frame = pd.read_csv(history)
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(np.arange(6000) // 4, unit="D")
    frame["when"] = days.strftime("%d/%m/%Y")
    frame.to_csv(history, index=False)
    out = tmp_path / "forecasts.csv"
    result = CliRunner().invoke(
        cli,
        [
            "backtest",
            str(history),
            "--id-col",
            "key",
            "--estimate-col",
            "est",
            "--actual-col",
            "act",
            "--class-col",
            "team",
            "--date-col",
            "when",
            "--date-format",
            "%d/%m/%Y",
            "--units",
            "days",
            "--rolling",
            "6",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    forecasts = pd.read_csv(out)
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
    assert forecasts["origin"].nunique() >= 3
    # each task is forecast once, from the latest origin before its date
    assert forecasts["id"].is_unique
    a = forecasts["actual"].to_numpy()
    # With the heap at 1, a closed interval whose end is exactly the estimate holds the whole
    # heap, so nominal coverage is not the right yardstick: compare with the probability the
    # *true* distribution gives each forecast interval, within the binomial standard error.
    est = forecasts["estimate"].to_numpy()
    scale = np.where(forecasts["team"] == "B", 2.0, 1.0)

    def true_cdf(x: np.ndarray, strict: bool = False) -> np.ndarray:
        r = x / est
        heap = 0.25 * ((r > 1) if strict else (r >= 1))
        return heap + 0.75 * norm.cdf((np.log(np.maximum(r, 1e-300) / scale) - 0.2) / 0.5)

    for lo, hi in (("p10", "p90"), ("p25", "p75")):
        p = true_cdf(forecasts[hi].to_numpy()) - true_cdf(forecasts[lo].to_numpy(), strict=True)
        inside = np.sum((a >= forecasts[lo]) & (a <= forecasts[hi]))
        assert abs(inside - p.sum()) < 4 * np.sqrt(np.sum(p * (1 - p))), (lo, hi)
        # and the fitted quantiles are those of the truth, so intervals hold about nominal
        assert abs(np.mean(p) - {"p10": 0.8, "p25": 0.5}[lo]) < 0.25
    for line in ("calibrated", "naive per class", "raw estimate", "global ratio", "cov80"):
        assert line in result.output


def _scenario(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def test_scenario_tasks_sample_estimate_times_calibrated_ratio(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    _synthetic_history(history, n=4000)
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "calibrate",
            str(history),
            "--id-col",
            "key",
            "--estimate-col",
            "est",
            "--actual-col",
            "act",
            "--class-col",
            "team",
            "--units",
            "days",
            "--out",
            str(tmp_path / "cal.yaml"),
        ],
    )
    assert result.exit_code == 0, result.output
    path = _scenario(
        tmp_path,
        """
        calibration: cal.yaml
        projects:
          - id: p
            tasks: [{id: a, estimate: 10, class: A}]
    """,
    )
    pf = load_scenario(path)
    n = 4000
    out = simulate_portfolio(pf, n, seed=3, trace=n)
    durations = out.trace[:, 3] - out.trace[:, 2]
    # theory: 25 % exactly the estimate, else estimate x lognormal(0.2, 0.5)
    true_mean = 10 * (0.25 + 0.75 * np.exp(0.2 + 0.5**2 / 2))
    se = np.std(durations) / np.sqrt(n)
    fit_slack = 0.05 * true_mean  # the calibration itself is estimated from 4,000 tasks
    assert abs(durations.mean() - true_mean) < 4 * se + fit_slack
    assert 0.18 < np.mean(durations == 10.0) < 0.32


def test_the_calibration_file_is_part_of_the_scenario_hash(tmp_path: Path) -> None:
    """A re-calibration changes the forecast: the scenario's SHA-256 (summary, history,
    checkpoint key) must change with the calibration file, as it does with the scenario."""
    history = tmp_path / "history.csv"
    _synthetic_history(history, n=500)
    cal = tmp_path / "cal.yaml"
    args = ["--id-col", "key", "--estimate-col", "est", "--actual-col", "act"]
    args += ["--class-col", "team", "--units", "days", "--out", str(cal), "--force"]
    assert CliRunner().invoke(cli, ["calibrate", str(history), *args]).exit_code == 0
    text = """
        calibration: cal.yaml
        projects:
          - id: p
            tasks: [{id: a, estimate: 10, class: A}]
    """
    first = load_scenario(_scenario(tmp_path, text)).source_hash
    assert first == load_scenario(_scenario(tmp_path, text)).source_hash
    _synthetic_history(history, n=500, seed=2)
    assert CliRunner().invoke(cli, ["calibrate", str(history), *args]).exit_code == 0
    assert load_scenario(_scenario(tmp_path, text)).source_hash != first


def test_unknown_class_and_escaping_paths_are_validation_errors(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    _synthetic_history(history, n=500)
    CliRunner().invoke(
        cli,
        [
            "calibrate",
            str(history),
            "--estimate-col",
            "est",
            "--actual-col",
            "act",
            "--class-col",
            "team",
            "--units",
            "days",
            "--out",
            str(tmp_path / "cal.yaml"),
        ],
    )
    path = _scenario(
        tmp_path,
        """
        calibration: cal.yaml
        projects:
          - id: p
            tasks: [{id: a, estimate: 10, class: Z}]
    """,
    )
    with pytest.raises(ScenarioError, match=r"unknown class 'Z'; the calibration knows: A, B"):
        load_scenario(path)
    sub = tmp_path / "sub"
    sub.mkdir()
    escaping = _scenario(
        sub,
        """
        calibration: ../cal.yaml
        projects: [{id: p, tasks: [{id: a, estimate: 10, class: A}]}]
    """,
    )
    with pytest.raises(ScenarioError, match=r"outside the scenario's folder"):
        load_scenario(escaping)
    missing = _scenario(
        tmp_path,
        """
        projects: [{id: p, tasks: [{id: a, estimate: 10}]}]
    """,
    )
    with pytest.raises(ScenarioError, match=r"an estimate needs a calibration file"):
        load_scenario(missing)


def test_backtest_errors_name_the_history_file_and_origin(tmp_path: Path) -> None:
    # before 2020-06-01 there are 3 tasks, ratios 1.5, 1 and 2.5: two differ from 1, too few
    # to fit; the error says which file, which origin and how many tasks it had
    history = tmp_path / "h.csv"
    history.write_text(
        "id,est,act,date\n1,2,3,2020-01-01\n2,2,2,2020-01-02\n3,2,5,2020-01-03\n"
        "4,2,1,2021-01-01\n5,2,3,2021-01-02\n"
    )
    options = ["--estimate-col", "est", "--actual-col", "act", "--date-col", "date"]
    result = CliRunner().invoke(
        cli, ["backtest", str(history), *options, "--units", "days", "--split", "2020-06-01"]
    )
    assert result.exit_code != 0, result.output
    assert (
        f"Error: {history}: origin 2020-06-01: 3 earlier tasks: 3 ratios of which 2 differ "
        "from 1: at least 3 are needed" in result.output
    )
    late = CliRunner().invoke(
        cli, ["backtest", str(history), *options, "--units", "days", "--split", "2030-01-01"]
    )
    assert late.exit_code != 0, late.output
    assert f"Error: {history}: no origin has both earlier and later dated tasks" in late.output


def test_estimate_batch_reports_every_bad_row(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    _synthetic_history(history, n=300)
    cal = tmp_path / "cal.yaml"
    runner = CliRunner()
    mapping = ["--id-col", "key", "--estimate-col", "est", "--actual-col", "act"]
    mapping += ["--class-col", "team", "--units", "days"]
    made = runner.invoke(cli, ["calibrate", str(history), *mapping, "--out", str(cal)])
    assert made.exit_code == 0, made.output
    # lines 3-6 are bad (a word, a negative number, an unknown class, an empty estimate),
    # lines 2 and 7 are fine: four lines, one per bad row, in file order, nothing written
    tasks = tmp_path / "in2.csv"
    tasks.write_text("name,team,est\nv,A,1\nw,A,abc\nx,B,-4\ny,C,3\nz,A,\nok,B,2\n")
    out = tmp_path / "never.csv"
    batch = ["--input", str(tasks), "--estimate-col", "est", "--class-col", "team"]
    result = runner.invoke(cli, ["estimate", "--calibration", str(cal), *batch, "--out", str(out)])
    assert result.exit_code != 0
    lines = result.output.splitlines()
    assert lines[0] == f"Error: {tasks}:3:3: est: 'abc' is not a positive number"
    assert lines[1] == f"{tasks}:4:3: est: '-4' is not a positive number"
    assert lines[2].startswith(f"{tasks}:5:2: team: unknown class 'C'")
    assert lines[3] == f"{tasks}:6:3: est: '' is not a positive number (the estimate is empty)"
    assert len(lines) == 4
    assert not out.exists()
