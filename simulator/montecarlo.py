"""Monte Carlo runs: blocks of iterations, sampled, simulated and reduced, combined in order.

Block ``k`` holds iterations ``k*BLOCK_SIZE ...``; blocks run in any order on any number of
workers (joblib) and are concatenated in block order, so results are byte-identical
whatever ``jobs`` is.
"""

from __future__ import annotations

import functools
import json
import operator
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
from numpy.typing import NDArray

from ._kernels import capacity_load, schedule_load
from .drivers import DriverSums, chain_counts
from .engine import simulate
from .errors import PmosimError, SimulationError
from .fastengine import CapacityArrays, pack_capacity, simulate_batch
from .model import Portfolio
from .parallel import Backend, running
from .sampling import BLOCK_SIZE, BlockSample, sample_block

__all__ = ["ENGINES", "Outcome", "max_on_time_se", "run_block", "simulate_portfolio"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Outcome:
    """Per-iteration results of a whole run, in iteration order.

    Attributes:
        finish, first_start, cost: ``(iterations, projects)``.
        occurred: ``(iterations, risks)``.
        periods: labels of the reporting periods; ``edges`` their boundaries (working days).
        busy, waiting, capacity: ``(iterations, pools, periods)`` mean units over each period:
            in use, demanded by ready tasks that have not started, and available.
        trace: ``(iteration, task, start, finish)`` rows for the traced iterations.
        drivers: sums for criticality indices and duration-finish correlations.
    """

    finish: Array
    first_start: Array
    cost: Array
    occurred: NDArray[np.bool_]
    periods: list[str]
    edges: Array
    busy: Array
    waiting: Array
    capacity: Array
    trace: Array
    drivers: DriverSums


@dataclass(frozen=True)
class _Block:
    finish: Array
    first_start: Array
    cost: Array
    occurred: NDArray[np.bool_]
    busy: Array
    waiting: Array
    capacity: Array
    final_capacity: Array
    trace: Array
    horizon: float
    drivers: DriverSums


ENGINES = ("auto", "fast", "simpy")


def _schedules(pf: Portfolio, sample: BlockSample, packed: CapacityArrays, engine: str,
               first: int) -> tuple[Array, Array, Array]:
    """``(start, finish, ready)`` for every iteration of a block, by the chosen engine."""
    net = pf.network
    names = ([t.key for t in pf.tasks], [p.id for p in pf.pools])
    if engine in ("auto", "fast"):
        return simulate_batch(net, sample.duration, *packed, names=names,
                              first_iteration=first)
    n = len(sample.duration)
    start, finish, ready = (np.empty_like(sample.duration) for _ in range(3))
    for it in range(n):
        try:
            sched = simulate(net, sample.duration[it], sample.capacity[it], names=names)
        except SimulationError as e:
            raise SimulationError(f"iteration {first + it}: {e}") from None
        start[it], finish[it], ready[it] = sched.start, sched.finish, sched.ready
    return start, finish, ready


def run_block(pf: Portfolio, root: int, block: int, n: int, trace: int = 0,
              engine: str = "auto") -> _Block:
    """Sample, simulate and reduce ``n`` iterations of block ``block``."""
    net = pf.network
    sample = sample_block(pf, root, block, n)
    n_tasks = len(pf.tasks)
    packed = pack_capacity(sample.capacity)
    start, finish, ready = _schedules(pf, sample, packed, engine, block * BLOCK_SIZE)
    members = [list(p.tasks) for p in pf.projects]
    p_finish = np.stack([finish[:, m].max(axis=1) for m in members], axis=1)
    p_start = np.stack([start[:, m].min(axis=1) for m in members], axis=1)
    rate = net.demand @ np.array([p.cost_per_day for p in pf.pools])
    task_cost = sample.duration * rate + np.array([t.cost for t in pf.tasks])
    cost = np.stack([task_cost[:, m].sum(axis=1) for m in members], axis=1)
    cost += np.array([p.cost for p in pf.projects])
    cost += np.array([p.overhead_per_day for p in pf.projects]) * (p_finish - p_start)
    cost += sample.risk_cost
    deadlines = [p.deadline for p in pf.projects if p.deadline is not None]
    cap_times = [t for t, _, _ in pf.base_capacity_events()]
    horizon = max([float(finish.max(initial=0.0)), *deadlines, *cap_times, 1.0])
    _, edges = pf.calendar.periods(horizon)
    capacity, final = capacity_load(net.capacity, *packed, edges)
    k = min(trace, n)
    rows = np.empty((k * n_tasks, 4))
    if k:
        rows[:, 0] = np.repeat(block * BLOCK_SIZE + np.arange(k), n_tasks)
        rows[:, 1] = np.tile(np.arange(n_tasks), k)
        rows[:, 2] = start[:k].ravel()
        rows[:, 3] = finish[:k].ravel()
    drivers = DriverSums.of(chain_counts(net, pf, start, finish, ready), sample.duration,
                            p_finish)
    busy, waiting = schedule_load(ready, start, finish, net.demand, edges)
    return _Block(p_finish, p_start, cost, sample.occurred, busy, waiting, capacity, final,
                  rows, horizon, drivers)


_BLOCK_ARRAYS = ("finish", "first_start", "cost", "occurred", "busy", "waiting", "capacity",
                 "final_capacity", "trace")
_DRIVER_ARRAYS = ("critical", "sum_d", "sum_dd", "sum_f", "sum_ff", "sum_df")


class _Checkpoint:
    """Completed blocks of one run, saved as ``.npz`` (no pickle) beside a manifest."""

    def __init__(self, folder: Path, key: dict[str, object]) -> None:
        self.folder = Path(folder)
        self.key = key

    def load(self, n_blocks: int) -> list[_Block]:
        """The saved blocks 0, 1, ... up to the first missing or unreadable one; an
        existing checkpoint of another run is cleared."""
        manifest = self.folder / "manifest.json"
        try:
            same = json.loads(manifest.read_text(encoding="utf-8")) == self.key
        except (OSError, ValueError):
            same = False
        if not same:
            shutil.rmtree(self.folder, ignore_errors=True)
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                tmp = manifest.with_suffix(".tmp")
                tmp.write_text(json.dumps(self.key), encoding="utf-8")
                os.replace(tmp, manifest)
            except OSError as e:
                raise PmosimError(f"cannot write the checkpoint {self.folder}: "
                                  f"{e.strerror or e}") from e
            return []
        blocks = []
        for k in range(n_blocks):
            try:
                with np.load(self.folder / f"block-{k:06d}.npz", allow_pickle=False) as z:
                    drivers = DriverSums(int(z["d_n"]), *(z[f"d_{name}"]
                                                          for name in _DRIVER_ARRAYS))
                    fields = {name: z[name] for name in _BLOCK_ARRAYS}
                    blocks.append(_Block(**fields, horizon=float(z["horizon"]),
                                         drivers=drivers))
            except (OSError, ValueError, KeyError):
                break
        return blocks

    def save(self, k: int, blk: _Block) -> None:
        arrays = {name: getattr(blk, name) for name in _BLOCK_ARRAYS}
        arrays |= {f"d_{name}": getattr(blk.drivers, name) for name in _DRIVER_ARRAYS}
        arrays |= {"d_n": np.array(blk.drivers.n), "horizon": np.array(blk.horizon)}
        final = self.folder / f"block-{k:06d}.npz"
        tmp = self.folder / f".block-{k:06d}.tmp.npz"
        try:
            np.savez(tmp, **arrays)
            os.replace(tmp, final)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise PmosimError(f"cannot write the checkpoint {final}: {e.strerror or e}") from e


def _pad(blocks: list[_Block], name: str, width: int, fill: list[Array] | None = None) -> Array:
    parts = []
    for b, blk in enumerate(blocks):
        arr = getattr(blk, name)
        missing = width - arr.shape[2]
        if missing:
            extra = (np.zeros((*arr.shape[:2], missing)) if fill is None else
                     np.repeat(fill[b][:, :, None], missing, axis=2))
            arr = np.concatenate([arr, extra], axis=2)
        parts.append(arr)
    return np.concatenate(parts)


def _combine(pf: Portfolio, blocks: list[_Block]) -> Outcome:
    width = max(b.busy.shape[2] for b in blocks)
    labels, edges = pf.calendar.periods(max(b.horizon for b in blocks))
    return Outcome(
        finish=np.concatenate([b.finish for b in blocks]),
        first_start=np.concatenate([b.first_start for b in blocks]),
        cost=np.concatenate([b.cost for b in blocks]),
        occurred=np.concatenate([b.occurred for b in blocks]),
        periods=labels[:width],
        edges=edges[: width + 1],
        busy=_pad(blocks, "busy", width),
        waiting=_pad(blocks, "waiting", width),
        capacity=_pad(blocks, "capacity", width, [b.final_capacity for b in blocks]),
        trace=np.concatenate([b.trace for b in blocks]),
        drivers=functools.reduce(operator.add, [b.drivers for b in blocks]),
    )


def max_on_time_se(pf: Portfolio, finish: Array) -> float:
    """The largest standard error of P(on time) over the projects with a deadline."""
    ses = [0.0]
    for k, p in enumerate(pf.projects):
        if p.deadline is not None:
            hit = float(np.mean(finish[:, k] <= p.deadline))
            ses.append(np.sqrt(hit * (1 - hit) / len(finish)))
    return max(ses)


def simulate_portfolio(pf: Portfolio, iterations: int, seed: int, *, jobs: int = 1,
                       trace: int = 0, engine: str = "auto", backend: Backend | None = None,
                       target_se: float | None = None,
                       progress: Callable[[int], None] | None = None,
                       checkpoint: Path | None = None) -> Outcome:
    """Run ``iterations`` iterations with root seed ``seed``.

    Args:
        jobs: local workers (threads for the fast engine, processes for simpy; ignored
            when ``backend`` is given).
        trace: keep the schedules of the first ``trace`` iterations.
        engine: ``fast`` (compiled; ``auto`` picks it) or ``simpy`` (the reference); both
            give identical schedules.
        backend: where blocks run (:class:`simulator.parallel.Backend`).
        target_se: when given, ``iterations`` is a maximum: blocks are added, a batch at a
            time, until every project's P(on time) standard error is at most ``target_se``;
            the run keeps the shortest prefix of blocks that reaches it (whatever the
            number of workers).
        progress: called with the number of iterations done after each block.
        checkpoint: a folder where each completed block is saved as it arrives; blocks
            already there (from an interrupted run with the same scenario, seed, iterations,
            trace and target) are loaded instead of run again, so an interrupted run
            resumes with byte-identical results. The caller removes it when done.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    backend = backend or Backend(jobs=jobs)
    sizes = [min(BLOCK_SIZE, iterations - k * BLOCK_SIZE)
             for k in range(-(-iterations // BLOCK_SIZE))]
    store = None
    if checkpoint is not None:
        store = _Checkpoint(checkpoint, {
            "format": 1, "scenario_sha256": pf.source_hash, "seed": int(seed),
            "iterations": int(iterations), "trace": int(trace), "target_se": target_se,
            "tasks": len(pf.tasks), "projects": len(pf.projects), "pools": len(pf.pools)})
    blocks: list[_Block] = store.load(len(sizes)) if store is not None else []
    checked = 0  # blocks whose prefix has been tested against target_se

    def reached() -> bool:
        """The stopping rule, block by block: stop at the first prefix whose every
        P(on time) s.e. is at most target_se (later blocks of the batch are dropped), so
        the result does not depend on how many blocks ran at once."""
        nonlocal blocks, checked
        if target_se is None:
            return False
        finish = np.concatenate([b.finish for b in blocks]) if blocks else np.empty((0, 0))
        while checked < len(blocks):
            checked += 1
            n_done = sum(len(b.finish) for b in blocks[:checked])
            if max_on_time_se(pf, finish[:n_done]) <= target_se:
                blocks = blocks[:checked]
                return True
        return False

    if progress is not None and blocks:
        progress(sum(len(b.finish) for b in blocks))
    stop = reached()
    # the compiled kernels release the GIL: threads share the work with no start-up cost;
    # the simpy engine holds the GIL and needs processes
    prefer = "processes" if engine == "simpy" else "threads"
    with running(backend) as n_jobs:
        workers = joblib.cpu_count() if n_jobs < 0 else n_jobs
        batch = len(sizes) if target_se is None else max(2, workers)
        while not stop and len(blocks) < len(sizes):
            todo = range(len(blocks), min(len(blocks) + batch, len(sizes)))
            calls = (joblib.delayed(run_block)(pf, seed, k, sizes[k],
                                               max(0, min(trace - k * BLOCK_SIZE, sizes[k])),
                                               engine) for k in todo)
            try:
                with joblib.Parallel(n_jobs=1 if len(todo) == 1 else n_jobs, prefer=prefer,
                                     return_as="generator") as parallel:
                    for blk in parallel(calls):
                        if store is not None:
                            store.save(len(blocks), blk)
                        blocks.append(blk)
                        if progress is not None:
                            progress(sum(len(b.finish) for b in blocks))
            except (PmosimError, KeyboardInterrupt):
                raise
            except Exception as e:  # a worker crashed or raised: name the block, no result
                k = len(blocks)
                first = k * BLOCK_SIZE
                raise SimulationError(
                    f"block {k} (iterations {first}-{first + sizes[k] - 1}) failed: "
                    f"{type(e).__name__}: {e}") from e
            stop = reached()
    return _combine(pf, blocks)
