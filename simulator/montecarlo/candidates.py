"""Many variants of one portfolio on the same sampled inputs: the raw draws of every block are
made once (:func:`presample`), and each candidate re-runs only the cheap derivation of its
inputs and the engine (:func:`evaluate`).

A candidate's results are exactly those :func:`simulate_portfolio` gives for the same
variant and seed (the draws are keyed by task and risk id, as the streams are), and are
combined in block order, so they do not depend on the number of workers.
"""

from __future__ import annotations

from dataclasses import dataclass

import joblib
import numpy as np
from numpy.typing import NDArray

from ..engine import pack_capacity, work_ends
from ..model import Portfolio
from ..sampling import BLOCK_SIZE, Draws, draw_block, sample_block
from .parallel import check_jobs
from .runner import _actual_starts, _key_times, _project_costs, schedules

__all__ = ["Evaluation", "Presampled", "evaluate", "presample"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Presampled:
    """The raw draws of blocks ``first, first + 1, ...`` with root seed ``seed``: ``sizes``
    iterations of each."""

    seed: int
    first: int
    sizes: tuple[int, ...]
    draws: tuple[Draws, ...]


@dataclass(frozen=True)
class Evaluation:
    """Per-iteration results of one candidate.

    Attributes:
        finish: ``(iterations, projects)`` where each project's work ended.
        cost: ``(iterations, projects)`` each project's cost.
        keys: ``(iterations, key dates)`` each key date's event time.
    """

    finish: Array
    cost: Array
    keys: Array


def presample(
    pf: Portfolio, iterations: int, seed: int, *, first: int = 0, jobs: int = 1
) -> Presampled:
    """The raw draws of ``pf`` for ``iterations`` iterations from block ``first`` on."""
    sizes = tuple(
        min(BLOCK_SIZE, iterations - k * BLOCK_SIZE) for k in range(-(-iterations // BLOCK_SIZE))
    )
    draws = joblib.Parallel(n_jobs=check_jobs(jobs), prefer="threads")(
        joblib.delayed(draw_block)(pf, seed, first + k) for k in range(len(sizes))
    )
    return Presampled(seed, first, sizes, tuple(draws))


def _block(pf: Portfolio, pre: Presampled, k: int, engine: str) -> Evaluation:
    block = pre.first + k
    sample = sample_block(pf, pre.seed, block, pre.sizes[k], pre.draws[k])
    packed = pack_capacity(sample.capacity)
    start, finish, _ = schedules(pf, sample, packed, engine, block * BLOCK_SIZE)
    start = _actual_starts(pf, start)
    net = pf.network
    end = work_ends(*net.clock, net.calendar, finish)
    members = [list(p.tasks) for p in pf.projects]
    p_finish = np.stack([end[:, m].max(axis=1) for m in members], axis=1)
    p_start = np.stack([start[:, m].min(axis=1) for m in members], axis=1)
    cost = _project_costs(pf, sample, p_start, p_finish)
    return Evaluation(p_finish, cost, _key_times(pf, start, end))


def evaluate(pf: Portfolio, pre: Presampled, *, engine: str = "auto", jobs: int = 1) -> Evaluation:
    """Run ``pf`` (the portfolio the draws were made for, or a variant of it) on ``pre``."""
    prefer = "processes" if engine == "simpy" else "threads"
    parts: list[Evaluation] = joblib.Parallel(n_jobs=check_jobs(jobs), prefer=prefer)(
        joblib.delayed(_block)(pf, pre, k, engine) for k in range(len(pre.draws))
    )
    return Evaluation(
        np.concatenate([p.finish for p in parts]),
        np.concatenate([p.cost for p in parts]),
        np.concatenate([p.keys for p in parts]),
    )
