"""Writing results atomically: a folder (or file) is built as a temporary sibling and renamed
into place whole, so a failed or interrupted write leaves nothing half-written."""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis import RunSummary
from ..errors import PmosimError
from ..model import Portfolio
from ..montecarlo import raise_if_interrupted
from .frames import capacity_frame, milestones_frame, projects_frame, trace_frame

__all__ = [
    "MARKER",
    "check_replaceable",
    "json_ready",
    "publish",
    "publish_file",
    "write_csv",
    "write_json",
    "write_run",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _guard(value: object) -> object:
    """Keep spreadsheets from executing user text as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    safe = frame.copy()
    for col in safe.columns:
        if pd.api.types.is_object_dtype(safe[col]):
            safe[col] = safe[col].map(_guard)
        elif pd.api.types.is_string_dtype(safe[col]):  # the formula-like cells, vectorised
            risky = safe[col].str.startswith(_FORMULA_START, na=False)
            safe[col] = safe[col].where(~risky, "'" + safe[col])
        elif pd.api.types.is_float_dtype(safe[col]):  # "%.10g", 20 times faster than pandas'
            safe[col] = ["" if x != x else f"{x:.10g}" for x in safe[col].tolist()]
    safe.to_csv(path, index=False, lineterminator="\n")


def _umask() -> int:
    """The process's umask: from /proc on Linux, else by setting it and setting it back
    (there is no getter; the brief change could reach a file another thread creates)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _give_mode(tmp: Path, out: Path, new: int) -> None:
    """Give ``tmp`` (private, as ``mkstemp``/``mkdtemp`` create it) the permission bits of
    the ``out`` it will replace, or for a new ``out`` the usual ``new & ~umask``."""
    try:
        mode = stat.S_IMODE(out.stat().st_mode)
    except FileNotFoundError:
        mode = new & ~_umask()
    os.chmod(tmp, mode)


# in every folder publish writes: --force replaces a folder only when it holds this (or
# nothing), never a folder of the user's own files that an --out happened to name
MARKER = ".pmosim"


# what the commands write: a folder of these alone (and charts) is a results folder written
# before the marker existed, replaced like a marked one
_OUTPUTS = frozenset(
    {
        "accuracy.csv",
        "best-variant.yaml",
        "capacity.csv",
        "comparison.csv",
        "comparison.json",
        "drivers.csv",
        "milestones.csv",
        "projects.csv",
        "report.html",
        "schedule.csv",
        "search.json",
        "summary.json",
        "trace.csv",
        "trend.csv",
    }
)


def _written_by_pmosim(folder: Path) -> bool:
    """Empty, or holding nothing but files the commands write."""
    return all(p.is_file() and (p.name in _OUTPUTS or p.suffix == ".png") for p in folder.iterdir())


def check_replaceable(out: Path, force: bool) -> None:
    """Raise unless ``out`` may be written: absent, or (with ``force``) a folder that
    :func:`publish` wrote (marked), or one holding nothing but files the commands write."""
    out = Path(out)
    if not out.exists():
        return
    if not force:
        raise PmosimError(
            f"{out} already exists; choose another --out or add --force to replace it"
        )
    if not out.is_dir():
        raise PmosimError(f"{out} is a file, not a results folder; choose another --out")
    if not (out / MARKER).is_file() and not _written_by_pmosim(out):
        raise PmosimError(
            f"{out} holds files pmosim did not write (it has no {MARKER} file), so --force "
            "does not replace it; choose another --out, or empty it yourself"
        )


def publish(out: Path, force: bool, fill: Callable[[Path], None]) -> None:
    """Create ``out`` by letting ``fill`` write into a fresh temporary folder, marked as
    pmosim's, then renaming it into place. An existing ``out`` is replaced only with
    ``force``, only when :func:`check_replaceable` allows it, and keeps its permission bits;
    a new one gets ``0o777 & ~umask``. On any error nothing is left behind."""
    out = Path(out)
    check_replaceable(out, force)
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    except OSError as e:
        raise PmosimError(f"cannot write results to {out}: {e.strerror}") from e
    try:
        fill(tmp)
        (tmp / MARKER).write_text(
            "Written by pmosim: 'pmosim ... --force' may replace this folder.\n", encoding="utf-8"
        )
        raise_if_interrupted()
        _give_mode(tmp, out, 0o777)
        if out.exists():
            old = parent / f".{out.name}.old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise PmosimError(f"cannot write results to {out}: {e.strerror or e}") from e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def publish_file(out: Path, force: bool, fill: Callable[[Path], None]) -> None:
    """Create the file ``out`` by letting ``fill`` write a temporary sibling, then renaming it
    into place; an existing file is replaced only with ``force`` and keeps its permission
    bits, a new one gets ``0o666 & ~umask``; on error nothing is left."""
    out = Path(out)
    if out.exists() and not force:
        raise PmosimError(f"{out} already exists; choose another name or add --force")
    try:
        out.resolve().parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.resolve().parent)
        os.close(fd)
    except OSError as e:
        raise PmosimError(f"cannot write {out}: {e.strerror}") from e
    tmp = Path(name)
    try:
        fill(tmp)
        _give_mode(tmp, out, 0o666)
        os.replace(tmp, out)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise PmosimError(f"cannot write {out}: {e.strerror or e}") from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def json_ready(value: Any) -> Any:
    """Plain JSON values: tuples become lists, NaN and infinities null."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(data: Any, path: Path) -> None:
    """``data`` as indented UTF-8 JSON, non-finite numbers as null."""
    text = json.dumps(json_ready(data), indent=2, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def write_run(folder: Path, pf: Portfolio, summary: RunSummary, trace: np.ndarray | None) -> None:
    """``summary.json``, ``projects.csv``, ``capacity.csv``, ``milestones.csv`` when there are
    key dates and, if given, ``trace.csv``."""
    write_json(summary.to_dict(), folder / "summary.json")
    write_csv(projects_frame(summary), folder / "projects.csv")
    if summary.key_dates:
        write_csv(milestones_frame(summary), folder / "milestones.csv")
    write_csv(capacity_frame(summary), folder / "capacity.csv")
    if trace is not None:
        write_csv(trace_frame(pf, trace), folder / "trace.csv")
