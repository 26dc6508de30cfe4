"""Calibration files: the fitted ratio models per reference class, with their provenance.

A calibration file is YAML a person can read and a scenario can cite::

    pmosim_calibration: 1
    created_by: pmosim 0.1.0
    source: {file: history.csv, sha256: ..., rows_read: 12299, tasks_used: 10212,
             date_range: [2004-02-26, 2014-12-05], units: hours, hours_per_day: 8}
    by: [Category]
    pooling: {min_own: 30, min_class: 5, pool_strength: 20}
    overall: {n: ..., family: lognormal, params: {...}, p_exact: 0.29, ...}
    classes:
      - class: {Category: Development}
        model: {...}
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from simulator.errors import PmosimError

from .fit import RatioModel
from .history import History, Mapping
from .reference import ClassModels

__all__ = ["FORMAT", "Calibration", "load_calibration", "save_calibration"]

FORMAT = 1


@dataclass(frozen=True)
class Calibration:
    """Fitted class models and where they came from (the ``source`` mapping of the file)."""

    models: ClassModels
    source: dict[str, Any]
    pooling: dict[str, float]


def _provenance(history: History, mapping: Mapping) -> dict[str, Any]:
    dates = history.tasks["date"].dropna()
    return {
        "file": history.source,
        "sha256": history.sha256,
        "rows_read": history.rows_read,
        "tasks_used": len(history.tasks),
        "date_range": [] if dates.empty else [str(dates.min().date()), str(dates.max().date())],
        "units": history.units,
        "hours_per_day": mapping.hours_per_day,
        "estimate_col": mapping.estimate_col,
        "actual_col": mapping.actual_col,
        "id_col": mapping.id_col,
        "date_col": mapping.date_col,
    }


def save_calibration(path: Path, models: ClassModels, history: History, mapping: Mapping,
                     pooling: dict[str, float]) -> None:
    """Write the calibration file (the caller makes the write atomic)."""
    try:
        version = metadata.version("pmosim")
    except metadata.PackageNotFoundError:
        version = "unknown"
    doc = {
        "pmosim_calibration": FORMAT,
        "created_by": f"pmosim {version}",
        "source": _provenance(history, mapping),
        "by": list(models.by),
        "pooling": dict(pooling),
        "overall": models.overall.to_dict(),
        "classes": [{"class": dict(zip(models.by, key, strict=True)), "model": m.to_dict()}
                    for key, m in models.classes.items()],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def load_calibration(path: Path | str) -> Calibration:
    """Read a calibration file written by :func:`save_calibration`.

    Raises:
        PmosimError: unreadable, not a pmosim calibration, or an unsupported format.
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise PmosimError(f"{path}: cannot read the calibration file: {e}") from e
    if not isinstance(doc, dict) or doc.get("pmosim_calibration") != FORMAT:
        raise PmosimError(f"{path}: not a pmosim calibration file (format {FORMAT}); make one "
                          "with 'pmosim calibrate'")
    try:
        by = tuple(str(b) for b in doc["by"])
        classes = {tuple(str(c["class"][b]) for b in by): RatioModel.from_dict(c["model"])
                   for c in doc["classes"]}
        pooling = {k: float(v) for k, v in doc.get("pooling", {}).items()}
        models = ClassModels(by=by, overall=RatioModel.from_dict(doc["overall"]),
                             classes=classes, min_own=int(pooling.get("min_own", 0)),
                             min_class=int(pooling.get("min_class", 0)))
    except (KeyError, TypeError, ValueError) as e:
        raise PmosimError(f"{path}: damaged calibration file ({e!r}); make it again with "
                          "'pmosim calibrate'") from e
    return Calibration(models, dict(doc.get("source", {})), pooling)
