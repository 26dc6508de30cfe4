"""Fonts for the charts: matplotlib's own (DejaVu Sans) and, for the characters it lacks
(Chinese, Japanese or Korean ids and names), installed fonts that have them.

The candidates, in order: the system's CJK fonts that matplotlib knows (Noto Sans CJK,
Source Han Sans, WenQuanYi, Droid Sans Fallback, Nanum, ...), then IPAexGothic, shipped by
the ``matplotlib-fontja`` dependency (kanji and kana; IPA Font License), registered with
matplotlib without changing its settings. matplotlib falls back glyph by glyph along the
font family list. Characters that no font has are said once (:func:`unshown_characters`)
instead of matplotlib's warning per glyph and chart.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterable
from pathlib import Path

from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from ..model import Portfolio

__all__ = ["chart_families", "portfolio_texts", "unshown_characters"]

_SYSTEM = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK KR",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "NanumGothic",
    "IPAGothic",
    "TakaoGothic",
)
_BUNDLED = "IPAexGothic"


def _codes(path: str) -> frozenset[int]:
    return frozenset(FT2Font(path).get_charmap())


@functools.cache
def _default() -> frozenset[int]:
    """The characters of the font matplotlib draws text with."""
    return _codes(font_manager.findfont(font_manager.FontProperties(family=["sans-serif"])))


@functools.cache
def _fallbacks() -> tuple[tuple[str, frozenset[int]], ...]:
    """``(family, characters)`` of every CJK font found, in order of preference."""
    found = {f.name: f.fname for f in font_manager.fontManager.ttflist if f.name in _SYSTEM}
    out = [(name, _codes(found[name])) for name in _SYSTEM if name in found]
    spec = importlib.util.find_spec("matplotlib_fontja")  # found, not imported: no rc change
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / "ipaexg.ttf"
        if path.is_file():
            font_manager.fontManager.addfont(str(path))
            out.append((_BUNDLED, _codes(str(path))))
    return tuple(out)


def _split(texts: Iterable[str]) -> tuple[list[str], set[str]]:
    """The fallback families ``texts`` need, and the characters none of them has."""
    default = _default()
    missing = {c for text in texts for c in text if ord(c) not in default and c.isprintable()}
    families = []
    for name, codes in _fallbacks() if missing else ():
        if any(ord(c) in codes for c in missing):
            families.append(name)
            missing = {c for c in missing if ord(c) not in codes}
    return families, missing


def chart_families(texts: Iterable[str]) -> list[str] | None:
    """The ``font.family`` list that draws ``texts`` (None: matplotlib's default does)."""
    families, _ = _split(texts)
    return ["sans-serif", *families] if families else None


def unshown_characters(texts: Iterable[str]) -> str:
    """The characters of ``texts`` that no installed font can draw, in order, once each."""
    _, missing = _split(texts)
    return "".join(sorted(missing))


def portfolio_texts(pf: Portfolio) -> list[str]:
    """Every text of the scenario that a chart may draw."""
    return [
        pf.name,
        pf.currency,
        *(x for p in pf.projects for x in (p.id, p.name)),
        *(x for t in pf.tasks for x in (t.key, t.name)),
        *(p.id for p in pf.pools),
        *(r.id for r in pf.risks),
        *(v.name for v in pf.variants),
    ]
