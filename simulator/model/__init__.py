"""The model: pure values a scenario becomes (distributions, calendar, the portfolio and its
network, variants and how they apply, calibrated ratio models). No I/O, no randomness."""

from __future__ import annotations

from .calendar import Calendar, ClockTable, WorkCalendar, parse_workweek
from .calibrated import Calibrated
from .distributions import (
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    LogNormal,
    Normal,
    Pert,
    Triangular,
    Uniform,
)
from .edits import Scaled, apply_variant, edited_pool
from .entities import LINK_KINDS, TAIL, CorrelationGroup, Link, Pool, Progress, Project, Risk, Task
from .network import (
    Network,
    PoolPairs,
    build_network,
    earliest_start,
    latest_finish,
    priority_ranks,
    topological_order,
)
from .portfolio import Alerts, KeyDate, Portfolio
from .ratio import (
    EXACT_TOL,
    FAMILIES,
    FAMILY_PARAMS,
    Candidate,
    ClassModels,
    LevelMap,
    LocalGrid,
    RatioModel,
    frozen_family,
)
from .variants import CapacityEdit, Mitigate, Variant

__all__ = [
    "EXACT_TOL",
    "FAMILIES",
    "FAMILY_PARAMS",
    "LINK_KINDS",
    "TAIL",
    "Alerts",
    "Calendar",
    "Calibrated",
    "Candidate",
    "CapacityEdit",
    "ClassModels",
    "ClockTable",
    "CorrelationGroup",
    "Distribution",
    "Empirical",
    "Exponential",
    "Fixed",
    "KeyDate",
    "LevelMap",
    "Link",
    "LocalGrid",
    "LogNormal",
    "Mitigate",
    "Network",
    "Normal",
    "Pert",
    "Pool",
    "PoolPairs",
    "Portfolio",
    "Progress",
    "Project",
    "RatioModel",
    "Risk",
    "Scaled",
    "Task",
    "Triangular",
    "Uniform",
    "Variant",
    "WorkCalendar",
    "apply_variant",
    "build_network",
    "earliest_start",
    "edited_pool",
    "frozen_family",
    "latest_finish",
    "parse_workweek",
    "priority_ranks",
    "topological_order",
]
