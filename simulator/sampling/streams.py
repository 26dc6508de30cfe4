"""The entity streams of :mod:`simulator.sampling.block`, compiled: many streams at once,
with no Python call per entity and without the GIL.

``entity_stream(root, block, kind, id)`` is ``Generator(PCG64(SeedSequence(root,
spawn_key=(block, h))))``. Here the same numbers come from compiled code, to the bit:

* :func:`stream_states` runs numpy's ``SeedSequence`` mixing (its ``mix_entropy`` and
  ``generate_state(4, uint64)``) and PCG64's seeding for every hash ``h`` at once;
* :func:`uniforms` is ``Generator.random``: PCG64's 128-bit LCG step with its XSL-RR output,
  ``(next_uint64 >> 11) * 2**-53``;
* :func:`betas` is ``Generator.beta``: numpy's algorithms (Johnk's for two shapes at most 1,
  else a ratio of Marsaglia-Tsang gammas over its 256-step ziggurat normal and exponential),
  as numba's own port of them, with the ziggurat tables numba takes from numpy's source.

tests/test_streams.py checks every function against numpy's own generators.
"""

from __future__ import annotations

import numpy as np
from numba.np.random._constants import (
    fe_double,
    fi_double,
    ke_double,
    ki_double,
    we_double,
    wi_double,
    ziggurat_exp_r,
    ziggurat_nor_inv_r,
    ziggurat_nor_r,
)
from numpy.typing import NDArray

from ..kernels import inline, jit

__all__ = ["betas", "spawn_words", "stream_states", "uniforms"]

U64 = NDArray[np.uint64]
_M32 = np.uint64(0xFFFFFFFF)
# SeedSequence's constants (numpy/random/bit_generator.pyx)
_INIT_A, _MULT_A = np.uint64(0x43B0D7E5), np.uint64(0x931E8875)
_INIT_B, _MULT_B = np.uint64(0x8B51F9DD), np.uint64(0x58F38DED)
_MIX_L, _MIX_R = np.uint64(0xCA01F9DD), np.uint64(0x4973F715)
_POOL = 4
# PCG64's multiplier, high and low words
_MUL_HI, _MUL_LO = np.uint64(0x2360ED051FC65DA4), np.uint64(0x4385DF649FCCF645)
_TO_DOUBLE = 1.0 / 9007199254740992.0
_WI, _KI, _FI = wi_double.copy(), ki_double.astype(np.uint64), fi_double.copy()
_WE, _KE, _FE = we_double.copy(), ke_double.astype(np.uint64), fe_double.copy()


def _words(n: int) -> list[int]:
    """numpy's ``_int_to_uint32_array``: little-endian 32-bit words, at least one."""
    if n < 0:
        raise ValueError(f"seed {n} must be non-negative")
    out = [n & 0xFFFFFFFF]
    n >>= 32
    while n:
        out.append(n & 0xFFFFFFFF)
        n >>= 32
    return out


def spawn_words(root: int, block: int) -> NDArray[np.uint64]:
    """The entropy words every stream of block ``block`` starts with: the root's words,
    padded with zeros to the pool size (as SeedSequence pads before a spawn key), then the
    block's."""
    run = _words(int(root))
    run += [0] * max(0, _POOL - len(run))
    return np.array(run + _words(int(block)), dtype=np.uint64)


@inline
def _hashmix(value: np.uint64, const: np.uint64) -> tuple[np.uint64, np.uint64]:
    value = (value ^ const) & _M32
    const = (const * _MULT_A) & _M32
    value = (value * const) & _M32
    return value ^ (value >> np.uint64(16)), const


@inline
def _mix(x: np.uint64, y: np.uint64) -> np.uint64:
    r = ((_MIX_L * x) & _M32) - ((_MIX_R * y) & _M32)
    r &= _M32
    return r ^ (r >> np.uint64(16))


@inline
def _mulhi(a: np.uint64, b: np.uint64) -> np.uint64:
    """The high 64 bits of the 128-bit product ``a * b``."""
    s32 = np.uint64(32)
    a_lo, a_hi, b_lo, b_hi = a & _M32, a >> s32, b & _M32, b >> s32
    ll, lh, hl, hh = a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi
    mid = (ll >> s32) + (lh & _M32) + (hl & _M32)
    return hh + (lh >> s32) + (hl >> s32) + (mid >> s32)


@inline
def _step(st: U64) -> None:
    """PCG64's LCG step on ``st`` = (state high, state low, inc high, inc low)."""
    hi, lo = st[0], st[1]
    new_hi = _mulhi(lo, _MUL_LO) + hi * _MUL_LO + lo * _MUL_HI
    new_lo = lo * _MUL_LO
    low = new_lo + st[3]
    st[0] = new_hi + st[2] + (np.uint64(1) if low < new_lo else np.uint64(0))
    st[1] = low


@inline
def _next_uint64(st: U64) -> np.uint64:
    _step(st)
    value = st[0] ^ st[1]
    rot = st[0] >> np.uint64(58)
    return (value >> rot) | (value << ((np.uint64(64) - rot) & np.uint64(63)))


@inline
def _next_double(st: U64) -> float:
    return float(_next_uint64(st) >> np.uint64(11)) * _TO_DOUBLE


@jit(refcounts=False)
def _states(prefix: U64, hashes: U64, entropy: U64, pool: U64, words: U64, out: U64) -> None:
    """``out[k]``: the PCG64 state of ``SeedSequence(entropy, spawn_key=(block, hashes[k]))``
    where ``prefix`` holds the words of the entropy and the block (see spawn_words);
    ``entropy`` (two words longer), ``pool`` (4) and ``words`` (8) are scratch."""
    n_pre = prefix.size
    for k in range(hashes.size):
        for w in range(n_pre):
            entropy[w] = prefix[w]
        h = hashes[k]
        entropy[n_pre] = h & _M32
        n = n_pre + 1
        if h >> np.uint64(32):
            entropy[n] = h >> np.uint64(32)
            n += 1
        const = _INIT_A  # mix_entropy
        for i in range(_POOL):
            pool[i], const = _hashmix(entropy[i] if i < n else np.uint64(0), const)
        for i_src in range(_POOL):
            for i_dst in range(_POOL):
                if i_src != i_dst:
                    mixed, const = _hashmix(pool[i_src], const)
                    pool[i_dst] = _mix(pool[i_dst], mixed)
        for i_src in range(_POOL, n):
            for i_dst in range(_POOL):
                mixed, const = _hashmix(entropy[i_src], const)
                pool[i_dst] = _mix(pool[i_dst], mixed)
        const = _INIT_B  # generate_state(4, uint64): eight 32-bit words
        for i in range(8):
            v = (pool[i % _POOL] ^ const) & _M32
            const = (const * _MULT_B) & _M32
            v = (v * const) & _M32
            words[i] = v ^ (v >> np.uint64(16))
        # PCG64: seed = (w1 w0, w3 w2) as (high, low); inc = (w5 w4, w7 w6), then
        # pcg_setseq_128_srandom_r: state 0, inc = seq << 1 | 1, step, state += seed, step
        s_hi = words[1] << np.uint64(32) | words[0]
        s_lo = words[3] << np.uint64(32) | words[2]
        q_hi = words[5] << np.uint64(32) | words[4]
        q_lo = words[7] << np.uint64(32) | words[6]
        st = out[k]
        st[0], st[1] = np.uint64(0), np.uint64(0)
        st[2] = (q_hi << np.uint64(1)) | (q_lo >> np.uint64(63))
        st[3] = (q_lo << np.uint64(1)) | np.uint64(1)
        _step(st)
        low = st[1] + s_lo
        st[0] = st[0] + s_hi + (np.uint64(1) if low < s_lo else np.uint64(0))
        st[1] = low
        _step(st)


def stream_states(root: int, block: int, hashes: NDArray[np.uint64]) -> U64:
    """``(len(hashes), 4)``: each stream's PCG64 state, as uint64 words (state high, state
    low, increment high, increment low)."""
    hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
    prefix = spawn_words(root, block)
    out = np.zeros((hashes.size, 4), dtype=np.uint64)
    scratch = (np.zeros(n, dtype=np.uint64) for n in (prefix.size + 2, _POOL, 8))
    _states(prefix, hashes, *scratch, out)
    return out


@jit(refcounts=False)
def _uniforms(states: U64, out: NDArray[np.float64]) -> None:
    for k in range(states.shape[0]):
        st = states[k]
        for j in range(out.shape[1]):
            out[k, j] = _next_double(st)


def uniforms(states: U64, size: int) -> NDArray[np.float64]:
    """``(streams, size)``: each stream's next ``size`` ``Generator.random`` values; the
    states move on past them."""
    out = np.empty((states.shape[0], size))
    _uniforms(states, out)
    return out


@inline
def _normal(st: U64) -> float:
    while True:
        r = _next_uint64(st)
        idx = r & np.uint64(0xFF)
        r >>= np.uint64(8)
        sign = r & np.uint64(1)
        rabs = (r >> np.uint64(1)) & np.uint64(0x000FFFFFFFFFFFFF)
        x = float(rabs) * _WI[idx]
        if sign & np.uint64(1):
            x = -x
        if rabs < _KI[idx]:
            return x
        if idx == 0:
            while True:
                xx = -ziggurat_nor_inv_r * np.log1p(-_next_double(st))
                yy = -np.log1p(-_next_double(st))
                if yy + yy > xx * xx:
                    if (rabs >> np.uint64(8)) & np.uint64(1):
                        return -(ziggurat_nor_r + xx)
                    return ziggurat_nor_r + xx
        elif (_FI[idx - 1] - _FI[idx]) * _next_double(st) + _FI[idx] < np.exp(-0.5 * x * x):
            return x


@inline
def _exponential(st: U64) -> float:
    while True:
        ri = _next_uint64(st) >> np.uint64(3)
        idx = ri & np.uint64(0xFF)
        ri >>= np.uint64(8)
        x = float(ri) * _WE[idx]
        if ri < _KE[idx]:
            return x
        if idx == 0:
            return ziggurat_exp_r - np.log1p(-_next_double(st))
        if (_FE[idx - 1] - _FE[idx]) * _next_double(st) + _FE[idx] < np.exp(-x):
            return x


@inline
def _gamma(st: U64, shape: float) -> float:
    if shape == 1.0:
        return _exponential(st)
    if shape == 0.0:
        return 0.0
    if shape < 1.0:
        while True:
            u = _next_double(st)
            v = _exponential(st)
            if u <= 1.0 - shape:
                x = pow(u, 1.0 / shape)
                if x <= v:
                    return x
            else:
                y = -np.log((1 - u) / shape)
                x = pow(1.0 - shape + shape * y, 1.0 / shape)
                if x <= v + y:
                    return x
    b = shape - 1.0 / 3.0
    c = 1.0 / np.sqrt(9 * b)
    while True:
        while True:
            x = _normal(st)
            v = 1.0 + c * x
            if v > 0.0:
                break
        v = v * v * v
        u = _next_double(st)
        if u < 1.0 - 0.0331 * (x * x) * (x * x):
            return b * v
        if np.log(u) < 0.5 * x * x + b * (1.0 - v + np.log(v)):
            return b * v


@inline
def _beta(st: U64, a: float, b: float) -> float:
    if a <= 1.0 and b <= 1.0:
        while True:
            u = _next_double(st)
            v = _next_double(st)
            x = pow(u, 1.0 / a)
            y = pow(v, 1.0 / b)
            xpy = x + y
            # numpy's test; its logarithmic branch for ``x + y == 0`` sits inside this one
            # and is never reached, so it is left out
            if xpy <= 1.0 and xpy > 0.0:
                return x / xpy
    ga = _gamma(st, a)
    gb = _gamma(st, b)
    return ga / (ga + gb)


@jit(refcounts=False)
def _betas(
    states: U64, a: NDArray[np.float64], b: NDArray[np.float64], out: NDArray[np.float64]
) -> None:
    for k in range(states.shape[0]):
        st = states[k]
        for j in range(out.shape[1]):
            out[k, j] = _beta(st, a[k], b[k])


def betas(
    states: U64, a: NDArray[np.float64], b: NDArray[np.float64], size: int
) -> NDArray[np.float64]:
    """``(streams, size)``: stream ``k``'s next ``size`` ``Generator.beta(a[k], b[k])``
    values; the states move on past them."""
    a, b = (np.ascontiguousarray(x, dtype=np.float64) for x in (a, b))
    if not a.shape == b.shape == (states.shape[0],):
        raise ValueError("one pair of shapes per stream")
    out = np.empty((states.shape[0], size))
    _betas(states, a, b, out)
    return out
