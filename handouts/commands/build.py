"""``handouts build``: every clinic × topic × level that is out of date, then (optionally) FHIR."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..build import BuildOptions, BuildReport, Progress, build, early_workers, parse_shard, plan
from ..errors import Failed, HandoutsError, Interrupted
from ..models import Project


@dataclass
class BuildResult:
    """What ``build`` did, and the FHIR files written after it."""

    report: BuildReport
    fhir_files: list[Path] = field(default_factory=list)

    def error(self) -> HandoutsError | None:
        """The error the command ends with: interrupted, some handouts failed, or none."""
        if self.report.interrupted:
            return Interrupted("interrupted: finished handouts are kept and listed in the manifest")
        if self.report.failed:
            return Failed()
        return None


def run_build(
    project: Project,
    topics: Iterable[str] = (),
    clinics: Iterable[str] = (),
    levels: Iterable[str] = (),
    shard: str | None = None,
    options: BuildOptions | None = None,
    progress: Progress | None = None,
    fhir: bool = False,
    languages: Iterable[str] = (),
    editions: Iterable[str] = (),
) -> BuildResult:
    """Plan the (filtered) matrix, build what is out of date and, with ``fhir``, export FHIR JSON."""
    options = options or BuildOptions()
    early = early_workers(project, options)
    try:
        the_plan = plan(
            project,
            list(topics) or None,
            list(clinics) or None,
            list(levels) or None,
            parse_shard(shard) if shard else None,
            list(languages) or None,
            list(editions) or None,
        )
    except BaseException:
        if early is not None:
            early.close(kill=True)
        raise
    result = BuildResult(build(project, the_plan, options, progress, early))
    if fhir and not options.dry_run and not result.report.interrupted:
        from ..fhir import export

        result.fhir_files = export(project)
    return result
