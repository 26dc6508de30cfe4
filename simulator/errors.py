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


# a problem found on more lines than this (the same file, column, field and message: a
# blank column of a 10,000-row task list) is printed for its first lines, then counted
REPEATS = 3
_LISTED = 8  # ranges of lines listed in that count
_TABLES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".parquet")  # their lines are rows


class ScenarioError(PmosimError):
    """A scenario file that cannot be used; carries every problem found in one pass. Its
    message has one line per problem, a problem found on many lines being printed on its
    first :data:`REPEATS` and then summed up in one (:attr:`lines`)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(self.lines))

    @property
    def lines(self) -> list[str]:
        """The problems as printed: in order, a repeated one cut short (see REPEATS)."""
        groups: dict[tuple[str, int, str, str], list[int]] = {}
        for p in self.problems:
            groups.setdefault((p.file, p.col, p.path, p.message), []).append(p.line)
        out, seen = [], dict.fromkeys(groups, 0)
        for p in self.problems:
            key = (p.file, p.col, p.path, p.message)
            seen[key] += 1
            if seen[key] <= REPEATS or len(groups[key]) == REPEATS + 1:
                out.append(str(p))
            if seen[key] == REPEATS and len(groups[key]) > REPEATS + 1:
                rest = groups[key][REPEATS:]
                field = f"{p.path}: " if p.path else ""
                unit = "rows" if p.file.lower().endswith(_TABLES) else "lines"
                out.append(
                    f"{p.file}: {field}the same problem on {len(rest)} more {unit}: "
                    + _ranges(rest)
                )
        return out


def _ranges(lines: list[int]) -> str:
    """Ascending line numbers as ranges (``5-9, 12``), the first :data:`_LISTED` of them."""
    runs: list[list[int]] = []
    for n in lines:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    text = [f"{a}-{b}" if b > a else f"{a}" for a, b in runs[:_LISTED]]
    return ", ".join(text) + (", …" if len(runs) > _LISTED else "")


class SimulationError(PmosimError):
    """A scenario that validates but cannot be simulated (e.g. capacity removed for good)."""


class ReachError(SimulationError):
    """A draw that ends beyond the last date that can be shown: the scenario's laws reach
    too far (a user's mistake; nothing of the run is kept)."""


class HistoryError(ScenarioError):
    """A delivery-history file (or its column mapping) that cannot be used; its problems are
    located as ``file:row:column`` (``Problem.line`` is the 1-based file row, header row 1;
    ``Problem.col`` the 1-based column number; ``Problem.path`` the column name)."""
