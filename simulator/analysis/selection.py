"""Ranking and selection: the search's finalists re-run on fresh random numbers until one is
the best with a stated confidence, and feasible with a confidence bound.

The procedure is Kim and Nelson's fully sequential KN procedure (Kim & Nelson 2001, "A
fully sequential procedure for indifference-zone selection in simulation", ACM TOMACS
11(3)), which allows common random numbers: every finalist runs on the same fresh draws,
and the variances it uses are those of *paired* differences. Its observations are means
of :data:`BATCH` iterations (for the ``cost_p80`` objective: minus their P80), so that they
are close to normal; ``n0`` = :data:`FIRST` observations first, then more in rounds of
:data:`ROUND` iterations. At stage ``r``, with ``eta = ((2 alpha / (k - 1))^(-2 / (n0 - 1))
- 1) / 2`` and ``h^2 = 2 eta (n0 - 1)``, finalist ``i`` is dropped when its mean is below
``l``'s by more than ``W = max(0, delta / (2 r) (h^2 S^2_il / delta^2 - r))``. When the best
is at least ``delta`` better than the rest, KN picks it with probability at least
``confidence = 1 - alpha``.

Feasibility (in the spirit of Andradottir & Kim 2010, constrained selection): after every
round each finalist's constraints are checked with one-sided bounds at ``alpha / m`` each
(``m`` constraints): a Clopper-Pearson bound for a P(on time), a normal bound for the mean
cost, an order-statistic bound for the cost P80. A constraint is *met* when the bound
clears it, *failed* when the opposite bound misses it, else *unsure*; a failed finalist is
dropped, and a finalist is only dropped by one whose constraints are all met. (The bounds
are checked each round, so the stated level is approximate.)

The result also gives the approximate probability of correct selection (APCS-B, Chen et
al. 2000): ``1 - sum_j Phi(-d_j / se_j)`` over the others' paired differences ``d_j`` to
the winner, and ``1 - sum_j Phi((d_j - delta) / se_j)`` for "within delta of the best".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

from ..model.levers import Plan, SearchSpace
from .plan_scores import PlanScores

__all__ = ["BATCH", "FIRST", "ROUND", "Finalist", "Selected", "kn_constants", "select"]

Array = NDArray[np.float64]
BATCH = 50  # iterations per observation
FIRST = 20  # n0: observations before the first elimination (1,000 iterations)
ROUND = 1000  # iterations added per round


@dataclass(frozen=True)
class Finalist:
    """A finalist after selection: its objective (higher is better) on the iterations the
    choice was made on, its paired difference to the winner (0 for the winner) and that
    difference's standard error, each constraint's state, and the stage it left at."""

    plan: Plan
    objective: float
    diff: float
    se: float
    feasibility: tuple[str, ...]
    eliminated: str
    iterations: int


@dataclass(frozen=True)
class Selected:
    """The outcome of selection: the finalists, winner first; whether KN ended with one
    finalist (else the iteration cap was reached, or no finalist meets the constraints);
    the probability the winner is the best, and within ``delta`` of it (APCS-B lower
    bounds); the fresh seed. ``feasible`` is False when every finalist still in was shown
    to fail a constraint: the winner is then only the best of them, not a recommendation."""

    finalists: tuple[Finalist, ...]
    decided: bool
    p_best: float
    p_within: float
    delta: float
    confidence: float
    iterations: int
    seed: int
    feasible: bool = True


def kn_constants(k: int, alpha: float, n0: int = FIRST) -> float:
    """KN's ``h^2`` for ``k`` systems, error ``alpha`` and ``n0`` first-stage observations."""
    eta = 0.5 * ((2 * alpha / max(k - 1, 1)) ** (-2 / (n0 - 1)) - 1)
    return 2 * eta * (n0 - 1)


def _batches(x: Array, objective: str) -> Array:
    b = x[: len(x) // BATCH * BATCH].reshape(-1, BATCH)
    return -np.quantile(-b, 0.8, axis=1) if objective == "cost_p80" else b.mean(axis=1)


def _bounds(s: PlanScores, space: SearchSpace, alpha: float) -> tuple[str, ...]:
    """Each constraint met, failed or unsure, with one-sided bounds at ``alpha`` each
    (scipy.stats, a second to import, is imported here: only ``search`` needs it)."""
    from scipy import stats

    c = space.constraints
    n = len(s.cost)
    out = []
    for (_, _, level), hit in zip(c.on_time, s.on_time, strict=True):
        x = float(hit.sum())
        low = stats.beta.ppf(alpha, x, n - x + 1) if x > 0 else 0.0
        high = stats.beta.ppf(1 - alpha, x + 1, n - x) if x < n else 1.0
        out.append(_state(low >= level, high < level))
    z = -special.ndtri(alpha)
    if c.budget is not None:
        m, se = float(s.cost.mean()), float(s.cost.std(ddof=1) / math.sqrt(n))
        out.append(_state(m + z * se <= c.budget, m - z * se > c.budget))
    if c.cost_p80 is not None:
        order = np.sort(s.cost)
        hi = int(min(stats.binom.ppf(1 - alpha, n, 0.8), n - 1))
        lo = int(max(stats.binom.ppf(alpha, n, 0.8) - 1, 0))
        out.append(_state(order[hi] <= c.cost_p80, order[lo] > c.cost_p80))
    if c.max_cancel is not None:
        out.append(_state(s.cancelled <= c.max_cancel, s.cancelled > c.max_cancel))
    return tuple(out)


def _state(met: bool, failed: bool) -> str:
    return "met" if met else "failed" if failed else "unsure"


class _Race:
    """The finalists' observations so far and who is still in."""

    def __init__(self, plans: list[Plan], space: SearchSpace, alpha: float, delta: float):
        self.plans, self.space, self.delta = plans, space, delta
        self.alpha_f = alpha / max(1, _count(space))
        self.h2 = kn_constants(len(plans), alpha)
        self.scores: list[list[PlanScores]] = [[] for _ in plans]
        self.alive = list(range(len(plans)))
        self.left: dict[int, tuple[str, int]] = {}  # finalist: (why, iterations)
        self.states: dict[int, tuple[str, ...]] = {}
        self.infeasible = False  # every finalist still in fails a constraint

    def joined(self, i: int) -> PlanScores:
        parts = self.scores[i]
        return PlanScores(
            np.concatenate([p.value for p in parts]),
            np.concatenate([p.cost for p in parts]),
            np.concatenate([p.all_on_time for p in parts]),
            tuple(np.concatenate(x) for x in zip(*(p.on_time for p in parts), strict=True))
            if parts[0].on_time
            else (),
            parts[0].cancelled,
        )

    def obs(self, i: int) -> Array:
        return _batches(self.joined(i).observations(self.space.objective), self.space.objective)

    def step(self, iterations: int) -> None:
        """Feasibility screening, then KN eliminations, at the current stage. When every
        finalist still in fails a constraint, the race ends there: none is dropped (which
        one stayed would depend on their order, not on their objective)."""
        for i in self.alive:
            self.states[i] = _bounds(self.joined(i), self.space, self.alpha_f)
        failed = [i for i in self.alive if "failed" in self.states[i]]
        if len(failed) == len(self.alive):
            self.infeasible = True
            return
        for i in failed:
            self._drop(i, "infeasible", iterations)
        obs = {i: self.obs(i) for i in self.alive}
        r = len(next(iter(obs.values())))
        first = {i: o[:FIRST] for i, o in obs.items()}
        means = {i: float(o.mean()) for i, o in obs.items()}
        gone = set()
        for i in self.alive:
            for j in self.alive:
                if i == j or any(s != "met" for s in self.states[j]):
                    continue
                s2 = float(np.var(first[i] - first[j], ddof=1))
                w = max(0.0, self.delta / (2 * r) * (self.h2 * s2 / self.delta**2 - r))
                same = s2 == 0 and means[i] == means[j] and j < i  # one outcome: keep one
                if means[i] < means[j] - w or same:
                    gone.add(i)
                    break
        for i in sorted(gone):
            self._drop(i, "kn", iterations)

    def _drop(self, i: int, why: str, iterations: int) -> None:
        self.alive.remove(i)
        self.left[i] = (why, iterations)

    def done(self) -> bool:
        if self.infeasible:
            return True
        return len(self.alive) == 1 and all(s == "met" for s in self.states[self.alive[0]])


def _count(space: SearchSpace) -> int:
    c = space.constraints
    return len(c.on_time) + sum(x is not None for x in (c.budget, c.cost_p80, c.max_cancel))


def select(
    plans: list[Plan],
    space: SearchSpace,
    run_round: Callable[[list[Plan], int], list[PlanScores]],
    *,
    delta: float,
    seed: int,
) -> Selected:
    """Choose among ``plans`` with KN; ``run_round(plans, k)`` scores the plans on the
    ``k``-th :data:`ROUND` iterations of the fresh random numbers."""
    sel = space.selection
    race = _Race(plans, space, 1 - sel.confidence, delta)
    rounds = max(1, sel.max_iterations // ROUND)
    done = 0
    for k in range(rounds):
        alive = list(race.alive)
        for i, s in zip(alive, run_round([plans[i] for i in alive], k), strict=True):
            race.scores[i].append(s)
        done = (k + 1) * ROUND
        race.step(done)  # one plan: until its constraints are settled, or the cap
        if race.done():
            break
    return _summary(race, done, delta, sel.confidence, seed)


def _summary(race: _Race, done: int, delta: float, confidence: float, seed: int) -> Selected:
    """The winner (the best mean among those still in, constraints met first), and every
    finalist's paired difference to it on their common iterations."""
    space = race.space
    met = [i for i in race.alive if all(s == "met" for s in race.states.get(i, ()))]
    pool = met or race.alive or list(race.left)
    win = max(pool, key=lambda i: float(race.obs(i).mean()))
    wx = race.obs(win)
    rows, p_best, p_within = [], 1.0, 1.0
    for i in [win, *sorted(set(range(len(race.plans))) - {win})]:
        x = race.obs(i)
        n = min(len(x), len(wx))
        d = x[:n] - wx[:n]
        diff = float(d.mean())
        se = float(d.std(ddof=1) / math.sqrt(n)) if i != win and n > 1 else 0.0
        if i != win:
            p_best -= _tail(diff, se)
            p_within -= _tail(diff - delta, se)
        why, at = race.left.get(i, ("", done))
        obj = race.joined(i).objective(space.objective)
        rows.append(Finalist(race.plans[i], obj, diff, se, race.states.get(i, ()), why, at))
    decided = race.done() and not race.infeasible
    return Selected(
        tuple(rows),
        decided,
        max(p_best, 0.0),
        max(p_within, 0.0),
        delta,
        confidence,
        done,
        seed,
        not race.infeasible,
    )


def _tail(diff: float, se: float) -> float:
    """P(a finalist whose difference to the winner is ``diff`` +- ``se`` is in fact ahead)."""
    if se == 0:
        return 1.0 if diff > 0 else 0.0 if diff < 0 else 0.5
    return float(special.ndtr(diff / se))
