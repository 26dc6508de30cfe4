"""The engines: one iteration (or a block of them) of the portfolio's resource-constrained
schedule, arrays in, arrays out. ``reference`` is the simpy discrete-event simulation that
defines the semantics; ``fast`` replays it exactly in compiled code. ``chains`` and
``loads`` reduce a block's schedules to what is kept of them."""

from __future__ import annotations

from .chains import CAPACITY, RELEASE, ChainCounts, chain_counts, chain_steps, count_chains
from .clock import link_wait, py_work_end, work_between, work_ends
from .fast import (
    CapacityArrays,
    Forks,
    duration_readers,
    pack_capacity,
    simulate_batch,
    simulate_fast,
    simulate_forks,
)
from .loads import capacity_load, overload, schedule_load
from .reference import FIT_TOLERANCE, Schedule, simulate
from .stuck import stuck_message

__all__ = [
    "CAPACITY",
    "FIT_TOLERANCE",
    "RELEASE",
    "CapacityArrays",
    "ChainCounts",
    "Forks",
    "Schedule",
    "capacity_load",
    "chain_counts",
    "chain_steps",
    "count_chains",
    "duration_readers",
    "link_wait",
    "overload",
    "pack_capacity",
    "py_work_end",
    "schedule_load",
    "simulate",
    "simulate_batch",
    "simulate_fast",
    "simulate_forks",
    "stuck_message",
    "work_between",
    "work_ends",
]
