"""Binary MS Project files (``.mpp``), through MPXJ: the optional extra ``mpp`` brings the
``mpxj`` package (LGPL) whose Java library converts the file to MS Project XML in a child
process, which the MSPDI reader then reads like any other.

The conversion runs in a separate Java process with a time and memory limit, so that a
hostile or damaged file can cost at most that; only a file that starts as an OLE compound
document (what every ``.mpp`` is) is handed to it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import Problem, ScenarioError
from .mspdi import Plan, read_mspdi

__all__ = ["read_mpp"]

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the signature of an OLE compound document
_CONVERTER = "org.mpxj.sample.MpxjConvert"  # MPXJ 14 and later
_TIMEOUT = 300  # seconds
_EXTRA = "pip install 'pmosim[mpp]'"


def _fail(name: str, message: str) -> ScenarioError:
    return ScenarioError([Problem(name, 0, 0, "", message)])


def _signature(path: Path, name: str) -> None:
    try:
        with path.open("rb") as f:
            head = f.read(len(_OLE))
    except OSError as e:
        raise _fail(name, f"cannot read it: {e.strerror}") from None
    if head == _OLE:
        return
    what = "a zip archive" if head.startswith(b"PK") else "not an OLE compound document"
    raise _fail(name, f"{what}: not an MS Project .mpp file")


def _classpath(name: str) -> str:
    """The MPXJ jars of the installed ``mpxj`` package (found without importing it: its
    ``__init__`` starts a Java bridge this reader does not use)."""
    spec = importlib.util.find_spec("mpxj")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    jars = sorted(p for folder in folders for p in (Path(folder) / "lib").glob("*.jar"))
    if not jars:
        raise _fail(name, f"reading .mpp files needs the optional extra 'mpp': {_EXTRA}")
    return os.pathsep.join(str(j) for j in jars)


def _java(name: str) -> str:
    home = os.environ.get("JAVA_HOME")
    found = shutil.which("java", path=str(Path(home) / "bin")) if home else None
    found = found or shutil.which("java")
    if found is None:
        raise _fail(name, "reading .mpp files needs a Java runtime (java on the PATH or JAVA_HOME)")
    return found


def _convert(path: Path, out: Path, name: str) -> None:
    command = [_java(name), "-Xmx1g", "-cp", _classpath(name), _CONVERTER, str(path), str(out)]
    try:
        done = subprocess.run(  # noqa: S603 (a fixed command on the user's own file)
            command, capture_output=True, text=True, timeout=_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise _fail(name, f"MPXJ did not read it within {_TIMEOUT} s") from None
    if done.returncode != 0 or not out.is_file():
        lines = [ln.strip() for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
        cause = next((ln for ln in lines if "Exception" in ln), lines[-1] if lines else "")
        raise _fail(name, f"MPXJ could not read it as an MS Project file: {cause[:200]}")


def read_mpp(path: Path, *, display: str | None = None) -> Plan:
    """The ``.mpp`` plan in ``path``, on the scenario structure (as its MS Project XML).

    Raises:
        ScenarioError: not an ``.mpp`` file, the ``mpp`` extra or Java missing, or a file
            MPXJ cannot read; one located line each.
    """
    name = display or str(path)
    _signature(path, name)
    with tempfile.TemporaryDirectory(prefix="pmosim-mpp-") as tmp:
        xml = Path(tmp) / f"{path.stem}.xml"  # the stem names the plan's project
        _convert(path, xml, name)
        return read_mspdi(xml, display=name)
