"""Shared fixtures: each test works on its own copy of the sample project in tmp_path.

Tiers: ``pytest`` runs the fast tier; tests marked ``slow`` (crash sweeps, Dask,
browsers) run with ``pytest -m slow`` or ``pytest --full`` (everything, every
crash point: what CI runs).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from handouts import loading
from handouts.build import BuildOptions, build, plan
from handouts.render import HARMLESS_NOTICES

REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--full", action="store_true", help="run every test, slow ones included, every crash point")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: crash sweeps, Dask and browser tests (run with -m slow or --full)")
    config.addinivalue_line("markers", "expect_weasyprint_warnings: the test provokes WeasyPrint warnings on purpose")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without -m or --full, leave the slow tier out (and say so in the summary)."""
    if config.getoption("--full") or config.getoption("-m"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


@pytest.fixture(scope="session")
def full(request: pytest.FixtureRequest) -> bool:
    """True under ``--full``: sweeps try every point instead of a sample."""
    return bool(request.config.getoption("--full"))


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
    report = build(project, plan(project), BuildOptions(jobs=2, allow_drafts=True))
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
