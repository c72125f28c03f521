"""The code says what it is: enforced layers, lazy imports, one codes registry, true docstrings."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from handouts.codes import CODES

from .conftest import REPO

PACKAGE = REPO / "handouts"


def test_import_layers_are_kept() -> None:
    """The layers contract in pyproject.toml (and the no-WeasyPrint-in-check contract) hold."""
    linter = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([linter], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def imported_modules(*argv: str) -> set[str]:
    """Every module a fresh interpreter imports while running ``argv`` (from -X importtime)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    return {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize("argv", [["-m", "handouts", "--help"], ["-m", "handouts", "build", "--help"]])
def test_help_imports_no_heavy_library(argv: list[str]) -> None:
    modules = imported_modules(*argv)
    assert "click" in modules  # the measurement works
    heavy = {name for name in modules if name.split(".")[0] in {"weasyprint", "dask", "distributed", "textstat"}}
    assert heavy == set()


def _engines_loaded_by(project_dir: Path, argv: list[str]) -> str:
    """The heavy libraries the command's own process has imported when it ends (workers left out)."""
    script = (
        f"import sys; from handouts.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('weasyprint', 'dask', 'distributed', 'pypdfium2')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=project_dir, capture_output=True, text=True, timeout=120
    )
    return result.stdout.strip().splitlines()[-1]


def test_check_never_imports_weasyprint(project_dir: Path) -> None:
    assert _engines_loaded_by(project_dir, ["check"]) == "[]"


def test_build_leaves_weasyprint_to_its_workers(project_dir: Path) -> None:
    """The parent of a build only plans, gates and writes: receiving a finished PDF from a worker
    must not import the engine (it once did, through the pickled result's class)."""
    argv = ["build", "--allow-drafts", "--topic", "endplate-sclerosis", "--level", "easy"]
    argv += ["--clinic", "riverside-spine"]
    assert _engines_loaded_by(project_dir, argv) == "[]"
    assert (project_dir / "output" / "riverside-spine" / "endplate-sclerosis.easy.en.pdf").is_file()


def _undocumented(node: ast.AST) -> bool:
    public = isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_")
    return public and not ast.get_docstring(node)


def public_definitions() -> list[tuple[str, int, str]]:
    """(file, line, name) of every public module, class, function and method without a docstring."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        relative = path.relative_to(REPO).as_posix()
        if not ast.get_docstring(tree):
            found.append((relative, 1, "<module>"))
        for node in tree.body:
            members = node.body if isinstance(node, ast.ClassDef) and not node.name.startswith("_") else []
            found += [(relative, node.lineno, node.name)] if _undocumented(node) else []
            found += [(relative, m.lineno, f"{node.name}.{m.name}") for m in members if _undocumented(m)]
    return found


def test_every_public_definition_has_a_docstring() -> None:
    assert public_definitions() == []


def test_codes_are_defined_once_and_all_exist() -> None:
    """Every ``HL…`` string in the package names a registered code, and only codes.py defines them."""
    pattern = re.compile(r"\bHL\d{3}\b")
    for path in PACKAGE.rglob("*.py"):
        for code in pattern.findall(path.read_text(encoding="utf-8")):
            assert code in CODES, f"{path.name} uses {code}, which handouts/codes.py does not define"


def test_every_code_is_triggered_by_a_test() -> None:
    """Each registered code appears in an assertion of some test (the tests that trigger it)."""
    asserted: set[str] = set()
    for path in (REPO / "tests").glob("test_*.py"):
        if path.name == Path(__file__).name:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assert | ast.Call):
                asserted.update(re.findall(r"HL\d{3}", ast.unparse(node)))
            elif isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                asserted.update(code.upper() for code in re.findall(r"hl\d{3}", node.name))
    assert sorted(set(CODES) - asserted) == []


def test_json_schema_lists_exactly_the_registered_codes() -> None:
    schema = json.loads((PACKAGE / "check-report.schema.json").read_text())
    finding = schema["properties"]["findings"]["items"]["properties"]
    assert finding["code"]["enum"] == sorted(CODES)
