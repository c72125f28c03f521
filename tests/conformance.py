"""The outside checkers, in one place: page-validation (PDF/UA-1 and PDF/A-3a, in Rust),
outloud (PDF/UA-1 and the semantic checks a validator cannot make) and qpdf.

A finding that is an artefact of a checker, not a fault of the file, is allowed here by
rule id with the reason; the calls themselves are never weakened.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

# page-validation rule id → why it is a checker artefact rather than a fault. None today.
PAGE_VALIDATION_ALLOWED: dict[str, str] = {}
# outloud rule id → why. None today: every error and warning counts.
OUTLOUD_ALLOWED: dict[str, str] = {}
# What issue 8 found and must never come back: furniture neither tagged nor artifact, content
# painted out of reading order, link annotations that do not print.
OUTLOUD_NEVER = ("PAG-001", "ORD-001", "LNK-004")


def page_validation_failures(data: bytes, profile: str) -> list[str]:
    """``rule: message`` for every failure page-validation reports under ``profile`` ("ua1", "3a")."""
    import page

    report = page.validate_pdf_bytes(data, profile=profile)
    return [f"{f.rule_id}: {f.message}" for f in report.failures if f.rule_id not in PAGE_VALIDATION_ALLOWED]


def assert_page_valid(data: bytes, *profiles: str) -> None:
    """Zero unexplained page-validation failures under each profile."""
    for profile in profiles:
        assert page_validation_failures(data, profile) == [], profile


def outloud_findings(data: bytes) -> list[str]:
    """``rule severity: message`` for every error and warning outloud reports."""
    import outloud

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "checked.pdf"
        path.write_bytes(data)
        result = outloud.check(str(path))
    assert result.error is None, result.error
    return [
        f"{f.rule} {f.severity}: {f.message}"
        for f in result.findings
        if f.severity in ("error", "warning") and f.rule not in OUTLOUD_ALLOWED
    ]


def assert_outloud_clean(data: bytes) -> None:
    """No error or warning from outloud (and so none of :data:`OUTLOUD_NEVER`)."""
    assert outloud_findings(data) == []


def qpdf_check(data: bytes) -> None:
    """``qpdf --check`` must pass (skipped where qpdf is not installed; CI installs it)."""
    if shutil.which("qpdf") is None:
        pytest.skip("qpdf is not installed")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "file.pdf"
        path.write_bytes(data)
        result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def assert_conforms(data: bytes, archival: bool = False) -> None:
    """Every outside checker: PDF/UA-1 (and PDF/A-3a when archival), outloud, qpdf."""
    assert_page_valid(data, "ua1", *(["3a"] if archival else []))
    assert_outloud_clean(data)
    qpdf_check(data)
