"""The forecast history file: one row per project, key date and portfolio of every forecast
``pmosim run --history`` records (CSV, or parquet with the ``parquet`` extra), and the
actual finishes ``pmosim trend --actuals`` scores it against.

A forecast is identified by its status date and scenario hash: it is recorded once, and
replaced only when asked. Every append rewrites the whole file beside it and renames it into
place (:func:`~simulator.output.files.publish_file`): a reader never sees half a file. A
damaged file is a one-line error naming the file, the row (as a spreadsheet numbers it: the
header is row 1) and the column: a value that does not parse, and one that contradicts the
rest (a probability outside [0, 1], a negative figure or standard error, a figure without
its standard error, percentiles that decrease, a P80 outside its 95 % interval, an item
listed twice in one forecast).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis import ForecastRow
from ..errors import PmosimError
from .files import publish_file, write_csv

__all__ = [
    "COLUMNS",
    "append_history",
    "check_history",
    "history_frame",
    "read_actuals",
    "read_history",
]

COLUMNS = (
    "status_date",
    "scenario",
    "scenario_sha256",
    "seed",
    "iterations",
    "kind",
    "item",
    "deadline",
    "p_on_time",
    "p_on_time_se",
    "finish_p10",
    "finish_p50",
    "finish_p80",
    "finish_p90",
    "p80_low",
    "p80_high",
    "deterministic_finish",
    "cost_p50",
    "cost_p80",
    "expected_on_time",
    "expected_on_time_se",
    "workweek",
    "holidays",
    "alert_p_on_time_below",
    "alert_p80_slip_days",
)
KINDS = ("project", "key_date", "portfolio")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FINISH = ("finish_p10", "finish_p50", "finish_p80", "finish_p90")


def _iso(d: dt.date | None) -> str:
    return "" if d is None else d.isoformat()


def _num(x: float | None) -> float:
    return math.nan if x is None else float(x)


def _record(r: ForecastRow) -> dict[str, Any]:
    return {
        "status_date": _iso(r.status_date),
        "scenario": r.scenario,
        "scenario_sha256": r.scenario_sha256,
        "seed": r.seed,
        "iterations": r.iterations,
        "kind": r.kind,
        "item": r.item,
        "deadline": _iso(r.deadline),
        "p_on_time": _num(r.p_on_time),
        "p_on_time_se": _num(r.p_on_time_se),
        **{c: _iso(d) for c, d in zip(_FINISH, r.finish, strict=True)},
        "p80_low": _iso(r.p80_low),
        "p80_high": _iso(r.p80_high),
        "deterministic_finish": _iso(r.deterministic),
        "cost_p50": _num(r.cost_p50),
        "cost_p80": _num(r.cost_p80),
        "expected_on_time": _num(r.expected_on_time),
        "expected_on_time_se": _num(r.expected_on_time_se),
        "workweek": r.workweek,
        "holidays": " ".join(d.isoformat() for d in r.holidays),
        "alert_p_on_time_below": _num(r.alert_p_on_time_below),
        "alert_p80_slip_days": _num(r.alert_p80_slip_days),
    }


def history_frame(rows: Sequence[ForecastRow]) -> pd.DataFrame:
    """The rows as the history file's table."""
    return pd.DataFrame([_record(r) for r in rows], columns=list(COLUMNS))


# --- reading ------------------------------------------------------------------------------


def _date(text: str) -> dt.date:
    if not _DATE.match(text):
        raise ValueError(f"{text!r} is not a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date YYYY-MM-DD") from None


def _opt(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    return lambda text: None if text in ("", "nan", "None", "NaN") else parse(text)


def _text(text: str) -> str:
    if not text:
        raise ValueError("it is empty")
    return text


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None


def _count(text: str) -> int:
    value = _number(text)
    if not math.isfinite(value) or value != int(value) or value < 0:
        raise ValueError(f"{text!r} is not a whole number")
    return int(value)


def _seed(text: str) -> int:
    """A seed: any whole number at least 0, read exactly (a fresh seed has 128 bits: a float
    would round it, and the run could not be repeated from the history)."""
    digits = text.strip()
    if digits.endswith(".0"):  # written by a spreadsheet that took it for a number
        digits = digits[:-2]
    if not digits.isdigit():
        raise ValueError(f"{text!r} is not a whole number")
    return int(digits)


def _float(text: str) -> float:
    value = _number(text)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _kind(text: str) -> str:
    if text not in KINDS:
        raise ValueError(f"{text!r} is not one of {', '.join(KINDS)}")
    return text


def _workweek(text: str) -> str:
    if len(text) != 7 or not set(text) <= {"0", "1"} or "1" not in text:
        raise ValueError(f"{text!r} is not a work week mask like 1111100")
    return text


def _holidays(text: str) -> tuple[dt.date, ...]:
    return tuple(_date(t) for t in text.split())


def _probability(text: str) -> float:
    value = _float(text)
    if not 0 <= value <= 1:
        raise ValueError(f"{text} is not a probability: it must lie from 0 to 1")
    return value


def _non_negative(text: str) -> float:
    value = _float(text)
    if value < 0:
        raise ValueError(f"{text} is negative: it must be at least 0")
    return value


_PARSERS: dict[str, Callable[[str], Any]] = {
    "status_date": _date,
    "scenario": str,
    "scenario_sha256": _text,
    "seed": _seed,
    "iterations": _count,
    "kind": _kind,
    "item": _text,
    "workweek": _workweek,
    "holidays": _holidays,
    **{c: _opt(_date) for c in ("deadline", *_FINISH, "p80_low", "p80_high")},
    "deterministic_finish": _opt(_date),
    **{c: _opt(_float) for c in ("cost_p50", "cost_p80")},
    **{c: _opt(_probability) for c in ("p_on_time", "alert_p_on_time_below")},
    **{
        c: _opt(_non_negative)
        for c in ("p_on_time_se", "expected_on_time", "expected_on_time_se", "alert_p80_slip_days")
    },
}
_RISING = "percentiles must not decrease"
_INSIDE = "the P80 must lie within its 95 % interval p80_low to p80_high"
# (a, b, rule): a must not exceed b, when both are given
_ORDER = (
    *((a, b, _RISING) for a, b in pairwise(_FINISH)),
    ("p80_low", "p80_high", "the P80's 95 % interval must not end before it starts"),
    ("p80_low", "finish_p80", _INSIDE),
    ("finish_p80", "p80_high", _INSIDE),
    ("cost_p50", "cost_p80", _RISING),
)
# a figure and its standard error: both given or neither
_PAIRS = (("p_on_time", "p_on_time_se"), ("expected_on_time", "expected_on_time_se"))


def _inconsistent(values: dict[str, Any]) -> tuple[str, str] | None:
    """The first column that contradicts another of the same row, and why."""
    for a, b, rule in _ORDER:
        x, y = values[a], values[b]
        if x is not None and y is not None and x > y:
            said = f"{x:g} exceeds {b} {y:g}" if isinstance(x, float) else f"{x} is after {b} {y}"
            return a, f"{said}: {rule}"
    for figure, se in _PAIRS:
        if (values[figure] is None) != (values[se] is None):
            given, gap = (figure, se) if values[se] is None else (se, figure)
            return gap, (
                f"is empty or not a number while {given} is {values[given]:g}: a figure and "
                "its standard error come together"
            )
    return None


def _row(path: str, line: int, cells: dict[Any, Any]) -> ForecastRow:
    values: dict[str, Any] = {}
    for col in COLUMNS:
        text = str(cells[col]).strip()
        try:
            values[col] = _PARSERS[col](text)
        except ValueError as e:
            raise PmosimError(f"{path}: row {line}, column {col}: {e}") from None
    if found := _inconsistent(values):
        raise PmosimError(f"{path}: row {line}, column {found[0]}: {found[1]}")
    return ForecastRow(
        **{c: values[c] for c in COLUMNS[:10]},
        finish=tuple(values[c] for c in _FINISH),
        p80_low=values["p80_low"],
        p80_high=values["p80_high"],
        deterministic=values["deterministic_finish"],
        **{c: values[c] for c in COLUMNS[COLUMNS.index("cost_p50") :]},
    )


def _cells(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _table(path: Path, shown: str) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".parquet":
            _need_parquet(shown)
            frame = pd.read_parquet(path)
            return frame.map(_cells) if len(frame) else frame.astype(str)
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise PmosimError(f"{shown}: the file is empty; it is not a forecast history") from None
    except (UnicodeDecodeError, pd.errors.ParserError) as e:
        first = str(e).strip().splitlines()[0]
        raise PmosimError(f"{shown}: not a readable CSV forecast history ({first})") from None
    except (OSError, ValueError) as e:
        raise PmosimError(f"{shown}: cannot read it: {e}") from None


def read_history(path: Path, display: str | None = None) -> tuple[ForecastRow, ...]:
    """Every row of the history file ``path`` (``display``: its name in messages)."""
    shown = display or str(path)
    frame = _table(path, shown)
    missing = [c for c in COLUMNS if c not in frame.columns]
    extra = [str(c) for c in frame.columns if c not in COLUMNS]
    if missing or extra:
        said = [f"missing column(s) {', '.join(missing)}"] if missing else []
        said += [f"unknown column(s) {', '.join(extra)}"] if extra else []
        raise PmosimError(
            f"{shown}: row 1: {'; '.join(said)}; is it a forecast history written by "
            "pmosim run --history?"
        )
    records = frame[list(COLUMNS)].to_dict(orient="records")
    rows = tuple(_row(shown, k + 2, cells) for k, cells in enumerate(records))
    _once_each(shown, rows)
    return rows


def _once_each(shown: str, rows: Sequence[ForecastRow]) -> None:
    """Each project, key date and the portfolio at most once per forecast."""
    seen: dict[tuple[Any, ...], int] = {}
    for k, r in enumerate(rows):
        where = seen.setdefault((*r.key, r.kind, r.item), k + 2)
        if where != k + 2:
            raise PmosimError(
                f"{shown}: row {k + 2}, column item: {r.kind} {r.item!r} is already in the "
                f"forecast of status date {r.status_date} (row {where}); a forecast lists "
                "each once"
            )


# --- appending ------------------------------------------------------------------------------


def _need_parquet(shown: str) -> None:
    if importlib.util.find_spec("pyarrow") is None:
        raise PmosimError(
            f"{shown}: a .parquet history needs pyarrow: pip install 'pmosim[parquet]' "
            "(or use a .csv history)"
        )


def _write(path: Path, frame: pd.DataFrame) -> Callable[[Path], None]:
    def fill(tmp: Path) -> None:
        if path.suffix.lower() == ".parquet":  # seeds as text: 128 bits overflow int64
            frame.astype({"seed": str}).to_parquet(tmp, index=False)
        else:
            write_csv(frame, tmp)

    return fill


def append_history(
    path: Path, new: Sequence[ForecastRow], *, replace: bool = False
) -> tuple[ForecastRow, ...]:
    """Add the forecast ``new`` to the history file ``path`` (created when missing) and
    return the whole history. A forecast with the same status date and scenario hash is
    an error unless ``replace``, which drops it first. Nothing is written on an error."""
    if path.suffix.lower() == ".parquet":
        _need_parquet(str(path))
    old = read_history(path) if path.exists() else ()
    keys = {r.key for r in new}
    if not replace and (clash := next((r for r in old if r.key in keys), None)):
        raise PmosimError(_clash(path, clash.key))
    rows = (*(r for r in old if r.key not in keys), *new)
    publish_file(path, True, _write(path, history_frame(rows)))
    return rows


def check_history(path: Path, key: tuple[dt.date, str], *, replace: bool) -> None:
    """Before a run: ``path``'s folder exists and takes new files, ``path`` (when it exists)
    is a valid history, and it has no forecast ``key`` unless ``replace``."""
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise PmosimError(
            f"cannot record the forecast in {path}: a history is a .csv or a .parquet file"
        )
    if path.suffix.lower() == ".parquet":
        _need_parquet(str(path))
    _check_folder(path)
    if not path.exists():
        return
    if not replace and any(r.key == key for r in read_history(path)):
        raise PmosimError(_clash(path, key))


def _check_folder(path: Path) -> None:
    """``path``'s folder exists and a file can be created in it (tried: permissions, a
    read-only disk or a special file system all show only then)."""
    folder = path.absolute().parent
    where = f"cannot record the forecast in {path}"
    if not folder.is_dir():
        said = "is not a folder" if folder.exists() else "does not exist; create it first"
        raise PmosimError(f"{where}: {folder} {said}")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as e:
        raise PmosimError(f"{where}: {folder} does not take new files ({e.strerror})") from None
    os.close(fd)
    os.unlink(name)


def _clash(path: Path, key: tuple[dt.date, str]) -> str:
    return (
        f"{path} already has the forecast of status date {key[0]} for this scenario "
        f"(SHA-256 {key[1][:12]}...); add --history-replace to replace it"
    )


# --- actual finishes ------------------------------------------------------------------------


def read_actuals(path: Path, display: str | None = None) -> dict[str, dt.date]:
    """The actual finish of each project, from a CSV with columns ``project`` and
    ``actual_finish`` (YYYY-MM-DD)."""
    shown = display or str(path)
    frame = _table(path, shown)
    missing = [c for c in ("project", "actual_finish") if c not in frame.columns]
    if missing:
        raise PmosimError(f"{shown}: row 1: missing column(s) {', '.join(missing)}")
    out: dict[str, dt.date] = {}
    for k, (project, day) in enumerate(zip(frame["project"], frame["actual_finish"], strict=True)):
        where = f"{shown}: row {k + 2}"
        name = str(project).strip()
        if not name:
            raise PmosimError(f"{where}, column project: is empty")
        if name in out:
            raise PmosimError(f"{where}, column project: {name!r} is listed twice")
        try:
            out[name] = _date(str(day).strip())
        except ValueError as e:
            raise PmosimError(f"{where}, column actual_finish: {e}") from None
    return out
