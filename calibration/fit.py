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

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from simulator.errors import PmosimError

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

FAMILIES = ("lognormal", "gamma", "weibull", "loglogistic")
EXACT_TOL = 1e-9  # |ratio - 1| below this is an 'actual = estimate' report
SLOPE_ALPHA = 0.01  # a size slope must be significant at this level ...
SLOPE_MATERIAL = 1.10  # ... and move the median ratio (or widen the spread) by more than
#                        this factor between the 25th and 75th percentile of the estimates
EXACT_MATERIAL = 0.05  # a heaping slope must move P(exact) by more than this (P25 to P75)
MIN_EXACT = 10  # exact 1s (and non-1s) needed before a heaping slope is tried
KS_ALPHA = 0.01  # every family below this KS p-value (and enough data): empirical
MIN_CONTINUOUS = 3  # non-1 ratios needed to fit a continuous part
EMPIRICAL_POINTS = 1000  # an empirical model keeps at most this many quantiles of its sample

_PARAMS = {
    "lognormal": ("s", "scale"),
    "gamma": ("a", "scale"),
    "weibull": ("c", "scale"),
    "loglogistic": ("c", "scale"),
}
_SCIPY = {
    "lognormal": stats.lognorm,
    "gamma": stats.gamma,
    "weibull": stats.weibull_min,
    "loglogistic": stats.fisk,
}
_SELECT = ("bic", "aic")
_P_MAX = 1 - 1e-12  # P(exact) stays below 1 so the continuous part keeps some weight


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _check_params(family: str, params: Mapping[str, float]) -> dict[str, float]:
    expected = _PARAMS.get(family, ())
    _check(tuple(sorted(params)) == tuple(sorted(expected)),
           f"family {family!r} takes parameters {list(expected)}, got {list(params)}")
    out = {name: float(params[name]) for name in expected}
    for name, v in out.items():
        _check(math.isfinite(v) and v > 0, f"{family} parameter {name}={v} must be finite and > 0")
    return out


def _frozen(family: str, params: Mapping[str, float]) -> Any:
    """The scipy frozen distribution of a parametric family."""
    shape = params[_PARAMS[family][0]]
    return _SCIPY[family](shape, scale=params["scale"])


@dataclass(frozen=True)
class Candidate:
    """One family fitted to one sample, with its fit statistics.

    Attributes:
        family: one of :data:`FAMILIES`.
        params: the scipy shape and scale parameters (location 0).
        loglik: log-likelihood of every ratio under the whole model with this family.
        aic, bic: the information criteria from ``loglik`` and the parameter count.
        ks, ks_pvalue: Kolmogorov-Smirnov statistic and p-value on the detrended non-1 ratios.
        ad: Anderson-Darling statistic A² on the same data.
    """

    family: str
    params: dict[str, float]
    loglik: float
    aic: float
    bic: float
    ks: float
    ks_pvalue: float
    ad: float

    def __post_init__(self) -> None:
        _check(self.family in FAMILIES,
               f"candidate family {self.family!r} must be one of {list(FAMILIES)}")
        object.__setattr__(self, "params", _check_params(self.family, self.params))
        for name in ("loglik", "aic", "bic", "ks", "ks_pvalue", "ad"):
            object.__setattr__(self, name, float(getattr(self, name)))


@dataclass(frozen=True)
class RatioModel:
    """Distribution of actual/estimate for one reference class.

    Attributes:
        family: one of :data:`FAMILIES`, or ``"empirical"``.
        params: the scipy shape/scale parameters (``{}`` for empirical).
        p_exact: probability of a ratio of exactly 1 (heaped ``actual = estimate`` reports),
            at the reference estimate when ``exact_slope`` is not 0.
        slope, ref_estimate: size dependence, ``ratio = (estimate/ref_estimate)**slope * R``
            for the continuous part ``R``; slope 0 when immaterial.
        n: tasks of the class (for a borrowed model, the class's own count; ``source`` says
            what the model rests on).
        exact_slope: size dependence of heaping, the slope of logit P(exact) on
            ``log(estimate / ref_estimate)``; 0 when immaterial.
        spread_slope, spread_center: size dependence of the spread,
            ``R = spread_center * (Z / spread_center) ** ((estimate/ref_estimate) ** spread_slope)``
            for the fitted family's ``Z``; slope 0 when immaterial.
        values: empirical only: the sorted (detrended) non-1 ratios, resampled uniformly.
        candidates: every family tried, with its statistics, best first (empty for a model
            borrowed from a parent class).
        source: ``"own"``, or how the model was borrowed (see :mod:`calibration.reference`).

    Methods taking ``estimate`` evaluate the size term there; ``None`` means the reference
    estimate (size term 1).
    """

    family: str
    params: dict[str, float]
    p_exact: float
    slope: float
    ref_estimate: float
    n: int
    exact_slope: float = 0.0
    spread_slope: float = 0.0
    spread_center: float = 1.0
    values: tuple[float, ...] = field(default=(), repr=False)
    candidates: tuple[Candidate, ...] = field(default=(), repr=False)
    source: str = "own"

    def __post_init__(self) -> None:
        if self.family == "empirical":
            _check(not self.params, f"an empirical model takes no params, got {self.params}")
            values = tuple(float(v) for v in self.values)
            _check(len(values) > 0, "an empirical model needs at least one value")
            _check(all(math.isfinite(v) and v > 0 for v in values),
                   "empirical values must be finite and > 0")
            _check(all(a <= b for a, b in itertools.pairwise(values)),
                   "empirical values must be sorted")
            object.__setattr__(self, "values", values)
        else:
            _check(self.family in FAMILIES, f"family {self.family!r} must be one of "
                   f"{[*FAMILIES, 'empirical']}")
            _check(not self.values, f"a {self.family} model takes no values")
            object.__setattr__(self, "params", _check_params(self.family, self.params))
        p, slope, ref = float(self.p_exact), float(self.slope), float(self.ref_estimate)
        _check(0 <= p < 1, f"p_exact={p} must be in [0, 1)")
        _check(math.isfinite(slope), f"slope={slope} must be finite")
        exact_slope = float(self.exact_slope)
        _check(math.isfinite(exact_slope) and (p > 0 or exact_slope == 0),
               f"exact_slope={exact_slope} must be finite, and 0 when p_exact is 0")
        object.__setattr__(self, "exact_slope", exact_slope)
        spread, center = float(self.spread_slope), float(self.spread_center)
        _check(math.isfinite(spread), f"spread_slope={spread} must be finite")
        _check(math.isfinite(center) and center > 0,
               f"spread_center={center} must be finite and > 0")
        object.__setattr__(self, "spread_slope", spread)
        object.__setattr__(self, "spread_center", center)
        _check(math.isfinite(ref) and ref > 0, f"ref_estimate={ref} must be finite and > 0")
        _check(int(self.n) == self.n and self.n >= 0, f"n={self.n} must be a whole number >= 0")
        object.__setattr__(self, "p_exact", p)
        object.__setattr__(self, "slope", slope)
        object.__setattr__(self, "ref_estimate", ref)
        object.__setattr__(self, "n", int(self.n))
        object.__setattr__(self, "candidates", tuple(self.candidates))

    # -- the continuous part R ----------------------------------------------------------

    @cached_property
    def _dist(self) -> Any:
        """The scipy frozen distribution of R (parametric families), built once."""
        return _frozen(self.family, self.params)

    def _cont_ppf(self, v: FloatArray) -> FloatArray:
        if self.family == "empirical":
            arr = np.asarray(self.values)
            idx = np.clip(np.ceil(v * arr.size).astype(np.int64) - 1, 0, arr.size - 1)
            return arr[idx]
        return np.asarray(self._dist.ppf(v), dtype=float)

    def _cont_cdf(self, x: FloatArray, *, strict: bool = False) -> FloatArray:
        """P(R <= x), or P(R < x) when ``strict`` (they differ for empirical only)."""
        if self.family == "empirical":
            arr = np.asarray(self.values)
            return np.searchsorted(arr, x, side="left" if strict else "right") / arr.size
        return np.asarray(self._dist.cdf(x), dtype=float)

    def _spread(self, estimate: ArrayLike | None) -> FloatArray:
        if estimate is None or self.spread_slope == 0:
            return np.asarray(1.0)
        e = np.asarray(estimate, dtype=float)
        return np.asarray((e / self.ref_estimate) ** self.spread_slope)

    def _ratio_ppf(self, v: FloatArray, s: FloatArray, k: FloatArray) -> FloatArray:
        """Quantile ``v`` of the continuous part of the ratio, size term ``s``, spread ``k``."""
        z = self._cont_ppf(v)
        if self.spread_slope == 0:
            return np.asarray(s * z)
        c = self.spread_center
        return np.asarray(s * c * (z / c) ** k)

    def _ratio_cdf(self, r: FloatArray, s: FloatArray, k: FloatArray, *,
                   strict: bool = False) -> FloatArray:
        """P(continuous part of the ratio <= r) (``< r`` when ``strict``)."""
        if self.spread_slope == 0:
            return self._cont_cdf(r / s, strict=strict)
        c = self.spread_center
        return self._cont_cdf(c * (r / (s * c)) ** (1 / k), strict=strict)

    def _size(self, estimate: ArrayLike | None) -> FloatArray:
        if estimate is None or self.slope == 0:
            return np.asarray(1.0)
        e = np.asarray(estimate, dtype=float)
        _check(bool(np.all(e > 0)) and bool(np.all(np.isfinite(e))),
               "estimates must be finite and > 0")
        return np.asarray((e / self.ref_estimate) ** self.slope)

    def exact_share(self, estimate: ArrayLike | None = None) -> FloatArray:
        """P(ratio is exactly 1) at ``estimate`` (``None``: the reference estimate)."""
        if estimate is None or self.exact_slope == 0:
            return np.asarray(self.p_exact)
        e = np.asarray(estimate, dtype=float)
        _check(bool(np.all(e > 0)) and bool(np.all(np.isfinite(e))),
               "estimates must be finite and > 0")
        logit = special.logit(self.p_exact) + self.exact_slope * np.log(e / self.ref_estimate)
        return np.asarray(np.minimum(special.expit(logit), _P_MAX))

    @property
    def log_location(self) -> float:
        """E[log R] of the continuous part at the reference estimate."""
        if self.family == "empirical":
            return float(np.mean(np.log(self.values)))
        shape, log_scale = self.params[_PARAMS[self.family][0]], math.log(self.params["scale"])
        if self.family == "gamma":
            return float(special.digamma(shape)) + log_scale
        if self.family == "weibull":
            return log_scale - float(np.euler_gamma) / shape
        return log_scale  # lognormal, loglogistic: log R is symmetric about log(scale)

    def shifted(self, delta_log: float) -> RatioModel:
        """The same model with the continuous part multiplied by ``exp(delta_log)``."""
        factor = math.exp(delta_log)
        center = self.spread_center * factor
        if self.family == "empirical":
            return replace(self, values=tuple(v * factor for v in self.values),
                           spread_center=center)
        return replace(self, params={**self.params, "scale": self.params["scale"] * factor},
                       spread_center=center)

    # -- the whole ratio ------------------------------------------------------------------

    def ppf(self, u: ArrayLike, estimate: ArrayLike | None = None) -> FloatArray:
        """Ratio quantiles at probabilities ``u`` (the exact generalised inverse of
        :meth:`cdf`: a ``u`` inside the step of the point mass gives exactly 1.0).
        ``u`` and ``estimate`` broadcast against each other."""
        u_arr = np.asarray(u, dtype=float)
        _check(bool(np.all((u_arr >= 0) & (u_arr <= 1))), "probabilities must be in [0, 1]")
        u_arr, s, p, k = np.broadcast_arrays(u_arr, self._size(estimate),
                                             self.exact_share(estimate), self._spread(estimate))
        one = np.ones_like(s)
        below = (1 - p) * self._ratio_cdf(one, s, k, strict=True)  # P(ratio < 1)
        at_most = p + (1 - p) * self._ratio_cdf(one, s, k)  # P(ratio <= 1), as in cdf(1)
        lower = self._ratio_ppf(np.minimum(u_arr / (1 - p), 1.0), s, k)
        upper = self._ratio_ppf(np.clip((u_arr - p) / (1 - p), 0.0, 1.0), s, k)
        return np.where(u_arr <= below, np.minimum(lower, 1.0),
                        np.where(u_arr <= at_most, 1.0, np.maximum(upper, 1.0)))

    def cdf(self, r: ArrayLike, estimate: ArrayLike | None = None) -> FloatArray:
        """P(ratio <= r)."""
        r_arr, s, p, k = np.broadcast_arrays(np.asarray(r, dtype=float), self._size(estimate),
                                             self.exact_share(estimate), self._spread(estimate))
        cont = self._ratio_cdf(np.maximum(r_arr, 0.0), s, k)
        return np.asarray(p * (r_arr >= 1) + (1 - p) * cont)

    def quantiles(self, qs: ArrayLike, estimate: ArrayLike | None = None) -> FloatArray:
        """Ratio quantiles at levels ``qs`` (same as :meth:`ppf`)."""
        return self.ppf(qs, estimate)

    def mean(self, estimate: float | None = None) -> float:
        """E[ratio] (``inf`` for a log-logistic with c <= 1, whose mean does not exist)."""
        k = float(self._spread(estimate))
        c = self.spread_center if self.spread_slope else 1.0
        cont = c ** (1 - k) * self._power_mean(k)
        size, p = float(self._size(estimate)), float(self.exact_share(estimate))
        return p + (1 - p) * size * cont

    def _power_mean(self, k: float) -> float:
        """E[Z ** k] of the fitted family (``inf`` when it does not exist)."""
        if self.family == "empirical":
            return float(np.mean(np.asarray(self.values) ** k))
        shape, scale = self.params[_PARAMS[self.family][0]], self.params["scale"]
        if self.family == "lognormal":
            return scale ** k * math.exp(k * k * shape * shape / 2)
        if self.family == "gamma":
            return scale ** k * math.exp(special.gammaln(shape + k) - special.gammaln(shape))
        if self.family == "weibull":
            return scale ** k * math.gamma(1 + k / shape)
        if k >= shape:  # log-logistic: E[Z^k] exists only for k < c
            return math.inf
        x = math.pi * k / shape
        return scale ** k * x / math.sin(x)

    def p_overrun(self, estimate: float | None = None) -> float:
        """P(ratio > 1): the chance the task takes longer than estimated."""
        return float(1 - self.cdf(1.0, estimate))

    def sample(self, size: int, *, rng: Any = None,
               estimate: ArrayLike | None = None) -> FloatArray:
        """``size`` ratios drawn by inverse CDF from ``np.random.default_rng(rng)``."""
        return self.ppf(np.random.default_rng(rng).random(size), estimate)

    # -- plain data -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain, YAML-safe types; :meth:`from_dict` rebuilds an equal model."""
        d = asdict(self)
        d["values"] = list(self.values)
        d["candidates"] = [asdict(c) for c in self.candidates]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RatioModel:
        """The model from :meth:`to_dict` output; unknown keys are an error."""
        unknown = set(d) - set(cls.__dataclass_fields__)
        _check(not unknown, f"unknown ratio-model keys {sorted(unknown)}")
        cands = tuple(Candidate(**dict(c)) for c in d.get("candidates", ()))
        return cls(family=str(d["family"]), params=dict(d["params"]),
                   p_exact=d["p_exact"], slope=d["slope"], ref_estimate=d["ref_estimate"],
                   n=d["n"], exact_slope=d.get("exact_slope", 0.0),
                   spread_slope=d.get("spread_slope", 0.0),
                   spread_center=d.get("spread_center", 1.0),
                   values=tuple(d.get("values", ())), candidates=cands,
                   source=str(d.get("source", "own")))


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
    return {_PARAMS[family][0]: float(shape), "scale": float(scale)}


def _anderson_darling(z_sorted: FloatArray, dist: Any) -> float:
    n = z_sorted.size
    i = np.arange(1, n + 1)
    terms = (2 * i - 1) * (dist.logcdf(z_sorted) + dist.logsf(z_sorted)[::-1])
    return float(-n - np.mean(terms))


def _candidate(family: str, z: FloatArray, base_ll: float, k_extra: int,
               n: int) -> Candidate | None:
    """``family`` fitted to ``z``; ``None`` when the fit fails or is degenerate."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            params = _mle(family, z)
    except (ValueError, RuntimeError, FloatingPointError, OverflowError):
        return None
    if not all(math.isfinite(v) and v > 0 for v in params.values()):
        return None
    dist = _frozen(family, params)
    with np.errstate(all="ignore"):
        loglik = base_ll + float(np.sum(dist.logpdf(z)))
        if not math.isfinite(loglik):
            return None
        ks = stats.kstest(z, dist.cdf)
        ad = _anderson_darling(np.sort(z), dist)
    k = 2 + k_extra
    return Candidate(family, params, loglik, aic=2 * k - 2 * loglik,
                     bic=k * math.log(n) - 2 * loglik, ks=float(ks.statistic),
                     ks_pvalue=float(ks.pvalue), ad=ad)


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


def _spread_slope(residual: FloatArray, rel_estimate: FloatArray,
                  all_estimates: FloatArray) -> float:
    """The slope of ``log |residual|`` on ``log(estimate / ref)``, or 0 when it is not
    significant (p >= 0.01) or not material (see the module docstring)."""
    keep = np.abs(residual) > 1e-9
    log_e = np.log(rel_estimate[keep])
    if log_e.size < MIN_CONTINUOUS or np.ptp(log_e) == 0:
        return 0.0
    fit = stats.linregress(log_e, np.log(np.abs(residual[keep])))
    q25, q75 = np.percentile(all_estimates, [25, 75])
    if fit.pvalue < SLOPE_ALPHA and abs(float(fit.slope) * math.log(q75 / q25)) > math.log(
            SLOPE_MATERIAL):
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


def fit_ratio_model(ratio: ArrayLike, estimate: ArrayLike | None = None, *,
                    families: Sequence[str] = FAMILIES, select: str = "bic",
                    empirical_min: int = 200) -> RatioModel:
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
    r = _positive("ratio", ratio)
    e = None if estimate is None else _positive("estimate", estimate)
    _check(e is None or e.size == r.size,
           f"estimate has {0 if e is None else e.size} values, ratio {r.size}")
    fams = tuple(dict.fromkeys(families))
    _check(bool(fams) and set(fams) <= set(FAMILIES),
           f"families {list(families)} must be a non-empty subset of {list(FAMILIES)}")
    _check(select in _SELECT, f"select={select!r} must be one of {list(_SELECT)}")
    exact = np.abs(r - 1.0) < EXACT_TOL
    x, n, n1 = r[~exact], r.size, int(exact.sum())
    if x.size < MIN_CONTINUOUS:
        raise PmosimError(f"{n} ratios of which {x.size} differ from 1: at least "
                          f"{MIN_CONTINUOUS} are needed to fit a distribution")
    p, slope, exact_slope, ref = n1 / n, 0.0, 0.0, 1.0
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
    base_ll = float(np.sum(np.log(z) - np.log(k) - np.log(x)))  # log |dz/dratio|
    if exact_slope != 0:
        assert e is not None
        base_ll += _bernoulli_ll(exact, special.expit(special.logit(p) + exact_slope
                                                      * np.log(e / ref)))
    elif n1:
        base_ll += n1 * math.log(p) + x.size * math.log1p(-p)
    k_extra = int(n1 > 0) + int(slope != 0) + int(exact_slope != 0) + int(spread != 0)
    cands = [c for f in fams if (c := _candidate(f, z, base_ll, k_extra, n)) is not None]
    if not cands:
        raise PmosimError(f"no family in {list(fams)} could be fitted to {x.size} ratios")
    cands.sort(key=lambda c: (c.bic if select == "bic" else c.aic))
    best = cands[0]
    model = RatioModel(best.family, best.params, p_exact=p, slope=slope, ref_estimate=ref,
                       n=n, exact_slope=exact_slope, spread_slope=spread,
                       spread_center=math.exp(center) if spread else 1.0,
                       candidates=tuple(cands))
    if x.size >= empirical_min and all(c.ks_pvalue < KS_ALPHA for c in cands):
        return replace(model, family="empirical", params={}, values=_thinned(np.sort(z)))
    return model
