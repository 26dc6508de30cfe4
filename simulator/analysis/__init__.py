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
from .forecasts import PORTFOLIO, ForecastRow, forecast_rows, working_days
from .schedule import Check, ScheduleCheck, check_schedule, cpm
from .scores import brier, coverage, pinball
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
from .trend import (
    NOISE_Z,
    Alert,
    Change,
    Forecast,
    Move,
    Score,
    accuracy,
    alerts,
    changes,
    contingency,
    counted,
    forecasts,
    move,
    moves,
)

__all__ = [
    "NOISE_Z",
    "PORTFOLIO",
    "RANKINGS",
    "Z95",
    "Alert",
    "CapacityRow",
    "Change",
    "Check",
    "Comparison",
    "Difference",
    "Forecast",
    "ForecastRow",
    "KeyDateResult",
    "Mean",
    "Move",
    "Prob",
    "ProjectResult",
    "Quantile",
    "RunSummary",
    "ScheduleCheck",
    "Score",
    "VariantResult",
    "accuracy",
    "alerts",
    "brier",
    "changes",
    "check_schedule",
    "compare",
    "contingency",
    "correlation",
    "counted",
    "coverage",
    "cpm",
    "criticality",
    "driver_rows",
    "forecast_rows",
    "forecasts",
    "metrics",
    "move",
    "moves",
    "pinball",
    "ranked",
    "risk_effects",
    "summarise",
    "working_days",
]
