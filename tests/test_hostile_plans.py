"""Malformed and hostile plan files, every format: refused in one located line, before any
simulation, with nothing written and no traceback, within a bounded time."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import cli

MSPDI = '<Project xmlns="http://schemas.microsoft.com/project">'
CASES = [
    (
        "plan.xml",
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f"{MSPDI}<Name>&x;</Name></Project>",
        "entities are not allowed",
    ),
    (
        "plan.xml",
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa">'
        + "".join(
            f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
            for p, c in zip("abcdefg", "bcdefgh", strict=True)
        )
        + f"]>{MSPDI}<Name>&h;</Name></Project>",
        "entities are not allowed",
    ),
    ("plan.xml", f'{MSPDI}<Name a="{"x" * 12_000_000}"/></Project>', "over 10,000,000 bytes"),
    ("plan.xml", bytes(range(256)) * 64, "not well-formed XML"),
    ("plan.xml", "", "not well-formed XML"),
    ("plan.xer", bytes(range(256)) * 64, "binary data: not a P6 XER text file"),
    ("plan.xer", "ERMHDR\t8.4\n%T\tPROJECT\n%F\tproj_id\n%E\n", "no PROJECT or TASK table"),
    ("plan.pmxml", "<html><body/></html>", "not an MS Project XML file"),
    ("plan.mpp", None, "a zip archive: not an MS Project .mpp file"),
]


@pytest.mark.parametrize(
    ("name", "content", "message"), CASES, ids=[f"{c[0]}-{c[2][:24]}" for c in CASES]
)
def test_hostile_plan_files_are_refused(
    tmp_path: Path, name: str, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is None:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
    else:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "out"
    for command in (["run", str(path), "-n", "10", "--out", str(out)], ["check", str(path)]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code != 0
        problems = [ln for ln in result.output.splitlines() if ln.startswith(str(path))]
        assert len(problems) == 1, result.output
        assert message in problems[0]
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert not out.exists()
