"""Check stage: everything a patient-education team gates on before printing.

Structure (the loader's findings plus cross-references), readability per topic ×
level, plain-language rules and clinic branding. Findings carry stable codes
from :mod:`handouts.codes` and a file:line:column. ``build`` and ``render`` ask
a :class:`Gate` for the errors of what they are about to make.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from . import branding, lexicon, loading, markup, readability, templates
from .branding import contrast_ratio
from .codes import ERROR, WARNING, severity
from .errors import ConfigError, Diagnostic, HandoutsError
from .inputs import read_text
from .markup import term_is_used
from .models import Clinic, Level, Position, Project, Topic
from .views import handout_view

__all__ = ["CheckReport", "Gate", "check_project", "contrast_ratio", "gate_message"]

MAX_LIST_ITEMS = 7
NUMBERS = re.compile(r"\d\s*%|\bper\s?cent\b|\b\d+/\d+\b|\b\d+\.\d+\b", re.IGNORECASE)
CALL_TO_ACTION = re.compile(r"\b(call|phone|contact|go to|seek|get help|visit|see a|see your|emergency)\b", re.I)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _finding(position: Position, code: str, message: str) -> Diagnostic:
    """A finding with its code's severity from the registry."""
    return Diagnostic(position.path, position.line, position.column, message, severity(code), code)


# ---------------------------------------------------------------- report


@dataclass(frozen=True)
class Measured:
    """Readability of one topic at one level, with the limit it is held to."""

    scores: readability.LevelScores
    max_grade: float

    def as_dict(self) -> dict:
        """The JSON shape of one ``readability`` entry."""
        return {
            "topic": self.scores.topic,
            "level": self.scores.level,
            "max_grade": self.max_grade,
            **self.scores.whole.as_dict(),
            "sections": {name: scores.as_dict() for name, scores in self.scores.sections.items()},
        }


@dataclass
class CheckReport:
    """Everything ``check`` found and measured."""

    findings: list[Diagnostic] = field(default_factory=list)
    measured: list[Measured] = field(default_factory=list)
    files: set[str] = field(default_factory=set)

    @property
    def errors(self) -> list[Diagnostic]:
        """Findings of severity error."""
        return [finding for finding in self.findings if finding.severity == ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        """Findings of severity warning."""
        return [finding for finding in self.findings if finding.severity == WARNING]

    def failed(self, strict: bool = False) -> bool:
        """True when there are errors (or, with ``strict``, warnings)."""
        return bool(self.errors or (strict and self.warnings))

    def sorted_findings(self) -> list[Diagnostic]:
        """Findings by file, line, column and code."""
        return sorted(self.findings, key=lambda f: (f.path, f.line, f.column, f.code, f.message))

    def summary(self) -> str:
        """``N error(s), M warning(s) in K file(s)``."""
        return f"{len(self.errors)} error(s), {len(self.warnings)} warning(s) in {len(self.files)} file(s)"

    def as_json(self) -> dict:
        """The documented JSON shape (README, "check --format json")."""
        return {
            "version": 1,
            "summary": {"errors": len(self.errors), "warnings": len(self.warnings), "files": len(self.files)},
            "findings": [finding.as_dict() for finding in self.sorted_findings()],
            "readability": [measured.as_dict() for measured in self.measured],
        }


# ---------------------------------------------------------------- topics


def jargon_terms(project: Project) -> tuple[str, ...]:
    """The shipped jargon list plus the project's own ``jargon:`` words."""
    shipped = (lexicon.DATA / "jargon-en.txt").read_text(encoding="utf-8")
    words = [line.strip().lower() for line in shipped.splitlines() if line.strip() and not line.startswith("#")]
    return tuple(dict.fromkeys([*words, *project.jargon]))


def check_topic(
    project: Project, topic: Topic, levels: Iterable[str], today: dt.date | None = None
) -> tuple[list[Diagnostic], list[Measured]]:
    """Cross-references, readability and plain-language rules of one loaded topic."""
    findings: list[Diagnostic] = []
    shown_as = project.relative(topic.path)
    top = Position(shown_as, 1, 1)
    at = lambda key: topic.positions.get(key, top)  # noqa: E731 - a short local lookup
    today = today or dt.date.today()
    if topic.next_review and topic.next_review < today:
        findings.append(_finding(at("next_review"), "HL014", f"next_review {topic.next_review} has passed"))
    all_text = " ".join(text.markdown for section in topic.sections.values() for text in section.texts.values())
    for term in topic.glossary:
        if not term_is_used(term, all_text):
            findings.append(_finding(at(f"glossary.{term}"), "HL012", f"glossary term {term!r} is never used"))
    for section_id, code in (("key_points", "HL206"), ("when_to_get_help", "HL205")):
        if section_id not in topic.sections:
            findings.append(_finding(at("sections"), code, f"add a {section_id} section"))
    jargon = jargon_terms(project)
    measured = []
    for level_id in levels:
        level = project.levels[level_id]
        scores = readability.measure(topic, level_id)
        measured.append(Measured(scores, level.max_grade))
        findings.extend(_grade_findings(topic, level, scores, at("title"), at))
        findings.extend(_plain_language_findings(topic, level, jargon))
    findings.extend(_rising_grades(measured, at("title")))
    return findings, measured


def _grade_findings(topic, level: Level, scores: readability.LevelScores, title_at: Position, at) -> list[Diagnostic]:
    found = []
    whole = scores.whole
    if whole.grade > level.max_grade:
        found.append(
            _finding(
                title_at,
                "HL101",
                f"level {level.id!r} reads at grade {whole.grade:.1f} (Flesch-Kincaid {whole.flesch_kincaid_grade:.1f},"
                f" SMOG {whole.smog_index:.1f}); its max_grade is {level.max_grade:g}",
            )
        )
    for section_id, section_scores in scores.sections.items():
        grade = section_scores.flesch_kincaid_grade
        if grade > level.max_grade:
            position = topic.sections[section_id].for_level(level.id).position
            found.append(
                _finding(
                    position,
                    "HL102",
                    f"sections.{section_id} at level {level.id!r} reads at grade {grade:.1f} (Flesch-Kincaid);"
                    f" max_grade is {level.max_grade:g}",
                )
            )
    return found


def _rising_grades(measured: list[Measured], title_at: Position) -> list[Diagnostic]:
    found = []
    for lower, higher in itertools.pairwise(measured):
        if higher.scores.whole.grade <= lower.scores.whole.grade:
            found.append(
                _finding(
                    title_at,
                    "HL103",
                    f"level {higher.scores.level!r} (grade {higher.scores.whole.grade:.1f}) does not read harder than"
                    f" {lower.scores.level!r} (grade {lower.scores.whole.grade:.1f})",
                )
            )
    return found


def _plain_language_findings(topic: Topic, level: Level, jargon: tuple[str, ...]) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    seen_texts: set[int] = set()
    for section_id, section in topic.sections.items():
        text = section.for_level(level.id)
        where = f"sections.{section_id}"
        if section_id == "when_to_get_help" and not CALL_TO_ACTION.search(text.markdown):
            found.append(_finding(text.position, "HL205", f"{where}: say what to do, e.g. 'Call us' or 'Go to'"))
        if id(text) in seen_texts:
            continue  # one text shared by several levels: report each problem once per level
        seen_texts.add(id(text))
        found.extend(_text_findings(text.markdown, text.position, where, level))
        if level.plain_language:
            found.extend(_jargon_findings(text.markdown, text.position, where, level, topic.glossary, jargon))
    return found


def _line(position: Position, offset: int) -> Position:
    return Position(position.path, position.line + offset, 0)


def _text_findings(markdown: str, position: Position, where: str, level: Level) -> list[Diagnostic]:
    found = []
    for block in markup.to_blocks(markdown):
        for sentence in SENTENCE_END.split(block.text):
            words = len(sentence.split())
            if level.max_sentence_words and words > level.max_sentence_words:
                found.append(
                    _finding(
                        _line(position, block.line_offset),
                        "HL201",
                        f"{where}: a {words}-word sentence at level {level.id!r} (max {level.max_sentence_words}):"
                        f" {sentence[:60]!r}",
                    )
                )
        if level.plain_language and (match := NUMBERS.search(block.text)):
            found.append(
                _finding(
                    _line(position, block.line_offset),
                    "HL203",
                    f"{where}: {match.group(0)!r} at level {level.id!r}; say it in words (e.g. 'most people')",
                )
            )
    for info in markup.lists(markdown):
        if info.items > MAX_LIST_ITEMS:
            found.append(
                _finding(
                    _line(position, info.line_offset),
                    "HL202",
                    f"{where}: a list of {info.items} items at level {level.id!r}; keep lists to {MAX_LIST_ITEMS}",
                )
            )
    return found


def _jargon_findings(markdown, position, where, level: Level, glossary: dict[str, str], jargon) -> list[Diagnostic]:
    explained = {term.lower() for term in glossary}
    found = []
    for block in markup.to_blocks(markdown):
        for term in jargon:
            if term in explained or not term_is_used(term, block.text):
                continue
            if any(term_is_used(term, known) or term_is_used(known, term) for known in explained):
                continue  # "spinal fusion" explained covers "fusion" and the other way round
            found.append(
                _finding(
                    _line(position, block.line_offset),
                    "HL204",
                    f"{where}: {term!r} at level {level.id!r} needs a glossary entry",
                )
            )
            explained.add(term)  # report each word once per text
    return found


# ---------------------------------------------------------------- clinics


def check_clinic(project: Project, clinic: Clinic) -> list[Diagnostic]:
    """Contrast of the clinic's colours (variables and clinic.css), its logo, and every template it uses."""
    try:
        palette = branding.clinic_palette(project, clinic)
    except ConfigError as error:
        return list(error.diagnostics)
    return [
        *branding.palette_findings(project, clinic, palette),
        *branding.stylesheet_findings(project, clinic, palette),
        *branding.stylesheet_resource_findings(project, clinic),
        *branding.logo_findings(project, clinic),
        *check_templates(project, clinic),
    ]


def check_templates(project: Project, clinic: Clinic) -> list[Diagnostic]:
    """Compile every template on the clinic's search path (its overrides, then the base)."""
    environment = templates.environment(project, clinic)
    findings = []
    for name in templates.template_names(project, clinic):
        try:
            environment.get_template(name)
        except ConfigError as error:
            findings.extend(error.diagnostics)
        except jinja2.TemplateSyntaxError as error:
            where = Position(project.relative(Path(error.filename)) if error.filename else name, error.lineno or 0)
            findings.append(_finding(where, "HL011", f"template syntax error: {error.message}"))
    return findings


def template_texts(project: Project, clinic: Clinic) -> list[tuple[Path, str]]:
    """The text of every template the clinic's handouts are made from (for the glyph check)."""
    texts = []
    for name in templates.template_names(project, clinic):
        for folder in (clinic.folder, project.templates_dir):
            path = folder / name
            if path.is_file():
                with contextlib.suppress(ConfigError):  # reported by check_templates
                    texts.append((path, read_text(path, project.relative(path), project.limits.template, folder)))
                break
    return texts


def check_printing(project: Project, topic: Topic, clinic: Clinic, texts: list[tuple[Path, str]]) -> list[Diagnostic]:
    """Characters of the topic, the clinic and its templates (``texts``) that no shipped font prints (HL305)."""
    own = [(path, path.read_text(encoding="utf-8")) for path in (topic.path, clinic.folder / "clinic.yaml")]
    return branding.glyph_findings(project, clinic, [*own, *texts])


def check_rendering(project: Project, topic: Topic, clinic: Clinic, levels: Iterable[str]) -> list[Diagnostic]:
    """Render the HTML of each level as ``render`` would: template errors, sandbox refusals, attachments,
    accessibility problems (HL401, HL016, HL402, HL404) are found here first."""
    maker = templates.Templates(project)
    findings = []
    for level in levels:
        try:
            html = maker.html(handout_view(project, topic, clinic, level))
        except HandoutsError as error:
            findings.extend(error.diagnostics)
            continue
        shown_as = Position(project.relative(topic.path))
        for refused in templates.resource_problems(project, clinic, (topic.id,), html):
            findings.append(_finding(shown_as, "HL402", f"{topic.id} × {clinic.id} × {level}: {refused.message}"))
    return findings


# ---------------------------------------------------------------- whole project


def check_project(
    project: Project,
    topics: Iterable[str] | None = None,
    clinics: Iterable[str] | None = None,
    levels: Iterable[str] | None = None,
    today: dt.date | None = None,
) -> CheckReport:
    """Run every check on the project (or the named subset) and report all findings at once."""
    report = CheckReport()
    level_ids = list(levels or project.levels)
    topic_ids = list(topics) if topics else _all_ids(project, report, "topic")
    clinic_ids = list(clinics) if clinics else _all_ids(project, report, "clinic")
    report.files.add(loading.PROJECT_FILE)
    loaded_topics = []
    for topic_id in topic_ids:
        report.files.add(project.relative(project.content_dir / f"{topic_id}.yaml"))
        try:
            topic = loading.load_topic(project, topic_id)
        except HandoutsError as error:
            report.findings.extend(error.diagnostics)
            continue
        loaded_topics.append(topic)
        findings, measured = check_topic(project, topic, level_ids, today)
        report.findings.extend(findings)
        report.measured.extend(measured)
    for clinic_id in clinic_ids:
        report.files.add(project.relative(project.clinics_dir / clinic_id / "clinic.yaml"))
        try:
            clinic = loading.load_clinic(project, clinic_id)
        except HandoutsError as error:
            report.findings.extend(error.diagnostics)
            continue
        report.findings.extend(check_clinic(project, clinic))
        report.findings.extend(_check_handouts(project, loaded_topics, clinic, level_ids))
    return report


def _check_handouts(project: Project, topics: list[Topic], clinic: Clinic, levels: list[str]) -> list[Diagnostic]:
    """What only shows when a clinic's handouts are made: glyphs and rendered templates, each reported once."""
    texts = template_texts(project, clinic)
    findings = []
    for topic in topics:
        findings.extend(check_printing(project, topic, clinic, texts))
        findings.extend(check_rendering(project, topic, clinic, levels))
    return list(dict.fromkeys(findings))


def _all_ids(project: Project, report: CheckReport, kind: str) -> list[str]:
    """Every topic file / clinic folder; names that are not safe ids are findings, not crashes."""
    if kind == "topic":
        names = sorted(path.stem for path in project.content_dir.glob("*.yaml"))
        path_of = lambda name: project.content_dir / f"{name}.yaml"  # noqa: E731
    else:
        names = loading.clinic_ids(project)
        path_of = lambda name: project.clinics_dir / name  # noqa: E731
    safe = []
    for name in names:
        if loading.SLUG.match(name):
            safe.append(name)
        else:
            position = Position(project.relative(path_of(name)))
            report.findings.append(_finding(position, "HL015", f"{kind} id {name!r} is not valid: {loading.SLUG_RULE}"))
    return safe


# ---------------------------------------------------------------- the gate


class Gate:
    """The errors that stop ``build``/``render`` from making one handout; computed once per topic and clinic."""

    def __init__(self, project: Project):
        self.project = project
        self._topics: dict[tuple[str, str], list[Diagnostic]] = {}
        self._clinics: dict[str, list[Diagnostic]] = {}
        self._pairs: dict[tuple[str, str], list[Diagnostic]] = {}
        self._template_texts: dict[str, list[tuple[Path, str]]] = {}
        self.grades: dict[tuple[str, str], float] = {}

    def errors(self, topic: Topic, clinic: Clinic, level: str) -> list[Diagnostic]:
        """The error findings of ``topic`` at ``level`` and of ``clinic``: empty when it may be made."""
        key = (topic.id, level)
        if key not in self._topics:
            findings, measured = check_topic(self.project, topic, [level])
            self._topics[key] = [f for f in findings if f.severity == ERROR]
            self.grades[key] = round(measured[0].scores.whole.grade, 1)
        if clinic.id not in self._clinics:
            self._clinics[clinic.id] = [f for f in check_clinic(self.project, clinic) if f.severity == ERROR]
            self._template_texts[clinic.id] = template_texts(self.project, clinic)
        pair = (topic.id, clinic.id)
        if pair not in self._pairs:
            self._pairs[pair] = check_printing(self.project, topic, clinic, self._template_texts[clinic.id])
        return self._topics[key] + self._clinics[clinic.id] + self._pairs[pair]


GATE_REFUSAL = "refused: it does not pass 'handouts check' (use --ignore-check to make it anyway)"


def gate_message(errors: list[Diagnostic]) -> str:
    """Why the gate refused a handout, with every error finding on its own line."""
    return "\n".join([GATE_REFUSAL, *map(str, errors)])
