"""A progress bar over one or several Monte Carlo runs (stderr, only on a terminal)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm

__all__ = ["Progress", "progress"]


class Progress:
    """Counts iterations over several runs: ``for_run()`` gives each run's callback."""

    def __init__(self, bar: tqdm | None) -> None:
        self.bar = bar
        self.done = 0

    def for_run(self) -> Callable[[int], None] | None:
        if self.bar is None:
            return None
        base = self.done
        bar = self.bar

        def update(done_in_run: int) -> None:
            self.done = base + done_in_run
            bar.update(self.done - bar.n)

        return update


@contextmanager
def progress(total: int, label: str, *, quiet: bool) -> Iterator[Progress]:
    """A bar of ``total`` iterations with rate and time left; silent when ``quiet`` or when
    stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield Progress(None)
        return
    width = min(shutil.get_terminal_size((80, 20)).columns or 80, 100)
    with tqdm(
        total=total,
        desc=label,
        unit="it",
        file=sys.stderr,
        leave=False,
        ncols=width,
        mininterval=0.2,
    ) as bar:
        yield Progress(bar)
