"""The ``pmosim`` command line: read a file, call the library, write the results.

Its modules are imported when the command starts (:func:`main`) or when ``cli`` is first
asked for, so that Ctrl-C while numpy, pandas and numba load ends the command with exit
status 130, as it does later, not with a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .commands import cli

__all__ = ["cli", "main"]


def _commands() -> Any:
    """The command line's module, with every command registered on ``cli``."""
    for module in ("compare", "search", "trend"):  # they register their commands on cli
        importlib.import_module(f".{module}", __name__)
    return importlib.import_module(".commands", __name__)


def main() -> None:
    """Console entry point: :func:`simulator.cli.commands.main`, once its modules load
    (Ctrl-C while they do: ``Interrupted.`` and exit status 130)."""
    try:
        commands = _commands()
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)
    commands.main()


def __getattr__(name: str) -> Any:
    if name != "cli":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _commands().cli
