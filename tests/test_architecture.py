"""The architecture, checked from the source: the stages of the data flow import only the
stages before them, ``calibration`` uses only ``simulator``'s public API (and the simulator
never imports it), each third-party library stays in its stage, no module imports itself
back through others, and functions stay short (compiled kernels excepted).

Every import counts, wherever it is: at the top, inside a function, or under
``TYPE_CHECKING``. The checks are functions of a source tree, so that the tests below can
also show them failing on a small tree with a violation.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# the stages of simulator/, in data-flow order: each may import only those at or before it
LAYERS = (
    "errors",
    "kernels",
    "model",
    "plans",
    "scenario",
    "sampling",
    "engine",
    "montecarlo",
    "analysis",
    "output",
    "cli",
)
FACADE = 99  # simulator/__init__.py and __main__.py may import every stage
# third-party libraries and the only stages (or packages) that may import them
CONFINED = {
    "pandas": {"simulator.output", "calibration"},
    "matplotlib": {"simulator.output", "calibration"},
    "jinja2": {"simulator.output"},
    "tqdm": {"simulator.output"},
    "click": {"simulator.cli", "calibration"},
    "simpy": {"simulator.engine"},
    "numba": {"simulator.kernels", "simulator.engine", "simulator.sampling"},
    "joblib": {"simulator.montecarlo"},
    "distributed": {"simulator.montecarlo"},
    "dask": {"simulator.montecarlo"},
    "pydantic": {"simulator.scenario"},
    "yaml": {"simulator.scenario", "simulator.plans", "calibration"},
    "openpyxl": {"simulator.plans", "calibration"},
    "defusedxml": {"simulator.plans"},
    "optuna": {"simulator.analysis"},
}
MAX_FUNCTION_LINES = 50
COMPILED = {"jit", "inline", "njit"}  # numba kernels may be longer: no calls inside them


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module, dotted (for ``from m import x``: m, and m.x if a module)
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(root: Path, packages: tuple[str, ...] = ("simulator", "calibration")) -> list[Import]:
    """Every import statement of every module under ``root/<package>``."""
    found = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            name = module_name(root, path)
            is_pkg = path.name == "__init__.py"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found += [Import(name, a.name, node.lineno) for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    if node.level:
                        anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                        anchor = anchor[: len(anchor) - (node.level - 1)]
                        base = ".".join([*anchor, base] if base else anchor)
                    found.append(Import(name, base, node.lineno))
                    found += [
                        Import(name, f"{base}.{a.name}", node.lineno)
                        for a in node.names
                        if (root / Path(*f"{base}.{a.name}".split("."))).is_dir()
                        or (root / Path(*f"{base}.{a.name}".split(".")))
                        .with_suffix(".py")
                        .is_file()
                    ]
    return found


def layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "simulator":
        return None
    if len(parts) == 1 or parts[1] == "__main__":
        return FACADE
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else None


def public_names(root: Path, module: str) -> set[str] | None:
    """The ``__all__`` of a module (a package's ``__init__``), None when it has none."""
    base = root / Path(*module.split("."))
    path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
    if not path.is_file():
        return None
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                assert node.value is not None
                return set(ast.literal_eval(node.value))
    return None


def layer_violations(root: Path) -> list[str]:
    """Imports that point up the data flow, or from the simulator into calibration."""
    out = []
    for imp in imports(root):
        src, dst = layer(imp.module), layer(imp.target)
        where = f"{imp.module}:{imp.line} imports {imp.target}"
        if imp.module.startswith("simulator") and imp.target.split(".")[0] == "calibration":
            out.append(f"{where}: the simulator never imports calibration")
        elif src is not None and dst is not None and dst > src:
            out.append(f"{where}: {LAYERS[src]} may not import a later stage")
        elif (
            src is not None
            and dst is None
            and imp.target.startswith("simulator.")
            and imp.target.split(".")[1] not in (*LAYERS, "__main__")
        ):
            out.append(f"{where}: not a stage of the simulator")
    return out


def api_violations(root: Path) -> list[str]:
    """calibration imports from ``simulator`` or one of its stages, names in their
    ``__all__`` only (never a module inside a stage, never a private name)."""
    out = []
    for path in sorted((root / "calibration").rglob("*.py")):
        name = module_name(root, path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [(a.name, None) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                targets = [(node.module, a.name) for a in node.names]
            else:
                continue
            for module, item in targets:
                if module.split(".")[0] != "simulator":
                    continue
                where = f"{name}:{node.lineno} imports {module}"
                if len(module.split(".")) > 2:
                    out.append(f"{where}: use the stage's package, not its modules")
                    continue
                api = public_names(root, module)
                if item is not None and (api is None or item not in api):
                    out.append(f"{where}.{item}: not in {module}.__all__")
    return out


def confined_violations(root: Path) -> list[str]:
    out = []
    for imp in imports(root):
        lib = imp.target.split(".")[0]
        allowed = CONFINED.get(lib)
        if allowed and not any(imp.module == a or imp.module.startswith(f"{a}.") for a in allowed):
            out.append(
                f"{imp.module}:{imp.line} imports {lib}: only {', '.join(sorted(allowed))} may"
            )
    return out


def cycles(root: Path) -> list[list[str]]:
    """Import cycles between our own modules (a package and its ``__init__`` re-exports
    excepted: a package imports its own modules by design)."""
    graph: dict[str, set[str]] = {}
    for imp in imports(root):
        mod, dst = imp.module, imp.target
        ours = dst.split(".")[0] in ("simulator", "calibration")
        if (
            ours
            and dst != mod
            and not mod.startswith(f"{dst}.")
            and not (dst.startswith(f"{mod}."))
        ):
            graph.setdefault(mod, set()).add(dst)
    found: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return found


def body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function's body: its signature (one parameter a line, as ruff formats
    long ones) and its docstring do not count."""
    body = node.body
    if (
        len(body) > 1
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    return (node.end_lineno or node.lineno) - body[0].lineno + 1


def long_functions(root: Path, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    out = []
    for package in ("simulator", "calibration"):
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                decorators = {ast.unparse(d).split("(")[0] for d in node.decorator_list}
                length = body_lines(node)
                if length > limit and not decorators & COMPILED:
                    out.append(
                        f"{path.relative_to(root)}:{node.lineno} {node.name}: {length} lines"
                    )
    return out


# --- the project --------------------------------------------------------------------------


def test_the_stages_import_only_down_the_data_flow() -> None:
    assert layer_violations(ROOT) == []


def test_calibration_uses_only_the_simulators_public_api() -> None:
    assert api_violations(ROOT) == []


def test_each_library_stays_in_its_stage() -> None:
    assert confined_violations(ROOT) == []


def test_no_module_imports_itself_back() -> None:
    assert cycles(ROOT) == []


def test_functions_stay_short() -> None:
    assert long_functions(ROOT) == []


def test_every_stage_exists_as_a_package() -> None:
    # below the stages: the errors, and the one way loops are compiled (a module each)
    for module in LAYERS[:2]:
        assert (ROOT / "simulator" / f"{module}.py").is_file(), module
    for stage in LAYERS[2:]:
        assert (ROOT / "simulator" / stage / "__init__.py").is_file(), stage


# --- the checks themselves fail on a tree that breaks the rules ------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in {
        "simulator/__init__.py": "",
        "calibration/__init__.py": "",
        **{f"simulator/{s}/__init__.py": "" for s in LAYERS[1:]},
        "simulator/errors.py": "",
        **files,
    }.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"simulator/model/a.py": "from ..engine import simulate\n"},
            "simulator.model.a:1 imports simulator.engine: model may not import a later stage",
        ),
        (
            {"simulator/engine/a.py": "def f():\n    from simulator.output import x\n"},
            "simulator.engine.a:2 imports simulator.output: engine may not import a later stage",
        ),
        (
            {
                "simulator/scenario/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                "    from calibration.fit import RatioModel\n"
            },
            "simulator.scenario.a:3 imports calibration.fit: "
            "the simulator never imports calibration",
        ),
    ],
)
def test_an_upward_import_is_reported(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    assert layer_violations(_tree(tmp_path, files)) == [expected]


def test_importing_the_facade_from_a_stage_is_reported(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"simulator/analysis/a.py": "from .. import cli\n"})
    assert layer_violations(root) == [
        "simulator.analysis.a:1 imports simulator: analysis may not import a later stage",
        "simulator.analysis.a:1 imports simulator.cli: analysis may not import a later stage",
    ]


def test_a_downward_import_is_allowed(tmp_path: Path) -> None:
    root = _tree(
        tmp_path, {"simulator/output/a.py": "from ..analysis import x\nfrom ..errors import E\n"}
    )
    assert layer_violations(root) == []


def test_calibration_reaching_into_a_module_is_reported(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "simulator/scenario/__init__.py": '__all__ = ["load_scenario"]\n',
            "simulator/scenario/yamlfile.py": "",
            "calibration/a.py": "from simulator.scenario.yamlfile import Located\n"
            "from simulator.scenario import _private\n"
            "from simulator.scenario import load_scenario\n",
        },
    )
    assert api_violations(root) == [
        "calibration.a:1 imports simulator.scenario.yamlfile: use the stage's package, "
        "not its modules",
        "calibration.a:2 imports simulator.scenario._private: not in simulator.scenario.__all__",
    ]


def test_pandas_outside_output_is_reported(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"simulator/analysis/a.py": "import pandas as pd\n"})
    assert confined_violations(root) == [
        "simulator.analysis.a:1 imports pandas: only calibration, simulator.output may"
    ]


def test_a_cycle_is_reported(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "simulator/model/a.py": "from .b import x\n",
            "simulator/model/b.py": "def f():\n    from .a import y\n",
        },
    )
    assert cycles(root) == [["simulator.model.a", "simulator.model.b", "simulator.model.a"]]


def test_a_long_function_is_reported_unless_compiled(tmp_path: Path) -> None:
    body = "".join("    x = 1\n" for _ in range(MAX_FUNCTION_LINES + 1))
    doc = '    """A docstring\n    of two lines."""\n'
    slow = f"def slow(\n    a,\n    b,\n):\n{doc}{body}\n"  # 51 lines of body
    fine = f"def fine(\n    a,\n):\n{doc}{body[10:]}\n"  # 50
    kernel = f"@jit(refcounts=False)\ndef kernel():\n{body}"
    root = _tree(tmp_path, {"simulator/engine/a.py": slow + fine + kernel})
    assert long_functions(root) == [f"simulator/engine/a.py:1 slow: {MAX_FUNCTION_LINES + 1} lines"]
