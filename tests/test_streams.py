"""The compiled entity streams against numpy's own SeedSequence, PCG64 and Generator: the
same states and the same numbers, to the bit."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.sampling import entity_stream
from simulator.sampling.block import _hash
from simulator.sampling.streams import betas, stream_states, uniforms


def _numpy_generator(root: int, block: int, h: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(root, spawn_key=(block, h))))


# roots of one to four 32-bit words, blocks of one or two words, hashes of one or two words
# (SeedSequence pads a short root to its pool size before the spawn key, not a long one)
EDGES = [
    (0, 0, 0),
    (1, 0, 5),
    (2**32 - 1, 1, 2**32 - 1),
    (2**32, 2, 2**32),
    (2**128 - 1, 7, 2**64 - 1),
    (12345678901234567890123, 3, 2**40 + 7),
    (99, 2**33, 2**31),
    (2**160 + 5, 0, 3),
]


@pytest.mark.parametrize(("root", "block", "h"), EDGES)
def test_stream_state_is_pcg64_seeded_by_seedsequence(root: int, block: int, h: int) -> None:
    s = stream_states(root, block, np.array([h], dtype=np.uint64))[0]
    want = np.random.PCG64(np.random.SeedSequence(root, spawn_key=(block, h))).state["state"]
    assert (int(s[0]) << 64 | int(s[1]), int(s[2]) << 64 | int(s[3])) == (
        want["state"],
        want["inc"],
    )


def test_states_of_random_seeds_blocks_and_hashes() -> None:
    rng = np.random.default_rng(2026)
    for _ in range(20):
        root, block = int(rng.integers(0, 2**63)), int(rng.integers(0, 100))
        hashes = rng.integers(0, 2**63, size=50, dtype=np.uint64) << np.uint64(1)
        got = stream_states(root, block, hashes)
        for k, h in enumerate(hashes):
            want = np.random.PCG64(np.random.SeedSequence(root, spawn_key=(block, int(h))))
            st = want.state["state"]
            assert int(got[k, 0]) << 64 | int(got[k, 1]) == st["state"]
            assert int(got[k, 2]) << 64 | int(got[k, 3]) == st["inc"]


def test_uniforms_are_generator_random_and_the_state_moves_on() -> None:
    hashes = np.array([_hash("task", f"p{k}.t{k}") for k in range(40)], dtype=np.uint64)
    states = stream_states(77, 4, hashes)
    first, second = uniforms(states, 300), uniforms(states, 200)
    for k, key in enumerate(f"p{k}.t{k}" for k in range(40)):
        g = entity_stream(77, 4, "task", key)
        np.testing.assert_array_equal(first[k], g.random(300))
        np.testing.assert_array_equal(second[k], g.random(200))


@pytest.mark.parametrize(
    ("a", "b"),
    [(2.0, 3.0), (1.0, 5.0), (3.1, 1.0), (1.0, 1.0), (0.5, 0.7), (0.3, 2.0), (5.0, 0.4), (40, 2)],
)
def test_betas_are_generator_beta(a: float, b: float) -> None:
    """Every branch of numpy's sampler: Johnk's (both shapes at most 1), the gamma ratio
    with shapes above, at and below 1 (exponential and rejection paths, the ziggurat's
    tail)."""
    rng = np.random.default_rng(7)
    hashes = rng.integers(0, 2**63, size=30, dtype=np.uint64)
    got = betas(stream_states(5, 1, hashes), np.full(30, a), np.full(30, b), 2000)
    for k, h in enumerate(hashes):
        np.testing.assert_array_equal(got[k], _numpy_generator(5, 1, int(h)).beta(a, b, 2000))


def test_betas_check_their_shapes() -> None:
    states = stream_states(1, 0, np.arange(3, dtype=np.uint64))
    with pytest.raises(ValueError, match="one pair of shapes per stream"):
        betas(states, np.ones(2), np.ones(3), 10)


@pytest.mark.parametrize("name", ["portfolio-2027.yaml", "portfolio-2027-status.yaml"])
def test_a_blocks_draws_are_each_entitys_own_stream(name: str) -> None:
    """draw_block against one numpy Generator per entity: an ungrouped task's size is
    ``law.draw(stream)`` (PERT laws among them, by the compiled beta sampler), a risk's
    four uniforms are its stream's first four blocks of ``random()``."""
    from pathlib import Path

    from simulator.sampling import BLOCK_SIZE, draw_block
    from simulator.sampling.block import _law, _survival
    from simulator.scenario import load_scenario

    pf = load_scenario(Path(__file__).parents[1] / "scenarios" / name)
    draws = draw_block(pf, 321, 2)
    grouped = {i for g in pf.groups if g.rho > 0 for i in g.tasks}
    checked = 0
    for i, t in enumerate(pf.tasks):
        if i in grouped or t.complete or _law(t).is_constant or _survival(t) is not None:
            continue
        want = _law(t).draw(entity_stream(321, 2, "task", t.key), BLOCK_SIZE)
        np.testing.assert_array_equal(draws.sizes[t.key], want)
        checked += 1
    assert checked >= 5
    for risk in pf.risks:
        g = entity_stream(321, 2, "risk", risk.id)
        for u in draws.risks[risk.id]:
            np.testing.assert_array_equal(u, g.random(BLOCK_SIZE))
