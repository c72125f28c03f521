"""Build stage: plan the clinic × topic × level matrix, render what is out of date,
write every file atomically and finish with ``manifest.json``.

Crash safety rests on two rules: a file only ever appears under its final name by
an atomic rename (:func:`outputs.write_atomic`); and the manifest never lists a
file that is about to change (entries are dropped before their files are
rewritten, and the full manifest is written last).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import weasyprint

from . import __version__, loading
from .check import Gate
from .errors import ConfigError, GateError, UsageError
from .models import Clinic, Job, Project, Topic
from .outputs import (
    Entry,
    file_sha256,
    output_lock,
    read_manifest,
    remove_temporaries,
    write_atomic,
    write_manifest,
)
from .render import DEFAULT_VARIANT, Renderer
from .resolve import Packet, resolve
from .workers import Outcome, Task, WorkerSettings, render_locally, render_on_dask

DEFAULT_TIMEOUT = 120


# ---------------------------------------------------------------- plan


@dataclass(frozen=True)
class Failure:
    name: str
    message: str


@dataclass
class Plan:
    """The matrix after filters: jobs to consider and inputs that failed to load."""

    jobs: list[Job]
    topics: dict[str, Topic]
    clinics: dict[str, Clinic]
    failures: list[Failure] = field(default_factory=list)


def output_name(topic: Topic, clinic: Clinic, level: str) -> str:
    """``<clinic>/<topic>.<level>.<language>.pdf``: ids only, never patient data."""
    return f"{clinic.id}/{topic.id}.{level}.{topic.language}.pdf"


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` with 1 ≤ K ≤ N."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard {text!r}: expected K/N, for example 2/4") from None
    if not 1 <= k <= n:
        raise UsageError(f"--shard {text!r}: K must be between 1 and N")
    return k, n


def in_shard(job: Job, shard: tuple[int, int] | None) -> bool:
    """Stable across runs and machines: decided by the output path alone."""
    if shard is None:
        return True
    k, n = shard
    digest = hashlib.sha256(job.path.encode()).digest()
    return int.from_bytes(digest[:8], "big") % n == k - 1


def select_ids(kind: str, wanted: Iterable[str] | None, available: list[str]) -> list[str]:
    """The ``wanted`` ids (each checked to exist), or all ``available`` ones when none are named."""
    wanted = list(wanted or [])
    for item in wanted:
        loading.check_id(kind, item)
        if item not in available:
            raise UsageError(f"no {kind} {item!r}; available: {', '.join(available) or 'none'}")
    return wanted or available


def plan(
    project: Project,
    topics: Iterable[str] | None = None,
    clinics: Iterable[str] | None = None,
    levels: Iterable[str] | None = None,
    shard: tuple[int, int] | None = None,
) -> Plan:
    """Load what the filters name and list the jobs; a file that fails to load fails its jobs only."""
    topic_ids = select_ids("topic", topics, loading.topic_ids(project))
    clinic_ids = select_ids("clinic", clinics, loading.clinic_ids(project))
    level_ids = select_ids("level", levels, list(project.levels))
    result = Plan(jobs=[], topics={}, clinics={})
    for kind, ids, load, into in (
        ("topic", topic_ids, loading.load_topic, result.topics),
        ("clinic", clinic_ids, loading.load_clinic, result.clinics),
    ):
        for item in ids:
            try:
                into[item] = load(project, item)
            except ConfigError as error:
                result.failures.append(Failure(f"{kind} {item}", str(error)))
    owners: dict[str, Job] = {}
    for clinic in result.clinics.values():
        for topic in result.topics.values():
            for level in level_ids:
                job = Job(clinic.id, topic.id, level, topic.language, output_name(topic, clinic, level))
                if job.path in owners:
                    raise UsageError(f"{owners[job.path].name} and {job.name} would both write {job.path}")
                owners[job.path] = job
                if in_shard(job, shard):
                    result.jobs.append(job)
    result.jobs.sort(key=lambda job: job.path)
    return result


# ---------------------------------------------------------------- input keys


class InputKeys:
    """Hash of everything that can change an output's bytes, with file hashes cached."""

    def __init__(self, project: Project, options: dict[str, str]):
        self.project = project
        self._file_hashes: dict[Path, str] = {}
        base_files = [
            path for path in _files_under(project.templates_dir) if not path.is_relative_to(project.clinics_dir)
        ]
        self._common = self._combine(
            [f"handouts {__version__}", f"weasyprint {weasyprint.__version__}", json.dumps(options, sort_keys=True)]
            + [self._hash_file(project.root / loading.PROJECT_FILE)]
            + [f"{project.relative(path)} {self._hash_file(path)}" for path in base_files]
        )

    def _hash_file(self, path: Path) -> str:
        if path not in self._file_hashes:
            self._file_hashes[path] = hashlib.sha256(path.read_bytes()).hexdigest()
        return self._file_hashes[path]

    @staticmethod
    def _combine(parts: list[str]) -> str:
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def key(self, job: Job, topic: Topic, clinic: Clinic) -> str:
        clinic_files = [f"{self.project.relative(p)} {self._hash_file(p)}" for p in _files_under(clinic.folder)]
        return self._combine([self._common, job.path, job.level, self._hash_file(topic.path), *clinic_files])


def _files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


# ---------------------------------------------------------------- the build


@dataclass
class BuildOptions:
    force: bool = False
    dry_run: bool = False
    prune: bool = False
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    pdf_variant: str = DEFAULT_VARIANT
    timeout: int = DEFAULT_TIMEOUT
    ignore_check: bool = False
    thumbnails: bool = False
    scheduler: str | None = None  # a Dask distributed scheduler address

    def key_options(self) -> dict[str, str]:
        """The options that change what is made (part of every input key)."""
        return {
            "pdf_variant": self.pdf_variant,
            "ignore_check": str(self.ignore_check),
            "thumbnails": str(self.thumbnails),
        }


@dataclass
class BuildReport:
    """What a build did (or, with ``dry_run``, would do)."""

    to_build: list[Job] = field(default_factory=list)
    built: list[Entry] = field(default_factory=list)
    skipped: list[Job] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    interrupted: bool = False

    def to_build_paths(self) -> set[str]:
        return {job.path for job in self.to_build}

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted


Progress = Callable[[str, str], None]  # (event, name): "built" | "skipped" | "failed"


def _stale_paths(project: Project, output_dir: Path, previous: dict[str, Entry]) -> list[str]:
    """Outputs whose topic, clinic or level no longer exists."""
    topics, clinics = set(loading.topic_ids(project)), set(loading.clinic_ids(project))
    stale = {
        path
        for path, entry in previous.items()
        if entry.topic not in topics or entry.clinic not in clinics or entry.level not in project.levels
    }
    for path in output_dir.glob("*/*.pdf"):
        clinic, topic, level = path.parent.name, *path.name.split(".")[:2]
        if clinic not in clinics or topic not in topics or level not in project.levels:
            stale.add(path.relative_to(output_dir).as_posix())
    return sorted(stale)


def build(
    project: Project, the_plan: Plan, options: BuildOptions | None = None, progress: Progress | None = None
) -> BuildReport:
    """Make every planned handout that is out of date; see the module docstring for the guarantees."""
    options = options or BuildOptions()
    notify = progress or (lambda event, name: None)
    report = BuildReport(failed=list(the_plan.failures))
    output_dir = project.output_dir
    with output_lock(output_dir):
        remove_temporaries(output_dir)
        previous = read_manifest(output_dir)
        keys = InputKeys(project, options.key_options())
        gate = Gate(project)
        tasks = []
        for job in the_plan.jobs:
            topic, clinic = the_plan.topics[job.topic], the_plan.clinics[job.clinic]
            input_key = keys.key(job, topic, clinic)
            if not options.force and _up_to_date(output_dir, previous.get(job.path), input_key):
                report.skipped.append(job)
                notify("skipped", job.name)
                continue
            refused = gate.errors(topic, clinic, job.level)
            if refused and not options.ignore_check:
                report.failed.append(Failure(job.name, gate_message(refused)))
                notify("failed", job.name)
                continue
            tasks.append(Task(job, topic, clinic, input_key, gate.grades[(topic.id, job.level)]))
        report.to_build = [task.job for task in tasks]
        report.stale = _stale_paths(project, output_dir, previous)
        if options.dry_run:
            return report
        entries = {path: entry for path, entry in previous.items() if path not in report.to_build_paths()}
        if options.prune:
            entries = {path: entry for path, entry in entries.items() if path not in report.stale}
        if entries != previous:
            write_manifest(output_dir, entries)  # never list a file that is about to change
        settings = WorkerSettings(project, options.pdf_variant, options.timeout, options.thumbnails)
        if options.scheduler and tasks:
            outcomes = render_on_dask(tasks, settings, options.scheduler)
        else:
            outcomes = render_locally(tasks, settings, options.jobs)
        try:
            for outcome in outcomes:
                _record(output_dir, outcome, entries, report, notify)
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            if options.prune and not report.interrupted:
                report.pruned = _prune(output_dir, report.stale)
            write_manifest(output_dir, entries)
    return report


def _up_to_date(output_dir: Path, entry: Entry | None, input_key: str) -> bool:
    return (
        entry is not None
        and entry.input_key == input_key
        and file_sha256(output_dir / entry.path) == entry.sha256
        and (entry.thumbnail is None or (output_dir / entry.thumbnail).is_file())
    )


def _record(
    output_dir: Path, outcome: Outcome, entries: dict[str, Entry], report: BuildReport, notify: Progress
) -> None:
    job = outcome.task.job
    if outcome.result is None:
        report.failed.append(Failure(job.name, outcome.error or "unknown error"))
        notify("failed", job.name)
        return
    data = outcome.result.data
    write_atomic(output_dir / job.path, data)
    entry = Entry(
        clinic=job.clinic,
        topic=job.topic,
        level=job.level,
        language=job.language,
        path=job.path,
        bytes=len(data),
        pages=outcome.result.pages,
        sha256=hashlib.sha256(data).hexdigest(),
        input_key=outcome.task.input_key,
        title=outcome.result.title,
        reviewed=outcome.task.topic.reviewed.isoformat(),
        reading_grade=outcome.task.reading_grade,
        thumbnail=_write_thumbnail(output_dir, job, outcome.thumbnail),
    )
    entries[job.path] = entry
    report.built.append(entry)
    notify("built", job.name)


def _write_thumbnail(output_dir: Path, job: Job, data: bytes | None) -> str | None:
    """``<clinic>/<topic>.<level>.<language>.png`` beside the PDF, written like every other file."""
    if data is None:
        return None
    relative = job.path[: -len(".pdf")] + ".png"
    write_atomic(output_dir / relative, data)
    return relative


def _prune(output_dir: Path, stale: list[str]) -> list[str]:
    """Delete stale PDFs and their thumbnails."""
    removed = []
    for relative in stale:
        for path in (output_dir / relative, (output_dir / relative).with_suffix(".png")):
            if path.is_file():
                path.unlink()
                removed.append(path.relative_to(output_dir).as_posix())
    return removed


def gate_message(errors: list) -> str:
    lines = "\n".join(str(error) for error in errors)
    return f"refused: it does not pass 'handouts check' (use --ignore-check to make it anyway)\n{lines}"


def _load_checked(
    project: Project, topic_ids: list[str], clinic_id: str, level: str, ignore_check: bool, what: str
) -> tuple[dict[str, Topic], Clinic]:
    """Load the topics and the clinic, then run the gate for every topic (see README, "The gate")."""
    if level not in project.levels:
        raise UsageError(f"no level {level!r}; available: {', '.join(project.levels)}")
    topics, clinics = loading.load_all(project, topic_ids, [clinic_id])
    clinic, gate = clinics[clinic_id], Gate(project)
    refused = list(dict.fromkeys(e for topic_id in topic_ids for e in gate.errors(topics[topic_id], clinic, level)))
    if refused and not ignore_check:
        raise GateError(f"{what} × {clinic_id} × {level}: " + gate_message(refused), refused)
    return topics, clinic


def render_one(
    project: Project,
    topic_id: str,
    clinic_id: str,
    level: str,
    pdf_variant: str = DEFAULT_VARIANT,
    ignore_check: bool = False,
):
    """Load, check and resolve a single handout; returns ``(handout, renderer)`` ready for html()/pdf().

    Raises :class:`GateError` when the handout fails ``handouts check`` and ``ignore_check`` is false.
    """
    topics, clinic = _load_checked(project, [topic_id], clinic_id, level, ignore_check, topic_id)
    return resolve(project, topics[topic_id], clinic, level), Renderer(project, pdf_variant)


def packet_one(
    project: Project,
    topic_ids: list[str],
    clinic_id: str,
    level: str,
    pdf_variant: str = DEFAULT_VARIANT,
    ignore_check: bool = False,
) -> tuple[Packet, Renderer]:
    """Load, check and resolve several topics into one packet (see :func:`render_one`)."""
    if len(set(topic_ids)) != len(topic_ids):
        raise UsageError("a packet lists each topic once")
    topics, clinic = _load_checked(project, topic_ids, clinic_id, level, ignore_check, "packet")
    handouts = tuple(resolve(project, topics[topic_id], clinic, level) for topic_id in topic_ids)
    return Packet(clinic, project.levels[level], handouts), Renderer(project, pdf_variant)
