"""``handouts check --layout``: lay out every handout ``check`` covered, as ``render`` would, and lint the
pages (nothing is written). Adds what only layout shows: the page budget (HL106) and the layout lint
(HL501–HL506)."""

from __future__ import annotations

import os

from ..build import layout_diagnostics, plan
from ..check import CheckReport
from ..defaults import DEFAULT_TIMEOUT, DEFAULT_VARIANT
from ..errors import HandoutsError
from ..models import Project
from ..templates import Templates


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
    """A task per handout ``build`` would make (every language and edition) whose topic and clinic load,
    whose translation is complete and whose HTML renders (the others are reported by check)."""
    from ..workers import Task

    templates = Templates(project)
    the_plan = plan(project, topics, clinics, levels)
    for job in the_plan.jobs:
        if the_plan.untranslated(job):
            continue
        try:
            view = templates.view(the_plan.topic(job), the_plan.clinics[job.clinic], job.level, job.edition)
            document = templates.document(view)
        except HandoutsError:
            continue
        yield Task(job.path, document)
