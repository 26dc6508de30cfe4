"""``pmosim calibrate``, ``pmosim estimate`` and ``pmosim backtest``: read, call, write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd

from simulator.errors import PmosimError, Problem, ScenarioError
from simulator.output import publish_file, write_csv

from .backtest import LEVELS, backtest, quantile_name, rolling_origins
from .calfile import load_calibration, save_calibration
from .history import History, Mapping, load_history
from .reference import class_table
from .select import calibrate

__all__ = ["backtest_cmd", "calibrate_cmd", "estimate_cmd"]

QUANTILES = (0.10, 0.50, 0.80, 0.90)


def _parse_quantiles(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """``10,25,50`` (percent) as levels ``(0.1, 0.25, 0.5)``, sorted, without repeats."""
    if value is None:
        return None
    levels = []
    for word in value.split(","):
        try:
            pct = float(word.strip())
        except ValueError:
            raise click.BadParameter(
                f"{word.strip()!r} is not a number; give percents such as 10,50,90"
            ) from None
        if not 0 < pct < 100:
            raise click.BadParameter(f"{pct:g} must be between 0 and 100 (exclusive)")
        levels.append(round(pct / 100, 6))
    return tuple(sorted(set(levels)))


def quantiles_option(default: str) -> Callable[..., Any]:
    return click.option(
        "--quantiles",
        callback=_parse_quantiles,
        default=None,
        metavar="LIST",
        help=f"Quantiles in percent, comma-separated [default: {default}].",
    )


def mapping_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The column-mapping options shared by the commands that read delivery history."""
    options = [
        click.option(
            "--mapping",
            "mapping_file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="YAML file with the keys below (options override).",
        ),
        click.option("--id-col", help="Task id column (duplicates are one task)."),
        click.option("--estimate-col", help="Estimate column."),
        click.option("--actual-col", help="Actual column."),
        click.option(
            "--class-col",
            "class_cols",
            multiple=True,
            help="Reference-class column (repeatable: category, team...).",
        ),
        click.option("--date-col", help="Date that orders history (for backtests)."),
        click.option("--date-format", help="strptime format of the date, e.g. %d-%b-%y."),
        click.option(
            "--units",
            type=click.Choice(["hours", "days", "minutes"]),
            default=None,
            help="Units of estimate and actual [default: hours].",
        ),
        click.option(
            "--hours-per-day",
            type=click.FloatRange(min=0, min_open=True),
            default=None,
            help="Working hours per day [default: 8].",
        ),
        click.option(
            "--join",
            "joins",
            multiple=True,
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Another file joined on the id column (e.g. the dates).",
        ),
        click.option(
            "--drop-outliers",
            is_flag=True,
            help="Drop extreme ratios (x10 beyond the quartiles, in log space).",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def build_mapping(mapping_file: Path | None, **given: Any) -> Mapping:
    """Options over the mapping file's keys; estimate and actual columns are required."""
    base: dict[str, Any] = {}
    if mapping_file is not None:
        m = Mapping.from_file(mapping_file)
        base = {
            k: getattr(m, k)
            for k in (
                "estimate_col",
                "actual_col",
                "id_col",
                "class_cols",
                "date_col",
                "date_format",
                "units",
                "hours_per_day",
                "joins",
                "drop_outliers",
            )
        }
    for key, value in given.items():
        if value not in (None, (), False):
            base[key] = tuple(value) if isinstance(value, tuple | list) else value
    missing = [
        f"--{k.replace('_', '-')}" for k in ("estimate_col", "actual_col") if not base.get(k)
    ]
    if missing:
        raise click.UsageError(f"give {' and '.join(missing)} (or a --mapping file)")
    return Mapping(**base)


def _history(path: Path, mapping: Mapping, quiet: bool = False) -> History:
    history = load_history(path, mapping, display=str(path))
    if not quiet:
        click.echo(history.report(), err=True)
    return history


def _by(mapping: Mapping, by: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(by) or mapping.class_cols


@click.command("calibrate")
@click.argument("history", type=click.Path(path_type=Path))
@mapping_options
@click.option(
    "--by", multiple=True, help="Class columns to calibrate by (default: every --class-col)."
)
@click.option(
    "--min-own",
    type=click.IntRange(1),
    default=30,
    show_default=True,
    help="Tasks a class needs for a fit of its own.",
)
@click.option(
    "--min-class",
    type=click.IntRange(1),
    default=5,
    show_default=True,
    help="Tasks a class needs to be pooled with the whole history.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Calibration file to write (YAML).",
)
@click.option("--force", is_flag=True, help="Replace an existing calibration file.")
def calibrate_cmd(
    history: Path,
    mapping_file: Path | None,
    by: tuple[str, ...],
    min_own: int,
    min_class: int,
    out: Path,
    force: bool,
    **columns: Any,
) -> None:
    """Fit actual/estimate ratio distributions per reference class from HISTORY."""
    if min_class > min_own:
        raise click.UsageError(
            f"--min-class ({min_class}) must not exceed --min-own ({min_own}): a class "
            "large enough for its own fit is large enough to be pooled"
        )
    mapping = build_mapping(mapping_file, **columns)
    groups = _by(mapping, by)
    mapping = Mapping(
        **{**_fields(mapping), "class_cols": tuple(dict.fromkeys((*mapping.class_cols, *groups)))}
    )
    if out.exists() and not force:
        raise PmosimError(f"{out} already exists; choose another --out or add --force")
    data = _history(history, mapping)
    pooling = {"min_own": min_own, "min_class": min_class, "pool_strength": 20.0}
    try:
        result = calibrate(data.tasks, groups, min_own=min_own, min_class=min_class)
    except PmosimError as e:
        raise PmosimError(f"{history}: {len(data.tasks)} usable tasks: {e}") from None
    models = result.models
    publish_file(
        out,
        force,
        lambda tmp: save_calibration(tmp, models, data, mapping, pooling, result.selection),
    )
    chart = out.with_suffix(".png")
    from .charts import calibration_chart, write_png

    png = calibration_chart(models, data.tasks, f"{history.name} · {len(data.tasks):,} tasks")
    publish_file(chart, True, lambda tmp: write_png(tmp, png))
    ref = models.overall.ref_estimate
    click.echo(
        f"Ratio actual/estimate per class, at an estimate of {ref:.3g} days "
        "(geometric mean).\nbias: mean ratio - 1; exact: share reported as estimated;"
        "\nslopes: of P50 / logit P(exact) / spread on log(estimate), 0 = none."
    )
    click.echo(_table(_narrow(class_table(models))))
    click.echo(
        "\nModel chosen per class by time-ordered cross-validation (cv_n forecasts);"
        "\nvs_naive: its pinball loss against the naive per-class quantiles' (-0.1 = 10 % lower);"
        "\ncov80/cov50 on the last fold, before/after recalibrating the levels."
    )
    click.echo(_table(_selection(result.table())))
    if result.undated:
        click.echo(_undated_note(result.undated, len(data.tasks)))
    click.echo(f"\nCalibration written to {out}; chart {chart}")


def _undated_note(undated: int, tasks: int) -> str:
    """Why cv_n counts fewer tasks than there are when some have no date."""
    one = undated == 1
    return (
        f"note: {undated:,} of {tasks:,} tasks {'has' if one else 'have'} no date: "
        f"{'it is' if one else 'they are'} left out of the cross-validation (the other "
        f"tasks in date order) and used in the final fit"
    )


def _selection(table: pd.DataFrame) -> pd.DataFrame:
    """The selection table in 80 columns."""

    def pair(a: pd.Series, b: pd.Series) -> list[str]:
        return [f"{x:.2f}/{y:.2f}" for x, y in zip(a, b, strict=True)]

    return pd.DataFrame(
        {
            "class": table["class"],
            "cv_n": table["cv_n"],
            "chosen": table["chosen"],
            "vs_naive": [f"{v:+.3f}" for v in table["vs_naive"]],
            "cov80": pair(table["cov80_before"], table["cov80_after"]),
            "cov50": pair(table["cov50_before"], table["cov50_after"]),
            "recal": table["recal"],
        }
    )


def _fields(mapping: Mapping) -> dict[str, Any]:
    return {
        k: getattr(mapping, k)
        for k in (
            "estimate_col",
            "actual_col",
            "id_col",
            "class_cols",
            "date_col",
            "date_format",
            "units",
            "hours_per_day",
            "joins",
            "drop_outliers",
        )
    }


def _short(scores: pd.DataFrame) -> pd.DataFrame:
    return scores.rename(
        columns={
            "coverage_p10_p90": "cov80",
            "coverage_p25_p75": "cov50",
            "ties_p10_p90": "tie80",
            "ties_p25_p75": "tie50",
            "p50_hit_rate": "hit50",
        }
    )


def _narrow(table: pd.DataFrame) -> pd.DataFrame:
    """The calibrate table in 80 columns: the three slopes in one column."""
    slopes = [
        f"{a:.2g}/{b:.2g}/{c:.2g}"
        for a, b, c in zip(
            table["size_slope"], table["heap_slope"], table["spread_slope"], strict=True
        )
    ]
    return pd.DataFrame(
        {
            "class": table["class"],
            "n": table["n"],
            "bias": table["bias"],
            "p10": table["p10"],
            "p50": table["p50"],
            "p90": table["p90"],
            "exact": table["p_exact"],
            "slopes": slopes,
            "family": table["family"],
        }
    )


def _table(frame: pd.DataFrame) -> str:
    with pd.option_context(
        "display.width", 160, "display.max_columns", 20, "display.float_format", "{:.3g}".format
    ):
        return frame.to_string(index=False)


@click.command("estimate")
@click.option(
    "--calibration",
    "calibration_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--class",
    "klass",
    default=None,
    help="Reference class (values joined by '/' when calibrated by several columns).",
)
@click.option(
    "--estimate",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="One estimate, in the history's units.",
)
@click.option(
    "--input",
    "input_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Batch: a CSV of estimates (one output row per row).",
)
@click.option("--estimate-col", default=None, help="Batch: the estimate column.")
@click.option("--class-col", "class_cols", multiple=True, help="Batch: class column(s).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Batch: where to write the ranges (CSV).",
)
@click.option("--force", is_flag=True, help="Replace an existing --out file.")
@click.option(
    "--units",
    type=click.Choice(["days", "hours", "minutes"]),
    default="days",
    show_default=True,
    help="Units of the estimates given, and of the ranges printed.",
)
@click.option(
    "--hours-per-day",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Working hours per day for --units hours/minutes [default: the calibration's, else 8].",
)
@quantiles_option("10,50,80,90")
def estimate_cmd(
    calibration_file: Path,
    klass: str | None,
    estimate: float | None,
    input_file: Path | None,
    estimate_col: str | None,
    class_cols: tuple[str, ...],
    out: Path | None,
    force: bool,
    units: str,
    hours_per_day: float | None,
    quantiles: tuple[float, ...] | None,
) -> None:
    """Historical ranges for new estimates: P10/P50/P80/P90 (or --quantiles), mean and
    P(overrun).

    Calibrations work in working days; --units converts the estimates given (and the ranges
    printed) from hours or minutes."""
    levels = quantiles or QUANTILES
    cal = load_calibration(calibration_file)
    models = cal.models
    per_day = {"days": 1.0, "hours": 1.0, "minutes": 60.0}[units] * (
        1.0 if units == "days" else hours_per_day or float(cal.source.get("hours_per_day", 8.0))
    )
    if input_file is None:
        if estimate is None:
            raise click.UsageError("give --estimate (and --class), or --input for a batch")
        model = _model(models, klass)
        row = _ranges(model, estimate / per_day, levels)
        click.echo(
            f"class {klass or '(all)'}: estimate {estimate:g} {units} "
            f"({model.n} similar tasks; {model.source})"
        )
        click.echo(
            "  ".join(
                f"P{quantile_name(p)[1:]} {row[quantile_name(p)] * per_day:.3g}" for p in levels
            )
            + f"  ({units})"
        )
        click.echo(f"mean {row['mean'] * per_day:.3g}  P(overrun) {row['p_overrun']:.2f}")
        _note_beyond(model, estimate / per_day, per_day, units)
        return
    if not estimate_col or out is None:
        raise click.UsageError("a batch needs --estimate-col and --out")
    frame, rows = _read_table(input_file)
    result = _batch(
        models, frame, rows, estimate_col, class_cols or models.by, input_file, per_day, levels
    )
    publish_file(out, force, lambda tmp: write_csv(result, tmp))
    click.echo(f"{len(result)} rows written to {out}")


def _note_beyond(model: Any, days: float, per_day: float, units: str) -> None:
    """Say so when the estimate lies outside the sizes the model's size terms rest on."""
    if not model.outside(days):
        return
    lo, hi = (x * per_day for x in model.widening_range)
    click.echo(
        f"note: {days * per_day:g} {units} is outside the estimates this model was fitted on "
        f"({lo:.3g}-{hi:.3g} {units}): its range is that of the nearest end, widened, not a "
        "trend extrapolated"
    )


def _model(models: Any, klass: str | None) -> Any:
    if klass is None:
        return models.overall
    key = tuple(part.strip() for part in klass.split("/")) if len(models.by) > 1 else (klass,)
    try:
        return models.model_for(key)
    except KeyError as e:
        raise PmosimError(str(e.args[0]) if e.args else f"unknown class {klass!r}") from None


def _read_table(path: Path) -> tuple[pd.DataFrame, tuple[int, ...]]:
    """The table as text, and the file row of each data row."""
    from simulator.plans import read_table

    table = read_table(path)
    width = len(table.header)
    frame = pd.DataFrame([row[:width] for row in table.rows], columns=list(table.header))
    return frame, table.row_numbers


def _ranges(model: Any, days: float, levels: tuple[float, ...]) -> dict[str, float]:
    """The quantiles at ``levels``, mean (working days) and P(overrun) of an estimate of
    ``days``."""
    q = days * model.ppf(np.array(levels), days)
    return {
        **{quantile_name(p): float(v) for p, v in zip(levels, q, strict=True)},
        "mean": days * model.mean(days),
        "p_overrun": model.p_overrun(days),
    }


def _batch(
    models: Any,
    frame: pd.DataFrame,
    rows: tuple[int, ...],
    estimate_col: str,
    class_cols: tuple[str, ...],
    path: Path,
    per_day: float,
    levels: tuple[float, ...],
) -> pd.DataFrame:
    """The input rows with their ranges added.

    Raises:
        ScenarioError: every bad row at once, one ``file:row:column`` line each (an estimate
            that is not a positive number, an unknown class).
        PmosimError: a column that is not in the file.
    """
    columns = list(frame.columns)
    header = rows[0] - 1 if rows else 1
    missing = [
        f"{path}:{header}: no column {col!r}; columns: {', '.join(columns)}"
        for col in dict.fromkeys((estimate_col, *class_cols))
        if col not in columns
    ]
    if missing:
        raise PmosimError("\n".join(missing))
    est, problems = _estimates(frame[estimate_col], rows, columns.index(estimate_col) + 1, path)
    chosen: list[Any] = []
    for k in range(len(frame)):
        key = "/".join(str(frame[c].iloc[k]).strip() for c in class_cols) if class_cols else None
        try:
            chosen.append(_model(models, key))
        except PmosimError as e:
            where = columns.index(class_cols[0]) + 1
            problems.append(Problem(str(path), rows[k], where, "/".join(class_cols), str(e)))
    if problems:
        raise ScenarioError(problems)
    days = est.to_numpy(float) / per_day
    found = [_ranges(m, d, levels) for m, d in zip(chosen, days, strict=True)]
    out = frame.copy()
    for name in found[0] if found else ():
        scale = 1.0 if name == "p_overrun" else per_day
        out[name] = [r[name] * scale for r in found]
    out["outside_history"] = [m.outside(d) for m, d in zip(chosen, days, strict=True)]
    return out


def _estimates(
    cells: pd.Series, rows: tuple[int, ...], col: int, path: Path
) -> tuple[pd.Series, list[Problem]]:
    """The estimates as numbers (a decimal comma allowed), and one problem per cell that is
    not a positive finite number."""
    text = cells.astype(str).str.strip()
    est = pd.to_numeric(text.str.replace(",", "."), errors="coerce")
    bad = np.flatnonzero((~(est > 0) | ~np.isfinite(est)).to_numpy())
    problems = [
        Problem(
            str(path),
            rows[k],
            col,
            str(cells.name),
            f"{text.iloc[k]!r} is not a positive number"
            + (" (the estimate is empty)" if not text.iloc[k] else ""),
        )
        for k in bad
    ]
    return est, problems


@click.command("backtest")
@click.argument("history", type=click.Path(path_type=Path))
@mapping_options
@click.option("--by", multiple=True, help="Class columns (default: every --class-col).")
@click.option(
    "--split",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Fit before this date, forecast from it on.",
)
@click.option(
    "--rolling",
    type=click.IntRange(1),
    default=None,
    metavar="MONTHS",
    help="Rolling origins every MONTHS months instead of one split.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write every forecast and its scores to this CSV.",
)
@click.option("--force", is_flag=True, help="Replace an existing --out file.")
@quantiles_option("10,25,50,75,90")
def backtest_cmd(
    history: Path,
    mapping_file: Path | None,
    by: tuple[str, ...],
    split: dt.datetime | None,
    rolling: int | None,
    out: Path | None,
    force: bool,
    quantiles: tuple[float, ...] | None,
    **columns: Any,
) -> None:
    """Fit on what was known before each origin, forecast what came after, and score it
    against three baselines (naive quantiles per class, the raw estimate, one global
    ratio)."""
    mapping = build_mapping(mapping_file, **columns)
    groups = _by(mapping, by)
    mapping = Mapping(
        **{**_fields(mapping), "class_cols": tuple(dict.fromkeys((*mapping.class_cols, *groups)))}
    )
    if not mapping.date_col:
        raise click.UsageError("a backtest needs --date-col (the date known at estimate time)")
    if (split is None) == (rolling is None):
        raise click.UsageError("give either --split DATE or --rolling MONTHS")
    data = _history(history, mapping)
    origins = (
        [split.date()] if split is not None else rolling_origins(data.tasks, months=rolling or 12)
    )
    try:
        result = backtest(
            data.tasks, groups, origins, rolling=rolling is not None, levels=quantiles or LEVELS
        )
    except (PmosimError, ValueError) as e:  # named with the file, as calibrate does
        raise PmosimError(f"{history}: {e}") from e
    if out is not None:
        publish_file(out, force, lambda tmp: write_csv(result.forecasts, tmp))
        from .charts import backtest_chart, write_png

        png = backtest_chart(
            result.forecasts, f"{history.name} · origins {result.origins[0]}..{result.origins[-1]}"
        )
        publish_file(out.with_suffix(".png"), True, lambda tmp: write_png(tmp, png))
    labels = [str(o) for o in result.origins]
    shown = ", ".join(labels) if len(labels) <= 3 else f"{labels[0]} ... {labels[-1]}"
    click.echo(
        f"Origins: {shown} ({len(labels)}); {len(result.forecasts):,} forecasts.\n"
        "cov80/cov50: share inside P10-P90 / P25-P75 (ideal 0.80 / 0.50);\n"
        "tie80/tie50: the same, an actual on a point mass at an end counted by the share\n"
        "  of that mass inside the levels (randomized PIT; equal to cov without ties);\n"
        "hit50: share at or below P50 (0.50, more with heaping);\n"
        "pinball, crps: in days, lower is better.\n"
    )
    click.echo(_table(_short(result.overall)))
    if groups:
        click.echo("")
        click.echo(_table(_short(result.per_class)))
    if out is not None:
        click.echo(f"\nForecasts written to {out}; calibration curve {out.with_suffix('.png')}")
