"""Build stage: plan the clinic × topic × level matrix, render what is out of date,
write every file atomically and finish with ``manifest.json``.

Crash safety rests on two rules: a file only ever appears under its final name by
an atomic rename (:func:`outfolder.write_atomic`); and the manifest never lists a
file that is about to change (entries are dropped before their files are
rewritten). The manifest is checkpointed as work completes (every
:data:`CHECKPOINT_EVERY` outputs or :data:`CHECKPOINT_SECONDS`), so a killed build
loses at most that much: the next one redoes only what was not recorded.

This process never imports WeasyPrint: worker processes (``workers``) do. ``handouts
build`` starts them before it reads the topics (:func:`early_workers`), so they warm
up while this process plans and gates; when nothing is out of date they are killed
unused (no wait). A dry run starts none.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from . import __version__, loading, translations
from .check import GATE_REFUSAL, Gate
from .codes import severity
from .defaults import DEFAULT_TIMEOUT, DEFAULT_VARIANT
from .errors import Diagnostic, HandoutsError, UsageError
from .manifest import Entry, read_manifest, write_manifest
from .models import EDITIONS, Clinic, Job, Project, Topic
from .outfolder import file_sha256, inside, output_lock, output_name, remove_temporaries, write_atomic
from .templates import Templates
from .translations import Localized

if TYPE_CHECKING:
    from .workers import Outcome

# The manifest is rewritten after this many new outputs or this many seconds, whichever comes
# first (measured in bench/bench_checkpoint.py: a 10,000-entry manifest takes ~0.2 s to write).
CHECKPOINT_EVERY = 100
CHECKPOINT_SECONDS = 2.0
CHECKPOINT_SPACING = 20  # at least 20× the last write's duration between writes: ≤ 5 % of the time


@dataclass(frozen=True)
class Planned:
    """A job that is out of date and passed the gate: to be rendered."""

    job: Job
    input_key: str
    reading_grade: float | None


# ---------------------------------------------------------------- plan


@dataclass(frozen=True)
class Failure:
    """A handout (or a topic or clinic file) that could not be made, and why."""

    name: str
    diagnostics: tuple[Diagnostic, ...]
    headline: str = ""

    @property
    def message(self) -> str:
        """The headline (when there is one), then every diagnostic on its own line."""
        return "\n".join([*([self.headline] if self.headline else []), *map(str, self.diagnostics)])


@dataclass
class Plan:
    """The matrix after filters: jobs to consider and inputs that failed to load."""

    jobs: list[Job]
    topics: dict[str, Topic]  # the source topics, by id
    clinics: dict[str, Clinic]
    failures: list[Failure] = field(default_factory=list)
    # (topic, language) → the translated topic; None: no translation into that language
    localized: dict[tuple[str, str], Localized | None] = field(default_factory=dict)
    notes: list[Diagnostic] = field(default_factory=list)  # e.g. a language a topic has no translation into

    def topic(self, job: Job) -> Topic:
        """The job's topic in the job's language."""
        source = self.topics[job.topic]
        localized = self.localized.get((job.topic, job.language))
        return localized.topic if localized else source

    def untranslated(self, job: Job) -> list[Diagnostic]:
        """What keeps the job's text from being printed in its language (HL110), at the PO lines."""
        localized = self.localized.get((job.topic, job.language))
        return localized.problems(job.level) if localized else []


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


def plan(
    project: Project,
    topics: Iterable[str] | None = None,
    clinics: Iterable[str] | None = None,
    levels: Iterable[str] | None = None,
    shard: tuple[int, int] | None = None,
    languages: Iterable[str] | None = None,
    editions: Iterable[str] | None = None,
) -> Plan:
    """Load what the filters name and list the jobs (clinic × topic × level × language × edition);
    a file that fails to load fails its jobs only."""
    topic_ids = loading.select_ids("topic", topics, loading.topic_ids(project))
    clinic_ids = loading.select_ids("clinic", clinics, loading.clinic_ids(project))
    level_ids = loading.select_ids("level", levels, list(project.levels))
    wanted_languages = set(languages) if languages else None
    wanted_editions = set(loading.select_ids("edition", editions, list(EDITIONS))) if editions else None
    result = Plan(jobs=[], topics={}, clinics={})
    for kind, ids, load, into in (
        ("topic", topic_ids, loading.load_topic, result.topics),
        ("clinic", clinic_ids, loading.load_clinic, result.clinics),
    ):
        for item in ids:
            try:
                into[item] = load(project, item)
            except HandoutsError as error:  # a bad file or name fails its own handouts, never the build
                shown = project.relative(
                    project.content_dir / f"{item}.yaml" if kind == "topic" else project.clinics_dir / item
                )
                problems = tuple(error.diagnostics) or (Diagnostic(shown, 0, 0, str(error), "error", "HL015"),)
                result.failures.append(Failure(f"{kind} {item}", problems))
    owners: dict[str, Job] = {}
    for clinic in result.clinics.values():
        for source in result.topics.values():
            for language in clinic.printed_languages:
                if wanted_languages is not None and language not in wanted_languages:
                    continue
                topic = _in_language(project, result, source, language)
                if topic is None:
                    continue
                for level, edition in _levels_and_editions(project, clinic, level_ids, wanted_editions):
                    path = output_name(topic, clinic, level, edition)
                    job = Job(clinic.id, topic.id, level, language, path, edition)
                    if job.path in owners:
                        raise UsageError(f"{owners[job.path].name} and {job.name} would both write {job.path}")
                    owners[job.path] = job
                    if in_shard(job, shard):
                        result.jobs.append(job)
    result.jobs.sort(key=lambda job: job.path)
    return result


def _levels_and_editions(
    project: Project, clinic: Clinic, level_ids: list[str], wanted: set[str] | None
) -> list[tuple[str, str]]:
    chosen = [edition for edition in clinic.editions or project.editions if wanted is None or edition in wanted]
    return [(level, edition) for level in level_ids for edition in chosen]


def _in_language(project: Project, result: Plan, source: Topic, language: str) -> Topic | None:
    """The topic in ``language``: the source itself, its translation (complete or not: the gate
    decides per level), or None when it has no PO file for that language (noted, not an error)."""
    if language == source.language:
        return source
    key = (source.id, language)
    if key not in result.localized:
        if not translations.catalog_path(project, source.id, language).exists():
            shown = project.relative(translations.catalog_path(project, source.id, language))
            message = f"{source.id} has no translation into {language!r} ({shown}): not built in {language!r}"
            result.notes.append(Diagnostic(shown, 0, 0, message, "warning", "HL111"))
            result.localized[key] = None
        else:
            try:
                result.localized[key] = translations.localize(project, source, language)
            except HandoutsError as error:
                result.failures.append(Failure(f"translation {source.id}.{language}", tuple(error.diagnostics)))
                result.localized[key] = None
    localized = result.localized[key]
    return localized.topic if localized else None


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
            [f"handouts {__version__}", f"weasyprint {version('weasyprint')}", json.dumps(options, sort_keys=True)]
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
        """The input key of one job: common inputs, its path and level, its topic and its clinic's files."""
        clinic_files = [f"{self.project.relative(p)} {self._hash_file(p)}" for p in _files_under(clinic.folder)]
        sources = [topic.path, *([topic.translation.path] if topic.translation and topic.translation.path else [])]
        return self._combine([self._common, job.path, job.level, *map(self._hash_file, sources), *clinic_files])


def _files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


# ---------------------------------------------------------------- the build


@dataclass
class BuildOptions:
    """How to build: the command's options."""

    force: bool = False
    dry_run: bool = False
    prune: bool = False
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    pdf_variant: str = DEFAULT_VARIANT
    timeout: float = DEFAULT_TIMEOUT
    ignore_check: bool = False
    allow_drafts: bool = False
    thumbnails: bool = False
    scheduler: str | None = None  # a Dask distributed scheduler address

    def key_options(self) -> dict[str, str]:
        """The options that change what is made (part of every input key)."""
        return {
            "pdf_variant": self.pdf_variant,
            "ignore_check": str(self.ignore_check),
            "allow_drafts": str(self.allow_drafts),
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
    notes: list[Diagnostic] = field(default_factory=list)  # warnings: e.g. manifest entries ignored
    interrupted: bool = False

    def to_build_paths(self) -> set[str]:
        """Output paths of the handouts to (re)build."""
        return {job.path for job in self.to_build}

    @property
    def ok(self) -> bool:
        """Nothing failed and nobody interrupted."""
        return not self.failed and not self.interrupted


class Progress(Protocol):
    """Told how many handouts are planned, then of each one as it is built, skipped or failed."""

    def start(self, total: int) -> None:
        """``total`` handouts are planned."""

    def __call__(self, event: str, name: str) -> None:
        """``event`` is "built", "skipped" or "failed"; ``name`` is ``clinic/topic.level``."""


class _Silent:
    def start(self, total: int) -> None:
        pass

    def __call__(self, event: str, name: str) -> None:
        pass


def _stale_paths(project: Project, output_dir: Path, previous: dict[str, Entry]) -> list[str]:
    """Outputs whose topic, clinic or level no longer exists."""
    topics, clinics = set(loading.topic_ids(project)), set(loading.clinic_ids(project))
    stale = {
        path
        for path, entry in previous.items()
        if entry.topic not in topics or entry.clinic not in clinics or entry.level not in project.levels
    }
    for path in output_dir.glob("*/*.pdf"):
        relative = path.relative_to(output_dir).as_posix()
        if inside(output_dir, relative) is None:  # not our name, or behind a symbolic link
            continue
        clinic, topic, level = path.parent.name, *path.name.split(".")[:2]
        if clinic not in clinics or topic not in topics or level not in project.levels:
            stale.add(relative)
    return sorted(stale)


def build(
    project: Project,
    the_plan: Plan,
    options: BuildOptions | None = None,
    progress: Progress | None = None,
    workers=None,
) -> BuildReport:
    """Make every planned handout that is out of date; see the module docstring for the guarantees.
    ``workers``: a pool from :func:`early_workers`, used when anything is out of date, else stopped."""
    options = options or BuildOptions()
    try:
        return _build(project, the_plan, options, progress or _Silent(), workers)
    finally:
        if workers is not None:
            workers.close(kill=True)  # a no-op when they finished; never left running on an error


def _build(project: Project, the_plan: Plan, options: BuildOptions, notify: Progress, workers) -> BuildReport:
    notify.start(len(the_plan.jobs))
    report = BuildReport(failed=list(the_plan.failures), notes=list(the_plan.notes))
    output_dir = project.output_dir
    with output_lock(output_dir):
        remove_temporaries(output_dir)
        previous = read_manifest(output_dir, report.notes)
        keys = InputKeys(project, options.key_options())
        candidates = []
        for job in the_plan.jobs:
            input_key = keys.key(job, the_plan.topic(job), the_plan.clinics[job.clinic])
            if not options.force and is_up_to_date(output_dir, previous.get(job.path), input_key):
                report.skipped.append(job)
                notify("skipped", job.name)
            else:
                candidates.append((job, input_key))
        report.stale = _stale_paths(project, output_dir, previous)
        with _workers(project, options, len(candidates), workers) as pool:  # they warm up while the gate runs
            planned = _gate(project, the_plan, candidates, options, report, notify)
            report.to_build = [item.job for item in planned]
            if options.dry_run:
                return report
            _render_and_record(project, the_plan, planned, pool, options, report, previous, notify)
    return report


def _gate(
    project: Project, the_plan: Plan, candidates: list, options: BuildOptions, report: BuildReport, notify: Progress
) -> list[Planned]:
    """The candidates that pass the gate (or all, with ``ignore_check``); the others fail with the findings."""
    gate = Gate(project)
    planned = []
    for job, input_key in candidates:
        failure = refusal(the_plan, job, gate, options)
        if failure is not None:
            report.failed.append(failure)
            notify("failed", job.name)
        else:
            planned.append(Planned(job, input_key, gate.grade(the_plan.topic(job), job.level)))
    return planned


def refusal(the_plan: Plan, job: Job, gate: Gate, options: BuildOptions) -> Failure | None:
    """Why the gate refuses to print ``job`` (None: it may be printed): an incomplete translation,
    a draft without ``allow_drafts``, or check errors without ``ignore_check``."""
    topic, clinic = the_plan.topic(job), the_plan.clinics[job.clinic]
    untranslated = the_plan.untranslated(job)
    if untranslated:  # never printed half in English: every text of the level must be translated
        return Failure(job.name, tuple(untranslated), UNTRANSLATED)
    if topic.is_draft and not options.allow_drafts:
        return Failure(job.name, (_draft_refusal(gate.project, topic),))
    refused = gate.errors(topic, clinic, job.level)
    if refused and not options.ignore_check:
        return Failure(job.name, tuple(refused), GATE_REFUSAL)
    return None


UNTRANSLATED = "refused: not every text it prints is translated and current (see `handouts translate status`)"


def _draft_refusal(project: Project, topic: Topic) -> Diagnostic:
    """HL107: a draft is printed only on purpose, marked as a draft on every page."""
    where = topic.positions.get("status")
    message = (
        f"{topic.id} is a draft (status: draft; not medically reviewed): use --allow-drafts to print it"
        " marked as a draft on every page"
    )
    return Diagnostic(
        project.relative(topic.path),
        where.line if where else 0,
        where.column if where else 0,
        message,
        "error",
        "HL107",
    )


def _render_and_record(
    project: Project,
    the_plan: Plan,
    planned: list[Planned],
    workers,
    options: BuildOptions,
    report: BuildReport,
    previous: dict[str, Entry],
    notify: Progress,
) -> None:
    """Render the planned handouts, write each as it comes back, and keep the manifest true throughout."""
    output_dir = project.output_dir
    entries = {path: entry for path, entry in previous.items() if path not in report.to_build_paths()}
    if options.prune:
        entries = {path: entry for path, entry in entries.items() if path not in report.stale}
    if entries != previous:
        write_manifest(output_dir, entries)  # never list a file that is about to change
    by_path = {item.job.path: item for item in planned}
    checkpoint = _Checkpoint(output_dir, entries)
    try:
        for outcome in workers.run(_tasks(project, the_plan, planned, report, notify, options)):
            _record(output_dir, by_path[outcome.key], outcome, entries, report, notify)
            checkpoint.tick(outcome.result is not None)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        if options.prune and not report.interrupted:
            report.pruned = _prune(output_dir, report.stale)
        write_manifest(output_dir, entries)


class _Checkpoint:
    """Writes the manifest again after :data:`CHECKPOINT_EVERY` new outputs or :data:`CHECKPOINT_SECONDS`,
    but never sooner than :data:`CHECKPOINT_SPACING` times the last write took (a huge manifest is
    written less often: the cost stays under 5 % of the build)."""

    def __init__(self, output_dir: Path, entries: dict[str, Entry]):
        self.output_dir = output_dir
        self.entries = entries
        self.unsaved = 0
        self.saved_at = time.monotonic()
        self.last_write = 0.0

    def tick(self, added: bool) -> None:
        """One outcome came back (``added``: a new output was recorded)."""
        self.unsaved += added
        elapsed = time.monotonic() - self.saved_at
        due = self.unsaved >= CHECKPOINT_EVERY or elapsed >= CHECKPOINT_SECONDS
        if self.unsaved and due and elapsed >= CHECKPOINT_SPACING * self.last_write:
            started = time.monotonic()
            write_manifest(self.output_dir, self.entries)
            self.saved_at = time.monotonic()
            self.unsaved, self.last_write = 0, self.saved_at - started


def early_workers(project: Project, options: BuildOptions):
    """Local worker processes started before planning, so they import WeasyPrint and load fonts while this
    process reads the topics (None for a dry run or a Dask cluster). :func:`build` uses or stops them."""
    if options.dry_run or options.scheduler:
        return None
    from .workers import Pool, WorkerSettings

    pool = Pool(WorkerSettings(project, options.pdf_variant, options.thumbnails), options.jobs, options.timeout)
    pool.start()
    return pool


@contextmanager
def _workers(project: Project, options: BuildOptions, count: int, early=None) -> Iterator:
    """Worker processes (or a Dask cluster) for ``count`` handouts, started at once (or ``early``, already
    started); none for a dry run. WeasyPrint is imported by the workers themselves, never by this process."""
    if options.dry_run or not count:
        if early is not None:
            early.close(kill=True)  # nothing to render: never wait for a warm-up
        yield _NoWorkers()
        return
    if early is not None:
        with early:
            yield early
        return
    from .workers import DaskPool, Pool, WorkerSettings

    settings = WorkerSettings(project, options.pdf_variant, options.thumbnails)
    pool = (
        DaskPool(settings, options.scheduler, options.timeout)
        if options.scheduler
        else Pool(settings, min(options.jobs, count), options.timeout)
    )
    with pool:
        yield pool


class _NoWorkers:
    def run(self, tasks: Iterable) -> Iterator[Outcome]:
        return iter(())


def _tasks(
    project: Project,
    the_plan: Plan,
    planned: list[Planned],
    report: BuildReport,
    notify: Progress,
    options: BuildOptions,
) -> Iterator:
    """A worker task per planned handout: its HTML, made when a worker is about to be free. A handout
    whose HTML cannot be made (a template error) fails alone, here."""
    from .workers import Task

    templates = Templates(project)
    for item in planned:
        job = item.job
        view = templates.view(the_plan.topic(job), the_plan.clinics[job.clinic], job.level, job.edition)
        try:
            document = templates.document(view)
        except HandoutsError as error:
            report.failed.append(Failure(job.name, tuple(error.diagnostics)))
            notify("failed", job.name)
            continue
        yield Task(job.path, replace(document, max_pages=None) if options.ignore_check else document)


def is_up_to_date(output_dir: Path, entry: Entry | None, input_key: str) -> bool:
    """The entry's file is there, unchanged, made from these inputs (paths were checked on reading)."""
    return (
        entry is not None
        and entry.input_key == input_key
        and file_sha256(output_dir / entry.path) == entry.sha256
        and (entry.thumbnail is None or (output_dir / entry.thumbnail).is_file())
    )


def _record(
    output_dir: Path,
    planned: Planned,
    outcome: Outcome,
    entries: dict[str, Entry],
    report: BuildReport,
    notify: Progress,
) -> None:
    job = planned.job
    if outcome.result is None:
        report.failed.append(Failure(job.name, outcome.diagnostics))
        notify("failed", job.name)
        return
    data = outcome.result.data
    try:
        write_atomic(output_dir / job.path, data, root=output_dir)
    except HandoutsError as error:  # this output cannot be written; the others may
        report.failed.append(Failure(job.name, tuple(error.diagnostics)))
        notify("failed", job.name)
        return
    entry = Entry(
        clinic=job.clinic,
        topic=job.topic,
        level=job.level,
        language=job.language,
        path=job.path,
        bytes=len(data),
        pages=outcome.result.pages,
        sha256=hashlib.sha256(data).hexdigest(),
        input_key=planned.input_key,
        title=outcome.result.title,
        updated=outcome.result.updated,
        status=outcome.result.status,
        reading_grade=planned.reading_grade,
        thumbnail=_write_thumbnail(output_dir, job, outcome.thumbnail),
        edition=job.edition,
    )
    entries[job.path] = entry
    report.built.append(entry)
    report.notes.extend(layout_diagnostics(f"{output_dir.name}/{job.path}", outcome.result.layout))
    notify("built", job.name)


def layout_diagnostics(shown_as: str, findings: Iterable) -> list[Diagnostic]:
    """The layout lint's findings on one PDF as diagnostics (severity from the registry)."""
    return [Diagnostic(shown_as, 0, 0, finding.message, severity(finding.code), finding.code) for finding in findings]


def _write_thumbnail(output_dir: Path, job: Job, data: bytes | None) -> str | None:
    """``<clinic>/<topic>.<level>.<language>.png`` beside the PDF, written like every other file."""
    if data is None:
        return None
    relative = job.path[: -len(".pdf")] + ".png"
    write_atomic(output_dir / relative, data, root=output_dir)
    return relative


def _prune(output_dir: Path, stale: list[str]) -> list[str]:
    """Delete stale PDFs and their thumbnails."""
    removed = []
    for relative in stale:
        for name in (relative, relative[: -len(".pdf")] + ".png"):
            path = inside(output_dir, name)
            if path is not None and path.is_file():
                path.unlink()
                removed.append(name)
    return removed
