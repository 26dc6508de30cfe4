"""Calibration files as a scenario reads them: the fitted ratio models per reference class,
and the durations of ``estimate`` tasks drawn from them.

A calibration file (written by ``pmosim calibrate``, see :mod:`calibration.calfile`) is YAML
a person can read and a scenario can cite::

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
from pathlib import Path
from typing import Any

import yaml

from ..errors import PmosimError
from ..model import Calibrated, ClassModels, Distribution, Fixed, RatioModel
from . import schema as S
from .context import Context

__all__ = [
    "CALIBRATION_FORMAT",
    "Calibration",
    "calibrated_size",
    "load_calibration",
    "scenario_models",
]

CALIBRATION_FORMAT = 1


@dataclass(frozen=True)
class Calibration:
    """Fitted class models and where they came from (the ``source`` mapping of the file)."""

    models: ClassModels
    source: dict[str, Any]
    pooling: dict[str, float]


def load_calibration(path: Path | str) -> Calibration:
    """Read a calibration file written by ``pmosim calibrate``.

    Raises:
        PmosimError: unreadable, not a pmosim calibration, or an unsupported format.
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise PmosimError(f"{path}: cannot read the calibration file: {e}") from e
    if not isinstance(doc, dict) or doc.get("pmosim_calibration") != CALIBRATION_FORMAT:
        raise PmosimError(
            f"{path}: not a pmosim calibration file (format "
            f"{CALIBRATION_FORMAT}); make one with 'pmosim calibrate'"
        )
    try:
        by = tuple(str(b) for b in doc["by"])
        classes = {
            tuple(str(c["class"][b]) for b in by): RatioModel.from_dict(c["model"])
            for c in doc["classes"]
        }
        pooling = {k: float(v) for k, v in doc.get("pooling", {}).items()}
        models = ClassModels(
            by=by,
            overall=RatioModel.from_dict(doc["overall"]),
            classes=classes,
            min_own=int(pooling.get("min_own", 0)),
            min_class=int(pooling.get("min_class", 0)),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise PmosimError(
            f"{path}: damaged calibration file ({e!r}); make it again with 'pmosim calibrate'"
        ) from e
    return Calibration(models, dict(doc.get("source", {})), pooling)


def scenario_models(ctx: Context) -> ClassModels | None:
    """The models of the scenario's calibration file: relative to the scenario, never outside
    its folder (None when it cites none or the file is unusable, reported)."""
    name = ctx.spec.calibration
    if name is None:
        return None
    folder = ctx.folder.resolve()
    path = (folder / name).resolve()
    if not path.is_relative_to(folder):
        ctx.error(
            ("calibration",),
            f"'{name}' lies outside the scenario's folder "
            f"{folder}; keep the calibration file beside it",
        )
    elif not path.is_file():
        ctx.error(("calibration",), f"'{name}': no such file (looked for {path})")
    else:
        try:
            return load_calibration(path).models
        except PmosimError as e:
            ctx.error(("calibration",), str(e))
    return None


def calibrated_size(
    ctx: Context, models: ClassModels | None, t: S.TaskSpec, loc: tuple[Any, ...]
) -> Distribution:
    """The size of an ``estimate`` task: the estimate times its class's ratio."""
    estimate = float(t.estimate)  # type: ignore[arg-type]
    if models is None:
        if ctx.spec.calibration is None:
            ctx.error(
                (*loc, "estimate"),
                "an estimate needs a calibration file: add "
                "'calibration: FILE' (made by 'pmosim "
                "calibrate') at the top",
            )
        return Fixed(estimate)
    if t.klass is None:
        return Calibrated(estimate, models.overall, "(all)")
    key = tuple(p.strip() for p in t.klass.split("/")) if len(models.by) > 1 else (t.klass,)
    if key not in models.classes:
        known = ", ".join("/".join(k) for k in models.classes) or "none"
        ctx.error((*loc, "class"), f"unknown class '{t.klass}'; the calibration knows: {known}")
        return Fixed(estimate)
    return Calibrated(estimate, models.classes[key], t.klass)
