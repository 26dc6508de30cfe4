"""The package's exceptions and the located problem they carry.

Every user mistake becomes a :class:`PmosimError`; the CLI prints its message on one line per
problem and exits with status 2. Bugs are anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "HistoryError",
    "PmosimError",
    "Problem",
    "ReachError",
    "ScenarioError",
    "SimulationError",
]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in an input file.

    Attributes:
        file: the file as the user named it.
        line: 1-based line, or 0 when the problem concerns the whole file.
        col: 1-based column, or 0 when unknown.
        path: the field path, e.g. ``projects[crm].tasks[build].duration``.
        message: what is wrong and what is allowed.
    """

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class PmosimError(Exception):
    """Base class of every error caused by the user's input or environment."""


class ScenarioError(PmosimError):
    """A scenario file that cannot be used; carries every problem found in one pass."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class SimulationError(PmosimError):
    """A scenario that validates but cannot be simulated (e.g. capacity removed for good)."""


class ReachError(SimulationError):
    """A draw that ends beyond the last date that can be shown: the scenario's laws reach
    too far (a user's mistake; nothing of the run is kept)."""


class HistoryError(ScenarioError):
    """A delivery-history file (or its column mapping) that cannot be used; its problems are
    located as ``file:row:column`` (``Problem.line`` is the 1-based file row, header row 1;
    ``Problem.col`` the 1-based column number; ``Problem.path`` the column name)."""
