"""Same inputs, same bytes: in one process, across processes and seconds, with either font
subsetter WeasyPrint may use; and dates that never come from the clock."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from .helpers import run_cli

RENDER = ["render", "endplate-sclerosis", "--clinic", "riverside-spine", "--level", "easy"]

SCRIPT = """
import sys
if sys.argv[1] == "fonttools":  # as on a machine without libharfbuzz-subset0
    import weasyprint.pdf.fonts
    weasyprint.pdf.fonts.harfbuzz_subset = None
from handouts.cli import main
main([*sys.argv[3:], "-o", sys.argv[2]])
"""


def render_in_a_new_process(project: Path, subsetter: str, output: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, subsetter, output, *RENDER],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_two_processes_seconds_apart_give_identical_bytes(project_dir: Path) -> None:
    """With HarfBuzz-Subset (when this machine has it) and with fontTools (forced), renders made in
    two processes two seconds apart are byte-identical."""
    from weasyprint.text.ffi import harfbuzz_subset

    made = {}
    for subsetter in ("default", "fonttools"):
        render_in_a_new_process(project_dir, subsetter, f"{subsetter}-1.pdf")
        time.sleep(2.1)  # fontTools used to stamp the time into each embedded font
        render_in_a_new_process(project_dir, subsetter, f"{subsetter}-2.pdf")
        made[subsetter] = (project_dir / f"{subsetter}-1.pdf").read_bytes()
        assert made[subsetter] == (project_dir / f"{subsetter}-2.pdf").read_bytes(), subsetter
    if harfbuzz_subset is not None:  # the two subsetters make different fonts: both paths really ran
        assert made["default"] != made["fonttools"]


def test_same_inputs_give_identical_bytes_in_one_process(project_dir: Path, capsys) -> None:
    assert run_cli(capsys, *RENDER, "-o", "a.pdf")[0] == 0
    assert run_cli(capsys, *RENDER, "-o", "b.pdf")[0] == 0
    assert (project_dir / "a.pdf").read_bytes() == (project_dir / "b.pdf").read_bytes()


@pytest.mark.parametrize(
    ("epoch", "modified"),
    [
        ("1798761600", "D:20270101000000"),  # 2027-01-01, after the content's date: the modification date
        ("1767225600", "D:20261122"),  # 2026-01-01, before it: never modified before created
        (None, "D:20261122"),  # unset: the content's date, never the clock
    ],
)
def test_dates(project_dir: Path, capsys, monkeypatch: pytest.MonkeyPatch, epoch: str | None, modified: str) -> None:
    if epoch:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    assert run_cli(capsys, *RENDER, "-o", "a.pdf")[0] == 0
    info = PdfReader(project_dir / "a.pdf").metadata
    assert info["/CreationDate"].startswith("D:20261122")  # the date the text last changed
    assert info["/ModDate"].startswith(modified)
    assert info["/ModDate"][2:16] >= info["/CreationDate"][2:16]
