"""A realistic delivery history with drift and heaping, generated at test time (the shared
data folder is read-only, and no data is copied into the repository).

Three teams estimate in hours, rounded to the values people use (1, 2, 3, 4, 6, 8, 12, 16,
24, 40, 80). The ratio actual/estimate is lognormal with a median that grows with size
(``(estimate / 8 h) ** 0.15``), a spread that grows with size and with the team, and a
median that drifts up by 4 % a year; a share of tasks is reported exactly as estimated,
falling with size (logistic in log estimate) and over the years. Actuals are rounded to
the quarter hour, so small tasks carry atoms too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["write_drift_history"]

SIZES = np.array([1, 2, 3, 4, 6, 8, 12, 16, 24, 40, 80], dtype=float)
TEAMS = {"core": (0.05, 0.55), "web": (0.20, 0.70), "ops": (-0.05, 0.45)}  # (log median, sigma)


def drift_history(n: int = 9000, seed: int = 7) -> pd.DataFrame:
    """``n`` tasks from 2018-01-01 on, about six years, in date order."""
    rng = np.random.default_rng(seed)
    team = rng.choice(list(TEAMS), size=n, p=[0.5, 0.3, 0.2])
    hours = SIZES[np.clip(np.round(rng.normal(4.5, 2.2, size=n)), 0, SIZES.size - 1).astype(int)]
    years = np.sort(rng.uniform(0, 6, size=n))
    mu = np.array([TEAMS[t][0] for t in team]) + 0.15 * np.log(hours / 8) + 0.04 * years
    sigma = np.array([TEAMS[t][1] for t in team]) * (hours / 8) ** 0.08
    ratio = np.exp(rng.normal(mu, sigma))
    heap = 1 / (1 + np.exp(-(0.3 - 0.8 * np.log(hours / 2) - 0.15 * years)))
    ratio[rng.random(n) < heap] = 1.0
    actual = np.maximum(np.round(hours * ratio * 4) / 4, 0.25)
    dates = pd.Timestamp("2018-01-01") + pd.to_timedelta(np.round(years * 365.25), unit="D")
    return pd.DataFrame(
        {
            "key": np.arange(1, n + 1),
            "team": team,
            "opened": dates.strftime("%Y-%m-%d"),
            "estimate_h": hours,
            "actual_h": actual,
        }
    )


def write_drift_history(path: Path, n: int = 9000, seed: int = 7) -> Path:
    drift_history(n, seed).to_csv(path, index=False)
    return path
