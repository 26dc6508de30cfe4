"""Output: results as tables (pandas), terminal text, charts (matplotlib), HTML reports
(jinja2) and files written atomically. The only part of pmosim that imports pandas,
matplotlib or jinja2; charts and reports are imported on first use (``output.charts``,
``output.report``), so a run without a report never loads matplotlib."""

from __future__ import annotations

from .drawing import second_process
from .files import (
    check_replaceable,
    json_ready,
    publish,
    publish_file,
    write_csv,
    write_json,
    write_run,
)
from .frames import (
    capacity_frame,
    comparison_frame,
    drivers_frame,
    milestones_frame,
    projects_frame,
    schedule_frame,
    trace_frame,
)
from .numbers import diff_cell, number, prob_text
from .progress import Progress, progress
from .tables import PANELS, base_cell, checks_text, decision_table, summary_text, top_drivers

__all__ = [
    "PANELS",
    "Progress",
    "base_cell",
    "capacity_frame",
    "check_replaceable",
    "checks_text",
    "comparison_frame",
    "decision_table",
    "diff_cell",
    "drivers_frame",
    "json_ready",
    "milestones_frame",
    "number",
    "prob_text",
    "progress",
    "projects_frame",
    "publish",
    "publish_file",
    "schedule_frame",
    "second_process",
    "summary_text",
    "top_drivers",
    "trace_frame",
    "write_csv",
    "write_json",
    "write_run",
]
