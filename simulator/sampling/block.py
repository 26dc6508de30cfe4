"""Per-iteration inputs for a block of iterations, from seeded per-entity streams.

Randomness rules (DESIGN.md): block ``k`` of a run with root seed ``r`` owns
``SeedSequence(r, spawn_key=(k,))``; inside it, every task, risk and correlation group
draws from its own child stream ``SeedSequence(r, spawn_key=(k, h))`` where ``h`` is a
stable hash of the entity's kind and id. Each stream always draws a full block of
:data:`BLOCK_SIZE` values per quantity, so iteration ``j`` of block ``k`` sees the same
numbers whatever the run's length, and adding or removing an unrelated entity changes no
other entity's numbers (common random numbers across variants).

A task outside any correlation group draws its size directly from its stream
(:meth:`Distribution.draw`). A task in a group with correlation ``rho > 0`` draws a uniform,
turns it into a normal score ``E`` and mixes it with the group's shared factor ``G``:
``Z = sqrt(rho) G + sqrt(1 - rho) E`` (a one-factor Gaussian copula); its size is the
inverse CDF at ``Phi(Z)``.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray
from scipy import special

from ..model import Distribution, Pert, Portfolio, Task
from .streams import betas, stream_states, uniforms

__all__ = [
    "BLOCK_SIZE",
    "BlockSample",
    "Draws",
    "RiskAmounts",
    "block_sizes",
    "capacity_events",
    "delays_left",
    "draw_block",
    "entity_stream",
    "risk_amounts",
    "sample_block",
    "with_risks",
]

BLOCK_SIZE = 500
_BELOW_ONE = float(np.nextafter(1.0, 0.0))

CapacityEvents = list[tuple[float, int, float]]


def _hash(kind: str, ident: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(f"{kind}:{ident}".encode(), digest_size=8).digest(), "little"
    )


def entity_stream(root: int, block: int, kind: str, ident: str) -> np.random.Generator:
    """The generator of one entity (``task``, ``risk`` or ``group``) in one block."""
    seq = np.random.SeedSequence(root, spawn_key=(block, _hash(kind, ident)))
    return np.random.Generator(np.random.PCG64(seq))


@dataclass(frozen=True)
class BlockSample:
    """Sampled inputs of ``n`` iterations.

    Attributes:
        duration: ``(n, tasks)`` durations including risk delays (of a task in progress,
            its remaining duration; of a complete task, its actual duration).
        occurred: ``(n, risks)`` whether each risk occurred.
        risk_cost: ``(n, projects)`` extra cost from risks.
        capacity: per iteration, the ``(time, pool, capacity)`` events the engine applies.
    """

    duration: NDArray[np.float64]
    occurred: NDArray[np.bool_]
    risk_cost: NDArray[np.float64]
    capacity: list[CapacityEvents]


@dataclass(frozen=True)
class Draws:
    """A block's raw draws, by entity: a full block of size draws per random task (by its
    key) and four uniforms per risk (by its id). Every variant of the portfolio that keeps a
    task's law and a risk's id samples from the same draws (a cancelled task's are unused),
    so :func:`sample_block` can rebuild a variant's inputs without drawing again.
    """

    sizes: dict[str, NDArray[np.float64]]
    risks: dict[str, tuple[NDArray[np.float64], ...]]


def draw_block(pf: Portfolio, root: int, block: int) -> Draws:
    """The raw draws of block ``block`` (see :class:`Draws`)."""
    sizes = {pf.tasks[i].key: d for i, d in _sizes(pf, root, block).items()}
    u = uniforms(_states(root, block, "risk", [r.id for r in pf.risks]), 4 * BLOCK_SIZE)
    risks = {r.id: tuple(u[k].reshape(4, BLOCK_SIZE)) for k, r in enumerate(pf.risks)}
    return Draws(sizes, risks)


@functools.lru_cache(maxsize=1 << 17)
def _cached_hash(kind: str, ident: str) -> int:
    return _hash(kind, ident)


def _states(root: int, block: int, kind: str, idents: list[str]) -> NDArray[np.uint64]:
    """The PCG64 states of these entities' streams (see :func:`entity_stream`)."""
    hashes = np.array([_cached_hash(kind, x) for x in idents], dtype=np.uint64)
    return stream_states(root, block, hashes)


def _law(t: Task) -> Distribution:
    """What a task draws: its remaining duration when the file gives one, else its size."""
    given = t.progress.remaining if t.running and t.progress else None
    return t.size if given is None else given


def _survival(t: Task) -> float | None:
    """For a task in progress whose remaining work is conditioned on its elapsed time, the
    chance its duration exceeds the elapsed time (it draws from there on); else None."""
    p = t.progress
    if not t.running or p is None or p.remaining is not None or p.done is not None:
        return None
    return t.size.sf(p.elapsed * t.units if t.per_unit else p.elapsed)


def _above(law: Distribution, survival: float, tail: NDArray[np.float64]) -> NDArray[np.float64]:
    """Draws of ``law`` beyond the point it exceeds with probability ``survival``, from
    uniforms ``tail`` (the share of that tail beyond each draw). Beyond a bounded law's
    maximum (``survival`` 0) the draw is the maximum: no work remains."""
    if survival <= 0.0:
        return np.full_like(tail, law.ppf(np.array([_BELOW_ONE]))[0])
    return law.isf(np.maximum(survival * tail, np.finfo(float).tiny))


def _sizes(pf: Portfolio, root: int, block: int) -> dict[int, NDArray[np.float64]]:
    """A full block of size draws for every random task not complete, correlated within
    groups, conditioned on the elapsed time for a task in progress (see :func:`_survival`).

    Each task's stream is used as :func:`entity_stream` would be: ``law.draw(stream)``, or
    ``stream.random()`` for a grouped or conditioned task; the compiled streams
    (:mod:`.streams`) give a PERT law's beta draws and every uniform, the same numbers."""
    grouped = {i: g for g in pf.groups if g.rho > 0 for i in g.tasks}
    todo = [(i, t, _law(t)) for i, t in enumerate(pf.tasks) if not t.complete]
    todo = [(i, t, law) for i, t, law in todo if not law.is_constant]
    states = _states(root, block, "task", [t.key for _, t, _ in todo])
    plain = [i not in grouped and _survival(t) is None for i, t, _ in todo]
    pert = [k for k, (_, _, law) in enumerate(todo) if plain[k] and _is_pert(law)]
    uses_u = [
        k
        for k, (_, _, law) in enumerate(todo)
        if not plain[k] or type(law).draw is Distribution.draw
    ]
    out = dict(
        zip(
            [todo[k][0] for k in pert],
            _pert_draws([cast(Pert, todo[k][2]) for k in pert], states[pert]),
            strict=True,
        )
    )
    u = dict(zip(uses_u, uniforms(states[uses_u], BLOCK_SIZE), strict=True))
    shared: dict[str, NDArray[np.float64]] = {}
    for k, (i, t, law) in enumerate(todo):
        if i in out:
            continue
        if k not in u:  # a law with a sampler of its own
            out[i] = law.draw(entity_stream(root, block, "task", t.key), BLOCK_SIZE)
            continue
        g, survival = grouped.get(i), _survival(t)
        if g is None:
            out[i] = law.ppf(u[k]) if survival is None else _above(law, survival, 1.0 - u[k])
            continue
        if g.id not in shared:
            shared[g.id] = special.ndtri(
                uniforms(_states(root, block, "group", [g.id]), BLOCK_SIZE)[0]
            )
        z = np.sqrt(g.rho) * shared[g.id] + np.sqrt(1 - g.rho) * special.ndtri(u[k])
        out[i] = (
            law.ppf(special.ndtr(z))
            if survival is None
            else _above(law, survival, special.ndtr(-z))
        )
    return out


def _is_pert(law: Distribution) -> bool:
    """A PERT law drawn by its beta sampler (see :meth:`Pert.draw`)."""
    return type(law) is Pert and law.high != law.low


def _pert_draws(laws: list[Pert], states: NDArray[np.uint64]) -> NDArray[np.float64]:
    """``(laws, BLOCK_SIZE)``: :meth:`Pert.draw` of each law from its stream's state."""
    if not laws:
        return np.empty((0, BLOCK_SIZE))
    shapes = np.array([law._ab for law in laws])
    low = np.array([law.low for law in laws])[:, None]
    span = np.array([law.high - law.low for law in laws])[:, None]
    return low + span * betas(states, shapes[:, 0], shapes[:, 1], BLOCK_SIZE)


def _engine_duration(t: Task, draw: NDArray[np.float64]) -> NDArray[np.float64]:
    """The duration the engine runs a task for: a complete task its actual span; a task in
    progress its remaining work (the given remaining duration, ``1 - done`` of a fresh
    draw, or the conditioned draw less the elapsed time); any other task its draw."""
    p = t.progress
    size = draw / t.units if t.per_unit and not (p and p.remaining is not None) else draw
    if p is None or p.remaining is not None:
        return size
    if p.finish is not None:  # on the engine's continuous calendar: its actual span
        return np.full_like(size, p.finish - p.start)
    if p.done is not None:
        return size * (1 - p.done)
    return np.maximum(size - p.elapsed, 0.0)


def sample_block(
    pf: Portfolio, root: int, block: int, n: int, draws: Draws | None = None
) -> BlockSample:
    """Sample the first ``n`` (at most :data:`BLOCK_SIZE`) iterations of block ``block``
    (from ``draws`` when given: the block's draws of this portfolio or of one it is a
    variant of)."""
    if draws is None:  # our own: each size draw is dropped once it is in the matrix
        draws = draw_block(pf, root, block)
        size = block_sizes(pf, draws, n, consume=True)
    else:
        size = block_sizes(pf, draws, n)
    return with_risks(pf, size, draws, np.arange(n))


def block_sizes(
    pf: Portfolio, draws: Draws, n: int, *, consume: bool = False
) -> NDArray[np.float64]:
    """``(n, tasks)``: the first ``n`` iterations' durations before risk delays (see
    :attr:`BlockSample.duration`); ``consume``: remove each task's draws from ``draws`` once
    used (so that a block's draws and its matrix are not both held whole)."""
    size = np.empty((n, len(pf.tasks)))
    drawn = draws.sizes
    for i, t in enumerate(pf.tasks):
        draw = drawn.get(t.key)
        if consume:
            drawn.pop(t.key, None)
        size[:, i] = _engine_duration(t, np.full(n, _law(t).mean) if draw is None else draw[:n])
    return size


def delays_left(pf: Portfolio, r: int) -> list[int]:
    """The tasks risk ``r`` delays when it occurs: its delay's targets not yet complete
    (none without a delay)."""
    if pf.risks[r].delay is None:
        return []
    return [i for i in pf.delay_targets[r] if not pf.tasks[i].complete]


@dataclass(frozen=True)
class RiskAmounts:
    """What each risk of a portfolio does when it occurs, in each of a block's first
    iterations, drawn once: :func:`with_risks` then builds any set of those iterations, with
    any one risk switched off, without drawing again.

    Attributes:
        occurred: per risk, whether it occurred in each iteration.
        delay, cost: per risk, its sampled delay (working days, or percent) and cost in
            every iteration (None: it has none).
        ends: per risk with a capacity loss, where the loss ends in every iteration in
            which it occurred (NaN in the others).
        capacity: the capacity events of each set of losses met so far.
    """

    occurred: list[NDArray[np.bool_]]
    delay: list[NDArray[np.float64] | None]
    cost: list[NDArray[np.float64] | None]
    ends: list[NDArray[np.float64] | None]
    capacity: dict[tuple[tuple[int, float, float, float], ...], CapacityEvents]


def risk_amounts(pf: Portfolio, draws: Draws, n: int) -> RiskAmounts:
    """The :class:`RiskAmounts` of the block's first ``n`` iterations, from ``draws``."""
    occurred: list[NDArray[np.bool_]] = []
    delay: list[NDArray[np.float64] | None] = []
    cost: list[NDArray[np.float64] | None] = []
    ends: list[NDArray[np.float64] | None] = []
    for risk in pf.risks:
        occ, u_delay, u_cost, u_days = (u[:n] for u in draws.risks[risk.id])
        occurred.append(occ < risk.probability)
        delay.append(None if risk.delay is None else risk.delay.ppf(u_delay))
        cost.append(None if risk.cost is None else risk.cost.ppf(u_cost))
        if risk.loss is None:
            ends.append(None)
            continue
        pool, _, at, days = risk.loss
        lasts = days.ppf(u_days)  # working days of the pool's calendar
        cal = pf.pools[pool].calendar
        end = np.full(n, np.nan)
        for it in np.flatnonzero(occurred[-1]):
            end[it] = pf.calendar.advance(cal, at, float(lasts[it]))
        ends.append(end)
    return RiskAmounts(occurred, delay, cost, ends, {})


def with_risks(
    pf: Portfolio,
    size: NDArray[np.float64],
    draws: Draws,
    rows: NDArray[np.int64],
    off: int | None = None,
    amounts: RiskAmounts | None = None,
) -> BlockSample:
    """The sample of the block's iterations ``rows`` (``size``: their durations before risk
    delays, overwritten with the durations: no second ``(n, tasks)`` array), its risks
    drawn from ``draws`` (or taken from ``amounts``, the block's :func:`risk_amounts`);
    risk number ``off``, when given, never occurs (the portfolio with that risk switched
    off: the same numbers, to the bit, as a variant that mitigates its probability to 0)."""
    n = len(rows)
    if amounts is None:
        amounts = risk_amounts(pf, draws, int(rows.max()) + 1 if n else 0)
    # risk delays, only in the columns risks delay (not a second (n, tasks) array)
    delayed = sorted({i for r in range(len(pf.risks)) for i in pf.delay_targets[r]})
    column = {i: k for k, i in enumerate(delayed)}
    extra = np.zeros((n, len(delayed)))
    occurred = np.zeros((n, len(pf.risks)), dtype=bool)
    risk_cost = np.zeros((n, len(pf.projects)))
    losses: list[list[tuple[int, float, float, float]]] = [[] for _ in range(n)]
    for r, risk in enumerate(pf.risks):
        if r == off:
            continue
        hit = amounts.occurred[r][rows]
        occurred[:, r] = hit
        targets = delays_left(pf, r)
        delay, cost, ends = amounts.delay[r], amounts.cost[r], amounts.ends[r]
        if delay is not None and targets:
            amount = delay[rows]
            add = (
                size[:, targets] * (amount / 100)[:, None]
                if risk.percent
                else np.broadcast_to(amount[:, None], (n, len(targets)))
            )
            extra[:, [column[i] for i in targets]] += np.where(hit[:, None], add, 0.0)
        if cost is not None and risk.cost_projects:
            spent = np.where(hit, cost[rows], 0.0)
            if risk.cost_share:
                spent = spent / len(risk.cost_projects)
            risk_cost[:, list(risk.cost_projects)] += spent[:, None]
        if ends is not None and risk.loss is not None:
            pool, units, at, _ = risk.loss
            for it in np.flatnonzero(hit):
                losses[it].append((pool, units, at, float(ends[rows[it]])))
    base = pf.base_capacity_events()
    capacity = [_capacity(pf, tuple(lost), amounts.capacity) if lost else base for lost in losses]
    size[:, delayed] += extra
    return BlockSample(size, occurred, risk_cost, capacity)


def _capacity(
    pf: Portfolio,
    losses: tuple[tuple[int, float, float, float], ...],
    seen: dict[tuple[tuple[int, float, float, float], ...], CapacityEvents],
) -> CapacityEvents:
    """:func:`capacity_events` of ``losses``, once per set of losses (``seen``)."""
    events = seen.get(losses)
    if events is None:
        events = seen[losses] = capacity_events(pf, list(losses))
    return events


def capacity_events(pf: Portfolio, losses: list[tuple[int, float, float, float]]) -> CapacityEvents:
    """Merge the base capacity schedule with capacity losses ``(pool, units, from, to)``.

    The capacity of a pool at ``t`` is its base capacity minus the units of every loss
    active at ``t`` (``from <= t < to``), never below zero.
    """
    base = pf.base_capacity_events()
    hit = {p for p, *_ in losses}
    events = [e for e in base if e[1] not in hit]
    for p in sorted(hit):
        pool = pf.pools[p]
        mine = [x for x in losses if x[0] == p]
        times = sorted(
            {0.0, *(t for t, _ in pool.changes), *(x[2] for x in mine), *(x[3] for x in mine)}
        )
        for t in times:
            lost = sum(units for _, units, a, b in mine if a <= t < b)
            events.append((t, p, max(pool.capacity_at(t) - lost, 0.0)))
    return sorted(events, key=lambda e: (e[0], e[1]))
