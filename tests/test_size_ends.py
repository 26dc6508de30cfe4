"""The ends of the size range, and coverage when actuals tie with an interval end.

Both histories are generated here with a known law, so the truth the tests compare with is
written in the test, not taken from the code."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from calibration.backtest import backtest
from calibration.fit import fit_ratio_model
from calibration.hybrid import history_weight
from calibration.select import calibrate
from calibration.ties import empirical_pit, tie_coverage

# estimates in days, heaped as people estimate; the two smallest and the two largest sizes
# (10 % and 8 % of the tasks) follow their own ratio law, the body a size-free lognormal
SIZES = np.array([0.0625, 0.125, 0.5, 1, 2, 4, 8, 32, 64])
SHARES = np.array([0.05, 0.05, 0.14, 0.2, 0.22, 0.18, 0.08, 0.04, 0.04])
SMALL = (np.log(2.5), 0.4)  # small tasks overrun: median ratio 2.5
BODY = (0.0, 0.4)
LARGE = (np.log(0.5), 1.0)  # large tasks: median 0.5, much wider


def _law(est: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu = np.where(est <= 0.125, SMALL[0], np.where(est >= 32, LARGE[0], BODY[0]))
    sd = np.where(est <= 0.125, SMALL[1], np.where(est >= 32, LARGE[1], BODY[1]))
    return mu, sd


def test_chosen_model_follows_a_law_that_changes_at_the_size_extremes() -> None:
    rng = np.random.default_rng(17)
    n = 5000
    est = rng.choice(SIZES, size=n, p=SHARES)
    mu, sd = _law(est)
    tasks = pd.DataFrame({"estimate": est, "actual": est * np.exp(rng.normal(mu, sd))})
    chosen = calibrate(tasks, ()).models.overall
    power_law = fit_ratio_model(tasks["actual"] / tasks["estimate"], tasks["estimate"])
    for size, (m, s) in ((SIZES[0], SMALL), (SIZES[-1], LARGE)):
        k = int(np.sum(est == size))  # tasks of exactly that size (the model may use more)
        misses = []
        for level in (0.1, 0.5, 0.9):
            z = norm.ppf(level)
            truth = np.exp(m + s * z)
            # s.e. of a sample quantile's log: sqrt(p(1-p)/k) / density of log ratio there
            se = np.sqrt(level * (1 - level) / k) * s / norm.pdf(z)
            assert abs(np.log(float(chosen.ppf(level, size)) / truth)) < 4 * se, (size, level)
            misses.append(abs(np.log(float(power_law.ppf(level, size)) / truth)) / se)
        assert max(misses) > 4, (size, misses)  # one power law cannot bend at the ends


def test_history_weight_is_one_at_the_ends_and_zero_in_the_body() -> None:
    log_e = np.log(np.repeat([1.0, 2.0, 4.0, 8.0, 16.0], [10, 100, 600, 100, 10]) / 8)
    at = np.log(np.array([1.0, 4.0, 16.0]) / 8)
    w = history_weight(at, log_e, 0.1)
    # mid-rank percentiles 0.006, 0.5 and 0.994: full tail weight at both ends, shrunk by
    # m / (m + 60) with m the kernel's effective count there
    assert w[1] == 0.0
    assert 0 < w[0] < 1
    assert 0 < w[2] < 1
    assert w[0] == pytest.approx(w[2])  # the size distribution is symmetric in log


def test_tie_coverage_of_a_point_mass_is_its_share_inside_the_levels() -> None:
    """Ratio 1 with probability 0.6, else uniform on (0, 1) or (1, 2) with 0.2 each: the
    P25 and P75 are both 1, so the closed interval [P25, P75] holds 60 % of the actuals;
    the randomized PIT of an actual at 1 is uniform on [0.2, 0.8], of which 5/6 is inside
    [0.25, 0.75], so the tie-aware coverage is 0.6 x 5/6 = 0.5 exactly."""
    rng = np.random.default_rng(23)

    def draw(k: int) -> np.ndarray:
        which = rng.choice(3, size=k, p=[0.6, 0.2, 0.2])
        return np.where(which == 0, 1.0, np.where(which == 1, rng.random(k), 1 + rng.random(k)))

    n = 4000
    dates = [dt.date(2020, 1, 1)] * n + [dt.date(2021, 1, 1)] * n
    tasks = pd.DataFrame(
        {"estimate": 1.0, "actual": np.concatenate([draw(n), draw(n)]), "date": dates}
    )
    tasks["date"] = pd.to_datetime(tasks["date"])
    tasks["id"] = np.arange(2 * n)
    naive = backtest(tasks, (), [dt.date(2021, 1, 1)]).overall.set_index("method")
    row = naive.loc["naive per class"]
    # per-task tie share: 5/6 w.p. 0.6, else 0 (variance 1/6); the training sample's atom
    # share moves the PIT interval by its own s.e.
    se_tie = np.sqrt((1 / 6) / n) + np.sqrt(0.24 / n)
    assert abs(row["coverage_p25_p75"] - 0.6) < 4 * np.sqrt(0.24 / n)
    assert abs(row["ties_p25_p75"] - 0.5) < 4 * se_tie
    cal = naive.loc["calibrated"]
    assert cal["ties_p25_p75"] <= cal["coverage_p25_p75"]


def test_tie_coverage_without_atoms_is_the_closed_interval_share() -> None:
    rng = np.random.default_rng(29)
    sample, y = rng.normal(size=2000), rng.normal(size=500)
    low, high = empirical_pit(sample, y)
    q10, q90 = np.quantile(sample, [0.1, 0.9], method="inverted_cdf")
    inside = np.mean((y >= q10) & (y <= q90))
    assert tie_coverage(low, high, 0.1, 0.9) == inside
    # a PIT interval half inside counts one half
    assert tie_coverage(np.array([0.0]), np.array([0.2]), 0.1, 0.9) == 0.5
