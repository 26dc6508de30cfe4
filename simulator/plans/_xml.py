"""XML plan files read safely: ``defusedxml`` behind the standard library's ElementTree (no
entities, no external references), every failure one located problem."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml.ElementTree as safe
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
        return safe.parse(str(path)).getroot()
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


def local(tag: str) -> str:
    """An element's tag without its namespace."""
    return tag.rpartition("}")[2]
