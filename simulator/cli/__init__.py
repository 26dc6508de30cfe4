"""The ``pmosim`` command line: read a file, call the library, write the results."""

from __future__ import annotations

from .commands import cli, main

__all__ = ["cli", "main"]
