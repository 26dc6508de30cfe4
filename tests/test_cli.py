"""The ``pmosim`` command line, in-process (CliRunner, or ``main()`` for the exit-code contract)
and once through ``python -m simulator``. Every file lives under ``tmp_path``."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from simulator.cli import cli, main

CONFORMANCE = (Path(__file__).parent / "data" / "conformance.yaml").read_text()
EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "portfolio-2027.yaml"

# No seed and no iterations: the CLI must draw and print a seed.
PORTFOLIO = """\
scenario: Portfolio 2027
start: 2027-01-04
currency: EUR
calendar: {workweek: Mon-Fri, holidays: [2027-04-02]}
resources:
  backend: {capacity: 3, cost_per_day: 800}
  qa: {capacity: 1, cost_per_day: 600, changes: [{at: 2027-03-01, capacity: 2}]}
projects:
  - id: customer-relationship-management
    priority: 1
    deadline: 2027-03-31
    budget: 60000
    tasks:
      - {id: design, duration: {pert: {low: 5, mode: 8, high: 15}}, resources: {backend: 2}}
      - {id: build, duration: {triangular: {low: 10, mode: 15, high: 30}},
         resources: {backend: 3}, after: [design]}
      - {id: test, duration: {uniform: {low: 3, high: 8}}, resources: {qa: 1}, after: [build]}
  - id: erp
    priority: 2
    deadline: 2027-05-31
    tasks:
      - {id: spec, duration: {normal: {mean: 10, sd: 2}}, resources: {backend: 2}}
      - {id: code, duration: {empirical: [5, 8, 13]}, resources: {backend: 2}, after: [spec]}
      - {id: check, duration: 4, resources: {qa: 1}, after: [code]}
risks:
  - id: vendor-late
    probability: 0.3
    affects: [customer-relationship-management.build]
    delay: {triangular: {low: 2, mode: 5, high: 10}}
    cost: {uniform: {low: 1000, high: 3000}}
"""

# Three problems: one per line 2, 6 and 7.
BAD = """\
resources:
  R1: {capacity: two}
projects:
  - id: p
    tasks:
      - {id: a, duration: -1}
      - {id: b, duration: 1, colour: red}
"""
BAD_LINES = [
    r"bad\.yaml:2:18: resources\.R1\.capacity: .+",
    r"bad\.yaml:6:27: projects\[p\]\.tasks\[a\]\.duration: .+",
    r"bad\.yaml:7:30: projects\[p\]\.tasks\[b\]\.colour: unknown key 'colour'.*",
]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str | Path) -> Result:
    """The click group in-process; stdout and stderr kept apart."""
    return CliRunner().invoke(cli, [str(a) for a in args])


def entry(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str | Path
) -> tuple[int, str, str]:
    """The console entry point ``simulator.cli:main`` in-process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["pmosim", *(str(a) for a in args)])
    try:
        main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    else:
        code = 0
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


# --- validate ---------------------------------------------------------------------------------


def test_validate_good_file_prints_ok(tmp_path: Path) -> None:
    path = write(tmp_path, "good.yaml", CONFORMANCE)
    result = invoke("validate", path)
    assert result.exit_code == 0, result.output
    assert "OK" in result.stdout
    assert str(path) in result.stdout
    assert result.stderr == ""


def test_validate_good_file_exits_0_through_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "good.yaml", PORTFOLIO)
    code, out, err = entry(monkeypatch, capsys, "validate", path)
    assert code == 0
    assert "OK" in out
    assert err == ""


def test_validate_bad_file_lists_every_problem_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path, "bad.yaml", BAD)
    monkeypatch.chdir(tmp_path)
    code, out, err = entry(monkeypatch, capsys, "validate", "bad.yaml")
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    for pattern in BAD_LINES:
        assert any(re.fullmatch(pattern, line) for line in lines), f"{pattern!r} not in:\n{err}"
    assert "3 problems" in lines[-1]
    assert "Traceback" not in err


def test_validate_bad_file_in_process_runner(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", BAD)
    result = invoke("validate", path)
    assert result.exit_code != 0
    assert result.stdout == ""
    assert len([line for line in result.stderr.splitlines() if line.startswith(f"{path}:")]) == 3
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash


def test_python_dash_m_simulator_reports_problems_with_exit_2(tmp_path: Path) -> None:
    write(tmp_path, "bad.yaml", BAD)
    proc = subprocess.run(
        [sys.executable, "-m", "simulator", "validate", "bad.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    for pattern in BAD_LINES:
        assert any(re.fullmatch(pattern, line) for line in lines), proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_successful_run_delivers_all_its_output_through_a_pipe(tmp_path: Path) -> None:
    """What the entry point printed reaches the reader whole, and the exit status is 0."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator",
            "run",
            str(EXAMPLE),
            "-n",
            "100",
            "--seed",
            "3",
            "--no-report",
            "--no-risk-drivers",
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith(f"Results written to {tmp_path / 'o'}/")
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        ".pmosim",
        "capacity.csv",
        "drivers.csv",
        "projects.csv",
        "summary.json",
    ]
    help_ = subprocess.run(
        [sys.executable, "-m", "simulator", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert help_.returncode == 0
    assert "Usage: python -m simulator" in help_.stdout


def test_starting_the_cli_leaves_the_slow_libraries_to_the_commands_that_use_them() -> None:
    """scipy.stats and matplotlib take about half a second each to import: loading the CLI
    (all ``pmosim --help`` does) does not pay for them; the commands that use them import
    them."""
    code = (
        "import sys, simulator.cli.commands; "
        "print(sorted(m for m in ('scipy.stats', 'matplotlib') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert proc.stdout.strip() == "[]"


# Ctrl-C while the command line's modules load: the import of simulator.cli.commands raises
# KeyboardInterrupt, as the default SIGINT handler would at that moment
_INTERRUPTED_IMPORT = """
import sys
from importlib.abc import MetaPathFinder
from simulator.cli import main

class CtrlC(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "simulator.cli.commands":
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, CtrlC())
light = sorted({m.split(".")[0] for m in sys.modules} & {"numpy", "pandas", "numba", "click"})
print(light)
sys.argv = ["pmosim", "--help"]
main()
"""


def test_ctrl_c_while_the_command_line_loads_exits_130_without_a_traceback() -> None:
    """The console entry point (``simulator.cli:main``) loads nothing heavy before its own
    error handling starts, so Ctrl-C in the second or so that numpy, pandas and numba take
    to load says ``Interrupted.`` and exits with 130, as it does during a command."""
    proc = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_IMPORT], capture_output=True, text=True, timeout=120
    )
    assert proc.stdout.strip() == "[]"  # nothing heavy loaded with the entry point
    assert proc.returncode == 130
    assert proc.stderr.strip() == "Interrupted."


@pytest.mark.parametrize("command", ["validate", "run"])
def test_missing_file_is_a_clean_error(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = entry(monkeypatch, capsys, command, "absent.yaml")
    assert code == 2
    assert "absent.yaml" in err
    assert "does not exist" in err
    assert "Traceback" not in err + out
    assert list(tmp_path.iterdir()) == []


# --- run --------------------------------------------------------------------------------------


def test_run_writes_summary_and_tables(tmp_path: Path) -> None:
    path = write(tmp_path, "portfolio.yaml", PORTFOLIO)
    out = tmp_path / "out"
    result = invoke("run", path, "-n", "400", "--seed", "123", "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir() if p.suffix != ".png") == [
        ".pmosim",
        "capacity.csv",
        "drivers.csv",
        "projects.csv",
        "report.html",
        "summary.json",
    ]
    assert len(list(out.glob("*.png"))) >= 7
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for key in (
        "scenario",
        "scenario_sha256",
        "seed",
        "iterations",
        "versions",
        "projects",
        "capacity",
    ):
        assert key in summary
    assert summary["scenario"] == "Portfolio 2027"
    assert summary["scenario_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert summary["seed"] == 123
    assert summary["iterations"] == 400
    assert {"python", "numpy", "pmosim"} <= set(summary["versions"])
    assert [p["id"] for p in summary["projects"]] == ["customer-relationship-management", "erp"]
    for project in summary["projects"]:
        assert 0 <= project["p_on_time"]["estimate"] <= 1
        assert project["p_on_time"]["se"] >= 0
        finish = {q["q"]: q["value"] for q in project["finish"]}
        assert finish[50] <= finish[80] <= finish[90]
        cost = {q["q"]: q["value"] for q in project["cost"]}
        assert 0 < cost[50] <= cost[90]
    assert {row["pool"] for row in summary["capacity"]} == {"backend", "qa"}

    header, rows = read_csv(out / "projects.csv")
    assert header[0] == "project"
    assert [r["project"] for r in rows] == ["customer-relationship-management", "erp"]
    assert "p_on_time" in header
    header, rows = read_csv(out / "capacity.csv")
    assert header[:2] == ["pool", "period"]
    assert {r["pool"] for r in rows} == {"backend", "qa"}
    assert f"Results written to {out}" in result.stdout


def test_conformance_example_runs_with_trace(tmp_path: Path) -> None:
    path = write(tmp_path, "example.yaml", CONFORMANCE)
    out = tmp_path / "out"
    result = invoke("run", path, "-n", "200", "--seed", "1", "--out", out, "--trace", "3")
    assert result.exit_code == 0, result.output
    text = (out / "trace.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "iteration,project,task,start,finish"
    _, rows = read_csv(out / "trace.csv")
    assert len(rows) == 3 * 3
    assert sorted((r["iteration"], r["task"]) for r in rows) == sorted(
        (str(i), t) for i in range(3) for t in ("t2", "t3", "t4")
    )
    for r in rows:
        assert r["project"] == "p"
        start, finish = float(r["start"]), float(r["finish"])
        if r["task"] == "t2":  # fixed 8 days, nothing before it
            assert (start, finish) == (0.0, 8.0)
        else:  # 4 + 2 units of 12 always fit: both start when t2 ends
            assert start == 8.0
            assert finish >= start
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    finish = {q["q"]: q["value"] for q in summary["projects"][0]["finish"]}
    assert 9.0 <= finish[10] <= finish[90]


def test_no_trace_file_unless_asked(tmp_path: Path) -> None:
    path = write(tmp_path, "example.yaml", CONFORMANCE)
    result = invoke("run", path, "-n", "200", "--seed", "1", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "out" / "trace.csv").exists()


def test_existing_folder_needs_force(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "example.yaml", CONFORMANCE)
    out = tmp_path / "out"
    code, _, _ = entry(monkeypatch, capsys, "run", path, "-n", "200", "--seed", "1", "--out", out)
    assert code == 0
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    before = snapshot(out)

    code, stdout, err = entry(
        monkeypatch, capsys, "run", path, "-n", "300", "--seed", "2", "--out", out
    )
    assert code == 2
    assert "already exists" in err
    assert "--force" in err
    assert "Traceback" not in err + stdout
    assert snapshot(out) == before

    code, _, err = entry(
        monkeypatch, capsys, "run", path, "-n", "300", "--seed", "2", "--out", out, "--force"
    )
    assert code == 0, err
    assert not (out / "notes.txt").exists()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["seed"], summary["iterations"]) == (2, 300)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["example.yaml", "out"]


def test_force_never_replaces_a_folder_pmosim_did_not_write(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--out naming the user's own folder (here the one holding the scenario): --force
    refuses before any work and leaves it as it was (it used to delete the folder, the
    scenario with it); an empty folder is filled."""
    mine = tmp_path / "mine"
    mine.mkdir()
    path = write(mine, "example.yaml", CONFORMANCE)
    (mine / "notes.txt").write_text("important", encoding="utf-8")
    before = snapshot(mine)
    args = ["run", path, "-n", "200", "--seed", "1", "--no-report"]
    code, stdout, err = entry(monkeypatch, capsys, *args, "--out", mine, "--force")
    assert code == 2
    assert f"{mine} holds files pmosim did not write" in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + stdout
    assert snapshot(mine) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no checkpoint either
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = entry(monkeypatch, capsys, *args, "--out", empty, "--force")
    assert code == 0, err
    assert (empty / "summary.json").is_file()
    assert (empty / ".pmosim").is_file()
    # a results folder of an earlier version (no marker, nothing but outputs) is replaced
    old = tmp_path / "old"
    old.mkdir()
    for name in ("summary.json", "projects.csv", "portfolio.png", "report.html"):
        (old / name).write_text("old", encoding="utf-8")
    code, _, err = entry(monkeypatch, capsys, *args, "--out", old, "--force")
    assert code == 0, err
    assert (old / "summary.json").read_text(encoding="utf-8") != "old"
    assert not (old / "portfolio.png").exists()  # --no-report


def test_bad_scenario_run_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path, "bad.yaml", BAD)
    monkeypatch.chdir(tmp_path)
    code, out, err = entry(monkeypatch, capsys, "run", "bad.yaml", "-n", "200")
    assert code == 2
    assert "bad.yaml:2:18:" in err
    assert "Traceback" not in err + out
    code, _, _ = entry(monkeypatch, capsys, "run", "bad.yaml", "--out", "chosen")
    assert code == 2
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]


@pytest.mark.parametrize(
    "option", [["-n", "0"], ["--iterations", "-5"], ["--seed", "-1"], ["--trace", "-1"]]
)
def test_invalid_options_are_rejected(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    option: list[str],
) -> None:
    path = write(tmp_path, "example.yaml", CONFORMANCE)
    code, out, err = entry(monkeypatch, capsys, "run", path, *option, "--out", tmp_path / "o")
    assert code == 2
    assert option[0] in err
    assert "Traceback" not in err + out
    assert not (tmp_path / "o").exists()
    assert invoke("run", path, *option, "--out", tmp_path / "o").exit_code == 2


def test_summary_fits_80_columns(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write(tmp_path, "portfolio.yaml", PORTFOLIO)
    monkeypatch.chdir(tmp_path)  # short paths: the table itself is under test
    result = invoke("run", "portfolio.yaml", "-n", "400", "--out", "out")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) > 5
    too_wide = [line for line in lines if len(line) > 80]
    assert too_wide == [], "\n".join(f"{len(line)}: {line}" for line in too_wide)


def test_fresh_seed_is_printed_and_repeats_the_run(tmp_path: Path) -> None:
    path = write(tmp_path, "portfolio.yaml", PORTFOLIO)
    first = invoke("run", path, "-n", "300", "--out", tmp_path / "a")
    assert first.exit_code == 0, first.output
    found = re.search(r"seed:? (\d+)", first.stderr)
    assert found, first.stderr
    seed = found.group(1)
    summary = (tmp_path / "a" / "summary.json").read_text(encoding="utf-8")
    assert json.loads(summary)["seed"] == int(seed)
    assert seed in first.stdout

    again = invoke("run", path, "-n", "300", "--seed", seed, "--out", tmp_path / "b")
    assert again.exit_code == 0, again.output
    assert "seed:" not in again.stderr
    assert (tmp_path / "b" / "summary.json").read_text(encoding="utf-8") == summary
    for name in ("projects.csv", "capacity.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_scenario_seed_and_iterations_are_the_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "seeded.yaml", "seed: 4242\niterations: 250\n" + CONFORMANCE)
    result = invoke("run", path, "--out", tmp_path / "a")
    assert result.exit_code == 0, result.output
    assert "drawn fresh" not in result.stderr
    summary = json.loads((tmp_path / "a" / "summary.json").read_text(encoding="utf-8"))
    assert (summary["seed"], summary["iterations"]) == (4242, 250)

    result = invoke("run", path, "-n", "300", "--seed", "7", "--out", tmp_path / "b")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "b" / "summary.json").read_text(encoding="utf-8"))
    assert (summary["seed"], summary["iterations"]) == (7, 300)


def test_default_output_folder_is_results_slash_file_stem(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write(tmp_path, "example.yaml", CONFORMANCE)
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "example.yaml", "-n", "200", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "results" / "example" / "summary.json").is_file()


def test_formula_like_text_is_defused_in_csv(tmp_path: Path) -> None:
    scenario = """\
projects:
  - id: '=HYPERLINK("x")'
    tasks:
      - {id: '+cmd', duration: 2}
      - {id: '@SUM(1)', duration: 1, after: ['+cmd']}
  - id: '-minus'
    name: '=1+1'
    tasks:
      - {id: ok, duration: 1}
"""
    path = write(tmp_path, "evil.yaml", scenario)
    out = tmp_path / "out"
    result = invoke("run", path, "-n", "200", "--seed", "1", "--out", out, "--trace", "1")
    assert result.exit_code == 0, result.output
    _, rows = read_csv(out / "projects.csv")
    assert [r["project"] for r in rows] == ['\'=HYPERLINK("x")', "'-minus"]
    assert [r["name"] for r in rows] == ['\'=HYPERLINK("x")', "'=1+1"]
    _, trace = read_csv(out / "trace.csv")
    assert {r["task"] for r in trace} == {"'+cmd", "'@SUM(1)", "ok"}
    assert {r["project"] for r in trace} == {'\'=HYPERLINK("x")', "'-minus"}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["projects"][0]["id"] == '=HYPERLINK("x")'  # JSON keeps the real id


def test_version_and_help() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert "0." in result.stdout
    result = invoke("--help")
    assert result.exit_code == 0
    assert "validate" in result.stdout
    assert "run" in result.stdout
