"""Charts of a calibration (fitted against empirical ratios per class) and of a backtest
(a calibration curve: forecast quantile level against the share of actuals below it)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from .reference import ClassModels

__all__ = ["backtest_chart", "calibration_chart"]


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def calibration_chart(models: ClassModels, tasks: pd.DataFrame, source: str) -> bytes:
    """Per class (and overall): the empirical CDF of actual/estimate against the model's
    CDF averaged over the class's own estimates."""
    groups: list[tuple[str, pd.DataFrame, Any]] = [("(all)", tasks, models.overall)]
    if models.by:
        for key, model in sorted(models.classes.items()):
            mask = np.ones(len(tasks), dtype=bool)
            for col, value in zip(models.by, key, strict=True):
                mask &= tasks[col].astype(str).to_numpy() == value
            groups.append((" / ".join(key), tasks[mask], model))
    groups = groups[:12]
    cols = min(len(groups), 3)
    rows = -(-len(groups) // cols)
    with mpl.rc_context({"text.parse_math": False, "font.size": 8}):
        fig, axes = plt.subplots(
            rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False, sharey=True
        )
        x = np.geomspace(0.02, 50, 300)
        for k, (name, part, model) in enumerate(groups):
            ax = axes[k // cols][k % cols]
            r = np.sort((part["actual"] / part["estimate"]).to_numpy())
            if r.size:
                ax.step(r, np.arange(1, r.size + 1) / r.size, where="post", label="history")
                est = part["estimate"].to_numpy()
                est = est[:: max(1, est.size // 300)]
                ax.plot(
                    x,
                    [float(np.mean(model.cdf(v, est))) for v in x],
                    label=f"model ({model.family})",
                )
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(mticker.NullFormatter())
            ax.set_title(f"{name} (n={len(part):,})", fontsize=9)
            ax.set_xlabel("actual / estimate")
            ax.set_ylabel("P(ratio <= x)")
            ax.legend(fontsize=7, loc="upper left")
        for k in range(len(groups), rows * cols):
            axes[k // cols][k % cols].axis("off")
        fig.suptitle(f"Fitted against empirical ratios\n{source}", fontsize=10)
        return _png(fig)


def backtest_chart(forecasts: pd.DataFrame, source: str) -> bytes:
    """For each forecast quantile level, the share of actuals strictly below the forecast
    and the share at or below it, with ±2 binomial standard errors. With heaped actuals
    (exactly the estimate) the two differ; honest ranges put the level between them."""
    n = len(forecasts)
    names = [c for c in forecasts.columns if c.startswith("p") and c[1:].replace(".", "").isdigit()]
    levels = np.array([float(c[1:]) / 100 for c in names])
    actual = forecasts["actual"].to_numpy()
    cols = [forecasts[c].to_numpy() for c in names]
    below = np.array([np.mean(actual < c) for c in cols])
    at_most = np.array([np.mean(actual <= c) for c in cols])
    se = np.sqrt(levels * (1 - levels) / max(n, 1))
    with mpl.rc_context({"text.parse_math": False, "font.size": 9}):
        fig, ax = plt.subplots(figsize=(5.2, 4.6))
        ax.plot([0, 1], [0, 1], color="0.6", ls="--", label="honest")
        ax.vlines(
            levels,
            below - 2 * se,
            at_most + 2 * se,
            color="C0",
            alpha=0.3,
            lw=6,
            label="between the two, ±2 s.e.",
        )
        ax.plot(levels, at_most, "o-", color="C0", label="actual at or below")
        ax.plot(levels, below, "v--", color="C0", label="actual strictly below")
        ax.set_xlabel("forecast quantile level")
        ax.set_ylabel("share of actuals")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7, loc="upper left")
        ax.set_title(f"Backtest calibration curve ({n:,} forecasts)\n{source}", fontsize=9)
        return _png(fig)


def write_png(path: Path, png: bytes) -> None:
    path.write_bytes(png)
