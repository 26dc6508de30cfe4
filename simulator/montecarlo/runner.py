"""Monte Carlo runs: blocks of iterations, sampled, simulated and reduced, combined in order.

Block ``k`` holds iterations ``k*BLOCK_SIZE ...``; blocks run in any order on any number of
workers (joblib) and are concatenated in block order, so results are byte-identical
whatever ``jobs`` is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import operator
from collections.abc import Callable, Iterator
from pathlib import Path

import joblib
import numpy as np
from numpy.typing import NDArray

from ..engine import (
    CapacityArrays,
    capacity_load,
    chain_steps,
    count_chains,
    duration_readers,
    overload,
    pack_capacity,
    schedule_load,
    simulate,
    simulate_batch,
    work_between,
    work_ends,
)
from ..errors import PmosimError, ReachError, SimulationError
from ..model import Portfolio
from ..model.calendar import LAST_DATE, UNDATED_LIMIT
from ..sampling import BLOCK_SIZE, BlockSample, delays_left, sample_block
from .checkpoint import Checkpoint
from .outcome import Block, DriverSums, Outcome
from .parallel import (
    Backend,
    ignore_interrupts,
    raise_if_interrupted,
    release_memory,
    running,
)

__all__ = [
    "CHUNK_CELLS",
    "ENGINES",
    "block_sizes_of",
    "fork_times",
    "max_on_time_se",
    "passes",
    "project_figures",
    "run_block",
    "run_checkpoint",
    "schedules",
    "simulate_portfolio",
    "workers",
]

Array = NDArray[np.float64]
Progress = Callable[[int], None] | None

ENGINES = ("auto", "fast", "simpy")

_INTS, _FLOATS = np.empty(0, dtype=np.int64), np.empty(0)
_NO_DRIVERS = DriverSums(0, 0, _INTS, _INTS, _INTS, _FLOATS, _FLOATS, _FLOATS, _FLOATS, _FLOATS)


def schedules(
    pf: Portfolio, sample: BlockSample, packed: CapacityArrays, engine: str, first: int
) -> tuple[Array, Array, Array]:
    """``(start, finish, ready)`` for every iteration of a block, by the chosen engine."""
    net, names = pf.network, pf.names
    if engine in ("auto", "fast"):
        return simulate_batch(net, sample.duration, *packed, names=names, first_iteration=first)
    n = len(sample.duration)
    start, finish, ready = (np.empty_like(sample.duration) for _ in range(3))
    for it in range(n):
        try:
            sched = simulate(net, sample.duration[it], sample.capacity[it], names=names)
        except SimulationError as e:
            raise SimulationError(f"iteration {first + it}: {e}") from None
        start[it], finish[it], ready[it] = sched.start, sched.finish, sched.ready
    return start, finish, ready


def _project_costs(pf: Portfolio, sample: BlockSample, p_start: Array, p_finish: Array) -> Array:
    """``(iterations, projects)``: pool-days (a task in progress also pays for the time it
    has already worked; a complete task for its actual time), fixed costs, overhead per
    working day of the default calendar over the project's span, and risk costs."""
    rate, fixed = pf.task_rates
    work = sample.duration  # working days paid for
    if pf.in_progress:
        work = work.copy()
    for i, elapsed, is_running, _ in pf.in_progress:
        # complete: its actual days; running: they come on top
        work[:, i] = elapsed + (work[:, i] if is_running else 0.0)
    task_cost = work * rate
    task_cost += fixed
    cost = _per_project(pf, task_cost, np.add)  # one reduceat: a gather per project cost more
    own_cost, per_day = pf.project_rates
    cost += own_cost
    days = np.full(len(pf.projects), pf.calendar.default, dtype=np.int64)
    span = work_between(*pf.calendar.table, days, p_start, p_finish)
    cost += per_day * span
    cost += sample.risk_cost
    return cost


def _key_times(pf: Portfolio, start: Array, end: Array) -> Array:
    """``(iterations, key dates)``: each key date's event time."""
    keys = pf.key_dates
    out = np.empty((len(start), len(keys)))
    for k, key in enumerate(keys):
        out[:, k] = (start if key.event == "start" else end)[:, key.task]
    return out


def _actual_starts(pf: Portfolio, start: Array) -> Array:
    """A task in progress at the status date started when it actually did (the engines run
    it from the status date)."""
    for i, _, is_running, when in pf.in_progress:
        if is_running:
            start[:, i] = when
    return start


def _per_project(pf: Portfolio, x: Array, reduce: np.ufunc) -> Array:
    """``(iterations, projects)``: ``reduce`` (np.maximum, np.minimum) of each project's
    columns of ``x``."""
    runs = pf.member_runs
    if runs is None:
        return np.stack([reduce.reduce(x[:, m], axis=1) for m in pf.members], axis=1)
    order, starts = runs
    return reduce.reduceat(x if order is None else x[:, order], starts, axis=1)


def _trace_rows(first: int, k: int, start: Array, finish: Array) -> Array:
    """``(iteration, task, start, finish)`` rows of the block's first ``k`` iterations."""
    n_tasks = start.shape[1]
    rows = np.empty((k * n_tasks, 4))
    if k:
        rows[:, 0] = np.repeat(first + np.arange(k), n_tasks)
        rows[:, 1] = np.tile(np.arange(n_tasks), k)
        rows[:, 2] = start[:k].ravel()
        rows[:, 3] = finish[:k].ravel()
    return rows


# iterations x tasks per pass of the engine inside a block (4 MB per schedule array): a
# block's schedules are simulated and reduced this many cells at a time, so that a worker's
# memory is bounded by the block's inputs, not by several (iterations, tasks) arrays
CHUNK_CELLS = 1 << 19


_readers: list[tuple[Portfolio, list[NDArray[np.int64]]]] = []  # the last portfolio's


def fork_times(pf: Portfolio, start: Array) -> Array:
    """``(iterations, risks)``: per risk, the earliest start in each iteration (``start``,
    from an engine) of a task that reads a duration the risk delays (see
    :func:`simulator.engine.duration_readers`), infinity when it delays none: the run
    without that risk is this one up to then."""
    if not (_readers and _readers[0][0] is pf):
        tasks = [np.array(delays_left(pf, r), dtype=np.int64) for r in range(len(pf.risks))]
        _readers[:] = [(pf, [duration_readers(pf.network, t) for t in tasks])]
    out = np.full((len(start), len(pf.risks)), np.inf)
    for r, readers in enumerate(_readers[0][1]):
        if readers.size:
            out[:, r] = start[:, readers].min(axis=1)
    return out


def passes(n: int, tasks: int) -> list[tuple[int, int]]:
    """The block's iterations ``[0, n)`` cut into equal passes of at most
    :data:`CHUNK_CELLS` cells (one pass for a portfolio of up to ~1,000 tasks); none when
    ``n`` is 0."""
    parts = max(1, -(-n * max(tasks, 1) // CHUNK_CELLS))
    step = max(1, -(-n // parts))
    return [(lo, min(lo + step, n)) for lo in range(0, n, step)]


def _rows(sample: BlockSample, lo: int, hi: int) -> BlockSample:
    """Iterations ``lo:hi`` of ``sample`` (views, no copies)."""
    return BlockSample(
        sample.duration[lo:hi],
        sample.occurred[lo:hi],
        sample.risk_cost[lo:hi],
        sample.capacity[lo:hi],
    )


def project_figures(
    pf: Portfolio, sample: BlockSample, start: Array, finish: Array
) -> tuple[Array, Array, Array, Array, Array]:
    """From the engine's schedules: the tasks' starts (a task in progress from its actual
    start) and where their work ended, and per project its first start, its finish and its
    cost, ``(iterations, projects)``."""
    net = pf.network
    start = _actual_starts(pf, start)
    end = work_ends(*net.clock, net.calendar, finish)  # where each task's work ended
    p_finish = _per_project(pf, end, np.maximum)
    p_start = _per_project(pf, start, np.minimum)
    return start, end, p_start, p_finish, _project_costs(pf, sample, p_start, p_finish)


def _pass(
    pf: Portfolio,
    sample: BlockSample,
    first: int,
    trace: int,
    engine: str,
    steps: tuple[NDArray[np.int32], NDArray[np.int64]],
) -> Block:
    """Simulate and reduce the iterations of ``sample`` (the first is iteration ``first`` of
    the run), writing their chain steps to ``steps``; the result's ``drivers`` is left to
    the block."""
    net = pf.network
    packed = pack_capacity(sample.capacity)
    start, finish, ready = schedules(pf, sample, packed, engine, first)
    fork = fork_times(pf, start)
    chain_steps(net, pf, start, finish, ready, sample.duration, *steps)
    start, end, p_start, p_finish, cost = project_figures(pf, sample, start, finish)
    deadlines = [p.deadline for p in pf.projects if p.deadline is not None]
    cap_times = [t for t, _, _ in pf.base_capacity_events()]
    horizon = max([float(finish.max(initial=0.0)), *deadlines, *cap_times, 1.0])
    _, edges = pf.calendar.periods(horizon)
    capacity, final = capacity_load(net.capacity, *packed, edges)
    busy, waiting = schedule_load(ready, start, finish, net, edges)
    return Block(
        p_finish,
        p_start,
        cost,
        sample.occurred,
        fork,
        busy,
        waiting,
        capacity,
        final,
        _trace_rows(first, min(trace, len(start)), start, end),
        horizon,
        _NO_DRIVERS,
        overload(start, finish, net, *packed, edges),
        _key_times(pf, start, end),
    )


def run_block(
    pf: Portfolio, root: int, block: int, n: int, trace: int = 0, engine: str = "auto"
) -> Block:
    """Sample, simulate and reduce ``n`` iterations of block ``block``, in passes of at
    most :data:`CHUNK_CELLS` iterations x tasks (the passes' results are the block's, cell
    for cell: each pass's periods are a prefix of the block's, padded as blocks are)."""
    net = pf.network
    sample = sample_block(pf, root, block, n)
    steps = (
        np.empty((n, net.n_tasks), dtype=np.int32),
        np.empty((n, len(pf.projects)), dtype=np.int64),
    )
    first = block * BLOCK_SIZE
    parts = [
        _pass(
            pf,
            _rows(sample, lo, hi),
            first + lo,
            max(0, min(trace - lo, hi - lo)),
            engine,
            (steps[0][lo:hi], steps[1][lo:hi]),
        )
        for lo, hi in passes(n, net.n_tasks)
    ]
    p_finish = np.concatenate([b.finish for b in parts])
    drivers = DriverSums.of(count_chains(pf, *steps), pf.task_project, sample.duration, p_finish)
    if len(parts) == 1:
        return dataclasses.replace(parts[0], drivers=drivers)
    width = max(b.busy.shape[2] for b in parts)
    return Block(
        p_finish,
        np.concatenate([b.first_start for b in parts]),
        np.concatenate([b.cost for b in parts]),
        sample.occurred,
        np.concatenate([b.fork for b in parts]),
        _pad(parts, "busy", width),
        _pad(parts, "waiting", width),
        _pad(parts, "capacity", width, [b.final_capacity for b in parts]),
        np.concatenate([b.final_capacity for b in parts]),
        np.concatenate([b.trace for b in parts]),
        max(b.horizon for b in parts),
        drivers,
        _pad(parts, "overload", width),
        np.concatenate([b.keys for b in parts]),
    )


def _pad(blocks: list[Block], name: str, width: int, fill: list[Array] | None = None) -> Array:
    parts = []
    for b, blk in enumerate(blocks):
        arr = getattr(blk, name)
        missing = width - arr.shape[2]
        if missing:
            extra = (
                np.zeros((*arr.shape[:2], missing))
                if fill is None
                else np.repeat(fill[b][:, :, None], missing, axis=2)
            )
            arr = np.concatenate([arr, extra], axis=2)
        parts.append(arr)
    return np.concatenate(parts)


def _combine(pf: Portfolio, blocks: list[Block]) -> Outcome:
    width = max(b.busy.shape[2] for b in blocks)
    labels, edges = pf.calendar.periods(max(b.horizon for b in blocks))
    return Outcome(
        finish=np.concatenate([b.finish for b in blocks]),
        first_start=np.concatenate([b.first_start for b in blocks]),
        cost=np.concatenate([b.cost for b in blocks]),
        occurred=np.concatenate([b.occurred for b in blocks]),
        fork=np.concatenate([b.fork for b in blocks]),
        periods=labels[:width],
        edges=edges[: width + 1],
        busy=_pad(blocks, "busy", width),
        waiting=_pad(blocks, "waiting", width),
        capacity=_pad(blocks, "capacity", width, [b.final_capacity for b in blocks]),
        trace=np.concatenate([b.trace for b in blocks]),
        drivers=functools.reduce(operator.add, [b.drivers for b in blocks]),
        overload=_pad(blocks, "overload", width),
        keys=np.concatenate([b.keys for b in blocks]),
    )


def max_on_time_se(pf: Portfolio, finish: Array, keys: Array) -> float:
    """The largest standard error of P(on time) over the projects with a deadline and the
    key dates with a due date (``keys``: their event times, as :attr:`Block.keys`)."""
    hits = [finish[:, k] <= p.deadline for k, p in enumerate(pf.projects) if p.deadline is not None]
    hits += [keys[:, j] <= d.due for j, d in enumerate(pf.key_dates) if d.due is not None]
    ses = [0.0]
    for hit in hits:
        p_hit = float(np.mean(hit))
        ses.append(np.sqrt(p_hit * (1 - p_hit) / len(finish)))
    return max(ses)


def _measured(pf: Portfolio) -> bool:
    """Whether the run has a P(on time): a project's deadline or a key date's due date."""
    return any(p.deadline is not None for p in pf.projects) or any(
        d.due is not None for d in pf.key_dates
    )


def _within_reach(pf: Portfolio, blk: Block, first: int) -> None:
    """Refuse a block in which a project ends after the last time a date can show (a draw
    far in the tail of a law without a maximum: validation checked the rest)."""
    with np.errstate(invalid="ignore"):
        beyond = np.argwhere(blk.finish > pf.calendar.latest)
    if len(beyond) == 0:
        return
    it, p = (int(x) for x in beyond[0])
    limit = str(LAST_DATE) if pf.calendar.start is not None else f"working day {UNDATED_LIMIT:,.0f}"
    raise ReachError(
        f"project '{pf.projects[p].id}' would finish after {limit} in iteration {first + it}: "
        "a draw far in the tail of a law without a maximum (normal, lognormal, exponential, "
        "calibrated); narrow that law or give it a maximum"
    )


class _Blocks:
    """The blocks of one run, in order, with the ``target_se`` stopping rule."""

    def __init__(
        self,
        pf: Portfolio,
        sizes: list[int],
        target_se: float | None,
        store: Checkpoint | None,
        progress: Progress,
    ) -> None:
        self.pf, self.sizes, self.target_se = pf, sizes, target_se
        self.store, self.progress = store, progress
        self.done: list[Block] = store.load(len(sizes)) if store is not None else []
        self.checked = 0  # blocks whose prefix has been tested against target_se
        if progress is not None and self.done:
            progress(self.iterations())
        self.stop = self.reached()

    def iterations(self) -> int:
        return sum(len(b.finish) for b in self.done)

    def add(self, blk: Block) -> None:
        _within_reach(self.pf, blk, self.iterations())
        if self.store is not None:
            self.store.save(len(self.done), blk)
        self.done.append(blk)
        release_memory()  # what the block's worker freed
        if self.progress is not None:
            self.progress(self.iterations())
        raise_if_interrupted()  # the block is kept; a SIGINT whose exception was lost stops here

    def reached(self) -> bool:
        """The stopping rule, block by block: stop at the first prefix whose every
        P(on time) s.e. is at most target_se (later blocks of the batch are dropped), so
        the result does not depend on how many blocks ran at once."""
        if self.target_se is None:
            return False
        blocks = self.done
        finish = np.concatenate([b.finish for b in blocks]) if blocks else np.empty((0, 0))
        keys = np.concatenate([b.keys for b in blocks]) if blocks else np.empty((0, 0))
        while self.checked < len(blocks):
            self.checked += 1
            n_done = sum(len(b.finish) for b in blocks[: self.checked])
            if max_on_time_se(self.pf, finish[:n_done], keys[:n_done]) <= self.target_se:
                self.done = blocks[: self.checked]
                return True
        return False

    def next_batch(self, batch: int) -> range:
        """The blocks to run next (empty once the run is complete)."""
        if self.stop:
            return range(0)
        first = len(self.done)
        return range(first, min(first + batch, len(self.sizes)))


def run_checkpoint(
    pf: Portfolio,
    folder: Path | None,
    seed: int,
    iterations: int,
    trace: int,
    target_se: float | None,
) -> Checkpoint | None:
    """The checkpoint of a run in ``folder`` (None: none), keyed by what its blocks
    depend on."""
    if folder is None:
        return None
    return Checkpoint(
        folder,
        {
            "format": 4,
            "scenario_sha256": pf.source_hash,
            "seed": int(seed),
            "iterations": int(iterations),
            "trace": int(trace),
            "target_se": target_se,
            "tasks": len(pf.tasks),
            "projects": len(pf.projects),
            "pools": len(pf.pools),
        },
    )


@contextlib.contextmanager
def workers(engine: str, n_jobs: int, local: bool) -> Iterator[joblib.Parallel]:
    """A ``joblib.Parallel`` that yields results in order as they arrive: threads for the
    compiled engine (its kernels release the GIL: no start-up cost), processes for the
    simpy engine (it holds the GIL); ``local``: this machine's, else the configured
    backend's."""
    prefer = "processes" if engine == "simpy" else "threads"
    processes = (
        joblib.parallel_config(backend="loky", initializer=ignore_interrupts)
        if local and prefer == "processes"
        else contextlib.nullcontext()
    )
    with (
        processes,
        joblib.Parallel(n_jobs=n_jobs, prefer=prefer, return_as="generator") as parallel,
    ):
        yield parallel


def _run_batch(
    pf: Portfolio,
    blocks: _Blocks,
    todo: range,
    seed: int,
    trace: int,
    engine: str,
    n_jobs: int,
    local: bool,
) -> None:
    """Run the blocks ``todo`` on ``n_jobs`` workers (``local``: this machine's), adding
    each as it arrives."""
    sizes = blocks.sizes
    calls = (
        joblib.delayed(run_block)(
            pf, seed, k, sizes[k], max(0, min(trace - k * BLOCK_SIZE, sizes[k])), engine
        )
        for k in todo
    )
    try:
        with workers(engine, n_jobs if len(todo) > 1 else 1, local) as parallel:
            results: Iterator[Block] = parallel(calls)
            for blk in results:
                blocks.add(blk)
    except (PmosimError, KeyboardInterrupt):
        raise
    except Exception as e:  # a worker crashed or raised: name the block, no result
        k = len(blocks.done)
        first = k * BLOCK_SIZE
        raise SimulationError(
            f"block {k} (iterations {first}-{first + sizes[k] - 1}) failed: {type(e).__name__}: {e}"
        ) from e


def block_sizes_of(iterations: int) -> list[int]:
    """The sizes of a run's blocks: :data:`BLOCK_SIZE` iterations each, the last the rest."""
    return [
        min(BLOCK_SIZE, iterations - k * BLOCK_SIZE) for k in range(-(-iterations // BLOCK_SIZE))
    ]


def simulate_portfolio(
    pf: Portfolio,
    iterations: int,
    seed: int,
    *,
    jobs: int = 1,
    trace: int = 0,
    engine: str = "auto",
    backend: Backend | None = None,
    target_se: float | None = None,
    progress: Progress = None,
    checkpoint: Path | None = None,
) -> Outcome:
    """Run ``iterations`` iterations with root seed ``seed``.

    Args:
        jobs: local workers (threads for the fast engine, processes for simpy; ignored
            when ``backend`` is given).
        trace: keep the schedules of the first ``trace`` iterations.
        engine: ``fast`` (compiled; ``auto`` picks it) or ``simpy`` (the reference); both
            give identical schedules.
        backend: where blocks run (:class:`simulator.montecarlo.Backend`).
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
    if target_se is not None and not _measured(pf):
        raise PmosimError(
            f"--target-se {target_se:g}: no project has a deadline and no key date a due "
            "date, so there is no P(on time) to make that precise; give -n alone"
        )
    backend = backend or Backend(jobs=jobs)
    sizes = block_sizes_of(iterations)
    store = run_checkpoint(pf, checkpoint, seed, iterations, trace, target_se)
    blocks = _Blocks(pf, sizes, target_se, store, progress)
    with running(backend) as n_jobs:
        count = joblib.cpu_count() if n_jobs < 0 else n_jobs
        batch = len(sizes) if target_se is None else max(2, count)
        while todo := blocks.next_batch(batch):
            _run_batch(pf, blocks, todo, seed, trace, engine, n_jobs, backend.kind == "local")
            blocks.stop = blocks.reached()
    return _combine(pf, blocks.done)
