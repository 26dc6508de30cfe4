"""Calibration files as a scenario reads them: the fitted ratio models per reference class,
and the durations of ``estimate`` tasks drawn from them.

A calibration file (written by ``pmosim calibrate``, see :mod:`calibration.calfile`) is YAML
a person can read and a scenario can cite::

    pmosim_calibration: 3
    created_by: pmosim 0.1.0
    source: {file: history.csv, sha256: ..., rows_read: 12299, tasks_used: 10212,
             date_range: [2004-02-26, 2014-12-05], units: hours, hours_per_day: 8}
    by: [Category]
    pooling: {min_own: 30, min_class: 5, pool_strength: 20}
    overall: {n: ..., family: lognormal, params: {...}, p_exact: 0.29, ...}
    classes:
      - class: {Category: Development}
        model: {...}
    selection: [{unit: (all), chosen: parametric, scores: [...], ...}, ...]

Format 2 added local models (``grid``), recalibrated levels (``level_map``) and the
``selection`` report; format 3 level maps that depend on size (``sizes``, ``by_size``);
files of formats 1 and 2 read unchanged. Loading checks every field the
simulator uses and reports the first damaged one by its path, e.g.
``damaged calibration file: overall: must be a mapping, got a list``.
"""

from __future__ import annotations

import math
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

CALIBRATION_FORMAT = 3
READABLE_FORMATS = (1, 2, 3)
_MODEL_KEYS = ("family", "params", "p_exact", "slope", "ref_estimate", "n")


class _Damaged(Exception):
    """A field of the file that cannot be used: its path and what is wrong."""


def _kind(value: Any) -> str:
    names: dict[type, str] = {list: "a list", dict: "a mapping", str: "text"}
    return names.get(type(value), repr(value))


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Damaged(f"{where}: must be a mapping, got {_kind(value)}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Damaged(f"{where}: must be a list, got {_kind(value)}")
    return value


def _model(value: Any, where: str) -> RatioModel:
    d = _mapping(value, where)
    missing = [k for k in _MODEL_KEYS if k not in d]
    if missing:
        raise _Damaged(f"{where}: missing {', '.join(missing)}")
    _mapping(d["params"], f"{where}.params")
    for key in ("p_exact", "slope", "ref_estimate", "n"):
        if isinstance(d[key], bool) or not isinstance(d[key], int | float):
            raise _Damaged(f"{where}.{key}: must be a number, got {_kind(d[key])}")
    for key in ("values", "candidates"):
        if key in d:
            _list(d[key], f"{where}.{key}")
    for key in ("grid", "level_map"):
        if d.get(key) is not None:
            _mapping(d[key], f"{where}.{key}")
    try:
        return RatioModel.from_dict(d)
    except (KeyError, TypeError, ValueError) as e:
        raise _Damaged(f"{where}: {e}") from e


def _classes(doc: dict[str, Any], by: tuple[str, ...]) -> dict[tuple[str, ...], RatioModel]:
    classes = {}
    for i, c in enumerate(_list(doc.get("classes", []), "classes")):
        entry = _mapping(c, f"classes[{i}]")
        key = _mapping(entry.get("class"), f"classes[{i}].class")
        if set(key) != set(by):
            raise _Damaged(f"classes[{i}].class: needs the columns {list(by)}, got {list(key)}")
        classes[tuple(str(key[b]) for b in by)] = _model(entry.get("model"), f"classes[{i}].model")
    return classes


def _class_models(doc: dict[str, Any]) -> tuple[ClassModels, dict[str, float]]:
    by = tuple(str(b) for b in _list(doc.get("by", []), "by"))
    pooling = _mapping(doc.get("pooling", {}), "pooling")
    for k, v in pooling.items():
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise _Damaged(f"pooling.{k}: must be a number, got {_kind(v)}")
    if "overall" not in doc:
        raise _Damaged("overall: missing")
    models = ClassModels(
        by=by,
        overall=_model(doc["overall"], "overall"),
        classes=_classes(doc, by),
        min_own=int(pooling.get("min_own", 0)),
        min_class=int(pooling.get("min_class", 0)),
    )
    return models, {str(k): float(v) for k, v in pooling.items()}


@dataclass(frozen=True)
class Calibration:
    """Fitted class models and where they came from (the ``source`` mapping of the file)."""

    models: ClassModels
    source: dict[str, Any]
    pooling: dict[str, float]


def load_calibration(path: Path | str) -> Calibration:
    """Read a calibration file written by ``pmosim calibrate`` (format 1, 2 or 3).

    Raises:
        PmosimError: unreadable, not a pmosim calibration, an unsupported format, or a
            damaged field (named by its path).
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise PmosimError(f"{path}: cannot read the calibration file: {e}") from e
    if not isinstance(doc, dict) or "pmosim_calibration" not in doc:
        raise PmosimError(
            f"{path}: not a pmosim calibration file; make one with 'pmosim calibrate'"
        )
    if doc["pmosim_calibration"] not in READABLE_FORMATS:
        raise PmosimError(
            f"{path}: calibration format {doc['pmosim_calibration']!r} is not one this pmosim "
            f"reads ({', '.join(map(str, READABLE_FORMATS))}); re-run 'pmosim calibrate'"
        )
    try:
        models, pooling = _class_models(doc)
        source = _mapping(doc.get("source", {}), "source")
    except _Damaged as e:
        raise PmosimError(
            f"{path}: damaged calibration file: {e}; make it again with 'pmosim calibrate'"
        ) from e
    return Calibration(models, dict(source), pooling)


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
        return _beyond(ctx, Calibrated(estimate, models.overall, "(all)"), loc)
    key = tuple(p.strip() for p in t.klass.split("/")) if len(models.by) > 1 else (t.klass,)
    if key not in models.classes:
        known = ", ".join("/".join(k) for k in models.classes) or "none"
        ctx.error((*loc, "class"), f"unknown class '{t.klass}'; the calibration knows: {known}")
        return Fixed(estimate)
    return _beyond(ctx, Calibrated(estimate, models.classes[key], t.klass), loc)


def _beyond(ctx: Context, size: Calibrated, loc: tuple[Any, ...]) -> Calibrated:
    """Warn when the estimate lies outside the sizes its model's size terms rest on: its
    range is then the nearest end's, widened by ``1 + log-distance`` (README)."""
    fitted = size.model.widening_range
    if fitted is not None and size.model.outside(size.estimate):
        end = min(max(size.estimate, fitted[0]), fitted[1])
        widen = 1 + abs(math.log(size.estimate / end))
        ctx.warn(
            (*loc, "estimate"),
            f"estimate {size.estimate:g} days is outside the estimates class {size.klass} "
            f"was calibrated on ({fitted[0]:.3g}-{fitted[1]:.3g} days): its ratio is that of "
            f"{end:.3g} days with the spread widened {widen:.2g}x, not a trend extrapolated",
        )
    return size
