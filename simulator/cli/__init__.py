"""The ``pmosim`` command line: read a file, call the library, write the results."""

from __future__ import annotations

from . import compare, search, trend  # noqa: F401  (they register their commands on ``cli``)
from .commands import cli, main

__all__ = ["cli", "main"]
