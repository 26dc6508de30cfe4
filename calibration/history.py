"""Load a delivery-history file into one clean row per task, with a note for every change.

:func:`load_history` reads a CSV or Excel file as text (see :mod:`simulator.plans.tables`),
joins extra files on the task id, and cleans it the way a dirty export needs:

- a row whose estimate or actual is missing (empty, ``N/A``, ``NA``, ``-``, ``null``,
  ``none``), not a number (``abc``, ``8h``) or not positive is dropped with a note;
- a repeated id keeps its first row; the others are dropped with a note that says whether
  they agree (the normal case in SiP: one row per developer) or not;
- a date that cannot be read becomes ``NaT`` with a note (the task still calibrates;
  backtests skip it); Excel serial numbers are dates;
- estimate and actual become working days (hours / hours_per_day, minutes / 60 /
  hours_per_day), noted once;
- with ``drop_outliers``, a task whose actual/estimate ratio ``r`` lies outside
  ``[Q1 / 10, Q3 * 10]`` (Q1, Q3: quartiles of ``r`` over the kept tasks, i.e. more than
  one decade beyond the interquartile range in log space) is dropped with a note.

Mistakes that make the file unusable raise :class:`HistoryError` with every problem found:
unreadable or empty files, mapped columns that do not exist, a day/month date column that
can be read both ways, more than half of the tasks (or dates) unusable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from simulator.errors import HistoryError, Problem, ScenarioError
from simulator.plans import Table, read_table

from ._cleaning import Cleaner, resolve_columns
from .mapping import Mapping, mapping_rules

__all__ = ["CleaningNote", "History", "Mapping", "load_history"]


@dataclass(frozen=True)
class CleaningNote:
    """One change made while cleaning.

    Attributes:
        row: 1-based file row (header = 1) of the history file.
        column: the column concerned, or "" for the whole row.
        action: ``"dropped"`` or ``"changed"``.
        reason: what was found, e.g. ``"actual is missing ('N/A')"``.
    """

    row: int
    column: str
    action: str
    reason: str


@dataclass(frozen=True, eq=False)
class History:
    """A cleaned delivery history.

    Attributes:
        tasks: one row per task, in file order: ``id`` (str), ``estimate`` and ``actual``
            (float, working days), ``date`` (datetime64[ns], NaT when absent), ``row`` (int,
            file row), then one str column per class column (missing values "(missing)").
        notes: every row dropped and every value changed.
        source: the file as the user named it.
        sha256: of the history file's bytes.
        rows_read: data rows read (header and blank rows excluded).
        units: the mapping's units.
    """

    tasks: pd.DataFrame = field(repr=False)
    notes: tuple[CleaningNote, ...]
    source: str
    sha256: str
    rows_read: int
    units: str

    def report(self, examples: int = 3) -> str:
        """Rows read, tasks kept, rows dropped and values changed by reason (counted in
        rows), with the first ``examples`` notes of each reason. A row dropped for several
        reasons (no estimate and no actual) counts once, under its first reason, so the
        reasons' counts add up to the rows dropped; its examples name the others."""
        drops = _first_drops(self.notes)
        by_first = " (each once, by first reason)" if drops else ""
        lines = [
            f"{self.source}: {self.rows_read:,} rows read, {len(self.tasks):,} tasks "
            f"kept, {len(drops):,} rows dropped{by_first}"
        ]
        changed = [(n, n.reason) for n in self.notes if n.action == "changed"]
        for action, notes in (("dropped", list(drops.values())), ("changed", changed)):
            groups: dict[tuple[str, str], list[tuple[CleaningNote, str]]] = {}
            for note, shown in notes:
                groups.setdefault((note.column, _kind(note.reason)), []).append((note, shown))
            for (column, kind), group in groups.items():
                lines += _group_lines(action, column, kind, group, examples)
        dates = self.tasks["date"].dropna()
        if len(dates):
            lines.append(
                f"  dates: {len(dates):,} tasks from {dates.min():%Y-%m-%d} to "
                f"{dates.max():%Y-%m-%d}; {len(self.tasks) - len(dates):,} without"
            )
        lines.append(f"  estimate and actual in working days (history in {self.units})")
        return "\n".join(lines)


def _first_drops(notes: tuple[CleaningNote, ...]) -> dict[int, tuple[CleaningNote, str]]:
    """Per dropped row, in row order: its first 'dropped' note, and that note's reason with
    the row's other reasons for being dropped added (``...; also actual is missing``)."""
    first: dict[int, tuple[CleaningNote, str]] = {}
    for note in notes:
        if note.action != "dropped":
            continue
        if note.row in first:
            kept, shown = first[note.row]
            first[note.row] = (kept, f"{shown}; also {note.reason}")
        else:
            first[note.row] = (note, note.reason)
    return first


def _group_lines(
    action: str,
    column: str,
    kind: str,
    group: list[tuple[CleaningNote, str]],
    examples: int,
) -> list[str]:
    """One reason's summary line and its first ``examples`` rows."""
    where = f" [{column}]" if column else ""
    if len(group) == 1:
        note, shown = group[0]
        return [f"  {action}{where}: {shown} (row {note.row})"]
    rows = len({note.row for note, _ in group})
    cause = kind.split("; ")[0]  # the details after a ';' differ row by row
    lines = [f"  {action}{where}: {cause}: {rows:,} row{'s' * (rows != 1)}"]
    lines += [f"      row {note.row}: {shown}" for note, shown in group[:examples]]
    if len(group) > examples:
        lines.append(f"      ... and {len(group) - examples:,} more")
    return lines


def _kind(reason: str) -> str:
    """A reason with its values blanked, to count notes that say the same thing."""
    return _NUMBER.sub("#", _QUOTED.sub("'...'", reason))


_QUOTED = re.compile(r"'[^']*'")
_NUMBER = re.compile(r"[+-]?\d[\d.,]*(?:e[+-]?\d+)?")


def load_history(path: Path | str, mapping: Mapping, *, display: str | None = None) -> History:
    """Read, join and clean a history file (CSV, or ``.xlsx`` with ``book.xlsx#Sheet``).

    Raises:
        HistoryError: with every problem found, each located as ``file:row:column``.
    """
    source = display or str(path)
    problems = [
        Problem(source, 0, 0, f"mapping.{key}", message) for key, message in mapping_rules(mapping)
    ]
    tables: list[Table] = []
    for file, name in [(path, source), *((p, str(p)) for p in mapping.joins)]:
        try:
            tables.append(read_table(file, name))
        except ScenarioError as e:  # the reader's problems, reported as the history's
            problems.extend(e.problems)
    if len(tables) < 1 + len(mapping.joins):
        raise HistoryError(problems)
    columns, missing = resolve_columns(tables[0], tables[1:], mapping)
    if problems or missing:
        raise HistoryError(problems + missing)
    main = tables[0]
    tasks, notes = Cleaner(main, columns, mapping).run()
    return History(
        tasks,
        tuple(CleaningNote(*n) for n in notes),
        source,
        main.sha256,
        len(main.rows),
        mapping.units,
    )
