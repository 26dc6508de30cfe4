"""Binary MS Project files through MPXJ (the optional extra ``mpp``, with a Java runtime):
the dates MS Project stored in the public ``.mpp`` files are reproduced, the ``.mpp`` and
the MS Project XML that MS Project saved of the same plan read the same, and whatever is not
an ``.mpp`` is refused in one located line, without Java ever seeing it."""

from __future__ import annotations

import importlib.util
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_plans import PLANS, matches, needs_plans

import simulator.plans.mpp as mpp
from simulator.cli import cli
from simulator.errors import ScenarioError
from simulator.plans import read_plan
from simulator.scenario import load_scenario

needs_mpxj = pytest.mark.skipif(
    importlib.util.find_spec("mpxj") is None or shutil.which("java") is None,
    reason="needs the 'mpp' extra (pip install 'pmosim[mpp]') and a Java runtime",
)


@needs_plans
@needs_mpxj
@pytest.mark.parametrize(
    ("name", "least"),
    [
        ("task-links-project2019-mpp14.mpp", 16),  # every link type, lags in days and weeks
        ("aspose_SampleProject.mpp", 5),
        # manually scheduled tasks placed against their links and before the project start
        # (the file shows schedule conflicts): 3 of 10 agree
        ("aspose_schedule-conflict.mpp", 3),
    ],
)
def test_check_reproduces_the_dates_ms_project_stored_in_mpp_files(name: str, least: int) -> None:
    hits, stored = matches(PLANS / name)
    assert hits >= least, f"{hits}/{stored}"


@needs_plans
@needs_mpxj
def test_an_mpp_reads_as_the_xml_ms_project_saved_of_the_same_plan() -> None:
    """The two files of mpxj's task-links test, saved by MS Project 2019 as .mpp and as
    XML: the same tasks, durations, links and lags (only the project's id, from the file
    name, differs)."""
    binary = read_plan(PLANS / "task-links-project2019-mpp14.mpp").data
    xml = read_plan(PLANS / "task-links-project2019-mspdi.xml").data
    assert binary["projects"][0]["tasks"] == xml["projects"][0]["tasks"]
    assert {k: binary["calendars"][k] for k in xml["calendars"]} == xml["calendars"]
    assert binary["start"] == xml["start"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not an OLE compound document: not an MS Project .mpp file"),
        (b"\x00\xff" * 500, "not an OLE compound document"),
        (None, "a zip archive: not an MS Project .mpp file"),
    ],
)
def test_what_is_not_an_mpp_is_refused_before_java(
    tmp_path: Path, content: bytes | None, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plan.mpp"
    if content is None:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("word/document.xml", "<w/>")
    else:
        path.write_bytes(content)
    monkeypatch.setattr(mpp, "_convert", lambda *a: pytest.fail("handed to Java"))
    with pytest.raises(ScenarioError, match=message) as info:
        load_scenario(path)
    assert len(info.value.problems) == 1


@needs_mpxj
def test_an_ole_file_mpxj_cannot_read_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "damaged.mpp"
    path.write_bytes(mpp._OLE + b"\x00" * 4000)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(path), "-n", "10", "--out", str(out)])
    assert result.exit_code != 0
    (line,) = [ln for ln in result.output.splitlines() if "MPXJ" in ln]
    assert "damaged.mpp: MPXJ could not read it as an MS Project file: " in line
    assert "Unsupported file type" in line
    assert "Traceback" not in result.output
    assert not out.exists()


def test_without_the_extra_the_message_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plan.mpp"
    path.write_bytes(mpp._OLE + b"\x00" * 100)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "mpxj" else real(n, *a)
    )
    with pytest.raises(ScenarioError, match=r"plan.mpp: .*optional extra 'mpp': pip install"):
        read_plan(path)
