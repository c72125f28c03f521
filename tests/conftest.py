"""Shared fixtures: each test works on its own copy of the sample project in tmp_path."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from handouts import loading
from handouts.build import BuildOptions, build, plan
from handouts.render import HARMLESS_NOTICES

REPO = Path(__file__).resolve().parent.parent


def copy_project(destination: Path) -> Path:
    """A private, writable copy of the repository's sample project."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO / "handouts.yaml", destination / "handouts.yaml")
    shutil.copytree(REPO / "content", destination / "content")
    shutil.copytree(REPO / "templates", destination / "templates")
    return destination


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable sample project; the test runs inside it and no test sees another's files."""
    root = copy_project(tmp_path / "project")
    monkeypatch.chdir(root)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    return root


@pytest.fixture(scope="session")
def built_samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every sample handout, built once per test session (read-only for tests)."""
    root = copy_project(tmp_path_factory.mktemp("samples") / "project")
    project = loading.load_project(root)
    report = build(project, plan(project), BuildOptions(jobs=2))
    assert report.ok, report.failed
    return project.output_dir


@pytest.fixture(autouse=True)
def no_weasyprint_warnings(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture):
    """Like WeasyPrint's own suite: a test that makes WeasyPrint warn fails, unless it is marked
    ``expect_weasyprint_warnings`` (tests of our refusal of broken resources)."""
    caplog.set_level(logging.WARNING, logger="weasyprint")
    yield
    warnings = [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("weasyprint") and not any(n in record.getMessage() for n in HARMLESS_NOTICES)
    ]
    if warnings and request.node.get_closest_marker("expect_weasyprint_warnings") is None:
        pytest.fail(f"WeasyPrint warned: {warnings}")
