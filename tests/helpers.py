"""Small helpers shared by tests: sample files with known line numbers."""

from __future__ import annotations

from pathlib import Path

MINIMAL_TOPIC = """\
title: Test topic
language: en
status: draft
updated: "2026-11-01"
main_message: "Tests are fine."
red_flags:
  - sign: "A test is on fire"
    why: "fire spreads"
sections:
  what_it_is: "It is a test."
  causes: "Tests cause it."
  symptoms: "You may feel tested."
  treatment:
    easy: |
      Rest.
    standard: |
      Rest and drink water.
    detailed: |
      Rest, drink water and read the detailed notes.
  outlook: "Most tests pass."
"""


def line_of(text: str, needle: str) -> int:
    """1-based line number of the first line containing ``needle``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def write_topic(project: Path, text: str, topic_id: str = "test-topic") -> Path:
    path = project / "content" / f"{topic_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """Run the real entry point (with its error → exit code mapping); returns (code, stdout, stderr)."""
    from handouts.cli import main

    try:
        main(list(argv))
        code = 0
    except SystemExit as exited:
        code = exited.code if isinstance(exited.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


GOOD_TOPIC = MINIMAL_TOPIC.replace(
    '  outlook: "Most tests pass."\n',
    """\
  outlook: "Most tests pass."
  key_points: |
    - Tests are short.
    - Most tests pass.
  when_to_get_help: |
    Call your care team if a test hurts.
  self_care: |
    1. Rest for 10 minutes.
    2. Drink water.
""",
)
