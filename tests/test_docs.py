"""The docs are the contract: generated reference pages are current, links work, the README is short."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from handouts import codes, schema

from .conftest import REPO


def test_generated_reference_pages_are_current() -> None:
    """Regenerate with: python -m handouts.codes > docs/reference/codes.md (and handouts.schema → config.md)."""
    assert (REPO / "docs/reference/codes.md").read_text(encoding="utf-8") == codes.markdown_table()
    assert (REPO / "docs/reference/config.md").read_text(encoding="utf-8") == schema.markdown_reference()


def test_mkdocs_build_is_strict_clean(tmp_path: Path) -> None:
    mkdocs = shutil.which("mkdocs") or str(Path(sys.executable).parent / "mkdocs")
    result = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "reference" / "codes" / "index.html").is_file()


def test_readme_is_short_and_points_at_the_docs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) <= 6 * 1024
    links = re.findall(r"\]\((docs/[^)#]+)", readme)
    for page in ("content.md", "checks.md", "build.md", "portals.md", "security.md"):
        assert f"docs/{page}" in links
    for link in links:
        assert (REPO / link).is_file(), link


def test_readme_quick_start_is_what_ci_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = next(line for line in readme.splitlines() if line.startswith("python3 -m venv") and "[test]" in line)
    assert command in (REPO / ".ci" / "run").read_text(encoding="utf-8")
