"""Find the mapped columns of a history file (and its joins) and clean its rows into tasks.

The rules are stated in :mod:`calibration.history`. Notes are ``(row, column, action,
reason)`` tuples here; :mod:`calibration.history` turns them into ``CleaningNote`` objects.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulator.errors import HistoryError, Problem
from simulator.plans import Table, is_missing, parse_dates, parse_number, show

from .mapping import Mapping, suggest

if TYPE_CHECKING:
    import datetime as dt


__all__ = ["Cleaner", "Column", "Note", "resolve_columns"]

Note = tuple[int, str, str, str]
MISSING_CLASS = "(missing)"
OUTLIER_FACTOR = 10.0
_HOURS_PER = {"hours": 1.0, "minutes": 60.0}


@dataclass(frozen=True)
class Column:
    """One mapped column, aligned with the history file's data rows.

    Attributes:
        name: its header name.
        file: the file it comes from (the history file or a join).
        col: its 1-based position in that file.
        cells: one text cell per data row of the history file ("" when a join has no row).
        rows: the row of ``file`` each cell came from (0 when a join has no row).
        decimal_comma: the file is ``;``-separated.
    """

    name: str
    file: str
    col: int
    cells: tuple[str, ...]
    rows: tuple[int, ...]
    decimal_comma: bool


def resolve_columns(
    main: Table, joins: list[Table], m: Mapping
) -> tuple[dict[str, Column], list[Problem]]:
    """Every column the mapping names, from the history file or else from a join."""
    problems: list[Problem] = []
    wanted: dict[str, str] = {}
    for role, name in [
        ("estimate_col", m.estimate_col),
        ("actual_col", m.actual_col),
        ("id_col", m.id_col),
        ("date_col", m.date_col),
        *(("class_cols", c) for c in m.class_cols),
    ]:
        if name:
            wanted.setdefault(name, role)
    found = {name: col for name in wanted if (col := _own(main, name, problems))}
    keys = found[m.id_col].cells if m.id_col in found else None
    usable = [j for j in joins if m.id_col and _has_id(j, m.id_col, problems)]
    for name, role in wanted.items():
        if name in found or any(_positions(t, name) for t in [main, *joins]):
            continue
        everything = [h for t in [main, *joins] for h in t.header]
        listing = "; ".join(f"{t.file}: {_listing(t.header)}" for t in [main, *joins])
        problems.append(
            Problem(
                main.file,
                main.header_row,
                0,
                name,
                f"no column '{name}' (the "
                f"mapping's {role}){suggest(name, everything)}; the columns "
                f"are {listing}",
            )
        )
    for join in usable:
        for name in wanted:
            if name not in found and keys is not None and _positions(join, name):
                found[name] = _joined(join, name, str(m.id_col), keys, problems)
    return found, problems


def _listing(header: tuple[str, ...], limit: int = 40) -> str:
    names = [show(h, quote=False) for h in header[:limit]]
    more = f", ... ({len(header) - limit} more)" if len(header) > limit else ""
    single = " (a single column: is the delimiter one of , ; tab |?)" if len(header) == 1 else ""
    return ", ".join(names) + more + single


def _positions(table: Table, name: str) -> list[int]:
    return [k for k, h in enumerate(table.header) if h == name]


def _own(table: Table, name: str, problems: list[Problem]) -> Column | None:
    where = _positions(table, name)
    if len(where) > 1:
        problems.append(
            Problem(
                table.file,
                table.header_row,
                where[1] + 1,
                name,
                f"column "
                f"'{name}' appears {len(where)} times in the header (columns "
                f"{', '.join(str(k + 1) for k in where)}); rename all but one",
            )
        )
    if len(where) != 1:
        return None
    k = where[0]
    return Column(
        name,
        table.file,
        k + 1,
        tuple(r[k] for r in table.rows),
        table.row_numbers,
        table.decimal_comma,
    )


def _has_id(join: Table, id_col: str, problems: list[Problem]) -> bool:
    if _positions(join, id_col):
        return True
    problems.append(
        Problem(
            join.file,
            join.header_row,
            0,
            id_col,
            f"joined file has no column "
            f"'{id_col}' (the mapping's id_col) to join on"
            f"{suggest(id_col, join.header)}; its columns are "
            f"{_listing(join.header)}",
        )
    )
    return False


def _joined(
    join: Table, name: str, id_col: str, keys: tuple[str, ...], problems: list[Problem]
) -> Column:
    """``name`` from ``join``, taken from the first row of each id (a left join)."""
    own = _own(join, name, problems)
    ids = _own(join, id_col, problems)
    if own is None or ids is None:
        return Column(name, join.file, 0, ("",) * len(keys), (0,) * len(keys), False)
    first: dict[str, int] = {}
    for k, ident in enumerate(ids.cells):
        first.setdefault(ident.strip(), k)
    at = [first.get(key.strip()) for key in keys]
    return Column(
        name,
        join.file,
        own.col,
        tuple("" if k is None else own.cells[k] for k in at),
        tuple(0 if k is None else join.row_numbers[k] for k in at),
        join.decimal_comma,
    )


class Cleaner:
    """Turns the rows of a history file into tasks, notes and problems (see the module
    docstring of :mod:`calibration.history` for the rules)."""

    def __init__(self, main: Table, columns: dict[str, Column], mapping: Mapping) -> None:
        self.main, self.cols, self.m = main, columns, mapping
        self.notes: list[Note] = []
        self.problems: list[Problem] = []
        self.causes: dict[str, list[tuple[str, int]]] = {}  # column -> (cause, row index)
        self.wide: list[int] = []
        self.ids = self._ids()

    def run(self) -> tuple[pd.DataFrame, list[Note]]:
        """The tasks table and the notes, in row order.

        Raises:
            HistoryError: more than half of the tasks or dates unusable, ambiguous dates.
        """
        keep, values = self._rows()
        dates = self._dates(keep)
        if self.problems:
            raise HistoryError(self.problems)
        keep = self._outliers(keep, values)
        frame = self._frame(keep, values, dates)
        return frame, sorted(self.notes, key=lambda n: n[0])

    def note(self, i: int, column: str, action: str, reason: str) -> None:
        self.notes.append((self.main.row_numbers[i], column, action, reason))

    def _ids(self) -> list[str]:
        if self.m.id_col is None:
            return [str(r) for r in self.main.row_numbers]
        out = []
        for i, cell in enumerate(self.cols[self.m.id_col].cells):
            ident = cell.strip()
            if is_missing(ident):
                ident = f"row-{self.main.row_numbers[i]}"
                self.note(
                    i, self.m.id_col, "changed", f"id is missing; the task is called '{ident}'"
                )
            out.append(ident)
        return out

    # --- rows -------------------------------------------------------------------------------

    def _rows(self) -> tuple[list[int], dict[int, tuple[float, float]]]:
        est, act = self.cols[self.m.estimate_col], self.cols[self.m.actual_col]
        first: dict[str, int] = {}
        keep: list[int] = []
        values: dict[int, tuple[float, float]] = {}
        width = len(self.main.header)
        for i, ident in enumerate(self.ids):
            if ident in first:
                self._duplicate(i, first[ident], est, act)
                continue
            first[ident] = i
            if self.main.encoding != "xlsx" and self.main.widths[i] > width:
                self.wide.append(i)
                self.note(
                    i,
                    "",
                    "dropped",
                    f"row has {self.main.widths[i]} cells but the "
                    f"header has {width} (a value containing the delimiter not quoted?)",
                )
                continue
            e, a = self._number(i, est, "estimate"), self._number(i, act, "actual")
            if e is not None and a is not None:
                keep.append(i)
                values[i] = (e, a)
        candidates = len(first)
        if 2 * (candidates - len(keep)) > candidates:
            self._too_many(candidates - len(keep), candidates, [est, act])
        return keep, values

    def _number(self, i: int, col: Column, what: str) -> float | None:
        raw = col.cells[i].strip()
        value = None if is_missing(raw) else parse_number(raw, decimal_comma=col.decimal_comma)
        if is_missing(raw):
            cause, reason = (
                "missing",
                f"{what} is missing ({show(raw)})" if raw else f"{what} is missing (empty)",
            )
        elif value is None:
            cause, reason = "not a number", f"{what} {show(raw)} is not a number"
        elif value <= 0:
            cause, reason = "not positive", f"{what} {value:g} is not positive"
        else:
            return value
        self.causes.setdefault(col.name, []).append((cause, i))
        self.note(i, col.name, "dropped", reason)
        return None

    def _duplicate(self, i: int, j: int, est: Column, act: Column) -> None:
        kept = self.main.row_numbers[j]
        diffs = [
            f"{what} {show(c.cells[i])} differs from {show(c.cells[j])}"
            for what, c in (("estimate", est), ("actual", act))
            if not _same(c.cells[i], c.cells[j], c.decimal_comma)
        ]
        head = f"duplicate id {show(self.ids[i])}"
        reason = (
            f"{head}: {', '.join(diffs)} in the kept row {kept}"
            if diffs
            else f"{head}: same task listed again (one row per person); kept row {kept}"
        )
        self.note(i, str(self.m.id_col), "dropped", reason)

    def _too_many(self, bad: int, candidates: int, cols: list[Column]) -> None:
        file = self.main.file
        self.problems.append(
            Problem(
                file,
                0,
                0,
                "",
                f"{bad:,} of {candidates:,} tasks cannot be "
                "used (more than half): check the mapping's columns and "
                "units, or clean the file",
            )
        )
        for col in cols:
            causes = self.causes.get(col.name, [])
            if not causes or col.col == 0:
                continue
            counts = Counter(cause for cause, _ in causes)
            detail = ", ".join(f"{n:,} {c}" for c, n in counts.items())
            example = causes[0][1]
            what = "estimate" if col.name == self.m.estimate_col else "actual"
            hint = f"; is '{col.name}' the right column?" if 2 * len(causes) > candidates else ""
            self.problems.append(
                Problem(
                    col.file,
                    col.rows[example],
                    col.col,
                    col.name,
                    f"{len(causes):,} of {candidates:,} tasks have no "
                    f"usable {what} ({detail}; e.g. "
                    f"{show(col.cells[example])} here){hint}",
                )
            )
        if self.wide:
            self.problems.append(
                Problem(
                    file,
                    self.main.row_numbers[self.wide[0]],
                    0,
                    "",
                    f"{len(self.wide):,} rows have more cells than the "
                    f"{len(self.main.header)} header columns: quote values "
                    "that contain the delimiter",
                )
            )

    # --- dates ------------------------------------------------------------------------------

    def _dates(self, keep: list[int]) -> list[dt.datetime | None]:
        if self.m.date_col is None:
            return [None] * len(self.ids)
        col = self.cols[self.m.date_col]
        parsed = parse_dates(list(col.cells), self.m.date_format)

        def problem(i: int, message: str) -> None:
            self.problems.append(Problem(col.file, col.rows[i], col.col, col.name, message))

        if parsed.mixed is not None:
            a, b = parsed.mixed
            problem(
                a,
                f"the column mixes day-first dates ({show(col.cells[a])} here) and "
                f"month-first dates ({show(col.cells[b])} at row {col.rows[b]}); "
                + _ask_format(col.cells[a]),
            )
        elif parsed.ambiguous is not None:
            k = parsed.ambiguous
            problem(
                k,
                f"date {show(col.cells[k])} could be day/month or month/day and no "
                "date in the column has a day above 12 to tell; " + _ask_format(col.cells[k]),
            )
        filled = sum(1 for c in col.cells if not is_missing(c))
        if parsed.bad and 2 * len(parsed.bad) > filled:
            k = parsed.bad[0]
            fmt = f" with date_format '{self.m.date_format}'" if self.m.date_format else ""
            problem(
                k,
                f"{len(parsed.bad):,} of {filled:,} dates cannot be read{fmt} (e.g. "
                f"{show(col.cells[k])} here): check date_col and date_format",
            )
        bad = set(parsed.bad)
        for i in keep:
            if i in bad:
                where = f" ({col.file} row {col.rows[i]})" if col.file != self.main.file else ""
                self.note(
                    i,
                    col.name,
                    "changed",
                    f"unparseable date {show(col.cells[i])}{where}; date left empty",
                )
        return parsed.dates

    # --- tasks ------------------------------------------------------------------------------

    def _outliers(self, keep: list[int], values: dict[int, tuple[float, float]]) -> list[int]:
        if not self.m.drop_outliers or len(keep) < 4:
            return keep
        ratios = np.array([values[i][1] / values[i][0] for i in keep])
        q1, q3 = np.percentile(np.log(ratios), [25, 75])
        low = math.exp(q1) / OUTLIER_FACTOR
        high = math.exp(q3) * OUTLIER_FACTOR
        out = []
        for i, r in zip(keep, ratios, strict=True):
            if low <= r <= high:
                out.append(i)
            else:
                self.note(
                    i,
                    "",
                    "dropped",
                    f"actual/estimate ratio {r:.3g} is outside "
                    f"[Q1/{OUTLIER_FACTOR:g}, Q3*{OUTLIER_FACTOR:g}] = [{low:.3g}, "
                    f"{high:.3g}] (drop_outliers)",
                )
        return out

    def _frame(
        self,
        keep: list[int],
        values: dict[int, tuple[float, float]],
        dates: list[dt.datetime | None],
    ) -> pd.DataFrame:
        m = self.m
        divisor = 1.0 if m.units == "days" else _HOURS_PER[m.units] * m.hours_per_day
        if m.units != "days" and keep:
            e = values[keep[0]][0]
            self.notes.append(
                (
                    self.main.row_numbers[keep[0]],  # the file line of the example value
                    f"{m.estimate_col}, {m.actual_col}",
                    "changed",
                    f"converted {m.units} to working days ({divisor:g} "
                    f"{m.units} per day) for every estimate and actual, e.g. {e:g} "
                    f"{m.units} -> {e / divisor:.4g} days",
                )
            )
        data: dict[str, object] = {
            "id": pd.Series([self.ids[i] for i in keep], dtype=str),
            "estimate": np.array([values[i][0] / divisor for i in keep], dtype=float),
            "actual": np.array([values[i][1] / divisor for i in keep], dtype=float),
            "date": pd.Series([dates[i] for i in keep], dtype="datetime64[ns]"),
            "row": np.array([self.main.row_numbers[i] for i in keep], dtype=np.int64),
        }
        for name in m.class_cols:
            cells = self.cols[name].cells
            data[name] = pd.Series(
                [MISSING_CLASS if is_missing(cells[i]) else cells[i].strip() for i in keep],
                dtype=str,
            )
        return pd.DataFrame(data)


def _same(a: str, b: str, decimal_comma: bool) -> bool:
    x = parse_number(a, decimal_comma=decimal_comma)
    y = parse_number(b, decimal_comma=decimal_comma)
    return x == y if x is not None and y is not None else a.strip() == b.strip()


def _ask_format(value: str) -> str:
    text = value.strip().split()[0]
    sep = next((c for c in text if c in "/.-"), "/")
    year = "%Y" if len(text.rsplit(sep, 1)[-1]) == 4 else "%y"
    return (
        f"give the format with --date-format (date_format in the mapping): "
        f"'%d{sep}%m{sep}{year}' if the day comes first, '%m{sep}%d{sep}{year}' if the "
        "month does"
    )
