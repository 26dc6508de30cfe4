"""Where blocks of iterations run: local workers (threads or processes), or a Dask cluster,
via joblib.

Results never depend on the choice: blocks are seeded by their index and combined in order.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import ipaddress
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import joblib

from ..errors import PmosimError

__all__ = [
    "Backend",
    "check_jobs",
    "check_scheduler",
    "ignore_interrupts",
    "on_interrupt",
    "raise_if_interrupted",
    "release_memory",
    "running",
    "stop_local_workers",
]

_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class Backend:
    """Where to run.

    Attributes:
        kind: ``local`` (joblib threads or processes) or ``dask``.
        jobs: local workers (``-1``: every core); for ``dask`` without a scheduler,
            the workers of the local cluster started for the run.
        scheduler: address of an existing Dask scheduler (``tls://host:8786``); None starts
            a local cluster bound to 127.0.0.1.
        tls_ca, tls_cert, tls_key: files for a TLS connection to the scheduler.
        allow_insecure: accept a plain ``tcp://`` connection to a non-local scheduler.
    """

    kind: str = "local"
    jobs: int = 1
    scheduler: str | None = None
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    allow_insecure: bool = False

    def __post_init__(self) -> None:
        check_jobs(self.jobs)


def check_jobs(jobs: int) -> int:
    """``jobs``, a number of workers: at least 1, or -1 for every core (joblib would fail
    on 0 only once a run has more than one block to share out)."""
    if jobs == 0 or jobs < -1:
        raise PmosimError(
            f"--jobs {jobs}: give a number of workers (1 or more), or -1 for every core"
        )
    return jobs


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _distributed() -> None:
    """The Dask extra, or a one-line error naming it."""
    try:
        import distributed  # noqa: F401
    except ImportError as e:
        raise PmosimError(
            "--backend dask needs the 'dask' extra: pip install 'pmosim[dask]'"
        ) from e


def check_scheduler(backend: Backend) -> None:
    """Refuse a plain-text connection to a scheduler on another machine unless allowed."""
    _distributed()
    from distributed.comm import parse_address, parse_host_port

    assert backend.scheduler is not None
    try:
        scheme, location = parse_address(backend.scheduler)
        host, _ = parse_host_port(location)
    except (ValueError, TypeError) as e:
        raise PmosimError(
            f"--scheduler {backend.scheduler!r}: expected an address like tls://host:8786"
        ) from e
    if scheme == "tls":
        if not (backend.tls_ca and backend.tls_cert and backend.tls_key):
            raise PmosimError("a tls:// scheduler needs --tls-ca, --tls-cert and --tls-key")
        return
    if scheme != "tcp":
        raise PmosimError(
            f"--scheduler {backend.scheduler!r}: use tls:// (or tcp:// on this machine)"
        )
    if not _is_loopback(host) and not backend.allow_insecure:
        raise PmosimError(
            f"--scheduler {backend.scheduler}: a scheduler on another machine "
            "needs TLS (tls://... with --tls-ca/--tls-cert/--tls-key); add "
            "--allow-insecure only on a network you trust"
        )


@contextmanager
def running(backend: Backend) -> Iterator[int]:
    """Configure joblib for ``backend``; yields the ``n_jobs`` to give ``joblib.Parallel``."""
    if backend.kind == "local":
        yield backend.jobs
        return
    if backend.kind != "dask":
        raise PmosimError(f"unknown backend {backend.kind!r}; use local or dask")
    _distributed()
    from distributed import Client, LocalCluster
    from distributed.security import Security

    cluster = None
    try:
        if backend.scheduler is None:
            workers = joblib.cpu_count() if backend.jobs < 1 else backend.jobs
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                host="127.0.0.1",
                dashboard_address=None,
                processes=True,
            )
            client = Client(cluster)
        else:
            check_scheduler(backend)
            security = None
            if backend.tls_ca:
                security = Security(
                    tls_ca_file=str(backend.tls_ca),
                    tls_client_cert=str(backend.tls_cert),
                    tls_client_key=str(backend.tls_key),
                    require_encryption=True,
                )
            client = Client(backend.scheduler, security=security, timeout="20s")
    except (OSError, TimeoutError) as e:
        if cluster is not None:
            cluster.close()
        raise PmosimError(f"cannot reach the Dask scheduler {backend.scheduler}: {e}") from e
    try:
        with joblib.parallel_config(backend="dask"):
            yield -1
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


_interrupted = threading.Event()


def on_interrupt(signum: int, frame: object) -> None:
    """The command's SIGINT handler: stop with KeyboardInterrupt, and ignore a second SIGINT
    while the shutdown keeps the checkpoint and stops the workers. The signal is also
    remembered, because Python drops an exception raised while a finaliser runs (a
    ``__del__`` of the standard library, say): :func:`raise_if_interrupted` raises it again
    at the next safe point."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _interrupted.set()
    raise KeyboardInterrupt


def raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt if SIGINT arrived (its first exception may have been lost)."""
    if _interrupted.is_set():
        raise KeyboardInterrupt


def ignore_interrupts() -> None:
    """A local worker process's initializer: SIGINT is the parent's to handle. A Ctrl-C in
    a terminal reaches the whole process group; the parent stops the run, keeps the
    finished blocks and stops the workers (:func:`stop_local_workers`), so a worker must
    not die of it on its own, with a traceback, between two blocks."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def stop_local_workers() -> None:
    """Stop the local worker processes joblib keeps for reuse (its loky executor), waiting for
    them to exit. joblib leaves them running between calls so that later runs of the same
    process start at once; a program calls this once it has no more runs to do."""
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)  # None: never started
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(
            ctypes.util.find_library("c") or "libc.so.6"
        ).malloc_trim
        return trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        return None


_TRIM = _malloc_trim()


def release_memory() -> None:
    """Give the heap memory freed so far back to the operating system (glibc's
    ``malloc_trim``). Worker threads allocate in arenas of their own, which keep what a
    block freed; without this, each stage of a run (blocks, risk contributions, report)
    would add its peak on top of the previous stage's leftovers (10,000 tasks: about 100
    MB a stage). Elsewhere than glibc, nothing."""
    if _TRIM is not None:
        _TRIM(0)
