"""The scenario file's typed schema (pydantic), as the user writes it.

This module describes the file, nothing more: cross-references, cycles and capacity checks
live in the builders of :mod:`simulator.scenario`, which turn a validated
:class:`ScenarioFile` into the :class:`simulator.model.Portfolio` the engines run.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    field_validator,
    model_validator,
)

from ..model.distributions import (
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

__all__ = [
    "CalendarSpec",
    "DistSpec",
    "PoolSpec",
    "ProjectSpec",
    "RiskSpec",
    "ScenarioFile",
    "SearchSpec",
    "TaskSpec",
    "When",
]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _when(value: Any) -> dt.date | float:
    """A point in time: an ISO date, or a number of working days since the scenario start."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError as e:
            raise ValueError(f"'{value}' is not a valid calendar date") from e
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"expected a date YYYY-MM-DD or a number of working days, got {value!r}"
        ) from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"working-day offset must be a finite number >= 0, got {value!r}")
    return number


When = Annotated[dt.date | float, PlainValidator(_when)]
NonNeg = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
Id = Annotated[str, Field(min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --- distributions -------------------------------------------------------------------------


class _Params(Strict):
    def build(self) -> Distribution:
        raise NotImplementedError

    @model_validator(mode="after")
    def _valid(self) -> _Params:
        self.build()  # raises ValueError naming the parameter and the rule
        return self


class UniformP(_Params):
    low: float
    high: float

    def build(self) -> Distribution:
        return Uniform(self.low, self.high)


class ThreePointP(_Params):
    low: float
    mode: float
    high: float


class TriangularP(ThreePointP):
    def build(self) -> Distribution:
        return Triangular(self.low, self.mode, self.high)


class PertP(ThreePointP):
    shape: float = 4.0

    def build(self) -> Distribution:
        return Pert(self.low, self.mode, self.high, self.shape)


class NormalP(_Params):
    mean: float
    sd: float

    def build(self) -> Distribution:
        return Normal(self.mean, self.sd)


class LogNormalP(_Params):
    mean: float | None = None
    sd: float | None = None
    p10: float | None = None
    p90: float | None = None

    def build(self) -> Distribution:
        by_moments = self.mean is not None and self.sd is not None
        by_quantiles = self.p10 is not None and self.p90 is not None
        others = [k for k in ("mean", "sd", "p10", "p90") if getattr(self, k) is not None]
        if by_moments and len(others) == 2:
            return LogNormal.from_mean_sd(self.mean, self.sd)  # type: ignore[arg-type]
        if by_quantiles and len(others) == 2:
            return LogNormal.from_p10_p90(self.p10, self.p90)  # type: ignore[arg-type]
        raise ValueError("give either {mean, sd} or {p10, p90}")


class ExponentialP(_Params):
    """``mean`` is the distribution's mean; ``low`` shifts its start (mean > low)."""

    mean: float
    low: float = 0.0

    def build(self) -> Distribution:
        if not self.mean > self.low:
            raise ValueError(f"mean={self.mean} must exceed low={self.low}")
        return Exponential(self.mean - self.low, self.low)


class EmpiricalP(_Params):
    values: list[float]

    def build(self) -> Distribution:
        return Empirical(tuple(self.values))


class DistSpec(Strict):
    """Exactly one of the distribution families, e.g. ``{pert: {low: 5, mode: 8, high: 15}}``."""

    fixed: float | None = None
    uniform: UniformP | None = None
    triangular: TriangularP | None = None
    pert: PertP | None = None
    normal: NormalP | None = None
    lognormal: LogNormalP | None = None
    exponential: ExponentialP | None = None
    empirical: Annotated[EmpiricalP, BeforeValidator(lambda v: _empirical(v))] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> DistSpec:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            allowed = ", ".join(type(self).model_fields)
            got = ", ".join(given) if given else "none"
            raise ValueError(f"give exactly one distribution ({allowed}); got {got}")
        if self.fixed is not None:
            Fixed(self.fixed)
        return self

    def build(self) -> Distribution:
        """The validated :class:`Distribution` (raises ValueError on bad parameters)."""
        if self.fixed is not None:
            return Fixed(self.fixed)
        for name in type(self).model_fields:
            params = getattr(self, name)
            if params is not None:
                built: Distribution = params.build()
                return built
        raise AssertionError("unreachable: validated to hold one family")


def _empirical(value: Any) -> Any:
    return {"values": value} if isinstance(value, list) else value


DIST_TAGS = ("<number>", "<distribution>")


def _is_scalar(value: Any) -> str:
    return "<number>" if not isinstance(value, dict | list) else "<distribution>"


Dist = Annotated[
    Annotated[float, Field(ge=0), Tag("<number>")] | Annotated[DistSpec, Tag("<distribution>")],
    Discriminator(_is_scalar),
]


# --- calendar, pools ------------------------------------------------------------------------


class ExceptionSpec(Strict):
    """A day worked for a number of hours (0: not worked)."""

    date: dt.date
    hours: Annotated[float, Field(ge=0, le=24)]


class CalendarSpec(Strict):
    """``workweek``: ``Mon-Fri``, ``Sun-Thu``, a list of day names, or a 7-character mask
    such as ``1111100``; ``holidays``: dates that are not worked; ``working_days``: extra
    full working days; ``exceptions``: days worked for some hours; ``hours_per_day``: the
    hours of a full working day."""

    workweek: str | list[str] = "Mon-Fri"
    holidays: list[dt.date] = []
    working_days: list[dt.date] = []
    exceptions: list[ExceptionSpec] = []
    hours_per_day: Annotated[float, Field(gt=0, le=24)] = 8.0


def _calendar_kind(value: Any) -> str:
    return "<calendar name>" if isinstance(value, str) else "<calendar>"


CALENDAR_TAGS = ("<calendar>", "<calendar name>")
UNION_TAGS = (*DIST_TAGS, *CALENDAR_TAGS)  # pydantic's union branches in error locations

CalendarRef = Annotated[
    Annotated[CalendarSpec, Tag("<calendar>")] | Annotated[str, Tag("<calendar name>")],
    Discriminator(_calendar_kind),
]


class CapacityChange(Strict):
    at: When
    capacity: NonNeg


class PoolSpec(Strict):
    name: str | None = None
    capacity: NonNeg
    cost_per_day: NonNeg = 0.0
    changes: list[CapacityChange] = []
    calendar: str | None = None


# --- projects and tasks ---------------------------------------------------------------------


class Link(Strict):
    """``id`` must finish (``FS``), start (``SS``) before this task starts, or finish
    (``FF``), start (``SF``) before it finishes, ``lag`` working days earlier (negative: a
    lead), in the successor's calendar unless ``calendar`` names another."""

    id: Id
    type: Literal["FS", "SS", "FF", "SF"] = "FS"
    lag: Annotated[float, Field(allow_inf_nan=False)] | None = None
    calendar: str | None = None


def _link(value: Any) -> Any:
    return {"id": value} if isinstance(value, str) else value


LinkItem = Annotated[Link, BeforeValidator(_link)]


class TaskSpec(Strict):
    id: Id
    name: str | None = None
    duration: Dist | None = None
    effort: Dist | None = None
    estimate: Positive | None = None
    klass: str | None = Field(default=None, alias="class")
    resources: dict[str, Positive] = {}
    after: list[LinkItem] = []
    lag: NonNeg = 0.0
    cost: NonNeg = 0.0
    milestone: bool = False
    calendar: str | None = None
    start_no_earlier_than: When | None = None
    must_start_on: When | None = None
    finish_no_later_than: When | None = None
    actual_start: When | None = None
    actual_finish: When | None = None
    remaining: Dist | None = None
    percent_complete: Annotated[float, Field(ge=0, lt=100)] | None = None
    wbs: str | None = None
    codes: dict[str, str] = {}

    @model_validator(mode="after")
    def _one_size(self) -> TaskSpec:
        given = [x for x in (self.duration, self.effort, self.estimate) if x is not None]
        if self.milestone:
            if given or self.resources:
                raise ValueError("a milestone takes no time and no resources: remove them")
        elif len(given) != 1:
            raise ValueError(
                "give one of duration (working days), effort (person-days) or "
                "estimate (working days, calibrated by history), or milestone: true"
            )
        if self.klass is not None and self.estimate is None:
            raise ValueError(
                "class goes with estimate: the reference class whose history calibrates it"
            )
        if self.effort is not None and not self.resources:
            raise ValueError("effort needs resources: duration = effort / units assigned")
        return self


class ProjectSpec(Strict):
    id: Id
    name: str | None = None
    priority: Annotated[int, Field(ge=1)] = 1
    start: When | None = None
    deadline: When | None = None
    budget: NonNeg | None = None
    cost: NonNeg = 0.0
    overhead_per_day: NonNeg = 0.0
    value_per_month: NonNeg = 0.0
    after: list[LinkItem] = []
    correlation: Annotated[float, Field(ge=0, le=1)] | None = None
    tasks: Annotated[list[TaskSpec], Field(min_length=1)]


# --- risks and correlation ------------------------------------------------------------------


class CapacityLoss(Strict):
    pool: str
    units: Positive
    at: When
    days: Dist


class RiskSpec(Strict):
    id: Id
    name: str | None = None
    probability: Annotated[float, Field(ge=0, le=1)]
    affects: list[str] = []
    delay: Dist | None = None
    delay_percent: Dist | None = None
    cost: Dist | None = None
    capacity_loss: CapacityLoss | None = None
    apply: Literal["each", "once"] = "each"
    cost_split: Literal["each", "share"] = "each"

    @model_validator(mode="after")
    def _has_effect(self) -> RiskSpec:
        if self.delay is not None and self.delay_percent is not None:
            raise ValueError("give delay (working days) or delay_percent, not both")
        if (self.delay is not None or self.delay_percent is not None) and not self.affects:
            raise ValueError("a delay needs affects: the tasks it delays")
        if all(x is None for x in (self.delay, self.delay_percent, self.cost, self.capacity_loss)):
            raise ValueError(
                "give at least one impact: delay, delay_percent, cost or capacity_loss"
            )
        if self.cost is not None and not self.affects:
            raise ValueError("a cost needs affects: the projects that pay it")
        return self


class CorrelationSpec(Strict):
    id: Id
    tasks: Annotated[list[str], Field(min_length=1)]
    rho: Annotated[float, Field(ge=0, le=1)]


# --- the file -------------------------------------------------------------------------------

# --- variants ------------------------------------------------------------------------------


class CapacityEdit(Strict):
    """``{delta: +1}`` or ``{set: 4}``, from a date or working day on (default: the start)."""

    delta: float | None = None
    set_: Annotated[NonNeg | None, Field(alias="set")] = None
    from_: Annotated[When | None, Field(alias="from")] = None

    @model_validator(mode="after")
    def _one(self) -> CapacityEdit:
        if (self.delta is None) == (self.set_ is None):
            raise ValueError(
                "give one of delta (units added, may be negative) or set (the new capacity)"
            )
        return self


class Mitigation(Strict):
    """A risk mitigation: new probability and/or impact factor, at a cost."""

    probability: Annotated[float, Field(ge=0, le=1)] | None = None
    impact: Annotated[float, Field(ge=0)] | None = None
    cost: NonNeg = 0.0
    charge_to: Id | None = None


def _capacity_arg(value: Any) -> Any:
    """``+1`` / ``-2`` (text with a sign) is a change, a bare number the new capacity."""
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            return value
        return {"delta": number} if text[:1] in "+-" else {"set": number}
    if isinstance(value, int | float):
        return {"set": value}
    return value


CapacityArg = Annotated[CapacityEdit, BeforeValidator(_capacity_arg)]


class VariantSpec(Strict):
    name: Id
    description: str | None = None
    include: list[Id] = []
    postpone: dict[str, When] = {}
    cancel: list[Id] = []
    priority: dict[str, Annotated[int, Field(ge=1)]] = {}
    capacity: dict[str, CapacityArg] = {}
    remove_tasks: list[Id] = []
    deadline: dict[str, When] = {}
    budget: dict[str, NonNeg] = {}
    mitigate: dict[str, Mitigation] = {}


class MatchSpec(Strict):
    """Which imported tasks a rule covers: shell-style patterns on the task's id, name,
    calendar, WBS path, resources (any of its pools) and activity codes or user fields
    (``code: {DISCIPLINE: "Civil*"}``); every one given must match."""

    id: str | None = None
    name: str | None = None
    calendar: str | None = None
    wbs: str | None = None
    resource: str | None = None
    code: dict[str, str] = {}


_CLASS_FIELDS = ("wbs", "calendar", "resource", "name")


class RuleSpec(Strict):
    """An uncertainty rule for the imported tasks it matches: ``duration``, a multiplier of
    their planned (and remaining) duration, e.g. ``{pert: {low: 0.9, mode: 1, high: 1.4}}``;
    or a reference class of the scenario's calibration, named (``class``) or read from
    each task (``class_from: activity_code.DISCIPLINE``, or ``wbs``, ``calendar``,
    ``resource``, ``name``), so that history calibrates the imported durations."""

    match: MatchSpec = MatchSpec()
    duration: Dist | None = None
    klass: str | None = Field(default=None, alias="class")
    class_from: str | None = None

    @model_validator(mode="after")
    def _one_law(self) -> RuleSpec:
        given = [x for x in (self.duration, self.klass, self.class_from) if x is not None]
        if len(given) != 1:
            raise ValueError(
                "give one of duration (a multiplier), class or class_from (a calibrated "
                "reference class)"
            )
        source = self.class_from
        if source is not None and source not in _CLASS_FIELDS:
            kind, _, name = source.partition(".")
            if kind not in ("activity_code", "code") or not name:
                raise ValueError(
                    f"class_from={source!r}: expected activity_code.NAME (or code.NAME), "
                    f"{', '.join(_CLASS_FIELDS)}"
                )
        return self


class PlanSpec(Strict):
    """A plan file (MS Project, P6 XER or XML, a task list or tracker export) merged into the
    scenario; ``columns`` maps a task list's columns (as its ``.mapping.yaml`` would)."""

    file: Annotated[str, Field(min_length=1)]
    projects: list[str] = []
    uncertainty: list[RuleSpec] = []
    columns: dict[str, str | list[str] | None] = {}


class PlansPart(Strict):
    """The ``plans`` section alone, validated before the plans are merged in."""

    plans: list[PlanSpec] = []


class AlertsSpec(Strict):
    """Early-warning thresholds (``run`` and ``trend`` report them)."""

    p_on_time_below: Annotated[float, Field(gt=0, le=1)] | None = None
    p80_slip_days: NonNeg | None = None


# --- decision search -----------------------------------------------------------------------


class PostponeRange(Strict):
    """Postpone by 0, ``step``, 2 ``step``, ... up to ``max`` working days."""

    max: Positive
    step: Positive


class HireRange(Strict):
    """Add 0 to ``max`` units from ``from`` (default: the start) at ``cost_per_day`` a unit
    (default: the pool's)."""

    max: Annotated[int, Field(ge=1, le=100)]
    from_: Annotated[When | None, Field(alias="from")] = None
    cost_per_day: NonNeg | None = None


class SearchConstraints(Strict):
    p_on_time: dict[str, Annotated[float, Field(gt=0, le=1)]] = {}
    budget: NonNeg | None = None
    cost_p80: NonNeg | None = None
    max_cancel: Annotated[int, Field(ge=0)] | None = None


class SelectionSpec(Strict):
    finalists: Annotated[int, Field(ge=1, le=50)] = 5
    delta: Positive | None = None
    confidence: Annotated[float, Field(ge=0.5, lt=1)] = 0.95
    max_iterations: Annotated[int, Field(ge=1000, le=10_000_000)] = 20_000


class SearchSpec(Strict):
    """The levers of ``pmosim search``, its objective and its constraints."""

    postpone: dict[str, PostponeRange] = {}
    cancel: list[Id] = []
    priority: dict[str, Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1)]] = {}
    capacity: dict[str, HireRange] = {}
    include: list[Id] = []
    objective: Literal["net_value", "on_time", "cost_p80"] = "net_value"
    on_time: list[Id] | None = None
    constraints: SearchConstraints = SearchConstraints()
    selection: SelectionSpec = SelectionSpec()


class ScenarioFile(Strict):
    scenario: str = "scenario"
    description: str | None = None
    calibration: str | None = None
    currency: str = ""
    start: dt.date | None = None
    status_date: When | None = None
    calendar: CalendarRef = CalendarSpec()
    calendars: dict[str, CalendarSpec] = {}
    priority_rule: Literal["lft", "order"] = "lft"
    iterations: Annotated[int, Field(ge=1, le=10_000_000)] = 1000
    seed: Annotated[int, Field(ge=0)] | None = None
    resources: dict[str, PoolSpec] = {}
    projects: Annotated[list[ProjectSpec], Field(min_length=1)]
    risks: list[RiskSpec] = []
    correlations: list[CorrelationSpec] = []
    variants: list[VariantSpec] = []
    value_horizon: When | None = None
    alerts: AlertsSpec = AlertsSpec()
    search: SearchSpec | None = None

    @field_validator("start", mode="before")
    @classmethod
    def _start_is_date(cls, value: Any) -> Any:
        if isinstance(value, str) and not _DATE.match(value.strip()):
            raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")
        return value
