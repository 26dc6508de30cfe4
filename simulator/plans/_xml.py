"""XML plan files read safely: ``defusedxml`` behind the standard library's ElementTree (no
entities, no external references), every failure one located problem."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml.ElementTree as safe
import numpy as np
from defusedxml import DefusedXmlException

from ..errors import Problem, ScenarioError

#: the root element of each XML plan format (namespaces aside)
MSPDI_ROOT, PMXML_ROOT = "Project", "APIBusinessObjects"


def parse_xml(path: Path, name: str) -> ET.Element:
    """The file's root element, read safely (no entities, no external references)."""
    try:
        size = path.stat().st_size
        if size > 200_000_000:
            raise ScenarioError([Problem(name, 0, 0, "", f"{size:,} bytes: too large a plan")])
        raw = path.read_bytes()
        _no_huge_text(raw, name)
        return safe.fromstring(raw)
    except OSError as e:
        raise ScenarioError([Problem(name, 0, 0, "", f"cannot read it: {e.strerror}")]) from None
    except DefusedXmlException as e:
        raise ScenarioError(
            [Problem(name, 0, 0, "", f"refused: {type(e).__name__} (entities are not allowed)")]
        ) from None
    except ET.ParseError as e:
        line, col = e.position
        raise ScenarioError(
            [Problem(name, line, col + 1, "", f"not well-formed XML: {e.msg}")]
        ) from None


_LONGEST = 10_000_000  # bytes between two tags: far beyond any real plan's text


def _no_huge_text(raw: bytes, name: str) -> None:
    """Refuse a text or attribute value of over ``_LONGEST`` characters (a markup ``<`` never
    occurs inside either), found in one vectorised pass before the parser sees the file."""
    opens = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == ord("<"))
    bounds = np.concatenate(([-1], opens, [len(raw)]))
    gaps = np.diff(bounds)
    k = int(np.argmax(gaps)) if len(gaps) else 0
    if len(gaps) and gaps[k] > _LONGEST:
        start = int(bounds[k]) + 1
        line = raw.count(b"\n", 0, start) + 1
        col = start - (raw.rfind(b"\n", 0, start) + 1) + 1
        message = f"a text or attribute of over {_LONGEST:,} bytes: not a plan"
        raise ScenarioError([Problem(name, line, col, "", message)])


def local(tag: str) -> str:
    """An element's tag without its namespace."""
    return tag.rpartition("}")[2]
