"""The one way pmosim writes numbers and estimates for people: tables, reports, charts."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["all_on_time", "diff_cell", "number", "prob_text"]


def all_on_time(n: int) -> str:
    """The name of the portfolio's P(all on time) over ``n`` projects with a deadline."""
    return f"P(all {n} on time)" if n != 1 else "P(its 1 project with a deadline on time)"


def number(x: float | None, *, sign: bool = False, digits: int = 3) -> str:
    """``digits`` significant digits; thousands, millions and billions as k, M and G; 340
    stays 340 (never 3.4e+02); None is ``-``."""
    if x is None:
        return "-"
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= limit:
            text = f"{x / limit:.{digits}g}{suffix}"
            return f"+{text}" if sign and x >= 0 else text
    if abs(x) >= 10**digits / 10:
        return f"{x:+.0f}" if sign else f"{x:.0f}"
    return f"{x:+.{digits}g}" if sign else f"{x:.{digits}g}"


def prob_text(p: Any, *, sep: str = "±") -> str:
    """A probability estimate with its standard error (``0.612±0.015``); None is ``-``."""
    return "-" if p is None else f"{p.estimate:.3f}{sep}{p.se:.3f}"


def diff_cell(d: Any, scale: float = 1.0) -> str:
    """A paired difference ``+0.12±0.01*`` (``*``: significant at 5 %); ``-`` when it does
    not exist (a cancelled project)."""
    if d is None or math.isnan(d.diff):
        return "-"
    mark = "*" if d.significant else " "
    return f"{number(d.diff * scale, sign=True)}±{number(d.se * scale, digits=2)}{mark}"
