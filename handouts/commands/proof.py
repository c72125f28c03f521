"""``handouts check --layout``: lay out every handout ``check`` covered, as ``render`` would, and lint the
pages (nothing is written). Adds what only layout shows: the page budget (HL106) and the layout lint
(HL501–HL506)."""

from __future__ import annotations

import os

from .. import loading
from ..build import layout_diagnostics
from ..check import CheckReport
from ..defaults import DEFAULT_TIMEOUT, DEFAULT_VARIANT
from ..errors import HandoutsError
from ..models import Project
from ..templates import Templates
from ..views import handout_view


def proof(
    project: Project,
    report: CheckReport,
    topics: list[str] | None = None,
    clinics: list[str] | None = None,
    levels: list[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> None:
    """Render each clinic × topic × level in worker processes and add their layout findings to ``report``."""
    from ..workers import Pool, WorkerSettings

    tasks = list(_tasks(project, topics, clinics, levels))
    if not tasks:
        return
    with Pool(WorkerSettings(project, DEFAULT_VARIANT), min(os.cpu_count() or 1, len(tasks)), timeout) as pool:
        for outcome in pool.run(tasks):
            if outcome.result is None:
                report.findings.extend(outcome.diagnostics)
            else:
                report.findings.extend(layout_diagnostics(outcome.key, outcome.result.layout))


def _tasks(project: Project, topics: list[str] | None, clinics: list[str] | None, levels: list[str] | None):
    """A task per handout whose topic and clinic load and whose HTML renders (the others are reported by check)."""
    from ..workers import Task

    templates = Templates(project)
    loaded_topics = [
        t for t in (_load(loading.load_topic, project, i) for i in topics or loading.topic_ids(project)) if t
    ]
    for clinic_id in clinics or loading.clinic_ids(project):
        clinic = _load(loading.load_clinic, project, clinic_id)
        for topic in loaded_topics if clinic else ():
            for level in levels or list(project.levels):
                try:
                    document = templates.document(handout_view(project, topic, clinic, level))
                except HandoutsError:
                    continue
                yield Task(f"{clinic.id}/{topic.id}.{level}.pdf", document)


def _load(load, project: Project, item_id: str):
    try:
        return load(project, item_id)
    except HandoutsError:
        return None
