"""Task durations from a calibrated estimate: ``estimate x ratio``, where the ratio follows
the history of the task's reference class (:mod:`simulator.model.ratio`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .distributions import Distribution, FloatArray
from .ratio import RatioModel

__all__ = ["Calibrated"]

_GRID = (np.arange(4096) + 0.5) / 4096  # midpoints for the variance by quantiles


@dataclass(frozen=True, eq=False)
class Calibrated(Distribution):
    """``estimate`` times a ratio drawn from ``model`` (class ``klass``)."""

    estimate: float
    model: RatioModel
    klass: str
    kind: ClassVar[str] = "calibrated"

    def ppf(self, u: FloatArray) -> FloatArray:
        return self.estimate * np.asarray(
            self.model.ppf(np.asarray(u, dtype=float), self.estimate), dtype=float
        )

    @property
    def mean(self) -> float:
        return self.estimate * float(self.model.mean(self.estimate))

    @property
    def variance(self) -> float:
        return float(np.var(self.ppf(_GRID)))
