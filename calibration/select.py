"""Model selection by out-of-sample score on the user's own history, then recalibration.

For the overall model and each class with at least ``min_own`` tasks, the candidates of
:data:`CANDIDATES` (and, for a class, ``pooled``: the parametric model of the whole history
before the fold, pooled towards the class as :mod:`calibration.reference` pools small
classes) are scored by time-ordered cross-validation (rolling origin): the unit's tasks, in
date order, are cut into ``folds + 1`` equal blocks; for fold ``k`` every candidate is
fitted on blocks ``0..k-1`` and forecasts block ``k``. A forecast's loss is its pinball loss
averaged over :data:`SCORE_LEVELS`, in working days. Candidates are tried from the simplest;
one replaces the current choice only when its mean loss is lower by more than one standard
error of the paired differences. The ladder, simplest first: ``naive`` (the empirical ratios
with their heap at 1), ``pooled`` (a class only), ``family`` (a parametric family and the
heap share, no size term), ``parametric`` (the same with the size slopes of median, heaping
and spread that are significant and material), ``ends`` (the parametric body with the
history of similar sizes at the ends), ``local`` (the history of similar sizes
everywhere). The naive empirical model is the first candidate, so it is kept when nothing
beats it.

The chosen candidate is then recalibrated (:mod:`calibration.conformal`). The check: a level
map fitted on the PITs of fold ``K - 1`` is applied to fold ``K``; the coverage of the
P10-P90 and P25-P75 intervals on fold ``K`` before and after is reported, and the final map
(fitted on the last two folds' PITs) is kept only when it lowered the pinball loss there.

Classes below ``min_class`` tasks take the overall model as selected and recalibrated here;
classes from ``min_class`` to ``min_own`` tasks (and a class of nothing but heaped reports)
keep the partial pooling of :mod:`calibration.reference` (towards the parametric overall
fit, the only form a class can be pooled towards). A unit too small for any fold (fewer
than 36 tasks) takes the naive model.

Order. The cross-validation forecasts later tasks from earlier ones, so it reads only the
tasks with a date, sorted by date (ties in file order), even when a few dates could not be
read. A task without a date has no honest place in time (neither its file position nor the
end of the history), so it is left out of the cross-validation, and so of the level maps
fitted on its forecasts, and is used in the final fit of its unit like every other task;
:attr:`Calibration.undated` counts such tasks so that ``pmosim calibrate`` can say so. A
unit's folds count its dated tasks. Only when no task has a date (no date column) are the
tasks cross-validated in file order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from simulator.analysis import coverage, pinball
from simulator.errors import PmosimError
from simulator.model import EXACT_TOL, ClassModels, RatioModel

from .conformal import fit_level_map, pit_bounds
from .fit import fit_ratio_model
from .hybrid import fit_hybrid
from .local import fit_local, fit_naive
from .reference import PARENT, fit_classes, pooled_model

__all__ = ["CANDIDATES", "SCORE_LEVELS", "Calibration", "Scored", "Selection", "calibrate"]

FloatArray = NDArray[np.float64]
Fitter = Callable[[FloatArray, FloatArray], RatioModel]

SCORE_LEVELS = np.array([0.10, 0.25, 0.50, 0.75, 0.80, 0.90])
MIN_FOLD_TRAIN = 30  # tasks a fold's training part needs
CANDIDATES: dict[str, Fitter] = {
    "naive": lambda r, e: fit_naive(r),
    "family": lambda r, e: fit_ratio_model(r),
    "parametric": lambda r, e: fit_ratio_model(r, e),
    "ends t=0.1": lambda r, e: fit_hybrid(r, e, 0.1),
    "ends t=0.25": lambda r, e: fit_hybrid(r, e, 0.25),
    "local h=1.2": lambda r, e: fit_local(r, e, 1.2),
    "local h=0.6": lambda r, e: fit_local(r, e, 0.6),
    "local h=0.3": lambda r, e: fit_local(r, e, 0.3),
}


@dataclass(frozen=True)
class Scored:
    """One candidate's cross-validated score.

    Attributes:
        name: the candidate.
        loss: mean pinball loss per forecast (working days); ``inf`` when it could not be
            fitted on some fold.
        vs_naive: ``loss`` relative to the naive candidate's, minus 1 (negative: better).
        kept: whether it became the choice when tried (the last kept one is chosen).
    """

    name: str
    loss: float
    vs_naive: float
    kept: bool


@dataclass(frozen=True)
class Selection:
    """What won for one unit (the overall model or a class), and the recalibration check.

    Attributes:
        unit: ``(all)`` or the class label.
        n, forecasts: the unit's tasks, and the cross-validation forecasts scored.
        scores: every candidate, in the order tried.
        chosen: the name of the chosen candidate.
        coverage_before, coverage_after: P10-P90 and P25-P75 coverage on the last fold, as
            fitted and with the level map of the fold before (NaN without a check).
        recalibrated: whether the final model carries a level map.
    """

    unit: str
    n: int
    forecasts: int
    scores: tuple[Scored, ...]
    chosen: str
    coverage_before: tuple[float, float]
    coverage_after: tuple[float, float]
    recalibrated: bool


@dataclass(frozen=True)
class Calibration:
    """The selected and recalibrated models, and how each was chosen.

    Attributes:
        models: the models per class.
        selection: the overall model's selection, then each class's with a fit of its own.
        undated: tasks without a date while others have one: left out of the time-ordered
            cross-validation, used in the final fits (0 when every task or none has a date).
    """

    models: ClassModels
    selection: tuple[Selection, ...]
    undated: int = 0

    def table(self) -> pd.DataFrame:
        """One row per unit: the winner, its loss against naive, coverage before/after."""
        rows = []
        for s in self.selection:
            best = next(c for c in s.scores if c.name == s.chosen)
            rows.append(
                {
                    "class": s.unit,
                    "cv_n": s.forecasts,
                    "chosen": s.chosen,
                    "vs_naive": best.vs_naive,
                    "cov80_before": s.coverage_before[0],
                    "cov80_after": s.coverage_after[0],
                    "cov50_before": s.coverage_before[1],
                    "cov50_after": s.coverage_after[1],
                    "recal": "yes" if s.recalibrated else "no",
                }
            )
        return pd.DataFrame(rows)


@dataclass(frozen=True)
class _Fold:
    train: NDArray[np.int64]
    test: NDArray[np.int64]


def _folds(n: int, folds: int) -> list[_Fold]:
    edges = np.linspace(0, n, folds + 2).round().astype(np.int64)
    out = []
    for k in range(1, folds + 1):
        if edges[k] >= MIN_FOLD_TRAIN and edges[k + 1] > edges[k]:
            out.append(_Fold(np.arange(edges[k]), np.arange(edges[k], edges[k + 1])))
    return out


def _quantiles(model: RatioModel, est: FloatArray, levels: FloatArray) -> FloatArray:
    return np.asarray(est[:, None] * model.ppf(levels[None, :], est[:, None]))


def _fold_models(
    fitter: Fitter, r: FloatArray, e: FloatArray, folds: list[_Fold]
) -> list[RatioModel] | None:
    try:
        return [fitter(r[f.train], e[f.train]) for f in folds]
    except (PmosimError, ValueError):
        return None


def _losses(
    models: list[RatioModel], r: FloatArray, e: FloatArray, folds: list[_Fold]
) -> FloatArray:
    parts = [
        pinball(r[f.test] * e[f.test], _quantiles(m, e[f.test], SCORE_LEVELS), SCORE_LEVELS)
        for m, f in zip(models, folds, strict=True)
    ]
    return np.concatenate(parts)


def _beats(new: FloatArray, old: FloatArray) -> bool:
    diff = old - new
    se = float(np.std(diff, ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else np.inf
    return float(diff.mean()) > se


def _relative(loss: FloatArray | None, naive: FloatArray) -> float:
    """Mean loss relative to the naive one, minus 1 (0 when both are 0)."""
    if loss is None:
        return float("inf")
    if naive.mean() == 0:
        return 0.0 if loss.mean() == 0 else float("inf")
    return float(loss.mean() / naive.mean() - 1)


def _select(
    r: FloatArray, e: FloatArray, folds: list[_Fold], candidates: dict[str, Fitter]
) -> tuple[str, tuple[Scored, ...], list[RatioModel]]:
    fitted = {name: _fold_models(fit, r, e, folds) for name, fit in candidates.items()}
    losses = {n: (None if m is None else _losses(m, r, e, folds)) for n, m in fitted.items()}
    naive = losses["naive"]
    assert naive is not None
    best, kept = "naive", {"naive"}
    for name, loss in losses.items():
        if name != "naive" and loss is not None and _beats(loss, losses[best]):  # type: ignore[arg-type]
            best = name
            kept.add(name)
    scores = tuple(
        Scored(
            name,
            float("inf") if loss is None else float(loss.mean()),
            _relative(loss, naive),
            name in kept,
        )
        for name, loss in losses.items()
    )
    chosen = fitted[best]
    assert chosen is not None
    return best, scores, chosen


def _coverages(model: RatioModel, r: FloatArray, e: FloatArray) -> tuple[float, float]:
    q = _quantiles(model, e, np.array([0.10, 0.25, 0.75, 0.90]))
    a = r * e
    return coverage(a, q[:, 0], q[:, 3]), coverage(a, q[:, 1], q[:, 2])


def _recalibration(
    final: RatioModel, models: list[RatioModel], r: FloatArray, e: FloatArray, folds: list[_Fold]
) -> tuple[RatioModel, tuple[float, float], tuple[float, float]]:
    nan = (float("nan"), float("nan"))
    if len(folds) < 2:
        return final, nan, nan
    prev, last = folds[-2], folds[-1]
    check_map = fit_level_map(
        *pit_bounds(models[-2], r[prev.test], e[prev.test]), estimate=e[prev.test]
    )
    before_model = models[-1]
    after_model = replace(before_model, level_map=check_map)
    before = _coverages(before_model, r[last.test], e[last.test])
    after = _coverages(after_model, r[last.test], e[last.test])
    loss_before = _losses([before_model], r, e, [last]).mean()
    loss_after = _losses([after_model], r, e, [last]).mean()
    if loss_after > loss_before:
        return final, before, after
    bounds = [
        pit_bounds(m, r[f.test], e[f.test]) for m, f in zip(models[-2:], folds[-2:], strict=True)
    ]
    low = np.concatenate([b[0] for b in bounds])
    high = np.concatenate([b[1] for b in bounds])
    recent = np.concatenate([e[f.test] for f in folds[-2:]])
    return replace(final, level_map=fit_level_map(low, high, estimate=recent)), before, after


def _pooling(
    r_all: FloatArray, e_all: FloatArray, rows: NDArray[np.intp], strength: float
) -> Fitter:
    """The ``pooled`` candidate of a class whose tasks are the rows ``rows`` of the whole
    ordered history: the parametric model of every task up to the class's last training
    task, pooled towards the class (:func:`calibration.reference.pooled_model`). A fold's
    training tasks are a prefix of the class's, so their number says where history ends."""
    parents: dict[int, RatioModel] = {}

    def fit(r: FloatArray, e: FloatArray) -> RatioModel:
        cut = r_all.size if r.size == rows.size else int(rows[r.size - 1]) + 1
        if cut not in parents:
            parents[cut] = fit_ratio_model(r_all[:cut], e_all[:cut])
        return pooled_model(parents[cut], r, e, strength)

    return fit


def _unit(
    label: str,
    r: FloatArray,
    e: FloatArray,
    folds_wanted: int,
    candidates: dict[str, Fitter] = CANDIDATES,
    cv: int | None = None,
) -> tuple[RatioModel, Selection] | None:
    """Select and recalibrate one unit's model: the first ``cv`` tasks (all by default) are
    cross-validated in their order, the final model is fitted on every task."""
    if np.all(np.abs(r - 1) < EXACT_TOL):  # nothing but heaped reports: keep the pooled model
        return None
    folds = _folds(r.size if cv is None else cv, folds_wanted)
    if folds and _fold_models(CANDIDATES["naive"], r, e, folds) is None:
        folds = []
    if not folds:
        model = fit_naive(r)
        nan = (float("nan"), float("nan"))
        return model, Selection(
            label, r.size, 0, (Scored("naive", np.nan, 0.0, True),), "naive", nan, nan, False
        )
    name, scores, fold_models = _select(r, e, folds, candidates)
    final = candidates[name](r, e)
    final, before, after = _recalibration(final, fold_models, r, e, folds)
    forecasts = int(sum(f.test.size for f in folds))
    return final, Selection(
        label, r.size, forecasts, scores, name, before, after, final.level_map is not None
    )


def _order(tasks: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The tasks with a date by date (ties in file order), then those without in file order;
    and how many have one, the tasks cross-validated (all, in file order, when none has)."""
    if "date" not in tasks.columns or tasks["date"].isna().all():
        return tasks, len(tasks)
    ordered = tasks.sort_values("date", kind="stable", na_position="last")
    return ordered, int(tasks["date"].notna().sum())


def calibrate(
    tasks: pd.DataFrame,
    by: Sequence[str],
    *,
    min_own: int = 30,
    min_class: int = 5,
    pool_strength: float = 20.0,
    folds: int = 5,
) -> Calibration:
    """Select and recalibrate the overall model and each class's (see the module docstring).

    Raises:
        PmosimError: missing columns, non-positive values, or too little data to fit.
    """
    cols = tuple(by)
    pooled = fit_classes(
        tasks, cols, min_own=min_own, min_class=min_class, pool_strength=pool_strength
    )
    ordered, cv = _order(tasks)
    r = (ordered["actual"] / ordered["estimate"]).to_numpy(float)
    e = ordered["estimate"].to_numpy(float)
    unit = _unit(PARENT, r, e, folds, cv=cv)
    if unit is None:
        raise PmosimError(f"all {r.size} ratios are exactly 1: nothing to fit")
    overall, first = unit
    selections = [first]
    classes = dict(pooled.classes)
    if cols:
        keys = np.array(
            [" / ".join(str(v) for v in row) for row in ordered[list(cols)].itertuples(index=False)]
        )
        for key in pooled.classes:
            mask = keys == " / ".join(key)
            n = int(mask.sum())
            if n < min_class:  # the whole history's model, as selected and recalibrated
                classes[key] = replace(
                    overall,
                    n=n,
                    candidates=(),
                    source=f"{PARENT} unchanged (n={n} < min_class={min_class})",
                )
            if n < min_own:
                continue
            pooling = _pooling(r, e, np.flatnonzero(mask), pool_strength)
            ladder = {"naive": CANDIDATES["naive"], "pooled": pooling, **CANDIDATES}
            chosen = _unit(" / ".join(key), r[mask], e[mask], folds, ladder, int(mask[:cv].sum()))
            if chosen is not None:
                classes[key] = chosen[0]
                selections.append(chosen[1])
    models = ClassModels(cols, overall, classes, pooled.min_own, pooled.min_class)
    return Calibration(models, tuple(selections), len(tasks) - cv)
