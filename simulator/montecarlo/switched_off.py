"""Each risk switched off, on a run's own random numbers: what a risk contributes.

Switching risk ``r`` off changes no random number (every entity draws from its own stream),
so in an iteration where ``r`` did not occur the portfolio without it is the same, to the
bit, as the base. Only the iterations where it occurred are simulated again, and only what a
contribution needs (each project's finish and cost), from the block's draws taken once for
all risks. The figures are those of a full run of the variant that mitigates ``r``'s
probability to 0 (tests/test_drivers.py checks this against such runs), at the cost of
``sum(P(risk))`` runs instead of one per risk; a risk that only costs money (it delays no
task still to do and takes no capacity) needs no run at all: its variant has the base's
schedule, and only the costs are computed again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import joblib
import numpy as np
from numpy.typing import NDArray

from ..engine import Forks, pack_capacity, simulate_forks
from ..errors import PmosimError, SimulationError
from ..kernels import offsets
from ..model import Portfolio
from ..sampling import (
    BLOCK_SIZE,
    BlockSample,
    Draws,
    RiskAmounts,
    block_sizes,
    delays_left,
    draw_block,
    risk_amounts,
    with_risks,
)
from .outcome import Outcome
from .parallel import Backend, raise_if_interrupted, release_memory, running
from .runner import (
    CHUNK_CELLS,
    _project_costs,
    block_sizes_of,
    passes,
    project_figures,
    schedules,
    workers,
)

__all__ = ["without_each_risk"]

Array = NDArray[np.float64]
Redone = list[tuple[NDArray[np.int64], Array, Array]]


def moves_schedule(pf: Portfolio, r: int) -> bool:
    """Whether risk ``r`` can change a schedule: it delays a task not complete, or takes
    capacity. Without any other (a cost alone), its portfolio runs the same schedule."""
    return bool(delays_left(pf, r)) or pf.risks[r].loss is not None


class _Delays(NamedTuple):
    """A risk that only delays, switched off in the iterations ``rows`` where it occurred:
    there, the durations of the tasks it delays (``tasks``) are ``value`` (one row per
    iteration), and the risk costs ``risk_cost``; every other input is the base's."""

    risk: int
    rows: NDArray[np.int64]
    tasks: NDArray[np.int64]
    value: Array
    risk_cost: Array


def _block(
    pf: Portfolio,
    seed: int,
    block: int,
    occurred: NDArray[np.bool_],
    fork: Array,
    engine: str,
    base: tuple[Array, Array] | None = None,
) -> Redone:
    """Per risk: the block's iterations in which it occurred (``occurred``: the base run's,
    ``(iterations, risks)``) and, without it, each project's finish and cost there.
    ``fork``: the base run's fork times (:func:`fork_times`). ``base``: the block's first
    starts and finishes per project in the base run, for the risks that cannot change a
    schedule (:func:`moves_schedule`): without one of them the schedule is the base's, so
    only the costs are computed again. The compiled engine runs the iterations without a
    risk that only delays from the base's state at their fork (:func:`_forked`)."""
    n = len(occurred)
    draws = draw_block(pf, seed, block)
    size = block_sizes(pf, draws, n, consume=True)  # the risks' draws stay
    amounts = risk_amounts(pf, draws, n)  # drawn once for all the risks switched off
    out: list[tuple[NDArray[np.int64], Array, Array] | None] = [None] * len(pf.risks)
    delays: list[_Delays] = []
    for r in range(len(pf.risks)):
        rows = np.flatnonzero(occurred[:, r])
        same = None if base is None or moves_schedule(pf, r) else base
        if same is None and pf.risks[r].loss is None and engine != "simpy" and rows.size:
            sample = with_risks(pf, size[rows], draws, rows, off=r, amounts=amounts)
            tasks = np.array(delays_left(pf, r), dtype=np.int64)
            delays.append(_Delays(r, rows, tasks, sample.duration[:, tasks], sample.risk_cost))
            continue
        out[r] = _run_whole(pf, block, r, rows, size, draws, amounts, engine, same)
    if delays:  # the base's inputs: the last use of ``size``
        base_sample = with_risks(pf, size, draws, np.arange(n), amounts=amounts)
        for d, figures in zip(delays, _forked(pf, block, base_sample, fork, delays), strict=True):
            out[d.risk] = (d.rows, *figures)
    return [x for x in out if x is not None]  # every risk's, in order: each was set above


def _run_whole(
    pf: Portfolio,
    block: int,
    r: int,
    rows: NDArray[np.int64],
    size: Array,
    draws: Draws,
    amounts: RiskAmounts,
    engine: str,
    same: tuple[Array, Array] | None,
) -> tuple[NDArray[np.int64], Array, Array]:
    """Risk ``r`` switched off in the block's iterations ``rows``: each project's finish
    and cost there, each iteration run whole (or, ``same``, the base's schedule)."""
    finish = np.empty((len(rows), len(pf.projects)))
    cost = np.empty_like(finish)
    for lo, hi in passes(len(rows), len(pf.tasks)):
        these = rows[lo:hi]
        sample = with_risks(pf, size[these], draws, these, off=r, amounts=amounts)
        if same is not None:
            p_start, p_finish = same[0][these], same[1][these]
            finish[lo:hi] = p_finish
            cost[lo:hi] = _project_costs(pf, sample, p_start, p_finish)
            continue
        first = block * BLOCK_SIZE + int(these[0])
        packed = pack_capacity(sample.capacity)
        start, task_finish, _ = schedules(pf, sample, packed, engine, first)
        figures = project_figures(pf, sample, start, task_finish)
        finish[lo:hi], cost[lo:hi] = figures[3], figures[4]
    return rows, finish, cost


def _forked(
    pf: Portfolio, block: int, base: BlockSample, fork: Array, delays: list[_Delays]
) -> list[tuple[Array, Array]]:
    """Per entry of ``delays``: each project's finish and cost in its iterations, run from
    the base's state at the risk's fork (``base``: the block's inputs). The iterations are
    taken a few at a time, with every risk switched off in each."""
    n_tasks = len(pf.tasks)
    risk = np.concatenate([np.full(d.rows.size, k) for k, d in enumerate(delays)])
    entry = np.concatenate([np.arange(d.rows.size) for d in delays])
    row = np.concatenate([d.rows for d in delays])
    order = np.argsort(row, kind="stable")
    risk, entry, row = risk[order], entry[order], row[order]
    finish = [np.empty((d.rows.size, len(pf.projects))) for d in delays]
    cost = [np.empty_like(f) for f in finish]
    most = max(1, CHUNK_CELLS // max(n_tasks, 1))  # variants per pass
    lo = 0
    while lo < row.size:
        hi = min(row.size, lo + most)
        hi = max(hi, int(np.searchsorted(row, row[hi - 1], side="right")))  # whole iterations
        first, last = int(row[lo]), int(row[hi - 1]) + 1
        variants = [(delays[risk[k]], int(entry[k])) for k in range(lo, hi)]
        duration = base.duration[row[lo:hi]]  # the variants' inputs, from their bases'
        for v, (d, j) in enumerate(variants):
            duration[v, d.tasks] = d.value[j]
        sizes = [d.tasks.size for d, _ in variants]
        forks = Forks(
            row[lo:hi] - first,
            np.array([fork[d.rows[j], d.risk] for d, j in variants]),
            offsets(sizes),
            np.concatenate([d.tasks for d, _ in variants]),
            np.concatenate([d.value[j] for d, j in variants]),
        )
        start, task_finish, _ = simulate_forks(
            pf.network,
            base.duration[first:last],
            pack_capacity(base.capacity[first:last]),
            forks,
            names=pf.names,
            first_iteration=block * BLOCK_SIZE + first,
        )
        risk_cost = np.array([d.risk_cost[j] for d, j in variants])
        sample = BlockSample(duration, base.occurred[row[lo:hi]], risk_cost, [])
        figures = project_figures(pf, sample, start, task_finish)
        for v, (k, j) in enumerate(zip(risk[lo:hi], entry[lo:hi], strict=True)):
            finish[k][j], cost[k][j] = figures[3][v], figures[4][v]
        lo = hi
    return list(zip(finish, cost, strict=True))


def without_each_risk(
    pf: Portfolio,
    base: Outcome,
    seed: int,
    *,
    iterations: int | None = None,
    engine: str = "auto",
    backend: Backend | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[Array, Array]]:
    """Per risk of ``pf``, in order: ``(finish, cost)``, ``(iterations, projects)``, of the
    run ``base`` (``seed``: its root seed) with that risk switched off, over the run's
    first ``iterations`` (default all).

    The simulation is done before the first pair is returned; each risk's arrays are then
    built as they are asked for (what is kept meanwhile is only the iterations in which
    each risk occurred)."""
    release_memory()  # the base run's leftovers, before this stage's own peak
    m = len(base.finish) if iterations is None else min(iterations, len(base.finish))
    sizes = block_sizes_of(m)
    # the base's figures go to a block only when some risk cannot change a schedule
    costs_only = not all(moves_schedule(pf, r) for r in range(len(pf.risks)))
    calls = (
        joblib.delayed(_block)(
            pf,
            seed,
            k,
            base.occurred[k * BLOCK_SIZE : k * BLOCK_SIZE + size],
            base.fork[k * BLOCK_SIZE : k * BLOCK_SIZE + size],
            engine,
            (
                base.first_start[k * BLOCK_SIZE : k * BLOCK_SIZE + size],
                base.finish[k * BLOCK_SIZE : k * BLOCK_SIZE + size],
            )
            if costs_only
            else None,
        )
        for k, size in enumerate(sizes)
    )
    backend = backend or Backend()
    local = backend.kind == "local"
    redone: list[Redone] = [[] for _ in pf.risks]
    done = 0
    try:
        with running(backend) as n_jobs, workers(engine, n_jobs, local) as parallel:
            results: Iterator[Redone] = parallel(calls)
            for k, block in enumerate(results):
                for r, (rows, f, c) in enumerate(block):
                    redone[r].append((k * BLOCK_SIZE + rows, f, c))
                release_memory()  # what the block's worker freed
                done += sizes[k]
                if progress is not None:
                    progress(done * len(pf.risks))
                raise_if_interrupted()
    except (PmosimError, KeyboardInterrupt):
        raise
    except Exception as e:  # a worker crashed or raised: no result
        raise SimulationError(f"risk contributions failed: {type(e).__name__}: {e}") from e
    return (_whole(base.finish[:m], base.cost[:m], parts) for parts in redone)


def _whole(finish: Array, cost: Array, parts: Redone) -> tuple[Array, Array]:
    """The base's ``finish`` and ``cost`` with the iterations simulated again replaced."""
    finish, cost = finish.copy(), cost.copy()
    for rows, f, c in parts:
        finish[rows], cost[rows] = f, c
    return finish, cost
