"""``handouts check``: every check on the project, or on the named topics, clinics and levels."""

from __future__ import annotations

from collections.abc import Iterable

from .. import loading
from ..check import CheckReport, check_project
from ..errors import Failed
from ..models import Project


def run_check(
    project: Project, topics: Iterable[str] = (), clinics: Iterable[str] = (), levels: Iterable[str] = ()
) -> CheckReport:
    """Check what the filters name (each id must exist) and report every finding at once."""
    topics, clinics, levels = list(topics), list(clinics), list(levels)
    loading.select_ids("topic", topics, loading.topic_ids(project))
    loading.select_ids("clinic", clinics, loading.clinic_ids(project))
    loading.select_ids("level", levels, list(project.levels))
    return check_project(project, topics or None, clinics or None, levels or None)


def check_error(report: CheckReport, strict: bool) -> Failed | None:
    """The error ``check`` ends with: errors found (or warnings, when strict), or none."""
    return Failed() if report.failed(strict) else None
