"""The rules a history mapping must follow, and reading one from a small YAML file.

A mapping file has the keys of :class:`Mapping`::

    id_col: TaskNumber
    estimate_col: HoursEstimate
    actual_col: HoursActual
    class_cols: [Category, ProjectCode]
    joins: [est-act-dates.csv]        # relative to this file's folder
    date_col: EstimateOn
    date_format: "%d-%b-%y"
    units: hours
    hours_per_day: 8
    drop_outliers: false
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.errors import HistoryError, Problem, ScenarioError
from simulator.plans import suggest
from simulator.scenario import Located, load_yaml

__all__ = ["OUTPUT_COLUMNS", "UNITS", "Mapping", "mapping_rules", "read_mapping_file", "suggest"]

UNITS = ("hours", "days", "minutes")
OUTPUT_COLUMNS = ("id", "estimate", "actual", "date", "row")
_REQUIRED = ("estimate_col", "actual_col")
_TEXT = ("estimate_col", "actual_col", "id_col", "date_col", "date_format", "units")
_LISTS = ("class_cols", "joins")
KEYS = (*_TEXT, *_LISTS, "hours_per_day", "drop_outliers")
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}


def mapping_rules(m: Mapping) -> list[tuple[str, str]]:
    """(key, message) for every rule the mapping breaks."""
    out: list[tuple[str, str]] = []
    for key in _REQUIRED:
        if not str(getattr(m, key)).strip():
            out.append((key, f"{key} must name a column of the history file"))
    if m.units not in UNITS:
        out.append(
            (
                "units",
                f"unknown units '{m.units}'{suggest(m.units, UNITS)}; use one of "
                f"{', '.join(UNITS)} (the units of the estimate and actual)",
            )
        )
    if not (math.isfinite(m.hours_per_day) and 0 < m.hours_per_day <= 24):
        out.append(
            ("hours_per_day", f"hours_per_day={m.hours_per_day} must be more than 0 and at most 24")
        )
    if m.joins and not m.id_col:
        out.append(("joins", "joins need id_col: files are joined on the task id"))
    if m.date_format is not None and not _valid_format(m.date_format):
        out.append(
            (
                "date_format",
                f"date_format '{m.date_format}' is not a strptime format "
                "of a date; write e.g. '%d/%m/%Y' or '%d-%b-%y'",
            )
        )
    for k, name in enumerate(m.class_cols):
        if name in m.class_cols[:k]:
            out.append(("class_cols", f"class column '{name}' is listed twice"))
        if name in OUTPUT_COLUMNS:
            out.append(
                (
                    "class_cols",
                    f"class column '{name}' has the name of an output column "
                    f"({', '.join(OUTPUT_COLUMNS)}); rename it in the file",
                )
            )
    return out


def _valid_format(fmt: str) -> bool:
    """Whether ``fmt`` has strptime codes and reads back a date it wrote."""
    if "%" not in fmt:
        return False
    try:
        sample = dt.datetime(2012, 11, 23)
        return dt.datetime.strptime(sample.strftime(fmt), fmt).year == sample.year
    except ValueError:
        return False


def read_mapping_file(path: Path) -> tuple[dict[str, Any], Located, list[Problem]]:
    """Keyword arguments for ``Mapping`` read from ``path``, where each came from, and the
    problems found (unknown keys, wrong types, missing required keys).

    Raises:
        HistoryError: the file cannot be read or is not YAML.
    """
    try:
        located = load_yaml(path)
    except ScenarioError as e:
        raise HistoryError(e.problems) from None
    data = located.data
    if not isinstance(data, dict):
        raise HistoryError(
            [Problem(located.file, 1, 1, "", f"expected a mapping of keys ({', '.join(KEYS)})")]
        )
    problems: list[Problem] = []

    def problem(key: str, message: str, *, at_key: bool = False) -> None:
        line, col = located.where((key,), key=at_key)
        problems.append(Problem(located.file, line, col, key, message))

    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in KEYS:
            problem(
                key,
                f"unknown key '{key}'{suggest(key, KEYS)}; allowed keys: {', '.join(KEYS)}",
                at_key=True,
            )
        elif key in _TEXT:
            _text(key, value, kwargs, problem)
        elif key in _LISTS:
            _list(key, value, kwargs, problem, path.parent)
        elif key == "hours_per_day":
            _number(key, value, kwargs, problem)
        else:
            _flag(key, value, kwargs, problem)
    for key in _REQUIRED:
        if key not in data:
            problems.append(
                Problem(
                    located.file,
                    1,
                    1,
                    key,
                    f"{key} is required: the column that holds the task's " + key.split("_")[0],
                )
            )
    return kwargs, located, problems


def _text(key: str, value: Any, kwargs: dict[str, Any], problem: Any) -> None:
    if value is None and key not in _REQUIRED:
        kwargs[key] = None
    elif isinstance(value, str) and value.strip():
        kwargs[key] = value.strip()
    else:
        problem(key, f"{key} must be a text value, not {_kind(value)}")


def _list(key: str, value: Any, kwargs: dict[str, Any], problem: Any, base: Path) -> None:
    items = [] if value is None else [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(x, str) and x.strip() for x in items):
        problem(key, f"{key} must be a list of names, not {_kind(value)}")
        return
    if key == "joins":
        kwargs[key] = tuple(base / Path(x.strip()) for x in items)
    else:
        kwargs[key] = tuple(x.strip() for x in items)


def _number(key: str, value: Any, kwargs: dict[str, Any], problem: Any) -> None:
    try:
        kwargs[key] = float(value)
    except (TypeError, ValueError):
        problem(key, f"{key} must be a number of hours, not {_kind(value)}")


def _flag(key: str, value: Any, kwargs: dict[str, Any], problem: Any) -> None:
    text = value.strip().lower() if isinstance(value, str) else None
    if text in _TRUE or text in _FALSE:
        kwargs[key] = text in _TRUE
    else:
        problem(key, f"{key} must be true or false, not {_kind(value)}")


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"'{value}'"


@dataclass(frozen=True)
class Mapping:
    """How to read a history file.

    Attributes:
        estimate_col, actual_col: columns of the estimate and the actual effort/duration.
        id_col: the task id column (rows repeating an id are one task); ``None``: row numbers.
        class_cols: reference-class columns (category, team, estimator...).
        date_col: the date that orders history for backtests.
        date_format: ``strptime`` format such as ``"%d-%b-%y"``; ``None`` accepts ISO dates,
            Excel serial numbers and forms that cannot be misread; a day/month column that
            could be read both ways is then an error asking for the format.
        units: ``hours``, ``days`` or ``minutes``, of estimate and actual.
        hours_per_day: to convert hours and minutes to working days.
        joins: files joined on ``id_col`` (left join, first row per id); their columns become
            available to the mapping. A column present in several files is taken from the
            first (the history file, then the joins in order).
        drop_outliers: drop tasks whose actual/estimate ratio is outside ``[Q1/10, Q3*10]``.
    """

    estimate_col: str
    actual_col: str
    id_col: str | None = None
    class_cols: tuple[str, ...] = ()
    date_col: str | None = None
    date_format: str | None = None
    units: str = "hours"
    hours_per_day: float = 8.0
    joins: tuple[Path, ...] = ()
    drop_outliers: bool = False

    def __post_init__(self) -> None:  # accept lists and strings from code, as from a file
        cols = (self.class_cols,) if isinstance(self.class_cols, str) else self.class_cols
        object.__setattr__(self, "class_cols", tuple(cols))
        joins = (self.joins,) if isinstance(self.joins, str | Path) else self.joins
        object.__setattr__(self, "joins", tuple(Path(p) for p in joins))
        object.__setattr__(self, "hours_per_day", float(self.hours_per_day))

    @classmethod
    def from_file(cls, path: Path | str) -> Mapping:
        """Read a mapping from a small YAML file with the same keys (``class_cols`` and
        ``joins`` as lists; relative ``joins`` resolve against the file's folder).

        Raises:
            HistoryError: unknown keys, wrong values, missing keys, each with its line.
        """
        kwargs, located, problems = read_mapping_file(Path(path))
        trial = cls(**{"estimate_col": "?", "actual_col": "?", **kwargs})
        for key, message in mapping_rules(trial):
            line, col = located.where((key,))
            problems.append(Problem(located.file, line, col, key, message))
        if problems:
            raise HistoryError(problems)
        return trial
