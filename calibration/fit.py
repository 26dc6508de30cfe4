"""Distributions of the ratio actual/estimate, fitted by maximum likelihood.

A :class:`RatioModel` is what calibration learns about one reference class: how far actual
effort strays from its estimate. It has three parts.

**Heaping.** Many histories report ``actual = estimate`` for a large share of tasks (a third
of the SiP tasks do). Those reports are a point mass at ratio 1, not a feature of a smooth
density, so the model is a mixture: ratio 1 with probability ``p_exact`` (the observed share
of ratios within 1e-9 of 1, which is its maximum-likelihood estimate), otherwise a draw from
a continuous distribution fitted to the other ratios only.

Heaping depends on size: in SiP, 63 % of tasks estimated at one hour or less are reported
exactly as estimated, under 2 % of those above two days. So the share of exact reports is
also modelled as a logistic function of ``log(estimate)``,
``logit P(exact) = logit(p_exact) + exact_slope * log(estimate / ref_estimate)``, fitted by
maximum likelihood. Its slope is kept only when significant (likelihood-ratio test,
p < 0.01) and material (between the 25th and 75th percentile of the estimates it moves
P(exact) by more than 0.05); otherwise ``exact_slope = 0`` and ``p_exact`` is the plain share.

**Size dependence.** Big and small estimates may err differently. ``log(ratio)`` of the
non-1 ratios is regressed on ``log(estimate)`` by least squares. The slope is kept only when
it is both *significant* (two-sided p < 0.01) and *material*: between the 25th and 75th
percentile of the estimates it moves the median ratio by more than a factor 1.1 either way.
Then ``ratio = (estimate / ref_estimate) ** slope * R``, with ``ref_estimate`` the geometric
mean of every task's estimate, and the families are fitted to the detrended ratios ``R``.
Otherwise ``slope = 0``. The size term scales the continuous part only: a heaped report is
``actual = estimate`` whatever the size. ``ref_estimate`` is 1 when no size term is kept.

The spread may depend on size too (in SiP the standard deviation of log(ratio) grows from 0.9
for one-hour tasks to 1.3 for week-long ones). The absolute residuals of that regression,
``|log R - mean|``, are regressed (on the log scale) on ``log(estimate)``; a slope that is
significant (p < 0.01) and widens or narrows the spread by more than a factor 1.1 between the
25th and 75th percentile of the estimates is kept as ``spread_slope``, and then
``R = c * (Z / c) ** k`` with ``k = (estimate / ref_estimate) ** spread_slope``, ``c`` the
geometric mean of the detrended ratios (``spread_center``), and the families are fitted to
the standardised ``Z``. The log-likelihood includes the Jacobian of both transformations.

**No extrapolation.** The size terms hold only over the estimates they were fitted on
(``estimate_range``). At a larger or smaller estimate the model takes the terms of the
nearest end and widens the continuous part about its centre by ``1 + d`` in log, ``d`` the
natural-log units beyond the range, as the local model does: a power law fitted on tasks of
1 to 16 days does not say what happens at 120 (on Renzo's log, extrapolating the spread
slope put a 120-pomodoro task's P90 at 10^14 pomodoros).

**Family.** Each candidate in :data:`FAMILIES` (all on (0, inf), location fixed at 0) is
fitted by maximum likelihood: lognormal in closed form on the logs, gamma and Weibull with
``scipy.stats.<dist>.fit(floc=0)``, log-logistic (``scipy.stats.fisk``) as the equivalent
logistic fit to the logs. Every candidate's log-likelihood is that of *all* the ratios under
the whole model (point mass, size term and family), so candidates compare fairly; the
parameter count is 2 for the family, plus 1 for ``p_exact`` when there are exact 1s, plus 1
for each kept slope. AIC = 2k - 2 logL and BIC = k ln(n) - 2 logL with n every task. Each
candidate also carries the Kolmogorov-Smirnov statistic and p-value and the Anderson-Darling
statistic A² of the fitted family on the detrended non-1 ratios. The model uses the
candidate with the smallest BIC (or AIC, on request).

**Empirical fallback.** When there are at least ``empirical_min`` non-1 ratios and every
family's KS p-value is below 0.01, no family describes the data and the model resamples the
observed (detrended) non-1 ratios instead: ``family = "empirical"``, ``values`` the sorted
ratios, or, above 1,000 of them, their quantiles at 1,000 evenly spaced levels (which keeps
calibration files small and changes no quantile by more than 1/2000 in probability).
The KS p-values use parameters estimated from the same data, which makes them
conservative (too large), so the fallback triggers only when every family misfits clearly.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from simulator.errors import PmosimError
from simulator.model import (
    EXACT_TOL,
    FAMILIES,
    FAMILY_PARAMS,
    Candidate,
    RatioModel,
    frozen_family,
)

__all__ = [
    "EMPIRICAL_POINTS",
    "EXACT_MATERIAL",
    "EXACT_TOL",
    "FAMILIES",
    "KS_ALPHA",
    "MIN_CONTINUOUS",
    "SLOPE_ALPHA",
    "SLOPE_MATERIAL",
    "Candidate",
    "RatioModel",
    "fit_ratio_model",
]

FloatArray = NDArray[np.float64]

SLOPE_ALPHA = 0.01  # a size slope must be significant at this level ...
SLOPE_MATERIAL = 1.10  # ... and move the median ratio (or widen the spread) by more than
#                        this factor between the 25th and 75th percentile of the estimates
EXACT_MATERIAL = 0.05  # a heaping slope must move P(exact) by more than this (P25 to P75)
MIN_EXACT = 10  # exact 1s (and non-1s) needed before a heaping slope is tried
KS_ALPHA = 0.01  # every family below this KS p-value (and enough data): empirical
MIN_CONTINUOUS = 3  # non-1 ratios needed to fit a continuous part
EMPIRICAL_POINTS = 1000  # an empirical model keeps at most this many quantiles of its sample

_SCIPY = {
    "lognormal": stats.lognorm,
    "gamma": stats.gamma,
    "weibull": stats.weibull_min,
    "loglogistic": stats.fisk,
}
_SELECT = ("bic", "aic")


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


# -- fitting ------------------------------------------------------------------------------


def _positive(name: str, x: ArrayLike) -> FloatArray:
    arr = np.asarray(x, dtype=float)
    _check(arr.ndim == 1, f"{name} must be one-dimensional, got shape {arr.shape}")
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr > 0)))
    if bad.size:
        raise ValueError(f"{name}[{bad[0]}]={arr[bad[0]]} must be finite and > 0")
    return arr


def _mle(family: str, z: FloatArray) -> dict[str, float]:
    """Maximum-likelihood parameters of ``family`` (location 0) for the sample ``z``."""
    if family == "lognormal":  # closed form: mean and (ddof 0) std of the logs
        lz = np.log(z)
        mu = float(np.mean(lz))
        return {"s": float(np.sqrt(np.mean((lz - mu) ** 2))), "scale": math.exp(mu)}
    if family == "loglogistic":  # log of a fisk(c, scale) is logistic(log scale, 1/c)
        loc, sc = stats.logistic.fit(np.log(z))
        return {"c": 1 / float(sc), "scale": math.exp(float(loc))}
    shape, _, scale = _SCIPY[family].fit(z, floc=0)
    return {FAMILY_PARAMS[family][0]: float(shape), "scale": float(scale)}


def _anderson_darling(z_sorted: FloatArray, dist: Any) -> float:
    n = z_sorted.size
    i = np.arange(1, n + 1)
    terms = (2 * i - 1) * (dist.logcdf(z_sorted) + dist.logsf(z_sorted)[::-1])
    return float(-n - np.mean(terms))


def _candidate(
    family: str, z: FloatArray, base_ll: float, k_extra: int, n: int
) -> Candidate | None:
    """``family`` fitted to ``z``; ``None`` when the fit fails or is degenerate."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            params = _mle(family, z)
    except (ValueError, RuntimeError, FloatingPointError, OverflowError):
        return None
    if not all(math.isfinite(v) and v > 0 for v in params.values()):
        return None
    dist = frozen_family(family, params)
    with np.errstate(all="ignore"):
        loglik = base_ll + float(np.sum(dist.logpdf(z)))
        if not math.isfinite(loglik):
            return None
        ks = stats.kstest(z, dist.cdf)
        ad = _anderson_darling(np.sort(z), dist)
    k = 2 + k_extra
    return Candidate(
        family,
        params,
        loglik,
        aic=2 * k - 2 * loglik,
        bic=k * math.log(n) - 2 * loglik,
        ks=float(ks.statistic),
        ks_pvalue=float(ks.pvalue),
        ad=ad,
    )


def _size_slope(ratio: FloatArray, estimate: FloatArray, all_estimates: FloatArray) -> float:
    """The slope of the size dependence, or 0 when it is not significant (p >= 0.01) or not
    material (see the module docstring).

    ``ratio`` and ``estimate`` are the non-1 ratios and their estimates; ``all_estimates``
    (every task's) give the 25th and 75th percentiles for the materiality test."""
    log_e = np.log(estimate)
    if ratio.size < MIN_CONTINUOUS or np.ptp(log_e) == 0:
        return 0.0
    fit = stats.linregress(log_e, np.log(ratio))
    q25, q75 = np.percentile(all_estimates, [25, 75])
    moves = abs(float(fit.slope) * math.log(q75 / q25))
    if fit.pvalue < SLOPE_ALPHA and moves > math.log(SLOPE_MATERIAL):
        return float(fit.slope)
    return 0.0


def _spread_slope(
    residual: FloatArray, rel_estimate: FloatArray, all_estimates: FloatArray
) -> float:
    """The slope of ``log |residual|`` on ``log(estimate / ref)``, or 0 when it is not
    significant (p >= 0.01) or not material (see the module docstring)."""
    keep = np.abs(residual) > 1e-9
    log_e = np.log(rel_estimate[keep])
    if log_e.size < MIN_CONTINUOUS or np.ptp(log_e) == 0:
        return 0.0
    fit = stats.linregress(log_e, np.log(np.abs(residual[keep])))
    q25, q75 = np.percentile(all_estimates, [25, 75])
    if fit.pvalue < SLOPE_ALPHA and abs(float(fit.slope) * math.log(q75 / q25)) > math.log(
        SLOPE_MATERIAL
    ):
        return float(fit.slope)
    return 0.0


def _bernoulli_ll(exact: NDArray[np.bool_], p: FloatArray) -> float:
    with np.errstate(divide="ignore"):
        return float(np.sum(np.where(exact, np.log(p), np.log1p(-p))))


def _exact_slope(exact: NDArray[np.bool_], x: FloatArray) -> tuple[float, float]:
    """``(intercept, slope)`` of the maximum-likelihood logistic regression of ``exact`` on
    ``x`` (log estimate over the reference), by Newton's method, or ``(nan, 0.0)`` when the
    slope is not significant or not material (see the module docstring)."""
    n1 = int(exact.sum())
    if min(n1, exact.size - n1) < MIN_EXACT or np.ptp(x) == 0:
        return math.nan, 0.0
    y = exact.astype(float)
    beta = np.array([float(special.logit(n1 / exact.size)), 0.0])
    design = np.column_stack([np.ones_like(x), x])
    for _ in range(100):
        p = special.expit(design @ beta)
        w = np.maximum(p * (1 - p), 1e-12)
        step = np.linalg.solve(design.T @ (design * w[:, None]), design.T @ (y - p))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    else:
        return math.nan, 0.0
    p = special.expit(design @ beta)
    if not np.all((p > 0) & (p < 1)):  # separated: no finite slope
        return math.nan, 0.0
    lr = 2 * (_bernoulli_ll(exact, p) - _bernoulli_ll(exact, np.full_like(p, n1 / exact.size)))
    q25, q75 = np.percentile(x, [25, 75])
    low, high = special.expit(beta[0] + beta[1] * np.array([q25, q75]))
    moves = abs(float(high - low))
    if stats.chi2.sf(lr, 1) < SLOPE_ALPHA and moves > EXACT_MATERIAL:
        return float(beta[0]), float(beta[1])
    return math.nan, 0.0


def _thinned(z_sorted: FloatArray) -> tuple[float, ...]:
    """At most :data:`EMPIRICAL_POINTS` values standing for the sorted sample: its quantiles
    (inverse of the empirical CDF) at the midpoints ``(i + 0.5) / EMPIRICAL_POINTS``, so that
    resampling them uniformly is resampling the sample to within 1/2000 in probability."""
    if z_sorted.size <= EMPIRICAL_POINTS:
        return tuple(z_sorted.tolist())
    mid = (np.arange(EMPIRICAL_POINTS) + 0.5) / EMPIRICAL_POINTS
    idx = np.ceil(mid * z_sorted.size).astype(np.int64) - 1
    return tuple(z_sorted[idx].tolist())


@dataclass(frozen=True)
class _SizeTerms:
    """The fitted size dependence, and the detrended continuous ratios ``z`` with their
    spread factors ``k``."""

    p: float
    slope: float
    exact_slope: float
    ref: float
    spread: float
    center: float
    z: FloatArray
    k: FloatArray


def _inputs(
    ratio: ArrayLike, estimate: ArrayLike | None, families: Sequence[str], select: str
) -> tuple[FloatArray, FloatArray | None, tuple[str, ...]]:
    r = _positive("ratio", ratio)
    e = None if estimate is None else _positive("estimate", estimate)
    _check(
        e is None or e.size == r.size,
        f"estimate has {0 if e is None else e.size} values, ratio {r.size}",
    )
    fams = tuple(dict.fromkeys(families))
    _check(
        bool(fams) and set(fams) <= set(FAMILIES),
        f"families {list(families)} must be a non-empty subset of {list(FAMILIES)}",
    )
    _check(select in _SELECT, f"select={select!r} must be one of {list(_SELECT)}")
    return r, e, fams


def _size_terms(
    x: FloatArray, exact: NDArray[np.bool_], e: FloatArray | None, p: float
) -> _SizeTerms:
    """Size slopes of the median, of heaping and of the spread (each 0 when immaterial)."""
    slope, exact_slope, ref = 0.0, 0.0, 1.0
    if e is not None:
        ref = math.exp(float(np.mean(np.log(e))))
        slope = _size_slope(x, e[~exact], e)
        intercept, exact_slope = _exact_slope(exact, np.log(e / ref))
        if exact_slope != 0:
            p = float(special.expit(intercept))
    size = np.ones_like(x) if slope == 0 or e is None else (e[~exact] / ref) ** slope
    log_z = np.log(x / size)
    center = float(np.mean(log_z))
    spread = 0.0 if e is None else _spread_slope(log_z - center, e[~exact] / ref, e)
    if slope == 0 and exact_slope == 0 and spread == 0:
        ref = 1.0
    k = np.ones_like(x) if spread == 0 or e is None else (e[~exact] / ref) ** spread
    z = np.exp(center + (log_z - center) / k)
    return _SizeTerms(p, slope, exact_slope, ref, spread, center, z, k)


def _check_continuous(x: FloatArray, n: int) -> None:
    """Enough non-1 ratios, and not all the same, for a continuous part."""
    if x.size < MIN_CONTINUOUS:
        raise PmosimError(
            f"{n} ratios of which {x.size} differ from 1: at least "
            f"{MIN_CONTINUOUS} are needed to fit a distribution"
        )
    if np.ptp(np.log(x)) < 1e-9:
        raise PmosimError(
            f"the {x.size} ratios other than 1 are all {x[0]:.6g}: a constant ratio has no "
            "spread for a distribution to fit"
        )


def fit_ratio_model(
    ratio: ArrayLike,
    estimate: ArrayLike | None = None,
    *,
    families: Sequence[str] = FAMILIES,
    select: str = "bic",
    empirical_min: int = 200,
) -> RatioModel:
    """Fit a :class:`RatioModel` to observed ratios actual/estimate.

    Args:
        ratio: the ratios (finite, > 0).
        estimate: the tasks' estimates, for the size dependence (none: no size term).
        families: the candidate families, a subset of :data:`FAMILIES`.
        select: ``"bic"`` or ``"aic"``, the criterion that picks the family.
        empirical_min: non-1 ratios needed before the empirical fallback may be used.

    Raises:
        ValueError: malformed arguments.
        PmosimError: fewer than :data:`MIN_CONTINUOUS` ratios other than exactly 1, or no
            family could be fitted.
    """
    r, e, fams = _inputs(ratio, estimate, families, select)
    exact = np.abs(r - 1.0) < EXACT_TOL
    x, n, n1 = r[~exact], r.size, int(exact.sum())
    _check_continuous(x, n)
    t = _size_terms(x, exact, e, n1 / n)
    p, slope, exact_slope, ref, spread, center = (
        t.p,
        t.slope,
        t.exact_slope,
        t.ref,
        t.spread,
        t.center,
    )
    z, k = t.z, t.k
    base_ll = float(np.sum(np.log(z) - np.log(k) - np.log(x)))  # log |dz/dratio|
    if exact_slope != 0:
        assert e is not None
        base_ll += _bernoulli_ll(
            exact, special.expit(special.logit(p) + exact_slope * np.log(e / ref))
        )
    elif n1:
        base_ll += n1 * math.log(p) + x.size * math.log1p(-p)
    k_extra = int(n1 > 0) + int(slope != 0) + int(exact_slope != 0) + int(spread != 0)
    cands = [c for f in fams if (c := _candidate(f, z, base_ll, k_extra, n)) is not None]
    if not cands:
        raise PmosimError(f"no family in {list(fams)} could be fitted to {x.size} ratios")
    cands.sort(key=lambda c: c.bic if select == "bic" else c.aic)
    best = cands[0]
    model = RatioModel(
        best.family,
        best.params,
        p_exact=p,
        slope=slope,
        ref_estimate=ref,
        n=n,
        exact_slope=exact_slope,
        spread_slope=spread,
        spread_center=math.exp(center) if spread else 1.0,
        candidates=tuple(cands),
        estimate_range=None if e is None else (float(e.min()), float(e.max())),
    )
    if x.size >= empirical_min and all(c.ks_pvalue < KS_ALPHA for c in cands):
        return replace(model, family="empirical", params={}, values=_thinned(np.sort(z)))
    return model
