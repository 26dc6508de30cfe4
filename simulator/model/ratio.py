"""The ratio model: the distribution of actual/estimate for one reference class, and the
models of every class of a calibration.

These are the values a calibration file holds and a scenario's ``estimate`` tasks sample
from; :mod:`calibration.fit` explains the model and fits it, :mod:`calibration.reference`
fits one model per reference class.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from .level_map import LevelMap
from .ratio_grid import LocalGrid

__all__ = [
    "EXACT_TOL",
    "FAMILIES",
    "FAMILY_PARAMS",
    "Candidate",
    "ClassModels",
    "LevelMap",
    "LocalGrid",
    "RatioModel",
    "frozen_family",
]

FloatArray = NDArray[np.float64]

FAMILIES = ("lognormal", "gamma", "weibull", "loglogistic")
EXACT_TOL = 1e-9  # |ratio - 1| below this is an 'actual = estimate' report

FAMILY_PARAMS = {
    "lognormal": ("s", "scale"),
    "gamma": ("a", "scale"),
    "weibull": ("c", "scale"),
    "loglogistic": ("c", "scale"),
}
_P_MAX = 1 - 1e-12  # P(exact) stays below 1 so the continuous part keeps some weight
_MEAN_GRID = (np.arange(4096) + 0.5) / 4096


@dataclass(frozen=True)
class _Terms:
    """The size terms of a model at some estimates: scale ``s``, P(exact) ``p``, spread
    exponent ``k`` about the centre ``c``, and (local models) the grid row."""

    s: FloatArray
    p: FloatArray
    k: FloatArray
    c: FloatArray
    row: Any


def _pair(value: Any) -> tuple[float, float] | None:
    """An ``estimate_range`` as read from a file: None, or two numbers."""
    if value is None:
        return None
    _check(
        isinstance(value, list | tuple) and len(value) == 2,
        f"estimate_range={value!r} must be two numbers",
    )
    return float(value[0]), float(value[1])


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _check_params(family: str, params: Mapping[str, float]) -> dict[str, float]:
    expected = FAMILY_PARAMS.get(family, ())
    _check(
        tuple(sorted(params)) == tuple(sorted(expected)),
        f"family {family!r} takes parameters {list(expected)}, got {list(params)}",
    )
    out = {name: float(params[name]) for name in expected}
    for name, v in out.items():
        _check(math.isfinite(v) and v > 0, f"{family} parameter {name}={v} must be finite and > 0")
    return out


def frozen_family(family: str, params: Mapping[str, float]) -> Any:
    """The scipy frozen distribution of a parametric family (scipy.stats is imported here,
    when a model is first evaluated, not when pmosim starts)."""
    from scipy import stats

    scipy_dist = {
        "lognormal": stats.lognorm,
        "gamma": stats.gamma,
        "weibull": stats.weibull_min,
        "loglogistic": stats.fisk,
    }[family]
    return scipy_dist(params[FAMILY_PARAMS[family][0]], scale=params["scale"])


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
        _check(
            self.family in FAMILIES,
            f"candidate family {self.family!r} must be one of {list(FAMILIES)}",
        )
        object.__setattr__(self, "params", _check_params(self.family, self.params))
        for name in ("loglik", "aic", "bic", "ks", "ks_pvalue", "ad"):
            object.__setattr__(self, name, float(getattr(self, name)))


@dataclass(frozen=True)
class RatioModel:
    """Distribution of actual/estimate for one reference class.

    Attributes:
        family: one of :data:`FAMILIES`, ``"empirical"`` or ``"local"`` (the history near
            each size, ``grid``; no slopes).
        params: the scipy shape/scale parameters (``{}`` for empirical and local).
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
        grid: local only: heap share and ratio quantiles per grid estimate.
        level_map: recalibrated quantile levels (``None``: as fitted); applies to the whole
            ratio, after every other part.
        estimate_range: the smallest and largest estimate the size terms were fitted on
            (``None``: not recorded). A model with a size term does not extrapolate it: at an
            estimate outside the range it takes the terms of the nearest end and widens the
            continuous part about its centre as the local model does,
            ``R = c * (Z_end / c) ** (1 + d)`` for ``d`` natural-log units beyond the range,
            ``c`` the spread centre (the geometric mean of R when there is no spread slope).

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
    grid: LocalGrid | None = field(default=None, repr=False)
    level_map: LevelMap | None = field(default=None, repr=False)
    estimate_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        self._check_family()
        if self.estimate_range is not None:
            lo, hi = (float(x) for x in self.estimate_range)
            _check(
                math.isfinite(hi) and 0 < lo <= hi,
                f"estimate_range={list(self.estimate_range)} must be two finite estimates "
                "0 < low <= high",
            )
            object.__setattr__(self, "estimate_range", (lo, hi))
        p, slope, ref = float(self.p_exact), float(self.slope), float(self.ref_estimate)
        _check(0 <= p < 1, f"p_exact={p} must be in [0, 1)")
        _check(math.isfinite(slope), f"slope={slope} must be finite")
        exact_slope = float(self.exact_slope)
        _check(
            math.isfinite(exact_slope) and (p > 0 or exact_slope == 0),
            f"exact_slope={exact_slope} must be finite, and 0 when p_exact is 0",
        )
        object.__setattr__(self, "exact_slope", exact_slope)
        spread, center = float(self.spread_slope), float(self.spread_center)
        _check(math.isfinite(spread), f"spread_slope={spread} must be finite")
        _check(
            math.isfinite(center) and center > 0, f"spread_center={center} must be finite and > 0"
        )
        object.__setattr__(self, "spread_slope", spread)
        object.__setattr__(self, "spread_center", center)
        _check(math.isfinite(ref) and ref > 0, f"ref_estimate={ref} must be finite and > 0")
        _check(int(self.n) == self.n and self.n >= 0, f"n={self.n} must be a whole number >= 0")
        object.__setattr__(self, "p_exact", p)
        object.__setattr__(self, "slope", slope)
        object.__setattr__(self, "ref_estimate", ref)
        object.__setattr__(self, "n", int(self.n))
        object.__setattr__(self, "candidates", tuple(self.candidates))

    def _check_family(self) -> None:
        """The family's own parts: a grid, values or parameters, as it needs."""
        _check(
            (self.family == "local") == (self.grid is not None),
            "a local model needs a grid, and only a local model takes one",
        )
        if self.family == "local":
            _check(not self.params and not self.values, "a local model takes no params or values")
            _check(
                self.slope == 0 and self.exact_slope == 0 and self.spread_slope == 0,
                "a local model takes no size slopes (its grid holds the size dependence)",
            )
        elif self.family == "empirical":
            _check(not self.params, f"an empirical model takes no params, got {self.params}")
            values = tuple(float(v) for v in self.values)
            _check(len(values) > 0, "an empirical model needs at least one value")
            _check(
                all(math.isfinite(v) and v > 0 for v in values),
                "empirical values must be finite and > 0",
            )
            _check(
                all(a <= b for a, b in itertools.pairwise(values)),
                "empirical values must be sorted",
            )
            object.__setattr__(self, "values", values)
        else:
            _check(
                self.family in FAMILIES,
                f"family {self.family!r} must be one of {[*FAMILIES, 'empirical']}",
            )
            _check(not self.values, f"a {self.family} model takes no values")
            object.__setattr__(self, "params", _check_params(self.family, self.params))

    # -- the continuous part R ----------------------------------------------------------

    @cached_property
    def _dist(self) -> Any:
        """The scipy frozen distribution of R (parametric families), built once."""
        return frozen_family(self.family, self.params)

    def _cont_ppf(self, v: FloatArray, row: Any = None) -> FloatArray:
        if self.grid is not None:
            return self.grid.cont_ppf(v, row)
        if self.family == "empirical":
            arr = np.asarray(self.values)
            idx = np.clip(np.ceil(v * arr.size).astype(np.int64) - 1, 0, arr.size - 1)
            return arr[idx]
        with np.errstate(over="ignore", under="ignore"):
            return np.asarray(self._dist.ppf(v), dtype=float)

    def _cont_cdf(self, x: FloatArray, row: Any = None, *, strict: bool = False) -> FloatArray:
        """P(R <= x), or P(R < x) when ``strict`` (they differ for empirical only)."""
        if self.grid is not None:
            return self.grid.cont_cdf(x, row, strict=strict)
        if self.family == "empirical":
            arr = np.asarray(self.values)
            return np.searchsorted(arr, x, side="left" if strict else "right") / arr.size
        with np.errstate(over="ignore", under="ignore"):  # far tails: 0 or 1, not a warning
            return np.asarray(self._dist.cdf(x), dtype=float)

    def _spread(self, estimate: ArrayLike | None) -> FloatArray:
        if estimate is None or self.spread_slope == 0:
            return np.asarray(1.0)
        e = self._inside(estimate)
        return np.asarray((e / self.ref_estimate) ** self.spread_slope)

    @property
    def _sized(self) -> bool:
        return self.slope != 0 or self.exact_slope != 0 or self.spread_slope != 0

    def _inside(self, estimate: ArrayLike) -> FloatArray:
        """``estimate`` held inside :attr:`estimate_range` (checked finite and > 0)."""
        e = np.asarray(estimate, dtype=float)
        _check(
            bool(np.all(e > 0)) and bool(np.all(np.isfinite(e))), "estimates must be finite and > 0"
        )
        if self.estimate_range is None:
            return e
        return np.clip(e, *self.estimate_range)

    def _widening(self, estimate: ArrayLike | None) -> FloatArray:
        """``1 + d``, ``d`` the natural-log units ``estimate`` lies beyond the range (1 inside
        it, and for a model without size terms, which has nothing to extrapolate)."""
        if estimate is None or self.estimate_range is None or not self._sized:
            return np.asarray(1.0)
        e = np.asarray(estimate, dtype=float)
        return np.asarray(1.0 + np.abs(np.log(e / self._inside(e))))

    @property
    def widening_range(self) -> tuple[float, float] | None:
        """The estimates the model's size dependence rests on: beyond them its ranges are the
        nearest end's, widened (None: the model is the same at every size)."""
        if self.grid is not None:
            return min(self.grid.estimates), max(self.grid.estimates)
        return self.estimate_range if self._sized else None

    def outside(self, estimate: float) -> bool:
        """Whether ``estimate`` lies outside :attr:`widening_range`: its ranges are then the
        nearest end's, widened."""
        fitted = self.widening_range
        return fitted is not None and not fitted[0] <= estimate <= fitted[1]

    @cached_property
    def _center(self) -> float:
        """The centre the spread terms and the widening keep: the spread centre, or without a
        spread slope the geometric mean of the continuous part."""
        return self.spread_center if self.spread_slope else math.exp(self.log_location)

    def _ratio_ppf(self, v: FloatArray, t: _Terms) -> FloatArray:
        """Quantile ``v`` of the continuous part of the ratio under the size terms ``t``."""
        z = self._cont_ppf(v, t.row)
        if self.grid is not None:
            return np.asarray(np.where(t.k == 1, z, t.c * (z / t.c) ** t.k))
        if self.spread_slope == 0:  # no spread term: widened beyond the range only
            return np.asarray(np.where(t.k == 1, t.s * z, t.s * t.c * (z / t.c) ** t.k))
        c = self.spread_center
        return np.asarray(t.s * c * (z / c) ** t.k)

    def _ratio_cdf(self, r: FloatArray, t: _Terms, *, strict: bool = False) -> FloatArray:
        """P(continuous part of the ratio <= r) (``< r`` when ``strict``)."""
        if self.grid is not None:
            x = np.where(t.k == 1, r, t.c * (r / t.c) ** (1 / t.k))
            return self._cont_cdf(x, t.row, strict=strict)
        if self.spread_slope == 0:
            x = np.where(t.k == 1, r / t.s, t.c * (r / (t.s * t.c)) ** (1 / t.k))
            return self._cont_cdf(x, strict=strict)
        c = self.spread_center
        return self._cont_cdf(c * (r / (t.s * c)) ** (1 / t.k), strict=strict)

    def _terms(self, estimate: ArrayLike | None, shape: ArrayLike) -> _Terms:
        """The size terms at ``estimate``, broadcast with ``shape``'s array."""
        if self.grid is not None:
            e = self.ref_estimate if estimate is None else estimate
            row, k = self.grid.rows(e)
            x, row, k = np.broadcast_arrays(np.asarray(shape, dtype=float), row, k)
            return _Terms(
                np.ones_like(x), self.grid.exact_share(row), k, self.grid.center(row), row
            )
        widen = self._widening(estimate)
        x, s, p, k = np.broadcast_arrays(
            np.asarray(shape, dtype=float),
            self._size(estimate),
            self.exact_share(estimate),
            self._spread(estimate) * widen,  # x * 1.0 is x: inside the range, as fitted
        )
        return _Terms(s, p, k, np.asarray(self._center), None)

    def _size(self, estimate: ArrayLike | None) -> FloatArray:
        if estimate is None or self.slope == 0:
            return np.asarray(1.0)
        return np.asarray((self._inside(estimate) / self.ref_estimate) ** self.slope)

    def exact_share(self, estimate: ArrayLike | None = None) -> FloatArray:
        """P(ratio is exactly 1) at ``estimate`` (``None``: the reference estimate)."""
        if self.grid is not None:
            e = self.ref_estimate if estimate is None else estimate
            return self.grid.exact_share(self.grid.rows(e)[0])
        if estimate is None or self.exact_slope == 0:
            return np.asarray(self.p_exact)
        e = self._inside(estimate)
        logit = special.logit(self.p_exact) + self.exact_slope * np.log(e / self.ref_estimate)
        return np.asarray(np.minimum(special.expit(logit), _P_MAX))

    @property
    def log_location(self) -> float:
        """E[log R] of the continuous part at the reference estimate."""
        if self.family == "empirical":
            return float(np.mean(np.log(self.values)))
        shape = self.params[FAMILY_PARAMS[self.family][0]]
        log_scale = math.log(self.params["scale"])
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
            return replace(
                self, values=tuple(v * factor for v in self.values), spread_center=center
            )
        return replace(
            self,
            params={**self.params, "scale": self.params["scale"] * factor},
            spread_center=center,
        )

    # -- the whole ratio ------------------------------------------------------------------

    def ppf(self, u: ArrayLike, estimate: ArrayLike | None = None) -> FloatArray:
        """Ratio quantiles at probabilities ``u`` (the exact generalised inverse of
        :meth:`cdf`: a ``u`` inside the step of the point mass gives exactly 1.0).
        ``u`` and ``estimate`` broadcast against each other."""
        u_arr = np.asarray(u, dtype=float)
        _check(bool(np.all((u_arr >= 0) & (u_arr <= 1))), "probabilities must be in [0, 1]")
        if self.level_map is not None:
            u_arr = self.level_map.forward(u_arr, estimate)
        t = self._terms(estimate, u_arr)
        u_arr, p = np.broadcast_arrays(u_arr, t.p)
        one = np.ones_like(t.s)
        below = (1 - p) * self._ratio_cdf(one, t, strict=True)  # P(ratio < 1)
        at_most = p + (1 - p) * self._ratio_cdf(one, t)  # P(ratio <= 1), as in cdf(1)
        lower = self._ratio_ppf(np.minimum(u_arr / (1 - p), 1.0), t)
        upper = self._ratio_ppf(np.clip((u_arr - p) / (1 - p), 0.0, 1.0), t)
        return np.where(
            u_arr <= below,
            np.minimum(lower, 1.0),
            np.where(u_arr <= at_most, 1.0, np.maximum(upper, 1.0)),
        )

    def cdf(
        self, r: ArrayLike, estimate: ArrayLike | None = None, *, strict: bool = False
    ) -> FloatArray:
        """P(ratio <= r), or P(ratio < r) when ``strict``."""
        t = self._terms(estimate, r)
        r_arr, p = np.broadcast_arrays(np.asarray(r, dtype=float), t.p)
        cont = self._ratio_cdf(np.maximum(r_arr, 0.0), t, strict=strict)
        heap = (r_arr > 1) if strict else (r_arr >= 1)
        base = np.asarray(p * heap + (1 - p) * cont)
        return base if self.level_map is None else self.level_map.inverse(base, estimate)

    def quantiles(self, qs: ArrayLike, estimate: ArrayLike | None = None) -> FloatArray:
        """Ratio quantiles at levels ``qs`` (same as :meth:`ppf`)."""
        return self.ppf(qs, estimate)

    def mean(self, estimate: float | None = None) -> float:
        """E[ratio] (``inf`` for a log-logistic with c <= 1, whose mean does not exist;
        local and recalibrated models: the mean of 4,096 evenly spaced quantiles)."""
        if self.grid is not None or self.level_map is not None or self._widening(estimate) != 1:
            return float(np.mean(self.ppf(_MEAN_GRID, estimate)))
        k = float(self._spread(estimate))
        c = self.spread_center if self.spread_slope else 1.0
        cont = c ** (1 - k) * self._power_mean(k)
        size, p = float(self._size(estimate)), float(self.exact_share(estimate))
        return p + (1 - p) * size * cont

    def _power_mean(self, k: float) -> float:
        """E[Z ** k] of the fitted family (``inf`` when it does not exist)."""
        if self.family == "empirical":
            return float(np.mean(np.asarray(self.values) ** k))
        shape, scale = self.params[FAMILY_PARAMS[self.family][0]], self.params["scale"]
        if self.family == "lognormal":
            return scale**k * math.exp(k * k * shape * shape / 2)
        if self.family == "gamma":
            return scale**k * math.exp(special.gammaln(shape + k) - special.gammaln(shape))
        if self.family == "weibull":
            return scale**k * math.gamma(1 + k / shape)
        if k >= shape:  # log-logistic: E[Z^k] exists only for k < c
            return math.inf
        x = math.pi * k / shape
        return scale**k * x / math.sin(x)

    def p_overrun(self, estimate: float | None = None) -> float:
        """P(ratio > 1): the chance the task takes longer than estimated."""
        return float(1 - self.cdf(1.0, estimate))

    def sample(
        self, size: int, *, rng: Any = None, estimate: ArrayLike | None = None
    ) -> FloatArray:
        """``size`` ratios drawn by inverse CDF from ``np.random.default_rng(rng)``."""
        return self.ppf(np.random.default_rng(rng).random(size), estimate)

    # -- plain data -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain, YAML-safe types; :meth:`from_dict` rebuilds an equal model."""
        d = asdict(self)
        d["values"] = list(self.values)
        d["candidates"] = [asdict(c) for c in self.candidates]
        for name in ("grid", "level_map"):
            value = getattr(self, name)
            if value is None:
                del d[name]
            else:
                d[name] = value.to_dict()
        if self.estimate_range is None:
            del d["estimate_range"]
        else:
            d["estimate_range"] = list(self.estimate_range)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RatioModel:
        """The model from :meth:`to_dict` output; unknown keys are an error."""
        unknown = set(d) - set(cls.__dataclass_fields__)
        _check(not unknown, f"unknown ratio-model keys {sorted(unknown)}")
        cands = tuple(Candidate(**dict(c)) for c in d.get("candidates", ()))
        return cls(
            family=str(d["family"]),
            params=dict(d["params"]),
            p_exact=d["p_exact"],
            slope=d["slope"],
            ref_estimate=d["ref_estimate"],
            n=d["n"],
            exact_slope=d.get("exact_slope", 0.0),
            spread_slope=d.get("spread_slope", 0.0),
            spread_center=d.get("spread_center", 1.0),
            values=tuple(d.get("values", ())),
            candidates=cands,
            source=str(d.get("source", "own")),
            grid=None if d.get("grid") is None else LocalGrid(**dict(d["grid"])),
            level_map=None if d.get("level_map") is None else LevelMap(**dict(d["level_map"])),
            estimate_range=_pair(d.get("estimate_range")),
        )


@dataclass(frozen=True)
class ClassModels:
    """Ratio models per reference class.

    Attributes:
        by: the class columns.
        overall: the model fitted on every task (the parent of every class).
        classes: the model per class key (a tuple of strings, one per ``by`` column),
            including pooled and borrowed ones.
        min_own, min_class: the pooling thresholds used.
    """

    by: tuple[str, ...]
    overall: RatioModel
    classes: dict[tuple[str, ...], RatioModel]
    min_own: int
    min_class: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "by", tuple(self.by))
        for key in self.classes:
            if not isinstance(key, tuple) or len(key) != len(self.by):
                raise ValueError(
                    f"class key {key!r} must be a tuple of {len(self.by)} "
                    f"value(s), one per column {list(self.by)}"
                )

    def model_for(self, key: str | tuple[str, ...]) -> RatioModel:
        """The model of class ``key`` (a bare string for a single class column; the empty
        tuple is the overall model).

        Raises:
            KeyError: an unknown class; the message lists the known ones.
        """
        k = (key,) if isinstance(key, str) else tuple(key)
        if k == ():
            return self.overall
        try:
            return self.classes[k]
        except KeyError:
            known = ", ".join(" / ".join(c) for c in sorted(self.classes)) or "none"
            raise KeyError(
                f"unknown class {' / '.join(k)!r} for {'/'.join(self.by) or 'no '} "
                f"columns; known classes: {known}"
            ) from None
