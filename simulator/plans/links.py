"""The cell grammars of task lists: durations (``5d``, ``3 days``, ``16h``, ``2 wks``) and
predecessor lists (``12FS+2d;14SS``, ``3,4``, ``7FF-1d``, ``PROJ-12SS+50%``).

A predecessor list is split on ``;`` (or on ``,`` when it has no ``;``). Each item is a task
id, then optionally a link type (FS, SS, FF, SF; default FS) and a lag or lead with its
unit (``+2d``, ``-1 day``, ``+4h``, ``+1w``; a bare number is days; ``+50%`` is a share of
the predecessor's duration). Ids may themselves contain dashes (Jira keys). Elapsed units
(``2ed``) are refused: pmosim's lags are in working time.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

__all__ = ["LinkRef", "parse_links", "parse_span"]

_UNITS = {
    **dict.fromkeys(("d", "day", "days", "dy", "dys"), "days"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hours"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "weeks"),
    **dict.fromkeys(("mo", "mon", "mons", "month", "months"), "months"),
}
_SPAN = re.compile(r"([+-]?\s*\d+(?:[.,]\d+)?)\s*([a-z]*)\s*\??", re.IGNORECASE)
_ITEM = re.compile(r"(?P<id>.+?)(?:(?P<type>FS|SS|FF|SF)(?P<lag>\s*[+-].*)?)?", re.IGNORECASE)
_LAGGED = re.compile(r"(?P<id>.+?)\s*[+-]\s*\d.*")


def parse_span(text: str, *, unit: str = "days", hours_per_day: float = 8.0) -> float:
    """Working days written in ``text`` (``unit`` for a bare number).

    Raises:
        ValueError: with a message saying what is allowed.
    """
    m = _SPAN.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"'{text.strip()}' is not a duration; write e.g. 5d, 3 days, 16h, 2w")
    word = m.group(2).lower()
    if word.startswith("e") and word[1:] in _UNITS:
        raise ValueError(f"'{text.strip()}' is elapsed time; write working time (d, h, w) instead")
    if word and word not in _UNITS:
        raise ValueError(
            f"'{text.strip()}': unknown unit '{m.group(2)}'; use d (days), h (hours), "
            "m (minutes), w (weeks of 5 days) or mo (months of 20 days)"
        )
    value = float(m.group(1).replace(" ", "").replace(",", "."))
    per_day = {"days": 1.0, "hours": hours_per_day, "minutes": 60 * hours_per_day}
    per_day |= {"weeks": 0.2, "months": 0.05, "seconds": 3600 * hours_per_day}
    return value / per_day[_UNITS.get(word, unit)]


@dataclass(frozen=True)
class LinkRef:
    """One predecessor as written.

    Attributes:
        ref: the predecessor's id.
        type: FS, SS, FF or SF.
        lag: working days (negative: a lead); ``None`` with ``percent``.
        percent: the lag as a percentage of the predecessor's duration, else ``None``.
        text: the item as written.
    """

    ref: str
    type: str = "FS"
    lag: float | None = None
    percent: float | None = None
    text: str = ""


def parse_links(text: str, known: Collection[str], *, hours_per_day: float = 8.0) -> list[LinkRef]:
    """The predecessors written in ``text``; ``known`` ids are taken whole even when they end
    like a link type.

    Raises:
        ValueError: a malformed item, with a message naming it and the forms allowed.
    """
    parts = text.split(";") if ";" in text else text.split(",")
    return [_item(p.strip(), known, hours_per_day) for p in parts if p.strip()]


def _item(item: str, known: Collection[str], hours_per_day: float) -> LinkRef:
    if item in known:
        return LinkRef(item, text=item)
    m = _ITEM.fullmatch(item)
    assert m is not None  # the id part matches anything
    ref, kind, lag = m.group("id").strip(), (m.group("type") or "FS").upper(), m.group("lag")
    if m.group("type") is None and (bare := _LAGGED.fullmatch(item)) and bare["id"] in known:
        raise ValueError(f"'{item}': a lag needs a link type, e.g. {bare['id']}FS+2d")
    if not lag:
        return LinkRef(ref, kind, text=item)
    lag = lag.replace(" ", "")
    if lag.endswith("%"):
        try:
            return LinkRef(ref, kind, None, float(lag[:-1]), item)
        except ValueError:
            raise ValueError(f"'{item}': lag '{lag}' is not a percentage like +50%") from None
    try:
        return LinkRef(ref, kind, parse_span(lag, hours_per_day=hours_per_day), None, item)
    except ValueError as e:
        raise ValueError(f"'{item}': lag {e}") from None
