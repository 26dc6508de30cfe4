"""Scenario files into the model: safe YAML with positions, the typed schema, located
problems, and the builders that turn a validated file into a :class:`Portfolio`."""

from __future__ import annotations

from .calibration_file import CALIBRATION_FORMAT, Calibration, load_calibration
from .load import load_plan, load_scenario
from .yamlfile import Located, display_path, load_yaml, scenario_text

__all__ = [
    "CALIBRATION_FORMAT",
    "Calibration",
    "Located",
    "display_path",
    "load_calibration",
    "load_plan",
    "load_scenario",
    "load_yaml",
    "scenario_text",
]
