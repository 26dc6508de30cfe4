"""The one message both engines give for a task that can never start."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ..model import Network

__all__ = ["Names", "stuck_message"]

Names = tuple[Sequence[str], Sequence[str]]


def stuck_message(
    net: Network,
    i: int,
    ready: NDArray[np.float64],
    capacity: NDArray[np.float64],
    names: Names | None,
) -> str:
    """Why task ``i`` never started, given when each task became ready (NaN: never) and the
    pools' capacity when the run ended; ``names`` are the task and pool names."""
    tasks, pools = names or (
        [f"#{k}" for k in range(net.n_tasks)],
        [f"#{k}" for k in range(len(capacity))],
    )
    if np.isnan(ready[i]):
        return f"task {tasks[i]} never became ready (a predecessor could not start)"
    need = ", ".join(
        f"{net.demand[i, p]:g} units of {pools[int(p)]} (capacity now {capacity[p]:g} for good)"
        for p in np.flatnonzero(net.demand[i])
    )
    return f"task {tasks[i]}, ready at working day {ready[i]:g}, can never start: it needs {need}"
