"""The one way pmosim compiles its loops (numba), and the compressed-row helper they share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numba.core.cpu import CPUTargetOptions
from numpy.typing import NDArray

__all__ = ["NO_REFCOUNTS", "inline", "jit", "njit", "offsets"]

F = TypeVar("F", bound=Callable[..., Any])

# numba's switch for its runtime's reference counting. A kernel that allocates nothing does
# not need it, and in branchy loops the increments and decrements the pruning pass cannot
# remove are atomic operations on every array passed around (numba issue #2350, where the
# numba developers use this switch to show the cost). The switch is private: without it
# the kernels still compile, only slower.
NO_REFCOUNTS: dict[str, bool] = {"_nrt": False} if hasattr(CPUTargetOptions, "_nrt") else {}
njit: Any = numba.njit  # typed loosely: numba's stubs do not list the private switch


def jit(fn: F | None = None, *, refcounts: bool = True) -> Any:
    """``numba.njit(nogil=True)`` with an on-disk cache when some cache directory is
    writable; ``refcounts=False`` for kernels that allocate no arrays (see NO_REFCOUNTS).
    Used bare (``@jit``) or with options (``@jit(refcounts=False)``)."""
    if fn is None:
        return lambda f: jit(f, refcounts=refcounts)
    options: dict[str, bool] = {"nogil": True, **({} if refcounts else NO_REFCOUNTS)}
    try:
        return cast(F, njit(cache=True, **options)(fn))
    except RuntimeError:  # no writable cache location (read-only install, no home)
        return cast(F, njit(**options)(fn))


def inline(fn: F) -> F:
    """A kernel helper, inlined into its callers by numba (no call overhead, no reference
    counting of the arrays it is given)."""
    return cast(F, njit(inline="always", **NO_REFCOUNTS)(fn))


def offsets(counts: Any) -> NDArray[np.int64]:
    """Compressed-row offsets: ``ptr[k]:ptr[k + 1]`` holds the ``counts[k]`` entries of
    row ``k``."""
    ptr = np.zeros(len(counts) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(counts)
    return ptr
