"""Reference classes: one ratio model per class of similar tasks, with partial pooling.

Tasks are grouped by the values of one or more class columns (``by``); the class key is the
tuple of those values as strings. The *overall* model is fitted on every task with
:func:`calibration.fit.fit_ratio_model`, and is the parent of every class.

Partial pooling rule, for a class with ``n`` tasks:

- ``n >= min_own``, with at least ``max(min_class, 3)`` ratios other than exactly 1 (and not
  all the same): the class gets a fit of its own (family, heaping, size dependence and
  all); ``source`` is ``"own"``.
- ``min_class <= n`` otherwise: the class borrows strength from the overall model. With the
  weight ``w = n / (n + pool_strength)`` it keeps the overall family, shape and size slope,
  and takes

  * ``p_exact = w * (its own share of exact 1s) + (1 - w) * overall p_exact``; when the
    overall model's heaping depends on size, the same blend is made of the mean P(exact)
    over the class's own estimates, by moving the logistic intercept;
  * the log-location (E[log R] of the continuous part) moved from the overall value toward
    the class's own mean log-ratio (non-1 ratios, detrended with the overall slope):
    ``w * own + (1 - w) * overall``, by rescaling the continuous part. A class whose ratios
    are all exactly 1 keeps the overall location.

  ``source`` reads e.g. ``"pooled with (all) (n=12, weight 0.38)"``.
- ``n < min_class``: the overall model unchanged; ``source`` says so.

Borrowed models carry the class's own ``n`` and no ``candidates`` (nothing was fitted to the
class alone). This is the usual normal-normal shrinkage with ``pool_strength`` playing the
part of the ratio of within-class to between-class variance: 20 means a class needs 20 tasks
to count as much as the overall evidence about where it sits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from simulator.errors import PmosimError
from simulator.model import ClassModels

from .fit import EXACT_TOL, FAMILIES, MIN_CONTINUOUS, RatioModel, fit_ratio_model

__all__ = ["PARENT", "ClassModels", "class_table", "fit_classes", "pooled_model"]

PARENT = "(all)"  # how sources and tables name the overall model


def class_table(models: ClassModels) -> pd.DataFrame:
    """One row per class, the overall model first as ``(all)``: n, bias (mean ratio - 1),
    P10/P50/P90 of the ratio, p_exact, the three size slopes (0: the ratio does not
    depend on size that way), family, the KS p-value of the best parametric
    candidate (NaN for a borrowed model) and source. Ratios at the reference estimate."""
    rows = [_row(PARENT, models.overall)]
    rows += [_row(_label(k), m) for k, m in sorted(models.classes.items())]
    return pd.DataFrame(rows)


def _label(key: tuple[str, ...]) -> str:
    return " / ".join(key)


def _row(label: str, m: RatioModel) -> dict[str, Any]:
    p10, p50, p90 = m.quantiles([0.1, 0.5, 0.9])
    return {
        "class": label,
        "n": m.n,
        "bias": m.mean() - 1,
        "p10": p10,
        "p50": p50,
        "p90": p90,
        "p_exact": m.p_exact,
        "size_slope": m.slope,
        "heap_slope": m.exact_slope,
        "spread_slope": m.spread_slope,
        "family": m.family,
        "ks_pvalue": m.candidates[0].ks_pvalue if m.candidates else math.nan,
        "source": m.source,
    }


def _ratios(tasks: pd.DataFrame, by: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    missing = [c for c in ("estimate", "actual", *by) if c not in tasks.columns]
    if missing:
        raise PmosimError(f"tasks have no column(s) {missing}; columns: {list(tasks.columns)}")
    est = tasks["estimate"].to_numpy(dtype=float)
    act = tasks["actual"].to_numpy(dtype=float)
    bad = ~(np.isfinite(est) & np.isfinite(act) & (est > 0) & (act > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise PmosimError(
            f"task at position {i}: estimate={est[i]}, actual={act[i]}: both must be finite and > 0"
        )
    return act / est, est


def pooled_model(
    parent: RatioModel, ratio: np.ndarray, estimate: np.ndarray, pool_strength: float
) -> RatioModel:
    """The class of ``ratio`` at ``estimate`` borrowing strength from ``parent`` (the
    partial pooling rule of the module docstring)."""
    n = ratio.size
    w = n / (n + pool_strength)
    exact = np.abs(ratio - 1.0) < EXACT_TOL
    p = w * float(exact.mean()) + (1 - w) * parent.p_exact
    if parent.exact_slope != 0:
        p = _pooled_exact(parent, estimate, float(exact.mean()), w)
    x = ratio[~exact]
    delta = 0.0
    if x.size:
        size = (estimate[~exact] / parent.ref_estimate) ** parent.slope
        delta = w * (float(np.mean(np.log(x / size))) - parent.log_location)
    return replace(
        parent.shifted(delta),
        p_exact=p,
        n=n,
        candidates=(),
        source=f"pooled with {PARENT} (n={n}, weight {w:.2f})",
    )


def _pooled_exact(parent: RatioModel, estimate: np.ndarray, own: float, w: float) -> float:
    """``p_exact`` (at the reference estimate) of a pooled class under the parent's heaping
    slope: the intercept moves so that the class's mean P(exact) over its own estimates is
    ``w * own + (1 - w) * (the parent's mean P(exact) over them)``."""
    logits = special.logit(parent.exact_share(estimate))
    target = w * own + (1 - w) * float(np.mean(special.expit(logits)))

    def gap(shift: float) -> float:
        return float(np.mean(special.expit(logits + shift))) - target

    lo, hi = -1.0, 1.0
    while gap(lo) > 0:
        lo *= 2
    while gap(hi) < 0:
        hi *= 2
    shift = optimize.brentq(gap, lo, hi, xtol=1e-12)
    return float(special.expit(special.logit(parent.p_exact) + shift))


def _own_fit(r: np.ndarray, e: np.ndarray, options: dict[str, Any]) -> RatioModel | None:
    """The class's own fit, or None when its ratios cannot be fitted (e.g. all the same)."""
    try:
        return fit_ratio_model(r, e, **options)
    except PmosimError:
        return None


def fit_classes(
    tasks: pd.DataFrame,
    by: Sequence[str],
    *,
    min_own: int = 30,
    min_class: int = 5,
    pool_strength: float = 20.0,
    families: Sequence[str] = FAMILIES,
    select: str = "bic",
    empirical_min: int = 200,
) -> ClassModels:
    """Fit the overall model and one model per class of ``tasks`` (see the module docstring).

    Args:
        tasks: one row per task with float columns ``estimate`` and ``actual`` (> 0) and the
            class columns ``by``.
        by: the class columns (may be empty: the overall model only).
        min_own, min_class, pool_strength: the pooling rule's thresholds and strength.
        families, select, empirical_min: passed to :func:`fit_ratio_model`.

    Raises:
        ValueError: inconsistent thresholds.
        PmosimError: missing columns, non-positive values, or too little data to fit.
    """
    cols = tuple(by)
    if not (0 <= min_class <= min_own) or not pool_strength > 0:
        raise ValueError(
            f"need 0 <= min_class ({min_class}) <= min_own ({min_own}) and "
            f"pool_strength ({pool_strength}) > 0"
        )
    ratio, est = _ratios(tasks, cols)
    options: dict[str, Any] = {
        "families": families,
        "select": select,
        "empirical_min": empirical_min,
    }
    overall = fit_ratio_model(ratio, est, **options)
    classes: dict[tuple[str, ...], RatioModel] = {}
    if cols:
        groups = tasks.groupby(list(cols), sort=True, dropna=False).indices
        for raw, idx in groups.items():
            key = tuple(str(v) for v in (raw if isinstance(raw, tuple) else (raw,)))
            r, e = ratio[idx], est[idx]
            n_cont = int(np.sum(np.abs(r - 1.0) >= EXACT_TOL))
            own = None
            if r.size >= min_own and n_cont >= max(min_class, MIN_CONTINUOUS):
                own = _own_fit(r, e, options)
            if own is not None:
                classes[key] = own
            elif r.size >= min_class:
                classes[key] = pooled_model(overall, r, e, pool_strength)
            else:
                classes[key] = replace(
                    overall,
                    n=r.size,
                    candidates=(),
                    source=(f"{PARENT} unchanged (n={r.size} < min_class={min_class})"),
                )
    return ClassModels(cols, overall, classes, int(min_own), int(min_class))
