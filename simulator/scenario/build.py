"""The portfolio of a validated scenario file, built concern by concern (calendar, pools,
projects and tasks, risks, correlation groups, variants), every problem located."""

from __future__ import annotations

from pathlib import Path

from ..errors import ScenarioError
from ..model import Alerts, Portfolio
from . import schema as S
from .calibration_file import scenario_models
from .context import Context
from .parts import build_parts, build_pools
from .reach import check_reach
from .risks import build_groups, build_risks
from .search import with_search
from .variants import build_variants
from .yamlfile import Located

__all__ = ["build_portfolio"]


def build_portfolio(located: Located, spec: S.ScenarioFile, folder: Path, digest: str) -> Portfolio:
    """The portfolio ``spec`` describes.

    Raises:
        ScenarioError: every reference, date, capacity and cycle problem found; once there
            are none, a finish or cost that could reach beyond what can be shown.
    """
    ctx = Context(located, spec, folder)
    ctx.read_calendar()
    models = scenario_models(ctx)
    parts = build_parts(ctx, build_pools(ctx), models)
    risks = build_risks(ctx, parts)
    groups = build_groups(ctx, parts)
    variants = build_variants(ctx, parts, risks)
    horizon = _value_horizon(ctx)
    if ctx.problems:
        raise ScenarioError(ctx.problems)
    pf = Portfolio(
        name=spec.scenario,
        calendar=ctx.calendar,
        pools=parts.pools,
        projects=parts.projects,
        tasks=parts.tasks,
        risks=risks,
        groups=groups,
        priority_rule=spec.priority_rule,
        iterations=spec.iterations,
        seed=spec.seed,
        currency=spec.currency,
        source_hash=digest,
        variants=variants,
        value_horizon=horizon,
        warnings=tuple(str(w) for w in ctx.warnings),
        alerts=Alerts(spec.alerts.p_on_time_below, spec.alerts.p80_slip_days),
    )
    check_reach(ctx, pf)
    return with_search(ctx, pf)


def _value_horizon(ctx: Context) -> float | None:
    """Where project values stop accruing; needed once a project declares a value."""
    spec = ctx.spec
    if spec.value_horizon is not None:
        return ctx.offset(spec.value_horizon, ("value_horizon",), end=True)
    if any(p.value_per_month for p in spec.projects):
        k = next(k for k, p in enumerate(spec.projects) if p.value_per_month)
        ctx.error(
            ("projects", k, "value_per_month"),
            "project values need "
            "'value_horizon: DATE' at the top: value accrues from each finish until "
            "then",
            key=True,
        )
    return None
