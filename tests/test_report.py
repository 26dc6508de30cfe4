"""report.html and the charts: rendered for the example and for hostile names; the HTML
holds no event attribute and no script but the table's filter (pinned by its hash in the
Content-Security-Policy), user text is escaped, files stay in the folder."""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import textwrap
import time
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import matplotlib.ticker as mticker
import pandas as pd
import pytest
from click.testing import CliRunner

from simulator.cli import cli
from simulator.output import charts, drawing, second_process
from simulator.output.drawing import later
from simulator.output.report import FILTER_SCRIPT

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "portfolio-2027.yaml"
CHARTS = {
    "portfolio.png",
    "finish-s-curves.png",
    "finish-histograms.png",
    "cost-s-curves.png",
    "cost-vs-finish.png",
    "capacity.png",
    "drivers.png",
    "convergence.png",
}

HOSTILE = textwrap.dedent("""
    scenario: "<script>alert('s')</script> $\\\\frac{1}{2}$"
    start: 2027-01-04
    resources:
      "=HYPERLINK(\\"http://x\\")": {capacity: 2, cost_per_day: 100}
    projects:
      - id: "/tmp/x\\\\y"
        name: "<img src=x onerror=alert(1)> $\\\\frac{a}{b}$ $\\\\frac$ ../../x"
        deadline: 2027-03-01
        budget: 5000
        tasks:
          - {id: "<b>", name: "=1+2", duration: {pert: {low: 5, mode: 8, high: 15}},
             resources: {"=HYPERLINK(\\"http://x\\")": 1}}
          - {id: "@cmd", duration: {uniform: {low: 2, high: 6}}, after: ["<b>"]}
    risks:
      - {id: "-2+3", probability: 0.3, affects: ["/tmp/x\\\\y.<b>"], delay: 4}
""")


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self.csp: list[str] = []
        self.open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [name for name, _ in attrs]
        self.open = tag
        found = dict(attrs)
        if tag == "meta" and found.get("http-equiv") == "Content-Security-Policy":
            self.csp.append(found.get("content") or "")

    def handle_endtag(self, tag: str) -> None:
        self.open = None

    def handle_data(self, data: str) -> None:
        if self.open == "script":
            self.scripts.append(data)
        else:
            self.text.append(data)


def _run(tmp_path: Path, scenario: Path, *extra: str) -> Path:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["run", str(scenario), "-n", "300", "--seed", "1", "--out", str(out), *extra]
    )
    assert result.exit_code == 0, result.output
    return out


def check_html(out: Path, *, script: bool = True) -> _Collect:
    """No event attribute, nothing fetched, an image per PNG; the only script (a run's
    report: the table's filter, no user text in it) is the one the policy's hash allows."""
    html = (out / "report.html").read_text(encoding="utf-8")
    parsed = _Collect()
    parsed.feed(html)
    assert parsed.tags.count("script") == (1 if script else 0)
    assert parsed.scripts == ([FILTER_SCRIPT] if script else [])
    (policy,) = parsed.csp
    assert "default-src 'none'" in policy
    if script:
        digest = hashlib.sha256(parsed.scripts[0].encode("utf-8")).digest()
        assert f"script-src 'sha256-{base64.b64encode(digest).decode()}'" in policy
    else:
        assert "script-src 'none'" in policy
    assert not [a for a in parsed.attrs if a.lower().startswith("on")]
    assert "http://" not in html.replace("http://x", "")  # nothing fetched from the network
    assert html.count("<img") == len([p for p in out.iterdir() if p.suffix == ".png"])
    return parsed


def test_run_writes_every_chart_and_a_self_contained_report(tmp_path: Path) -> None:
    out = _run(tmp_path, EXAMPLE)
    pngs = {p.name for p in out.iterdir() if p.suffix == ".png"}
    assert CHARTS | {"risks.png"} == pngs
    for name in pngs:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    parsed = check_html(out)
    text = " ".join(parsed.text)
    assert "CRM replacement" in text
    assert "finish on time in" in text  # the plain-words summary


def test_hostile_names_are_escaped_drawn_literally_and_guarded(tmp_path: Path) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE)
    out = _run(tmp_path, path)
    assert {p.name for p in out.iterdir()} >= CHARTS | {"report.html"}
    assert not (tmp_path / "x").exists()  # '../../x' wrote nothing outside the folder
    for p in tmp_path.rglob("*"):
        assert p.is_relative_to(tmp_path)
    parsed = check_html(out)
    text = " ".join(parsed.text)
    assert "<img src=x onerror=alert(1)>" in text  # shown as text, escaped in the source
    assert "$\\frac{a}{b}$" in text
    drivers = pd.read_csv(out / "drivers.csv", dtype=str)
    assert not drivers["driver"].str.match(r"^[=+\-@]").any()
    projects = pd.read_csv(out / "projects.csv", dtype=str)
    assert not projects.apply(lambda c: c.str.match(r"^[=+\-@]", na=False)).any().any()


def test_no_report_writes_no_charts(tmp_path: Path) -> None:
    out = _run(tmp_path, EXAMPLE, "--no-report", "--no-risk-drivers")
    assert not [p for p in out.iterdir() if p.suffix in (".png", ".html")]


def test_json_prints_the_summary_and_quiet_prints_nothing(tmp_path: Path) -> None:
    import json

    runner = CliRunner()
    out = tmp_path / "j"
    result = runner.invoke(
        cli,
        [
            "run",
            str(EXAMPLE),
            "-n",
            "300",
            "--seed",
            "2",
            "--out",
            str(out),
            "--json",
            "--no-report",
            "--no-risk-drivers",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads((out / "summary.json").read_text())
    quiet = runner.invoke(
        cli,
        [
            "run",
            str(EXAMPLE),
            "-n",
            "300",
            "--seed",
            "2",
            "--out",
            str(tmp_path / "q"),
            "-q",
            "--no-report",
            "--no-risk-drivers",
        ],
    )
    assert quiet.exit_code == 0
    assert quiet.stdout == ""


def test_compare_report_escapes_hostile_variant_names(tmp_path: Path) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(
        HOSTILE
        + textwrap.dedent("""
        variants:
          - {name: "<script>alert(2)</script>", description: "=HYPERLINK(1)",
             capacity: {"=HYPERLINK(\\"http://x\\")": +1}}
    """)
    )
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        cli, ["compare", str(path), "-n", "200", "--seed", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    parsed = check_html(out, script=False)
    assert "<script>alert(2)</script>" in " ".join(parsed.text)
    table = pd.read_csv(out / "comparison.csv", dtype=str)
    assert set(table["variant"]) == {"<script>alert(2)</script>"}  # text, kept as written


def test_ids_of_200_characters_leave_the_charts_laid_out(tmp_path: Path) -> None:
    """Ids at the 200-character limit: each chart label is cut in the middle to 40
    characters, so matplotlib still lays the panels out (it warned 'axes sizes collapsed to
    zero' and drew labels across the whole figure)."""
    p, t = "p" + "x" * 190, "t" + "y" * 190
    text = f"""
    scenario: long
    start: 2027-01-04
    resources: {{dev: {{capacity: 1}}}}
    projects:
      - id: {p}
        deadline: 2027-03-01
        tasks:
          - {{id: {t}, duration: {{uniform: {{low: 5, high: 20}}}}, resources: {{dev: 1}}}}
          - {{id: b{t}, duration: 5, after: [{t}], resources: {{dev: 1}}}}
      - {{id: q{p}, deadline: 2027-02-01, tasks: [{{id: a, duration: 10, resources: {{dev: 1}}}}]}}
    """
    path = tmp_path / "long.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    seen: list[str] = []
    real = charts._png

    def labels(fig: object) -> bytes:
        png = real(fig)
        for ax in fig.axes:  # type: ignore[attr-defined]
            for axis in (ax.xaxis, ax.yaxis):
                f = axis.get_major_formatter()
                if isinstance(f, mticker.FuncFormatter | mticker.FixedFormatter):
                    seen.extend(f(x, k) for k, x in enumerate(axis.get_majorticklocs()))
            seen.extend(x.get_text() for x in (ax.title, *ax.texts))
        return png

    charts._png = labels  # type: ignore[assignment]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            args = ["run", str(path), "-n", "200", "--seed", "1", "--out", str(tmp_path / "o")]
            result = CliRunner().invoke(cli, args)
    finally:
        charts._png = real  # type: ignore[assignment]
    assert result.exit_code == 0, result.output
    assert not [w for w in caught if "collapsed" in str(w.message)]
    assert any("…" in s for s in seen)
    assert max(len(line) for s in seen for line in s.split("\n")) <= charts.LABEL_CHARS


def test_at_risk_bars_give_the_p80_slip_in_working_days(tmp_path: Path) -> None:
    """A fixed 10-working-day task from Monday 4 January ends Friday 15 January; against a
    deadline of Friday 8 January its P80 is 5 working days late (7 calendar days, which the
    chart printed while its axis said working days)."""
    path = tmp_path / "late.yaml"
    path.write_text(
        textwrap.dedent("""
        scenario: late
        start: 2027-01-04
        calendar: {workweek: Mon-Fri}
        resources: {dev: {capacity: 1}}
        projects:
          - {id: p, deadline: 2027-01-08, tasks: [{id: a, duration: 10, resources: {dev: 1}}]}
        """),
        encoding="utf-8",
    )
    seen: list[str] = []
    real = charts._png

    def texts(fig: object) -> bytes:
        for ax in fig.axes:  # type: ignore[attr-defined]
            seen.extend([t.get_text() for t in ax.texts] + [ax.get_xlabel()])
        return real(fig)

    charts._png = texts  # type: ignore[assignment]
    try:
        result = CliRunner().invoke(
            cli, ["run", str(path), "-n", "20", "--seed", "1", "--out", str(tmp_path / "o")]
        )
    finally:
        charts._png = real  # type: ignore[assignment]
    assert result.exit_code == 0, result.output
    assert "0.00 · P80 +5 d" in seen
    assert any(s.endswith("against the deadline, working days)") for s in seen)


def test_long_titles_are_wrapped_between_words_not_cut(tmp_path: Path) -> None:
    """The example's chart titles stay whole sentences, on lines of at most
    LABEL_CHARS characters (they were cut in the middle: 'Utilisation: share …y in use,
    per month', 'P(on time) across t…cts with a deadline')."""
    titles: list[str] = []
    real = charts._png

    def keep(fig: object) -> bytes:
        png = real(fig)
        titles.extend(ax.get_title() for ax in fig.axes)  # type: ignore[attr-defined]
        return png

    charts._png = keep  # type: ignore[assignment]
    try:
        _run(tmp_path, EXAMPLE, "--no-risk-drivers")
    finally:
        charts._png = real  # type: ignore[assignment]
    flat = [t.replace("\n", " ") for t in titles]
    assert "Utilisation: share of the capacity in use, per month" in flat
    assert "P(some demand waits for the pool) per month" in flat
    assert "P(on time) across the 7 projects with a deadline 2 below 0.8 (dashed)" in flat
    assert not [t for t in titles if "…" in t]
    assert max(len(line) for t in titles for line in t.split("\n")) <= charts.LABEL_CHARS


def _apply(fn: Any) -> Any:
    return fn()


def _exit_unless(pid: int) -> str:
    """Ends the process it runs in abruptly (as the out-of-memory killer would) unless it
    is process ``pid``."""
    if os.getpid() != pid:
        os._exit(1)
    return "drawn here"


def test_a_second_process_draws_for_this_one_and_a_dead_one_is_replaced_by_this_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # whatever this machine has
    with second_process(2, warm="simulator.output.charts") as pool:
        assert pool is not None
        assert later(pool, os.getpid)() != os.getpid()  # a process of its own
        # the process dies: what it was asked for is done here
        assert later(pool, _exit_unless, os.getpid())() == "drawn here"
        # an argument it cannot receive (a lambda does not pickle): done here too
        assert later(pool, _apply, lambda: "here")() == "here"
    with second_process(1) as pool:  # --jobs 1: none
        assert pool is None
        assert later(pool, os.getpid)() == os.getpid()


def test_ctrl_c_while_the_second_process_starts_does_not_end_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    ours = signal.getsignal(signal.SIGINT)
    with second_process(2, warm="simulator.output.charts") as pool:
        assert pool is not None
        (process,) = pool._processes.values()  # started, still starting up
        os.kill(process.pid, signal.SIGINT)  # the terminal's Ctrl-C reaches it too
        assert later(pool, os.getpid)() == process.pid  # it lived on, and draws
    assert signal.getsignal(signal.SIGINT) is ours  # this process's handler, back


def test_without_processes_the_report_is_drawn_by_this_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def none(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("this platform lacks a functioning sem_open")

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(drawing, "ProcessPoolExecutor", none)
    with second_process(2) as pool:
        assert pool is None
        assert later(pool, os.getpid)() == os.getpid()


def test_ctrl_c_stops_the_second_process_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    processes: list[Any] = []

    def interrupted() -> None:
        with second_process(2) as pool:
            assert pool is not None
            later(pool, time.sleep, 60)  # drawing, for a minute
            processes.extend(pool._processes.values())  # the one process, to watch
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    (process,) = processes
    # (it would sleep on for a minute if it were waited for). The pool's own thread may be
    # reaping it as this one looks: join then returns with no exit code yet, so look again
    deadline = time.monotonic() + 30
    while process.exitcode is None and time.monotonic() < deadline:
        process.join(timeout=0.1)
    assert process.exitcode == -signal.SIGTERM  # stopped, not waited for


def test_the_report_drawn_by_two_processes_is_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[bool, object]] = []

    def watched(pool: object, fn: Any, *args: Any) -> Any:
        sent.append((pool is not None, args[-1]))  # a process, and the figures it draws
        return later(pool, fn, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(charts, "later", watched)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    one = _run(tmp_path / "one", EXAMPLE, "--jobs", "1")
    assert sent == [(False, [])]
    two = _run(tmp_path / "two", EXAMPLE, "--jobs", "2")
    assert sent[1:] == [(True, [1, 2, 3])]  # three of the four per-project figures
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir())
    assert {"finish-s-curves.png", "cost-vs-finish.png", "report.html"} <= set(names)
    for name in names:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
