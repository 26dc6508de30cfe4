"""Backtests: fit on what was known before an origin date, forecast what came after, score.

Forecasts are quantiles of the actual (``estimate x`` ratio quantiles) from
:func:`calibration.select.calibrate` (candidates chosen by cross-validation on the training
tasks, then recalibrated) trained on tasks dated before the origin. They are
scored on the tasks dated from the origin on (until the next origin in rolling mode):

* coverage of the P10-P90 and P25-P75 intervals (ideal 80 % and 50 %), twice: the share
  of actuals inside the closed interval, and the tie-aware share (the randomized PIT of
  :mod:`calibration.ties`: an actual on an atom at an interval end counts by the share of
  the atom's probability inside the levels), which differ only when actuals sit on atoms;
* P50 hit rate: the share of actuals at or below the forecast P50 (ideal 50 %);
* pinball loss (:func:`simulator.analysis.pinball`, shared with ``pmosim trend``) averaged
  over the levels asked for (default P10, P25, P50, P75, P90), in working days (lower is
  better); coverage needs the levels of its interval (else NaN);
* CRPS, in working days: twice the pinball loss integrated over all quantile levels,
  approximated on 99 levels (for a point forecast it is the absolute error).

Three baselines are scored the same way: the raw estimate (every quantile is the estimate);
one global ratio: the estimate times the empirical quantiles of actual/estimate over every
earlier task (no classes, no heaping or size model); and naive per class, the strongest
simple method: the same quantiles over the earlier tasks of the task's class (of every
earlier task for a class with fewer than 5 of them).

With point masses (heaped ratios of exactly 1) the P50 hit rate of an honest forecast is
above 50 %: when P(ratio < 1) < 0.5 < P(ratio <= 1) the forecast P50 is the estimate itself
and every heaped actual counts as a hit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from simulator.analysis import coverage, pinball
from simulator.errors import PmosimError

from .conformal import pit_bounds
from .reference import ClassModels
from .select import calibrate
from .ties import empirical_pit, tie_coverage

__all__ = ["LEVELS", "BacktestResult", "backtest", "quantile_name", "rolling_origins", "score"]

LEVELS = (0.10, 0.25, 0.50, 0.75, 0.90)
_CRPS_LEVELS = np.linspace(0.01, 0.99, 99)
METHODS = ("calibrated", "naive per class", "raw estimate", "global ratio")
NAIVE_MIN = 5  # earlier tasks a class needs for its own naive quantiles

Array = NDArray[np.float64]
Pair = tuple[Array, Array]
_Fold = tuple[pd.DataFrame, dict[str, Pair], dict[str, Pair]]  # tasks, forecasts, PITs by method


def score(
    actual: Array,
    quantiles: Array,
    crps_quantiles: Array,
    levels: Sequence[float] = LEVELS,
    pit: Pair | None = None,
) -> dict[str, float | int]:
    """Scores of forecasts given as quantiles at ``levels`` (tasks x levels) and at 99 evenly
    spaced levels (tasks x 99), against the actuals (NaN for a coverage or hit rate whose
    levels are not among ``levels``); with the PIT bounds ``(F(y-), F(y))`` of the actuals,
    the tie-aware coverages too (NaN without)."""
    col = {round(q, 6): j for j, q in enumerate(levels)}

    def cover(lo: float, hi: float) -> float:
        if lo not in col or hi not in col:
            return float("nan")
        return coverage(actual, quantiles[:, col[lo]], quantiles[:, col[hi]])

    return {
        "n": len(actual),
        "coverage_p10_p90": cover(0.1, 0.9),
        "coverage_p25_p75": cover(0.25, 0.75),
        "p50_hit_rate": float(np.mean(actual <= quantiles[:, col[0.5]]))
        if 0.5 in col
        else float("nan"),
        "pinball": float(np.mean(pinball(actual, quantiles, levels))),
        "crps": float(2 * np.mean(pinball(actual, crps_quantiles, _CRPS_LEVELS))),
        "ties_p10_p90": float("nan") if pit is None else tie_coverage(*pit, 0.1, 0.9),
        "ties_p25_p75": float("nan") if pit is None else tie_coverage(*pit, 0.25, 0.75),
    }


@dataclass(frozen=True)
class BacktestResult:
    """Scores per origin, class and method, and overall per method.

    Attributes:
        origins: the origin dates used.
        by: the class columns.
        per_class: one row per (class, method): n and the scores, over all origins.
        overall: one row per method, over every forecast task.
        forecasts: one row per forecast task: origin, id, class, estimate, actual and the
            calibrated P10/P25/P50/P75/P90.
    """

    origins: tuple[dt.date, ...]
    by: tuple[str, ...]
    per_class: pd.DataFrame
    overall: pd.DataFrame
    forecasts: pd.DataFrame


def _keys(frame: pd.DataFrame, by: Sequence[str]) -> list[tuple[str, ...]]:
    return [tuple(str(v) for v in row) for row in frame[list(by)].itertuples(index=False)]


def _naive(
    train: pd.DataFrame, test: pd.DataFrame, by: Sequence[str], levels: Array
) -> tuple[Array, Array]:
    """Per-class empirical ratio quantiles of the training tasks, times the estimate."""
    ratios = (train["actual"] / train["estimate"]).to_numpy(float)
    train_keys = np.array([" / ".join(k) for k in _keys(train, by)])
    test_keys = np.array([" / ".join(k) for k in _keys(test, by)])
    est = test["estimate"].to_numpy(float)
    out = []
    for lv in (levels, _CRPS_LEVELS):
        q = np.empty((len(test), len(lv)))
        for key in np.unique(test_keys):
            own = ratios[train_keys == key]
            pool = own if own.size >= NAIVE_MIN else ratios
            q[test_keys == key] = np.quantile(pool, lv, method="inverted_cdf")
        out.append(est[:, None] * q)
    return out[0], out[1]


def _pool(train: pd.DataFrame, by: Sequence[str], key: tuple[str, ...]) -> Array:
    """The training ratios the naive per-class forecast of class ``key`` resamples."""
    ratios = (train["actual"] / train["estimate"]).to_numpy(float)
    own = ratios[np.array([k == key for k in _keys(train, by)], dtype=bool)]
    return own if own.size >= NAIVE_MIN else ratios


def _pits(
    models: ClassModels, test: pd.DataFrame, by: Sequence[str], train: pd.DataFrame
) -> dict[str, Pair]:
    """``(F(y-), F(y))`` of each test actual under each method's forecast distribution."""
    est, act = test["estimate"].to_numpy(float), test["actual"].to_numpy(float)
    r = act / est
    low, high = np.empty((2, len(test))), np.empty((2, len(test)))
    keys = _keys(test, by)
    for key in dict.fromkeys(keys):
        rows = np.array([k == key for k in keys])
        model = models.model_for(key) if key in models.classes else models.overall
        low[0, rows], high[0, rows] = pit_bounds(model, r[rows], est[rows])
        low[1, rows], high[1, rows] = empirical_pit(_pool(train, by, key), r[rows])
    everything = (train["actual"] / train["estimate"]).to_numpy(float)
    return {
        "calibrated": (low[0], high[0]),
        "naive per class": (low[1], high[1]),
        "raw estimate": ((act > est).astype(float), (act >= est).astype(float)),
        "global ratio": empirical_pit(everything, r),
    }


def _forecast(
    models: ClassModels,
    test: pd.DataFrame,
    by: Sequence[str],
    train: pd.DataFrame,
    levels: Array,
) -> dict[str, tuple[Array, Array]]:
    est = test["estimate"].to_numpy(float)
    known = set(models.classes)
    q = np.empty((len(test), len(levels)))
    qc = np.empty((len(test), len(_CRPS_LEVELS)))
    keys = _keys(test, by)
    for key in dict.fromkeys(keys):
        rows = np.array([k == key for k in keys])
        model = models.model_for(key) if key in known else models.overall
        q[rows] = est[rows, None] * model.ppf(levels[None, :], est[rows, None])
        qc[rows] = est[rows, None] * model.ppf(_CRPS_LEVELS[None, :], est[rows, None])
    ratios = (train["actual"] / train["estimate"]).to_numpy(float)
    glob = np.quantile(ratios, levels, method="inverted_cdf")
    glob_c = np.quantile(ratios, _CRPS_LEVELS, method="inverted_cdf")
    raw = np.repeat(est[:, None], len(levels), axis=1)
    raw_c = np.repeat(est[:, None], len(_CRPS_LEVELS), axis=1)
    return {
        "calibrated": (q, qc),
        "naive per class": _naive(train, test, by, levels),
        "raw estimate": (raw, raw_c),
        "global ratio": (est[:, None] * glob[None, :], est[:, None] * glob_c[None, :]),
    }


def quantile_name(level: float) -> str:
    """The column of a quantile level: ``p10`` for 0.1, ``p2.5`` for 0.025."""
    return f"p{round(float(level) * 100, 4):g}"


def rolling_origins(
    tasks: pd.DataFrame, *, months: int = 12, min_train: int = 200
) -> list[dt.date]:
    """Origins every ``months`` months from the first date with ``min_train`` earlier tasks."""
    dates = tasks["date"].dropna().sort_values()
    if len(dates) <= min_train:
        return []
    first = dates.iloc[min_train].date()
    last = dates.iloc[-1].date()
    origins, year, month = [], first.year, first.month
    origin = dt.date(year, month, 1)
    while origin <= last:
        origins.append(origin)
        month += months
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
        origin = dt.date(year, month, 1)
    return origins


def backtest(
    tasks: pd.DataFrame,
    by: Sequence[str],
    origins: Sequence[dt.date],
    *,
    rolling: bool = False,
    levels: Sequence[float] = LEVELS,
    **pooling: Any,
) -> BacktestResult:
    """Fit before each origin, forecast from it on (to the next origin when ``rolling``).

    Tasks without a date are not used. ``levels`` are the quantile levels forecast and
    scored (the forecasts get one column ``p<100 level>`` each). ``pooling`` passes
    ``min_own``, ``min_class``, ``pool_strength`` and ``folds`` to :func:`calibrate`.

    Raises:
        PmosimError: a fit that fails, named with its origin and its number of earlier tasks.
        ValueError: no origin has both earlier and later dated tasks.
    """
    lv = np.asarray(levels, dtype=float)
    dated = tasks.dropna(subset=["date"])
    parts: list[pd.DataFrame] = []
    scores: list[_Fold] = []
    for k, origin in enumerate(origins):
        stamp = pd.Timestamp(origin)
        train = dated[dated["date"] < stamp]
        end = pd.Timestamp(origins[k + 1]) if rolling and k + 1 < len(origins) else None
        test = dated[
            (dated["date"] >= stamp) & ((dated["date"] < end) if end is not None else True)
        ]
        if train.empty or test.empty:
            continue
        try:
            models = calibrate(train, by, **pooling).models
        except PmosimError as e:
            raise PmosimError(f"origin {origin}: {len(train):,} earlier tasks: {e}") from e
        forecasts = _forecast(models, test, by, train, lv)
        scores.append((test, forecasts, _pits(models, test, by, train)))
        frame = test[["id", *by, "estimate", "actual"]].copy()
        frame.insert(0, "origin", str(origin))
        for j, level in enumerate(lv):
            frame[quantile_name(level)] = forecasts["calibrated"][0][:, j]
        parts.append(frame)
    if not parts:
        raise ValueError("no origin has both earlier and later dated tasks")
    everything = pd.concat(parts, ignore_index=True)
    return BacktestResult(
        tuple(origins), tuple(by), _per_class(scores, by, lv), _overall(scores, lv), everything
    )


def _stack(scores: list[_Fold], method: str) -> tuple[Array, Array, Array, Array, Array]:
    actual = np.concatenate([t["actual"].to_numpy(float) for t, _, _ in scores])
    q = np.concatenate([f[method][0] for _, f, _ in scores])
    qc = np.concatenate([f[method][1] for _, f, _ in scores])
    low = np.concatenate([p[method][0] for _, _, p in scores])
    high = np.concatenate([p[method][1] for _, _, p in scores])
    return actual, q, qc, low, high


def _overall(scores: list[_Fold], levels: Array) -> pd.DataFrame:
    rows = []
    for method in METHODS:
        actual, q, qc, low, high = _stack(scores, method)
        rows.append({"method": method, **score(actual, q, qc, tuple(levels), (low, high))})
    return pd.DataFrame(rows)


def _per_class(scores: list[_Fold], by: Sequence[str], levels: Array) -> pd.DataFrame:
    keys = np.array(
        [
            " / ".join(str(v) for v in row)
            for t, _, _ in scores
            for row in t[list(by)].itertuples(index=False)
        ]
        if by
        else ["(all)"] * sum(len(t) for t, _, _ in scores)
    )
    rows = []
    for method in METHODS:
        actual, q, qc, low, high = _stack(scores, method)
        for key in sorted(set(keys.tolist())):
            m = keys == key
            pit = (low[m], high[m])
            rows.append(
                {
                    "class": key,
                    "method": method,
                    **score(actual[m], q[m], qc[m], tuple(levels), pit),
                }
            )
    return pd.DataFrame(rows)
