"""Charts drawn in a second process while this one draws the others.

matplotlib holds Python's lock while it lays out and draws, so a second thread would only
take turns with the first; a second process draws on the other core. It is started with
``spawn`` (a fresh interpreter: safe beside the run's own threads, and the same on every
system), ignores Ctrl-C (this process handles it, and stops it), and what it draws is the
same bytes as what this process would have drawn.
"""

from __future__ import annotations

import gc
import importlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import TypeVar

from ..montecarlo import ignore_interrupts

__all__ = ["later", "second_process"]

T = TypeVar("T")


@contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """SIGINT ignored meanwhile (in the main thread, the only one that may set it): a
    process started then inherits that, and Python leaves an ignored SIGINT ignored, so a
    Ctrl-C while it starts up does not end it with a traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


@contextmanager
def second_process(workers: int, warm: str | None = None) -> Iterator[ProcessPoolExecutor | None]:
    """A pool of one process when ``workers`` is 2 or more (``-1``: every core) and the
    machine has a second core, else None. The process starts at once and imports ``warm``
    (a module: its imports then overlap this process's work). Leaving the block by an
    exception (Ctrl-C included) stops the process at once."""
    cores = os.cpu_count() or 1
    if (cores if workers == -1 else workers) < 2 or cores < 2:
        yield None
        return
    try:
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(1, mp_context=context, initializer=ignore_interrupts)
    except (OSError, ImportError, NotImplementedError):  # no processes here: drawn by this one
        yield None
        return
    with _interrupts_ignored():  # the process starts now, deaf to Ctrl-C from its birth
        later(pool, _imported, warm or __name__)
    try:
        yield pool
    except BaseException:
        processes = list((getattr(pool, "_processes", None) or {}).values())  # shutdown drops them
        for process in processes:
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _imported(module: str) -> None:
    """Import ``module``; what is imported then lives as long as the process, so the cycle
    collector no longer walks it."""
    importlib.import_module(module)
    gc.freeze()


def later(pool: ProcessPoolExecutor | None, fn: Callable[..., T], *args: object) -> Callable[[], T]:
    """``fn(*args)`` started in ``pool``; returns the call that waits for its result. Without
    a pool, or when its process cannot start, dies (killed, out of memory) or fails (an
    argument it cannot receive), ``fn`` runs here when its result is asked for: an error of
    ``fn``'s own is then raised here."""
    if pool is None:
        return lambda: fn(*args)
    try:
        future = pool.submit(fn, *args)
    except (OSError, RuntimeError, BrokenProcessPool):  # no process can be started here
        return lambda: fn(*args)

    def result() -> T:
        try:
            return future.result()
        except Exception:  # what failed there is done here (or fails here)
            return fn(*args)

    return result
