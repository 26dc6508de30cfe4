"""Decision search: the plans of a :class:`~simulator.model.levers.SearchSpace` evaluated on
common random numbers, the best found, then chosen among the finalists on fresh random
numbers (:mod:`simulator.analysis.selection`).

Every candidate runs on the same sampled inputs (:func:`simulator.montecarlo.candidates.
presample`: the raw draws are made once; each candidate re-derives its inputs and re-runs
the engine), so two plans' difference is measured on the same futures.

The search is exhaustive when the space has at most ``budget`` plans. Otherwise it is
Optuna's TPE sampler (a tree-structured Parzen estimator: a Bayesian optimiser for mixed
integer and categorical spaces that models good and bad trials separately and handles
constraints), seeded from the run's seed and run one trial at a time, so the same file and
seed give the same search whatever the number of workers. Its first trials are the base
(no lever pulled) and each includable variant alone, so the search never ends below a
hand-written variant it could start from. A plan met twice is not evaluated again.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import PmosimError
from ..model import Portfolio, apply_variant
from ..model.levers import Plan, SearchSpace
from ..model.planning import plan_variant
from ..montecarlo.candidates import Presampled, evaluate, presample
from .plan_scores import PlanScores, score_plan

__all__ = ["Candidate", "Explored", "canonical", "explore", "pareto_front", "plan_runner"]

Progress = Callable[[int], None] | None


@dataclass(frozen=True)
class Candidate:
    """One evaluated plan: its objective (higher is better), mean value, mean cost (hires
    included), P(all on time), each constraint's shortfall (at most 0 when met), and the
    order it was evaluated in."""

    plan: Plan
    objective: float
    value: float
    cost: float
    p_all_on_time: float
    violations: tuple[float, ...]
    order: int

    @property
    def feasible(self) -> bool:
        return all(v <= 0 for v in self.violations)

    @property
    def rank_key(self) -> tuple[float, float, int]:
        """Feasible plans first, best objective first; then the least shortfall."""
        excess = sum(max(v, 0.0) for v in self.violations)
        return (excess, -self.objective, self.order)


@dataclass(frozen=True)
class Explored:
    """The search phase: every candidate, best first, and how it was searched."""

    candidates: tuple[Candidate, ...]
    method: str
    space_size: int
    iterations: int
    seed: int


def plan_runner(
    pf: Portfolio, space: SearchSpace, pre: Presampled, engine: str, jobs: int
) -> Callable[[Plan], PlanScores]:
    """A function scoring a plan on the draws ``pre``."""

    def run(plan: Plan) -> PlanScores:
        variant = apply_variant(pf, plan_variant(pf, space, plan))
        ev = evaluate(variant, pre, engine=engine, jobs=jobs)
        return score_plan(pf, space, plan, variant, ev)

    return run


def _candidate(space: SearchSpace, plan: Plan, s: PlanScores, order: int) -> Candidate:
    return Candidate(
        plan,
        s.objective(space.objective),
        float(np.mean(s.value)),
        float(np.mean(s.cost)),
        float(np.mean(s.all_on_time)),
        s.violations(space),
        order,
    )


def canonical(pf: Portfolio, space: SearchSpace, plan: Plan) -> Plan:
    """``plan`` with the levers of the projects it cancels at their base values (they
    change nothing), so that plans with the same effect are one plan."""
    gone = plan_variant(pf, space, plan).cancel
    if not gone:
        return plan
    postpone = tuple(
        0.0 if pk in gone else d for (pk, _), d in zip(space.postpone, plan.postpone, strict=True)
    )
    priority = tuple(
        pf.projects[pk].priority if pk in gone else v
        for (pk, _), v in zip(space.priority, plan.priority, strict=True)
    )
    return replace(plan, postpone=postpone, priority=priority)


def _too_many_cancelled(space: SearchSpace, pf: Portfolio, plan: Plan) -> bool:
    k = space.constraints.max_cancel
    return k is not None and len(plan_variant(pf, space, plan).cancel) > k


def _exhaustive(space: SearchSpace) -> Iterator[tuple[int, ...]]:
    return itertools.product(*(range(n) for n in space.dimensions))


def explore(
    pf: Portfolio,
    iterations: int,
    seed: int,
    *,
    budget: int = 200,
    engine: str = "auto",
    jobs: int = 1,
    progress: Progress = None,
) -> Explored:
    """Evaluate the plans of ``pf.search`` on common random numbers, best first."""
    space = pf.search
    if space is None:
        raise PmosimError("the scenario has no 'search:' section (see the README)")
    pre = presample(pf, iterations, seed, jobs=jobs)
    run = plan_runner(pf, space, pre, engine, jobs)
    found: dict[Plan, Candidate] = {}

    def evaluate_plan(plan: Plan) -> Candidate:
        plan = canonical(pf, space, plan)
        if plan not in found:
            found[plan] = _candidate(space, plan, run(plan), len(found))
            if progress is not None:
                progress(len(found))
        return found[plan]

    if space.size <= budget:
        method = "exhaustive"
        for choice in _exhaustive(space):
            plan = space.plan(choice)
            if not _too_many_cancelled(space, pf, plan):
                evaluate_plan(plan)
    else:
        method = "tpe"
        _tpe(pf, space, seed, budget, evaluate_plan)
    ranked = tuple(sorted(found.values(), key=lambda c: c.rank_key))
    return Explored(ranked, method, space.size, iterations, seed)


def _levers(space: SearchSpace, pf: Portfolio) -> list[tuple[str, int, bool]]:
    """``(name, choices, ordinal)`` of every lever, in :attr:`SearchSpace.dimensions` order."""
    ids = [p.id for p in pf.projects]
    out = [(f"postpone.{ids[pk]}", len(c), True) for pk, c in space.postpone]
    out += [(f"cancel.{ids[pk]}", 2, False) for pk in space.cancel]
    out += [(f"priority.{ids[pk]}", len(c), True) for pk, c in space.priority]
    out += [(f"capacity.{pf.pools[h.pool].id}", h.most + 1, True) for h in space.hire]
    if space.include:
        out.append(("include", len(space.include) + 1, False))
    return out


def _starts(space: SearchSpace, pf: Portfolio) -> list[tuple[int, ...]]:
    """The base (every lever at its base value) and each includable variant alone."""
    base: list[int] = [0] * len(space.dimensions)
    for m, (pk, choices) in enumerate(space.priority):
        own = pf.projects[pk].priority
        at = len(space.postpone) + len(space.cancel) + m
        base[at] = choices.index(own) if own in choices else 0
    starts = [tuple(base)]
    for k in range(len(space.include)):
        starts.append((*base[:-1], k + 1))
    return starts


def _tpe(
    pf: Portfolio,
    space: SearchSpace,
    seed: int,
    budget: int,
    evaluate_plan: Callable[[Plan], Candidate],
) -> None:
    """Optuna's TPE, one trial at a time, until ``budget`` plans are evaluated (or five
    times as many trials, when it keeps proposing plans already seen)."""
    optuna = _optuna()
    with warnings.catch_warnings():  # set_constraint may be marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        _trials(optuna, pf, space, seed, budget, evaluate_plan)


def _trials(
    optuna: Any,
    pf: Portfolio,
    space: SearchSpace,
    seed: int,
    budget: int,
    evaluate_plan: Callable[[Plan], Candidate],
) -> None:
    levers = _levers(space, pf)
    sampler_seed = int(np.random.SeedSequence(seed, spawn_key=(0x545045,)).generate_state(1)[0])
    sampler = optuna.samplers.TPESampler(seed=sampler_seed, n_startup_trials=min(20, budget // 4))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    for start in _starts(space, pf):
        study.enqueue_trial({name: j for (name, _, _), j in zip(levers, start, strict=True)})
    evaluated: set[Plan] = set()
    for _ in range(5 * budget):
        if len(evaluated) >= budget:
            break
        trial = study.ask()
        choice = tuple(
            trial.suggest_int(name, 0, n - 1)
            if ordinal
            else trial.suggest_categorical(name, list(range(n)))
            for name, n, ordinal in levers
        )
        plan = space.plan(choice)
        if _too_many_cancelled(space, pf, plan):
            trial.set_constraint("max_cancel", 1.0)
            study.tell(trial, -1e300)
            continue
        cand = evaluate_plan(plan)
        evaluated.add(cand.plan)
        for k, v in enumerate(cand.violations):
            trial.set_constraint(f"c{k}", v)
        study.tell(trial, cand.objective)


def _optuna() -> Any:
    """Optuna, quiet, or a one-line error naming the extra to install."""
    try:
        import optuna
    except ImportError:
        raise PmosimError(
            "this search space is larger than --budget-evals, and searching it needs "
            "Optuna: pip install 'pmosim[search]' (or raise --budget-evals to search "
            "every plan)"
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def pareto_front(candidates: tuple[Candidate, ...]) -> tuple[Candidate, ...]:
    """The candidates no other beats on value, P(all on time) and cost at once (higher
    value, higher probability, lower cost; at least as good on all, better on one)."""
    points = np.array([(c.value, c.p_all_on_time, -c.cost) for c in candidates])
    keep = []
    for k, p in enumerate(points):
        dominated = np.any(np.all(points >= p, axis=1) & np.any(points > p, axis=1))
        if not dominated:
            keep.append(candidates[k])
    return tuple(keep)
