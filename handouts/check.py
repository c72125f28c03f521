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

from . import branding, lexicon, loading, markup, readability, templates, translations
from .branding import contrast_ratio
from .codes import ERROR, WARNING, severity
from .errors import ConfigError, Diagnostic, HandoutsError
from .inputs import looks_like_image, read_bytes, read_text
from .markup import term_is_used
from .models import Clinic, Level, Position, Project, Topic
from .views import printed_text

__all__ = ["CheckReport", "Gate", "check_project", "contrast_ratio", "gate_message"]

MAX_LIST_ITEMS = 7
NUMBERS = re.compile(r"\d\s*%|\bper\s?cent\b|\b\d+/\d+\b|\b\d+\.\d+\b", re.IGNORECASE)
CALL_TO_ACTION = re.compile(r"\b(call|phone|contact|go to|seek|get help|visit|see a|see your|emergency)\b", re.I)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
NUMBERED_STEP = re.compile(r"^\s*1[.)]\s", re.MULTILINE)
# A short text (heading, definition, caption) alone is a sentence or two: its grade swings with one
# long word, so it is held to max_grade plus this margin; the unit it belongs to is held to max_grade.
SHORT_TEXT_MARGIN = 3
# Units measured only inside the whole handout and as short texts: a title or a list of headings is
# too short for a unit grade (one word like "sclerosis" would make it grade 9).
UNMEASURED_ALONE = ("title", "headings")
MIN_WORDS_FOR_SHARES = 20  # word shares of fewer words say little
# A section's word shares vary more than the whole handout's (a 40-word section with one more
# unfamiliar word moves 2.5 points): a section may reach 1.5× the level's limit.
SECTION_SHARE_FACTOR = 1.5


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
            "unfamiliar_percent": round(self.scores.shares.unfamiliar_percent, 1),
            "long_word_percent": round(self.scores.shares.long_percent, 1),
            "sections": {name: scores.as_dict() for name, scores in self.scores.sections.items()},
        }


@dataclass
class CheckReport:
    """Everything ``check`` found and measured."""

    findings: list[Diagnostic] = field(default_factory=list)
    measured: list[Measured] = field(default_factory=list)
    files: set[str] = field(default_factory=set)
    translated: list[LanguageMeasured] = field(default_factory=list)

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
            "language_readability": [measured.as_dict() for measured in self.translated],
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
    """Cross-references, readability and plain-language rules of one loaded topic (English; a
    translation is checked by :func:`check_translation`)."""
    findings: list[Diagnostic] = []
    shown_as = project.relative(topic.path)
    top = Position(shown_as, 1, 1)
    at = lambda key: topic.positions.get(key, top)  # noqa: E731 - a short local lookup
    today = today or dt.date.today()
    if topic.next_review and topic.next_review < today:
        findings.append(_finding(at("next_review"), "HL014", f"next_review {topic.next_review} has passed"))
    findings.extend(_structure_findings(topic, at))
    jargon = jargon_terms(project)
    measured = []
    for level_id in levels:
        level = project.levels[level_id]
        scores = readability.measure(topic, level_id)
        measured.append(Measured(scores, level.max_grade))
        findings.extend(_grade_findings(level, scores, at("title")))
        findings.extend(_word_findings(topic, level, scores, at("title")))
        findings.extend(_plain_language_findings(topic, level, scores, jargon))
    findings.extend(_rising_grades(measured, at("title")))
    return findings, measured


@dataclass(frozen=True)
class LanguageMeasured:
    """A translation's readability at one level: its language's own formula, or "not measured"."""

    scores: readability.LanguageScores
    min_score: float | None

    def as_dict(self) -> dict:
        """The JSON shape of one ``language_readability`` entry."""
        scores = self.scores
        return {
            "topic": scores.topic,
            "level": scores.level,
            "language": scores.language,
            "formula": scores.formula or None,
            "score": round(scores.score, 1) if scores.score is not None else None,
            "band": scores.band,
            "min_score": self.min_score,
            "words_per_sentence": round(scores.words_per_sentence, 1),
        }


def check_translation(project: Project, topic: Topic, levels: Iterable[str]) -> tuple[list[Diagnostic], list]:
    """A translated topic (PO lines): glossary terms found in its text, the language's own readability
    formula (Spanish: INFLESZ; Thai: not measured), sentence length with the language's word
    segmentation, and numbers at plain-language levels. English-only rules (grades, the Dale-Chall
    list, the English jargon list) do not apply."""
    assert topic.translation is not None
    po = Position(project.relative(topic.translation.path), 1, 0)
    findings: list[Diagnostic | None] = []
    printed = [printed_text(topic, level) for level in topic.titles]
    for term in topic.glossary:
        if not any(term_is_used(term, text) for text in printed):
            message = f"glossary term {term!r} ({topic.language}) is never used in the translated text"
            findings.append(_finding(po, "HL012", message))
    for figure in topic.figures:
        findings.extend(_localized_figure(project, figure.path, topic.language, po))
    measured = []
    for level_id in levels:
        level = project.levels[level_id]
        scores = readability.measure_language(topic, level_id)
        limit = level.min_inflesz if scores.formula else None
        measured.append(LanguageMeasured(scores, limit))
        if limit is not None and scores.score is not None and scores.score < limit:
            message = (
                f"level {level_id!r} in {topic.language!r} scores {scores.score:.1f} on {scores.formula}"
                f" ({scores.band}); its min_inflesz is {limit:g}"
            )
            findings.append(_level_finding(level, po, "HL108", message))
        for passage in dict.fromkeys(scores.passages):
            findings.extend(_sentence_findings(passage, level, topic.language))
            if level.plain_language:
                findings.extend(_number_findings(passage, level))
    return list(dict.fromkeys(finding for finding in findings if finding)), measured


def _localized_figure(project: Project, path: Path, language: str, po: Position) -> list[Diagnostic]:
    """HL112 when a figure has no version in ``language``; a version that is not a sound image is an error."""
    shown = project.relative(path)
    if f".{language}." not in path.name:
        wanted = project.relative(path.with_name(f"{path.stem}.{language}{path.suffix}"))
        return [
            _finding(po, "HL112", f"{path.name} has no {language!r} version ({wanted}): its labels print untranslated")
        ]
    try:
        data = read_bytes(path, shown, project.limits.image, path.parent)
    except ConfigError as error:
        return list(error.diagnostics)
    if not looks_like_image(path.suffix.lower(), data):
        return [Diagnostic(shown, 0, 0, f"{path.name} is not a valid {path.suffix[1:].upper()} file", "error", "HL002")]
    return []


def _structure_findings(topic: Topic, at) -> list[Diagnostic]:
    """Glossary terms never used; boxes and steps the handout should have."""
    found = []
    printed = [printed_text(topic, level) for level in topic.titles]
    for term in topic.glossary:
        if not any(term_is_used(term, text) for text in printed):
            found.append(_finding(at(f"glossary.{term}"), "HL012", f"glossary term {term!r} is never used"))
    for section_id, code in (("key_points", "HL206"), ("when_to_get_help", "HL205"), ("self_care", "HL207")):
        if section_id not in topic.sections:
            found.append(_finding(at("sections"), code, f"add a {section_id} section"))
    if "self_care" in topic.sections:
        for level, text in topic.sections["self_care"].texts.items():
            if not NUMBERED_STEP.search(text.markdown):
                message = f"sections.self_care at level {level!r}: write it as numbered steps (1. 2. 3.)"
                found.append(_finding(text.position, "HL207", message))
                break
    return found


def _level_finding(level: Level, position: Position, code: str, message: str) -> Diagnostic | None:
    """A finding with the severity ``level`` gives its rule (None when the level turns the rule off)."""
    severity_of = level.severity(code, severity(code))
    if severity_of == "off":
        return None
    return Diagnostic(position.path, position.line, position.column, message, severity_of, code)


def _hardest(passages: Iterable[readability.Passage]) -> tuple[Position | None, str]:
    """Where the hardest sentence is, and a short quote of it."""
    hardest = readability.hardest_sentence(list(passages))
    if hardest is None:
        return None, ""
    passage, sentence, grade = hardest
    quote = sentence if len(sentence) <= 90 else sentence[:87] + "..."
    return passage.position, f"hardest sentence (grade {grade:.2f}): {quote!r}"


def _grade_findings(level: Level, scores: readability.LevelScores, title_at: Position) -> list[Diagnostic]:
    """The whole handout, each unit and each short text against the level's ``max_grade``."""
    found: list[Diagnostic | None] = []
    whole = scores.whole
    if whole.grade > level.max_grade:
        where, hardest = _hardest(scores.passages)
        message = (
            f"level {level.id!r} reads at grade {whole.grade:.2f} (Flesch-Kincaid {whole.flesch_kincaid_grade:.2f},"
            f" SMOG {whole.smog_index:.2f}); its max_grade is {level.max_grade:g}; {hardest}"
        )
        found.append(_finding(where or title_at, "HL101", message))
    for unit, unit_scores in scores.sections.items():
        if unit in UNMEASURED_ALONE or unit_scores.grade <= level.max_grade:
            continue
        where, hardest = _hardest(p for p in scores.passages if p.unit == unit)
        message = (
            f"{unit} at level {level.id!r} reads at grade {unit_scores.grade:.2f} (Flesch-Kincaid"
            f" {unit_scores.flesch_kincaid_grade:.2f}, SMOG {unit_scores.smog_index:.2f}); max_grade is"
            f" {level.max_grade:g}; {hardest}"
        )
        found.append(_level_finding(level, where or title_at, "HL102", message))
    for passage in scores.passages:
        if not passage.short or len(passage.text.split()) < 2:
            continue
        grade = readability.score([passage.text]).flesch_kincaid_grade
        if grade > level.max_grade + SHORT_TEXT_MARGIN:
            message = (
                f"{passage.unit} at level {level.id!r}: {passage.text[:70]!r} reads at grade {grade:.2f}"
                f" (Flesch-Kincaid); short texts may read at most {SHORT_TEXT_MARGIN} grades above max_grade"
                f" {level.max_grade:g}"
            )
            found.append(
                _level_finding(level, passage.position if passage.position.line else title_at, "HL102", message)
            )
    return [finding for finding in found if finding]


def _word_findings(topic: Topic, level: Level, scores: readability.LevelScores, title_at: Position) -> list[Diagnostic]:
    """Unfamiliar and long words, in the whole handout and in each section: measures that chopping
    sentences cannot lower (HL104, HL105)."""
    known = readability.known_words(topic)
    units: dict[str, list[readability.Passage]] = {"the handout": list(scores.passages)}
    for passage in scores.passages:
        if passage.unit.startswith("sections."):
            units.setdefault(passage.unit, []).append(passage)
    found = []
    for unit, passages in units.items():
        shares = readability.word_shares([p.text for p in passages], known, topic.language)
        if shares.words < MIN_WORDS_FOR_SHARES:
            continue
        factor = 1 if unit == "the handout" else SECTION_SHARE_FACTOR
        for code, level_limit, share, kind in (
            ("HL104", level.max_unfamiliar_percent, shares.unfamiliar_percent, "unfamiliar"),
            ("HL105", level.max_long_word_percent, shares.long_percent, "long (3+ syllables)"),
        ):
            if level_limit is None or share <= level_limit * factor:
                continue
            limit = level_limit * factor
            worst = max(passages, key=lambda p, code=code: _share(p.text, known, topic.language, code))
            examples = f"; the most frequent: {', '.join(shares.unfamiliar[:8])}" if code == "HL104" else ""
            message = (
                f"{unit} at level {level.id!r}: {share:.2f} % of words are {kind}; the limit is {limit:g} %"
                f"{examples}; the hardest passage: {worst.text[:70]!r}"
            )
            position = worst.position if worst.position.line else title_at
            found.extend(f for f in [_level_finding(level, position, code, message)] if f)
    return found


def _share(text: str, known: frozenset[str], language: str, code: str) -> float:
    shares = readability.word_shares([text], known, language)
    return shares.unfamiliar_percent * shares.words if code == "HL104" else shares.long_percent * shares.words


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


def _plain_language_findings(
    topic: Topic, level: Level, scores: readability.LevelScores, jargon: tuple[str, ...]
) -> list[Diagnostic]:
    """Sentence length, numbers and undefined jargon in every printed passage; lists and the help box."""
    found: list[Diagnostic | None] = []
    for section_id, section in topic.sections.items():
        text = section.for_level(level.id)
        where = f"sections.{section_id}"
        if section_id == "when_to_get_help" and not CALL_TO_ACTION.search(text.markdown):
            found.append(_finding(text.position, "HL205", f"{where}: say what to do, e.g. 'Call us' or 'Go to'"))
        for info in markup.lists(text.markdown):
            if info.items > MAX_LIST_ITEMS:
                message = f"{where}: a list of {info.items} items at level {level.id!r}; keep lists to {MAX_LIST_ITEMS}"
                found.append(_finding(_line(text.position, info.line_offset), "HL202", message))
    explained = {term.lower() for term in topic.glossary}
    for passage in dict.fromkeys(scores.passages):
        found.extend(_sentence_findings(passage, level))
        if level.plain_language:
            found.extend(_number_findings(passage, level))
            if passage.unit not in ("glossary", "title"):
                found.extend(_jargon_findings(passage, level, explained, jargon))
    return list(dict.fromkeys(finding for finding in found if finding))


def _line(position: Position, offset: int) -> Position:
    return Position(position.path, position.line + offset, 0)


def _sentence_findings(passage: readability.Passage, level: Level, language: str = "en") -> list[Diagnostic | None]:
    found = []
    for sentence in readability.language_sentences(passage.text, language):
        words = len(readability.language_words(sentence, language))
        if level.max_sentence_words and words > level.max_sentence_words:
            message = (
                f"{passage.unit}: a {words}-word sentence at level {level.id!r} (max {level.max_sentence_words}):"
                f" {sentence[:70]!r}"
            )
            found.append(_level_finding(level, passage.position, "HL201", message))
    return found


def _number_findings(passage: readability.Passage, level: Level) -> list[Diagnostic | None]:
    match = NUMBERS.search(passage.text)
    if not match:
        return []
    message = f"{passage.unit}: {match.group(0)!r} at level {level.id!r}; say it in words (e.g. 'most people')"
    return [_level_finding(level, passage.position, "HL203", message)]


def _jargon_findings(
    passage: readability.Passage, level: Level, explained: set[str], jargon: tuple[str, ...]
) -> list[Diagnostic | None]:
    found = []
    for term in jargon:
        if term in explained or not term_is_used(term, passage.text):
            continue
        if any(term_is_used(term, known) or term_is_used(known, term) for known in explained):
            continue  # "spinal fusion" explained covers "fusion" and the other way round
        message = f"{passage.unit}: {term!r} at level {level.id!r} needs a glossary entry"
        found.append(_level_finding(level, passage.position, "HL204", message))
        explained.add(term)  # each word once per level
    return found


# ---------------------------------------------------------------- clinics


def check_clinic(project: Project, clinic: Clinic) -> list[Diagnostic]:
    """Contrast of the clinic's colours (variables and clinic.css), its logo, and every template it uses."""
    try:
        css = branding.clinic_stylesheet(project, clinic)  # read once, for all three checks below
        palette = branding.clinic_palette(project, clinic, css)
    except ConfigError as error:
        return list(error.diagnostics)
    return [
        *clinic_text_findings(project, clinic),
        *branding.palette_findings(project, clinic, palette),
        *branding.stylesheet_findings(project, clinic, palette, css),
        *branding.stylesheet_resource_findings(project, clinic, css),
        *branding.logo_findings(project, clinic),
        *check_templates(project, clinic),
    ]


def clinic_text_findings(project: Project, clinic: Clinic) -> list[Diagnostic]:
    """The clinic's disclaimer and about text, printed on every handout: held to the easiest level (HL102)."""
    if not project.levels:
        return []
    easiest = min(project.levels.values(), key=lambda level: level.max_grade)
    shown_as = project.relative(clinic.folder / "clinic.yaml")
    found = []
    for key in ("disclaimer", "about"):
        text = getattr(clinic, key)
        grade = readability.score([block.text for block in markup.to_blocks(text)]).flesch_kincaid_grade if text else 0
        if grade > easiest.max_grade:
            message = (
                f"clinic.{key} reads at grade {grade:.2f} (Flesch-Kincaid); it is printed on {easiest.id!r}"
                f" handouts, whose max_grade is {easiest.max_grade:g}"
            )
            finding = _level_finding(easiest, clinic.positions.get(key, Position(shown_as)), "HL102", message)
            found.extend([finding] if finding else [])
    return found


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


def printing_texts(project: Project, clinic: Clinic) -> list[tuple[Path, str]]:
    """What a clinic prints besides the topic: its ``clinic.yaml`` and every template it uses."""
    own = clinic.folder / "clinic.yaml"
    return [(own, own.read_text(encoding="utf-8")), *template_texts(project, clinic)]


def check_printing(
    project: Project, topic: Topic, clinic: Clinic, texts: list[tuple[Path, str]], topic_text: str
) -> list[Diagnostic]:
    """Characters of the topic (``topic_text``) and of the clinic's ``texts`` (:func:`printing_texts`)
    that no shipped font prints (HL305)."""
    return branding.glyph_findings(project, clinic, [(topic_file(topic), topic_text), *texts])


def check_rendering(
    project: Project, topic: Topic, clinic: Clinic, levels: Iterable[str], maker: templates.Templates
) -> list[Diagnostic]:
    """Render the HTML of each level with ``maker`` as ``render`` would: template errors, sandbox refusals,
    attachments, accessibility problems (HL401, HL016, HL402, HL404) are found here first."""
    findings = []
    for level in levels:
        try:
            html = maker.html(maker.view(topic, clinic, level))
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
    loaded_topics, loaded_clinics = [], []
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
        loaded_clinics.append(clinic)
    _check_translations(project, report, loaded_topics, loaded_clinics, level_ids)
    return report


def _check_translations(
    project: Project, report: CheckReport, topics: list[Topic], clinics: list[Clinic], levels: list[str]
) -> None:
    """Every translation a clinic prints or a PO file holds: complete and current (HL110), its own
    readability rules, and its handouts rendered (template words translated, glyphs covered)."""
    printed = {language for clinic in clinics for language in clinic.printed_languages}
    by_language: dict[str, list[Topic]] = {}
    for topic in topics:
        for language in sorted(printed | set(translations.available_languages(project, topic.id))):
            if language == topic.language:
                continue
            path = translations.catalog_path(project, topic.id, language)
            report.files.add(project.relative(path))
            if not path.exists():
                message = f"{topic.id} has no translation into {language!r}: its {language!r} handouts are not built"
                report.findings.append(Diagnostic(project.relative(path), 0, 0, message, WARNING, "HL111"))
                continue
            try:
                localized = translations.localize(project, topic, language)
            except HandoutsError as error:
                report.findings.extend(error.diagnostics)
                continue
            report.findings.extend(dict.fromkeys(p for level in levels for p in localized.problems(level)))
            findings, measured = check_translation(project, localized.topic, levels)
            report.findings.extend(findings)
            report.translated.extend(measured)
            by_language.setdefault(language, []).append(localized.topic)
    maker = templates.Templates(project)
    for clinic in clinics:  # each clinic's texts and templates read once per language it prints
        for language in clinic.printed_languages:
            if by_language.get(language):
                in_language = clinic.in_language(language)
                report.findings.extend(_check_handouts(project, by_language[language], in_language, levels, maker))


def _check_handouts(
    project: Project, topics: list[Topic], clinic: Clinic, levels: list[str], maker: templates.Templates | None = None
) -> list[Diagnostic]:
    """What only shows when a clinic's handouts are made: glyphs and rendered templates, each reported once."""
    texts, maker = printing_texts(project, clinic), maker or templates.Templates(project)
    findings = []
    for topic in topics:
        findings.extend(check_printing(project, topic, clinic, texts, topic_file(topic).read_text(encoding="utf-8")))
        findings.extend(check_rendering(project, topic, clinic, levels, maker))
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
        self._topics: dict[tuple[str, str, str], list[Diagnostic]] = {}
        self._clinics: dict[str, list[Diagnostic]] = {}
        self._pairs: dict[tuple[str, str, str], list[Diagnostic]] = {}
        self._printing: dict[str, list[tuple[Path, str]]] = {}  # clinic → what it prints besides the topic
        self._topic_texts: dict[Path, str] = {}
        self._grades: dict[tuple[str, str, str], float | None] = {}

    def grade(self, topic: Topic, level: str) -> float | None:
        """The measured grade (English only: no English grade is given for another language)."""
        return self._grades.get((topic.id, topic.language, level))

    def errors(self, topic: Topic, clinic: Clinic, level: str) -> list[Diagnostic]:
        """The error findings of ``topic`` (in its language) at ``level`` and of ``clinic``: empty when
        it may be made."""
        key = (topic.id, topic.language, level)
        if key not in self._topics:
            if topic.translation is None:
                findings, measured = check_topic(self.project, topic, [level])
                self._grades[key] = round(measured[0].scores.whole.grade, 1)
            else:
                findings, _ = check_translation(self.project, topic, [level])
                self._grades[key] = None
            self._topics[key] = [f for f in findings if f.severity == ERROR]
        if clinic.id not in self._clinics:
            self._clinics[clinic.id] = [f for f in check_clinic(self.project, clinic) if f.severity == ERROR]
            self._printing[clinic.id] = printing_texts(self.project, clinic)
        source = topic_file(topic)
        if source not in self._topic_texts:
            self._topic_texts[source] = source.read_text(encoding="utf-8")
        pair = (topic.id, topic.language, clinic.id)
        if pair not in self._pairs:
            texts = self._printing[clinic.id]
            self._pairs[pair] = check_printing(self.project, topic, clinic, texts, self._topic_texts[source])
        return self._topics[key] + self._clinics[clinic.id] + self._pairs[pair]


def topic_file(topic: Topic) -> Path:
    """The file a topic's text comes from: its YAML, or for a translation its PO file."""
    return topic.translation.path if topic.translation and topic.translation.path else topic.path


GATE_REFUSAL = "refused: it does not pass 'handouts check' (use --ignore-check to make it anyway)"


def gate_message(errors: list[Diagnostic]) -> str:
    """Why the gate refused a handout, with every error finding on its own line."""
    return "\n".join([GATE_REFUSAL, *map(str, errors)])
