"""Sampling: the per-iteration inputs of a block of iterations, from seeded per-entity
streams (see :mod:`simulator.sampling.block` for the randomness rules)."""

from __future__ import annotations

from .block import (
    BLOCK_SIZE,
    BlockSample,
    Draws,
    RiskAmounts,
    block_sizes,
    capacity_events,
    delays_left,
    draw_block,
    entity_stream,
    risk_amounts,
    sample_block,
    with_risks,
)

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
