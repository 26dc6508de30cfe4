"""Monte Carlo runs: blocks of iterations sampled, simulated and reduced on local workers or
a Dask cluster, checkpointed as they arrive, combined in block order."""

from __future__ import annotations

from .outcome import Block, DriverSums, Outcome
from .parallel import (
    Backend,
    check_jobs,
    check_scheduler,
    ignore_interrupts,
    on_interrupt,
    raise_if_interrupted,
    release_memory,
    running,
    stop_local_workers,
)
from .runner import (
    ENGINES,
    fork_times,
    max_on_time_se,
    run_block,
    run_checkpoint,
    simulate_portfolio,
)
from .switched_off import without_each_risk

__all__ = [
    "ENGINES",
    "Backend",
    "Block",
    "DriverSums",
    "Outcome",
    "check_jobs",
    "check_scheduler",
    "fork_times",
    "ignore_interrupts",
    "max_on_time_se",
    "on_interrupt",
    "raise_if_interrupted",
    "release_memory",
    "run_block",
    "run_checkpoint",
    "running",
    "simulate_portfolio",
    "stop_local_workers",
    "without_each_risk",
]
