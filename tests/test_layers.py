"""The package's layers (pyproject.toml's import-linter contract) hold, and the check would see an
arrow running up: a copy of the package with one upward import inside a function is refused."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
# Functions allowed past MAX_FUNCTION_LINES; each must carry a comment saying why it is one piece.
LONG_FUNCTIONS: dict[str, str] = {}


def _lint_imports(package_parent: Path) -> subprocess.CompletedProcess:
    # import-linter is in the test extra; its script sits beside this interpreter (a venv not on PATH too)
    beside = Path(sys.executable).parent / "lint-imports"
    return subprocess.run(
        [str(beside) if beside.exists() else "lint-imports", "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=package_parent,
        env={"PYTHONPATH": str(package_parent), "PATH": str(Path(sys.executable).parent)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "rgbench", tmp_path / "rgbench", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_the_layers_contract_is_kept(tmp_path):
    result = _lint_imports(_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("observables/_rank.py", "from ..scoring import Verdict"),  # the bottom floor reaching the scorer
        ("suite/_hash.py", "from ..runner import run_suite"),  # the suite language reaching the runner
        ("models/_mixer.py", "from .. import train"),  # a component reaching what trains it
    ],
)
def test_an_upward_import_inside_a_function_breaks_the_contract(tmp_path, module, upward):
    parent = _copy(tmp_path)
    path = parent / "rgbench" / module
    path.write_text(path.read_text() + f"\n\ndef _reaches_up():\n    {upward}\n")
    result = _lint_imports(parent)
    assert result.returncode != 0
    assert "0 kept, 1 broken" in result.stdout, result.stdout


def test_no_module_is_over_600_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "rgbench").rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_function_is_over_80_lines():
    long = {}
    for p in (ROOT / "rgbench").rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                name = f"{p.relative_to(ROOT)}:{node.name}"
                if n > MAX_FUNCTION_LINES and name not in LONG_FUNCTIONS:
                    long[name] = n
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"
