"""The report of a 200-project portfolio stays legible and small, and --drivers-top limits
the printed drivers and the drivers chart; every expectation is computed here again from
the CSV files the run wrote."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from benchmarks.synthetic import write_synthetic
from click.testing import CliRunner
from test_report import EXAMPLE, check_html

from simulator.cli import cli
from simulator.output import charts

PANELS = 12  # the report's detail panels: every project up to 12, else the 12 most at risk


class _Report(HTMLParser):
    """The panel list, the table's rows and the images' titles, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.panels: list[str] = []
        self.rows: list[str] = []
        self.images: list[str] = []
        self.headings: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "li" and "data-project" in found:
            self.panels.append(str(found["data-project"]))
        if tag == "tr" and "data-project" in found:
            self.rows.append(str(found["data-project"]))
        if tag == "img":
            self.images.append(str(found["alt"]))
        self._in = tag

    def handle_data(self, data: str) -> None:
        if self._in == "h2":
            self.headings.append(data)
        self._in = None


def _parse(out: Path) -> _Report:
    parsed = _Report()
    parsed.feed((out / "report.html").read_text(encoding="utf-8"))
    return parsed


def _most_at_risk(projects: pd.DataFrame) -> list[str]:
    """Projects by P(on time), lowest first; ties: the P80 finish furthest past the
    deadline; then file order (projects.csv's order); projects without a deadline last."""
    frame = projects.assign(
        none=projects["p_on_time"].isna(),
        late=projects["finish_p80_day"] - projects["deadline_day"],
        order=range(len(projects)),
    )
    frame = frame.assign(late=-frame["late"].fillna(0))
    ranked = frame.sort_values(["none", "p_on_time", "late", "order"])
    return ranked["project"].tolist()


def _top_tasks(drivers: pd.DataFrame, project: str, k: int) -> list[str]:
    """A project's k most critical tasks (ties by name, as drivers.csv orders them)."""
    tasks = drivers[(drivers["project"] == project) & (drivers["kind"] == "task")]
    ranked = tasks.assign(minus=-tasks["criticality"]).sort_values(["minus", "driver"])
    return ranked["driver"].head(k).tolist()


def _printed_summary(output: str) -> list[str]:
    """The projects of the printed summary table, in printed order."""
    table = output.split("P80 finish", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in table.splitlines()[1:] if line.strip()]


def _printed_drivers(output: str) -> dict[str, list[str]]:
    """The printed top drivers: per project, its tasks (risks left out)."""
    block = output.split("Top drivers", 1)[1].split("\nResults written", 1)[0]
    entries: list[str] = []
    for line in block.splitlines():
        if re.match(r"^  \S", line) and not line.startswith("  ... "):
            entries.append(line.strip())
        elif line.startswith("      ") and entries:
            entries[-1] += " " + line.strip()
    printed = {}
    for entry in entries:
        pid, rest = entry.split(": ", 1)
        items = [item for item in rest.split(", ") if not item.startswith("risk ")]
        printed[pid] = [item.rsplit(" ", 1)[0] for item in items]
    return printed


@pytest.fixture
def charted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    """What the drivers chart draws: each panel's title and its tasks, as drawn."""
    drawn: list[tuple[str, list[str]]] = []
    original = charts.plot_criticality

    def record(part: pd.DataFrame, title: str, *, ax: Any = None) -> Any:
        drawn.append((title, [str(d) for d in part["driver"]]))
        return original(part, title, ax=ax)

    monkeypatch.setattr(charts, "plot_criticality", record)
    return drawn


def _run(scenario: Path, out: Path, *extra: str) -> str:
    result = CliRunner().invoke(
        cli, ["run", str(scenario), "-n", "200", "--seed", "5", "--out", str(out), *extra]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_report_of_200_projects(tmp_path: Path, charted: list[tuple[str, list[str]]]) -> None:
    scenario = write_synthetic(tmp_path / "big.yaml", projects=200, tasks=2_000, pools=20, risks=5)
    out = tmp_path / "out"
    output = _run(scenario, out, "--drivers-top", "4")
    assert (out / "report.html").stat().st_size < 5_000_000
    check_html(out)
    report = _parse(out)
    projects = pd.read_csv(out / "projects.csv")
    ranking = _most_at_risk(projects)
    # the portfolio's charts open the report, before any project's panel
    assert report.images[:2] == [
        "Portfolio: P(on time)",
        "Capacity: utilisation, shortfall and demand",
    ]
    assert report.headings.index("Portfolio") < report.headings.index(
        f"The {PANELS} projects most at risk"
    )
    assert report.panels == ranking[:PANELS]
    assert report.rows == ranking  # every project, most at risk first
    assert len(set(report.rows)) == 200
    # the drivers chart and the printed drivers: the 12 most at risk, 4 tasks each
    drivers = pd.read_csv(out / "drivers.csv")
    assert [title for title, _ in charted] == ranking[:PANELS]  # names are the ids here
    for pid, tasks in charted:
        assert tasks == _top_tasks(drivers, pid, 4)
    printed = _printed_drivers(output)
    assert list(printed) == ranking[:PANELS]
    for pid, tasks in printed.items():
        assert tasks == _top_tasks(drivers, pid, 4)
    assert f"... {200 - PANELS} more projects in drivers.csv" in output
    # the printed summary: the 12 most at risk, said so
    assert f"The {PANELS} projects most at risk of 200" in output
    assert _printed_summary(output) == ranking[:PANELS]
    # summary.json: per project and per pool, never per (project, task)
    summary = (out / "summary.json").read_text(encoding="utf-8")
    assert not re.search(r"p\d+\.t\d+", summary)
    assert len(json.loads(summary)["projects"]) == 200


def test_the_example_keeps_every_project_in_file_order_with_3_printed_8_charted(
    tmp_path: Path, charted: list[tuple[str, list[str]]]
) -> None:
    out = tmp_path / "out"
    output = _run(EXAMPLE, out, "--no-risk-drivers")
    projects = pd.read_csv(out / "projects.csv")
    report = _parse(out)
    assert report.panels == projects["project"].tolist()
    assert report.rows == _most_at_risk(projects)
    drivers = pd.read_csv(out / "drivers.csv")
    ids = dict(zip(projects["name"], projects["project"], strict=True))
    assert [ids[title] for title, _ in charted] == projects["project"].tolist()
    for title, tasks in charted:
        assert tasks == _top_tasks(drivers, ids[title], 8)
    printed = _printed_drivers(output)
    assert list(printed) == projects["project"].tolist()
    for pid, tasks in printed.items():
        assert tasks == _top_tasks(drivers, pid, 3)
    assert "more projects in drivers.csv" not in output
    assert _printed_summary(output) == projects["project"].tolist()
    assert "most at risk of" not in output
