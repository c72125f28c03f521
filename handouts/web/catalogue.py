"""What the server offers: every handout the project can make, found by words and filters.

A :class:`Catalogue` is the project as it was when it was read: ``build``'s plan (so the
server offers exactly what ``build`` would make), each handout's input key, and the files
``build`` made that are still current. The server reads a new one after any file changes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from .. import build, loading
from ..check import Gate, check_project
from ..errors import Diagnostic, GateError, NotFound, UsageError
from ..fields import check_id
from ..manifest import MANIFEST, read_manifest
from ..models import Clinic, Job, Project
from ..templates import Document, Templates
from ..views import Packet, Personal

EDITIONS = ("regular", "large")


@dataclass(frozen=True)
class Wanted:
    """The filters of the find page; empty: any."""

    query: str = ""
    clinic: str = ""
    level: str = ""
    language: str = ""
    edition: str = "regular"


@dataclass(frozen=True)
class Found:
    """One topic on the find page: its title and synonyms in the chosen language, and its handouts
    (one per level) for the chosen clinic, language and edition."""

    topic: str
    title: str
    synonyms: tuple[str, ...]
    jobs: tuple[Job, ...]
    draft: bool


@dataclass
class Catalogue:
    """The project, its plan, its input keys and its current build output, as read at one moment."""

    project: Project
    options: build.BuildOptions
    plan: build.Plan = field(init=False)

    def __post_init__(self) -> None:
        self.plan = build.plan(self.project)
        self.jobs = {(j.clinic, j.topic, j.level, j.language, j.edition): j for j in self.plan.jobs}

    @classmethod
    def read(cls, root: Path, options: build.BuildOptions) -> Catalogue:
        """Read the project at ``root`` (raises :class:`HandoutsError` when handouts.yaml is broken)."""
        return cls(loading.load_project(root), options)

    @cached_property
    def templates(self) -> Templates:
        """The project's templates (made once per catalogue)."""
        return Templates(self.project)

    @cached_property
    def gate(self) -> Gate:
        """The gate, as ``build`` runs it (made once per catalogue)."""
        return Gate(self.project)

    @cached_property
    def _keys(self) -> build.InputKeys:
        return build.InputKeys(self.project, self.options.key_options())

    def _entries(self) -> dict:
        """The manifest's entries, read again when ``build`` has written it since."""
        path = self.project.output_dir / MANIFEST
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return {}
        if getattr(self, "_manifest", (None, None))[0] != stamp:
            self._manifest = (stamp, read_manifest(self.project.output_dir, []))
        return self._manifest[1]

    # ------------------------------------------------------------ choosing

    @property
    def clinics(self) -> list[Clinic]:
        """The clinics that loaded, by id."""
        return [self.plan.clinics[key] for key in sorted(self.plan.clinics)]

    @property
    def languages(self) -> list[str]:
        """Every language some clinic prints, in the order the clinics list them."""
        return list(dict.fromkeys(lang for clinic in self.clinics for lang in clinic.printed_languages))

    def defaults(self, wanted: Wanted, clinic: str = "") -> Wanted:
        """``wanted`` with a clinic (``clinic``, else the first) and a language (the clinic's first) filled in."""
        clinic = wanted.clinic or clinic or (self.clinics[0].id if self.clinics else "")
        language = wanted.language
        if clinic in self.plan.clinics and language not in self.plan.clinics[clinic].printed_languages:
            language = self.plan.clinics[clinic].printed_languages[0]
        return replace(wanted, clinic=clinic, language=language)

    def validate(self, wanted: Wanted) -> Wanted:
        """Refuse filters that name nothing (ids are checked as on the command line)."""
        if wanted.clinic:
            self.known("clinic", wanted.clinic, list(self.plan.clinics))
        if wanted.level:
            self.known("level", wanted.level, list(self.project.levels))
        if wanted.language:
            self.known("language", wanted.language, self.languages)
        self.known("edition", wanted.edition, list(EDITIONS))
        if len(wanted.query) > 200:
            raise UsageError("search: use fewer than 200 characters")
        return wanted

    @staticmethod
    def known(kind: str, value: str, available: list[str]) -> None:
        """Refuse ``value`` unless it is a valid id among ``available``."""
        check_id(kind, value)
        if value not in available:
            raise NotFound(f"no {kind} {value!r}; available: {', '.join(available) or 'none'}")

    def job(self, clinic: str, topic: str, level: str, language: str, edition: str) -> Job:
        """The handout these ids name; :class:`NotFound` (or :class:`UsageError` for a bad id) if none."""
        for kind, value in (("clinic", clinic), ("topic", topic), ("level", level), ("language", language)):
            check_id(kind, value)
        self.known("edition", edition, list(EDITIONS))
        job = self.jobs.get((clinic, topic, level, language, edition))
        if job is None:
            raise NotFound(f"{clinic} does not offer {topic} at level {level!r} in {language!r} ({edition} edition)")
        return job

    def find(self, wanted: Wanted) -> list[Found]:
        """Topics whose title, synonyms or id hold every word of the query (best matches first)."""
        words = _folded(wanted.query).split()
        levels = [level for level in self.project.levels if not wanted.level or level == wanted.level]
        by_topic: dict[str, list[Job]] = {}
        for level in levels:  # the project's order of levels
            for topic_id in sorted(self.plan.topics):
                job = self.jobs.get((wanted.clinic, topic_id, level, wanted.language, wanted.edition))
                if job is not None:
                    by_topic.setdefault(topic_id, []).append(job)
        found = []
        for topic_id, listed in sorted(by_topic.items()):
            jobs = tuple(listed)
            topic = self.plan.topic(jobs[0])
            source = self.plan.topics[topic_id]
            title = topic.titles.get(jobs[0].level) or next(iter(topic.titles.values()))
            names = [title, *source.titles.values(), *topic.synonyms, *source.synonyms, topic_id]
            haystack = " ".join(_folded(name) for name in names)
            if all(word in haystack for word in words):
                rank = 0 if not words or _folded(title).startswith(words[0]) else 1
                synonyms = tuple(dict.fromkeys([*topic.synonyms, *source.synonyms]))
                found.append((rank, Found(topic_id, title, synonyms, jobs, topic.is_draft)))
        return [item for _, item in sorted(found, key=lambda pair: (pair[0], pair[1].title))]

    # ------------------------------------------------------------ giving

    def key(self, job: Job) -> str:
        """The job's input key: what ``build`` would record for it."""
        return self._keys.key(job, self.plan.topic(job), self.plan.clinics[job.clinic])

    def built(self, job: Job) -> Path | None:
        """The file ``build`` made for ``job``, when it is there, intact, and made from today's inputs."""
        entry = self._entries().get(job.path)
        if entry is not None and build.is_up_to_date(self.project.output_dir, entry, self.key(job)):
            return self.project.output_dir / entry.path
        return None

    def refusal(self, job: Job) -> build.Failure | None:
        """Why ``build`` would refuse to print ``job`` (None: it may be given to a patient)."""
        return build.refusal(self.plan, job, self.gate, self.options)

    def require_givable(self, job: Job) -> None:
        """Raise :class:`GateError` with the gate's findings unless ``job`` may be given to a patient."""
        failure = self.refusal(job)
        if failure is not None:
            raise GateError(failure.message, list(failure.diagnostics))

    def document(self, job: Job, personal: Personal | None = None) -> Document:
        """The HTML of one handout (personalised when ``personal`` is given)."""
        view = self.templates.view(self.plan.topic(job), self.plan.clinics[job.clinic], job.level, job.edition)
        if personal is not None:
            personal = replace(personal, language=view.language)
        return self.templates.document(view, personal)

    def packet(self, jobs: list[Job]) -> Document:
        """The HTML of a packet of ``jobs`` (one clinic, level, language and edition)."""
        first = jobs[0]
        views = tuple(
            self.templates.view(self.plan.topic(job), self.plan.clinics[job.clinic], job.level, job.edition)
            for job in jobs
        )
        return self.templates.document(Packet(views[0].clinic, self.project.levels[first.level], views))

    def findings(self, job: Job) -> list[Diagnostic]:
        """What ``check`` finds in the job's topic, clinic and level, most serious first."""
        report = check_project(self.project, [job.topic], [job.clinic], [job.level])
        return sorted(report.sorted_findings(), key=lambda d: d.severity != "error")


def load_failures(catalogue: Catalogue) -> list[Diagnostic]:
    """Diagnostics of the topic, clinic and translation files that failed to load."""
    return [d for failure in catalogue.plan.failures for d in failure.diagnostics]


def _folded(text: str) -> str:
    """Text for matching: case and accents folded (so 'esclerosis' finds 'Esclerosis')."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))
