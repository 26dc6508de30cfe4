"""Analysis: a run's per-iteration results reduced to the reported figures, each with its
Monte Carlo error (summary), what drives each finish (drivers), and decisions compared on
common random numbers (compare, risk contributions). numpy only: tables and charts are
:mod:`simulator.output`'s."""

from __future__ import annotations

from .compare import (
    RANKINGS,
    Comparison,
    Difference,
    VariantResult,
    compare,
    metrics,
    ranked,
    risk_effects,
)
from .drivers import correlation, criticality, driver_rows
from .schedule import Check, ScheduleCheck, check_schedule, cpm
from .summary import (
    Z95,
    CapacityRow,
    KeyDateResult,
    Mean,
    Prob,
    ProjectResult,
    Quantile,
    RunSummary,
    summarise,
)

__all__ = [
    "RANKINGS",
    "Z95",
    "CapacityRow",
    "Check",
    "Comparison",
    "Difference",
    "KeyDateResult",
    "Mean",
    "Prob",
    "ProjectResult",
    "Quantile",
    "RunSummary",
    "ScheduleCheck",
    "VariantResult",
    "check_schedule",
    "compare",
    "correlation",
    "cpm",
    "criticality",
    "driver_rows",
    "metrics",
    "ranked",
    "risk_effects",
    "summarise",
]
