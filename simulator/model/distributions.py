"""Duration, effort and impact distributions as small validated value objects.

Every distribution samples by its inverse CDF (``ppf``) from uniforms supplied by the caller,
so one mechanism serves independent streams and Gaussian-copula correlation alike.
Parameters are checked on construction; ``mean`` and ``variance`` are analytic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray
from scipy import special

__all__ = [
    "Distribution",
    "Empirical",
    "Exponential",
    "Fixed",
    "LogNormal",
    "Normal",
    "Pert",
    "Triangular",
    "Uniform",
]

Z90 = float(special.ndtri(0.9))  # 1.2815515655446004

FloatArray = NDArray[np.float64]


class Distribution:
    """Base class: a non-negative random quantity sampled through its inverse CDF."""

    kind: ClassVar[str] = ""
    is_constant: ClassVar[bool] = False

    def ppf(self, u: FloatArray) -> FloatArray:
        """Quantiles at probabilities ``u`` (values in [0, 1))."""
        raise NotImplementedError

    def draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        """``size`` independent draws from ``rng`` (inverse CDF unless a family has a
        faster exact sampler)."""
        return self.ppf(rng.random(size))

    def sf(self, x: float) -> float:
        """``P(X > x)``; families with an unbounded tail compute it exactly, so that a
        draw beyond a far quantile (a task running far beyond its estimate) stays exact."""
        return 1.0 - self.cdf(x)

    def isf(self, q: FloatArray) -> FloatArray:
        """The inverse of :meth:`sf`: values exceeded with probability ``q``."""
        return self.ppf(1.0 - np.asarray(q, dtype=float))

    @property
    def most_likely(self) -> float:
        """The value a deterministic schedule uses: the mode where the family has one as a
        parameter (three-point estimates), otherwise the median."""
        mode = getattr(self, "mode", None)
        return float(mode) if mode is not None else float(self.ppf(np.array([0.5]))[0])

    def cdf(self, x: float) -> float:
        """``P(X <= x)``, by bisection on the (monotone) inverse CDF, to within 2**-52: one
        way for every family, including calibrated and empirical ones."""
        lo, hi = 0.0, 1.0
        for _ in range(52):
            mid = 0.5 * (lo + hi)
            if self.ppf(np.array([mid]))[0] <= x:
                lo = mid
            else:
                hi = mid
        return lo

    @property
    def mean(self) -> float:
        raise NotImplementedError

    @property
    def variance(self) -> float:
        raise NotImplementedError


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _finite(**values: float) -> None:
    for name, v in values.items():
        _check(math.isfinite(v), f"{name}={v} must be a finite number")


@dataclass(frozen=True)
class Fixed(Distribution):
    """A constant."""

    value: float
    kind: ClassVar[str] = "fixed"
    is_constant: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _finite(value=self.value)
        _check(self.value >= 0, f"value={self.value} must be >= 0")

    def ppf(self, u: FloatArray) -> FloatArray:
        return np.full(np.shape(u), float(self.value))

    @property
    def mean(self) -> float:
        return float(self.value)

    @property
    def variance(self) -> float:
        return 0.0


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform on [low, high]."""

    low: float
    high: float
    kind: ClassVar[str] = "uniform"

    def __post_init__(self) -> None:
        _finite(low=self.low, high=self.high)
        _check(self.low >= 0, f"low={self.low} must be >= 0")
        _check(self.low <= self.high, f"low={self.low} must not exceed high={self.high}")

    def ppf(self, u: FloatArray) -> FloatArray:
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12


def _check_three_point(low: float, mode: float, high: float) -> None:
    _finite(low=low, mode=mode, high=high)
    _check(low >= 0, f"low={low} must be >= 0")
    _check(low <= mode, f"low={low} must not exceed mode={mode}")
    _check(mode <= high, f"mode={mode} must not exceed high={high}")


@dataclass(frozen=True)
class Triangular(Distribution):
    """Triangular with minimum ``low``, most likely ``mode`` and maximum ``high``."""

    low: float
    mode: float
    high: float
    kind: ClassVar[str] = "triangular"

    def __post_init__(self) -> None:
        _check_three_point(self.low, self.mode, self.high)

    def ppf(self, u: FloatArray) -> FloatArray:
        a, c, b = self.low, self.mode, self.high
        u = np.asarray(u, dtype=float)
        if b == a:
            return np.full(u.shape, float(a))
        fc = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1 - u) * (b - a) * (b - c))
        return np.where(u < fc, left, right)

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def variance(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18


@dataclass(frozen=True)
class Pert(Distribution):
    """Beta-PERT: a beta on [low, high] with mean (low + shape*mode + high)/(shape + 2)."""

    low: float
    mode: float
    high: float
    shape: float = 4.0
    kind: ClassVar[str] = "pert"

    def __post_init__(self) -> None:
        _check_three_point(self.low, self.mode, self.high)
        _finite(shape=self.shape)
        _check(self.shape > 0, f"shape={self.shape} must be > 0")

    @property
    def _ab(self) -> tuple[float, float]:
        span = self.high - self.low
        alpha = 1 + self.shape * (self.mode - self.low) / span
        beta = 1 + self.shape * (self.high - self.mode) / span
        return alpha, beta

    def ppf(self, u: FloatArray) -> FloatArray:
        u = np.asarray(u, dtype=float)
        if self.high == self.low:
            return np.full(u.shape, float(self.low))
        alpha, beta = self._ab
        return self.low + (self.high - self.low) * special.betaincinv(alpha, beta, u)

    def draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        if self.high == self.low:
            return np.full(size, float(self.low))
        alpha, beta = self._ab  # numpy's beta sampler: exact, ~20x faster than betaincinv
        return self.low + (self.high - self.low) * rng.beta(alpha, beta, size)

    @property
    def mean(self) -> float:
        return (self.low + self.shape * self.mode + self.high) / (self.shape + 2)

    @property
    def variance(self) -> float:
        if self.high == self.low:
            return 0.0
        alpha, beta = self._ab
        span = self.high - self.low
        return span**2 * alpha * beta / ((alpha + beta) ** 2 * (alpha + beta + 1))


@dataclass(frozen=True)
class Normal(Distribution):
    """Normal(mean, sd) truncated to values >= 0 (``mu``/``sigma`` are the untruncated ones)."""

    mu: float
    sigma: float
    kind: ClassVar[str] = "normal"

    def __post_init__(self) -> None:
        _finite(mean=self.mu, sd=self.sigma)
        _check(self.sigma > 0, f"sd={self.sigma} must be > 0")
        _check(
            self.mu / self.sigma > -30,
            f"mean={self.mu} lies too far below 0 for sd="
            f"{self.sigma}: almost no probability is left after truncating at 0",
        )

    @property
    def _a(self) -> float:
        return -self.mu / self.sigma  # the truncation point in standard units

    def ppf(self, u: FloatArray) -> FloatArray:
        # through the upper tail, P(Z > a) = ndtr(-a): accurate however far 0 is from mu
        tail = (1 - np.asarray(u, dtype=float)) * special.ndtr(-self._a)
        return np.maximum(self.mu - self.sigma * special.ndtri(tail), 0.0)

    def sf(self, x: float) -> float:
        if x < 0:
            return 1.0
        return float(special.ndtr(-(x - self.mu) / self.sigma) / special.ndtr(-self._a))

    def isf(self, q: FloatArray) -> FloatArray:
        tail = np.asarray(q, dtype=float) * special.ndtr(-self._a)
        return np.maximum(self.mu - self.sigma * special.ndtri(tail), 0.0)

    @property
    def _hazard(self) -> float:
        a = self._a
        return float(np.exp(-a * a / 2) / np.sqrt(2 * np.pi) / special.ndtr(-a))

    @property
    def mean(self) -> float:
        return self.mu + self.sigma * self._hazard

    @property
    def variance(self) -> float:
        h = self._hazard
        return self.sigma**2 * (1 + self._a * h - h * h)


@dataclass(frozen=True)
class LogNormal(Distribution):
    """Lognormal with log-mean ``mu`` and log-sd ``sigma``; built by :meth:`from_mean_sd`
    or :meth:`from_p10_p90`."""

    mu: float
    sigma: float
    kind: ClassVar[str] = "lognormal"

    def __post_init__(self) -> None:
        _finite(mu=self.mu, sigma=self.sigma)
        _check(self.sigma >= 0, f"sigma={self.sigma} must be >= 0")

    @classmethod
    def from_mean_sd(cls, mean: float, sd: float) -> LogNormal:
        _finite(mean=mean, sd=sd)
        _check(mean > 0, f"mean={mean} must be > 0")
        _check(sd >= 0, f"sd={sd} must be >= 0")
        s2 = math.log1p((sd / mean) ** 2)
        return cls(math.log(mean) - s2 / 2, math.sqrt(s2))

    @classmethod
    def from_p10_p90(cls, p10: float, p90: float) -> LogNormal:
        _finite(p10=p10, p90=p90)
        _check(p10 > 0, f"p10={p10} must be > 0")
        _check(p10 <= p90, f"p10={p10} must not exceed p90={p90}")
        lo, hi = math.log(p10), math.log(p90)
        return cls((lo + hi) / 2, (hi - lo) / (2 * Z90))

    def ppf(self, u: FloatArray) -> FloatArray:
        return np.exp(self.mu + self.sigma * special.ndtri(np.asarray(u, dtype=float)))

    def sf(self, x: float) -> float:
        if x <= 0:
            return 1.0
        if self.sigma == 0:
            return 1.0 if x < math.exp(self.mu) else 0.0
        return float(special.ndtr(-(math.log(x) - self.mu) / self.sigma))

    def isf(self, q: FloatArray) -> FloatArray:
        return np.exp(self.mu - self.sigma * special.ndtri(np.asarray(q, dtype=float)))

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)

    @property
    def variance(self) -> float:
        return math.expm1(self.sigma**2) * math.exp(2 * self.mu + self.sigma**2)


@dataclass(frozen=True)
class Exponential(Distribution):
    """``low`` plus an exponential with mean ``scale`` (so the mean is ``low + scale``)."""

    scale: float
    low: float = 0.0
    kind: ClassVar[str] = "exponential"

    def __post_init__(self) -> None:
        _finite(scale=self.scale, low=self.low)
        _check(self.scale > 0, f"scale={self.scale} must be > 0")
        _check(self.low >= 0, f"low={self.low} must be >= 0")

    def ppf(self, u: FloatArray) -> FloatArray:
        return self.low - self.scale * np.log1p(-np.asarray(u, dtype=float))

    def sf(self, x: float) -> float:
        return 1.0 if x <= self.low else math.exp(-(x - self.low) / self.scale)

    def isf(self, q: FloatArray) -> FloatArray:
        return self.low - self.scale * np.log(np.asarray(q, dtype=float))

    @property
    def mean(self) -> float:
        return self.low + self.scale

    @property
    def variance(self) -> float:
        return self.scale**2


@dataclass(frozen=True)
class Empirical(Distribution):
    """Resamples the listed values with equal probability."""

    values: tuple[float, ...]
    kind: ClassVar[str] = "empirical"

    def __post_init__(self) -> None:
        _check(len(self.values) > 0, "values must list at least one number")
        for i, v in enumerate(self.values):
            _finite(**{f"values[{i}]": v})
            _check(v >= 0, f"values[{i}]={v} must be >= 0")

    def ppf(self, u: FloatArray) -> FloatArray:
        arr = np.asarray(self.values, dtype=float)
        idx = np.minimum((np.asarray(u, dtype=float) * len(arr)).astype(np.int64), len(arr) - 1)
        return arr[idx]

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def variance(self) -> float:
        return float(np.var(self.values))
