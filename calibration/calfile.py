"""Writing calibration files: the fitted ratio models per reference class, with their
provenance: YAML a person can read and a scenario can cite. The simulator reads them, and
:mod:`simulator.scenario.calibration_file` shows their format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from simulator.model import ClassModels
from simulator.scenario import CALIBRATION_FORMAT as FORMAT
from simulator.scenario import Calibration, load_calibration

from .history import History, Mapping
from .select import Selection

__all__ = ["FORMAT", "Calibration", "load_calibration", "save_calibration"]


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


def _selection(selection: Sequence[Selection]) -> list[dict[str, Any]]:
    out = []
    for s in selection:
        d = asdict(s)
        d["coverage_before"] = list(s.coverage_before)
        d["coverage_after"] = list(s.coverage_after)
        d["scores"] = [asdict(c) for c in s.scores]
        out.append(d)
    return out


def save_calibration(
    path: Path,
    models: ClassModels,
    history: History,
    mapping: Mapping,
    pooling: dict[str, float],
    selection: Sequence[Selection] = (),
) -> None:
    """Write the calibration file (the caller makes the write atomic); ``selection`` says
    how each model was chosen (:mod:`calibration.select`)."""
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
        "classes": [
            {"class": dict(zip(models.by, key, strict=True)), "model": m.to_dict()}
            for key, m in models.classes.items()
        ],
        "selection": _selection(selection),
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
