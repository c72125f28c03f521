"""Translations of topics: gettext PO files, one per topic and language.

``content/translations/<lang>/<topic>.po`` holds one entry per translatable unit of
the topic (a paragraph or list item of a section, a heading, the title, the main
message, a red flag's sign and why, a plan item, a glossary term and definition,
a figure's alt text and caption, a source's site). Each entry's ``msgctxt`` names
its place (``sections.causes.easy#2``), its ``#:`` comment the source YAML line.

The same walk over a topic lists its units (:func:`units`) and builds the
translated topic (:func:`translate`), so the two can never disagree. A unit is
usable only when its entry has the current English text as ``msgid``, a
translation, and no ``fuzzy`` flag; anything else is a located problem, and the
handouts that print it are not made. :func:`update` merges a PO file with the
source as ``msgmerge`` does: new units appear untranslated, changed ones become
fuzzy (keeping the old translation and the previous ``msgid``), removed ones
become obsolete.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import polib

from . import markup
from .errors import ConfigError, Diagnostic
from .inputs import read_text
from .models import (
    DEFAULT_HEADINGS,
    Figure,
    Position,
    Project,
    RedFlag,
    Review,
    Section,
    Source,
    Text,
    Topic,
    Translation,
)

TRANSLATIONS_FOLDER = "translations"
STATUS_HEADER = "X-Handouts-Status"
REVIEWER_HEADER = "X-Handouts-Reviewer"
CREDENTIALS_HEADER = "X-Handouts-Credentials"
REVIEW_DATE_HEADER = "X-Handouts-Review-Date"
REVIEW_NOTICE = (
    "NOT YET REVIEWED: a qualified medical translator must review this translation before clinical use.\n"
    "Set X-Handouts-Status to 'reviewed' (with X-Handouts-Reviewer, X-Handouts-Credentials and\n"
    "X-Handouts-Review-Date) only after that review has happened."
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Unit:
    """One translatable text of a topic: where it goes, its English text, where that is, who prints it."""

    context: str
    text: str
    position: Position
    levels: tuple[str, ...]


@dataclass
class Catalog:
    """A topic's PO file for one language, read (or empty when there is none yet)."""

    language: str
    path: Path
    shown_as: str
    entries: dict[str, polib.POEntry] = field(default_factory=dict)  # msgctxt → entry
    translation: Translation | None = None
    po: polib.POFile | None = None  # the whole file, obsolete entries included


@dataclass(frozen=True)
class UnitState:
    """What a unit's entry in a catalogue says: translated, fuzzy, stale, missing or unsafe."""

    unit: Unit
    state: str  # translated | fuzzy | stale | missing | unsafe
    line: int = 0


# ---------------------------------------------------------------- the walk over a topic


Translate = Callable[[str, str, Position, tuple[str, ...]], tuple[str, Position]]


class _Walk:
    """Visits every translatable text of a topic, in reading order, and rebuilds the topic from
    what ``fn`` returns for each (the English text for listing, the translation for building)."""

    def __init__(
        self,
        topic: Topic,
        levels: list[str],
        fn: Translate,
        heading: Callable[[str], str],
        figure_file: Callable[[Path], Path] = lambda path: path,
    ):
        self.topic = topic
        self.levels = tuple(levels)
        self.fn = fn
        self.heading = heading
        self.figure_file = figure_file

    def topic_(self) -> Topic:
        topic = self.topic
        titles = self._titles()
        main_message = self._per_level("main_message", topic.main_message, markdown=False)
        red_flags = self._lists("red_flags", topic.red_flags, self._red_flag)
        glossary = self._glossary()
        headings = {key: self._one(f"headings.{key}", text, self.levels) for key, text in topic.headings.items()}
        sections = {key: self._section(section, headings) for key, section in topic.sections.items()}
        figures = tuple(self._figure(figure) for figure in topic.figures)
        my_plan = self._lists("my_plan", topic.my_plan, lambda context, item, levels: self._one(context, item, levels))
        sources = tuple(self._source(i, source) for i, source in enumerate(topic.sources, 1))
        return replace(
            topic,
            titles=titles,
            main_message=main_message,
            red_flags=red_flags,
            glossary=glossary,
            headings=headings,
            sections=sections,
            figures=figures,
            my_plan=my_plan,
            sources=sources,
            synonyms=(),
        )

    def _one(self, context: str, text: Text, levels: tuple[str, ...]) -> Text:
        new, position = self.fn(context, " ".join(text.markdown.split()), text.position, levels)
        return Text(new, position)

    def _shared(self, values: dict) -> bool:
        """One value given for every level (the loader shares one object) rather than one per level."""
        objects = list(values.values())
        return len(values) == len(self.levels) and all(value is objects[0] for value in objects)

    def _per_level(self, context: str, values: dict[str, Text], markdown: bool) -> dict[str, Text]:
        visit = self._markdown if markdown else self._one
        if not values:
            return {}
        if self._shared(values):
            return dict.fromkeys(self.levels, visit(context, next(iter(values.values())), self.levels))
        return {level: visit(f"{context}.{level}", text, (level,)) for level, text in values.items()}

    def _lists(self, context: str, values: dict[str, tuple], make: Callable) -> dict[str, tuple]:
        if not values:
            return {}
        if self._shared(values):
            items = next(iter(values.values()))
            made = tuple(make(f"{context}#{i}", item, self.levels) for i, item in enumerate(items, 1))
            return dict.fromkeys(self.levels, made)
        return {
            level: tuple(make(f"{context}.{level}#{i}", item, (level,)) for i, item in enumerate(items, 1))
            for level, items in values.items()
        }

    def _titles(self) -> dict[str, str]:
        position = self.topic.positions.get("title", Position(str(self.topic.path)))
        texts = {level: Text(title, position) for level, title in self.topic.titles.items()}
        if len(set(self.topic.titles.values())) == 1 and len(texts) == len(self.levels):
            text = self._one("title", next(iter(texts.values())), self.levels)
            return dict.fromkeys(self.levels, text.markdown)
        return {level: self._one(f"title.{level}", text, (level,)).markdown for level, text in texts.items()}

    def _red_flag(self, context: str, flag: RedFlag, levels: tuple[str, ...]) -> RedFlag:
        return RedFlag(self._one(f"{context}.sign", flag.sign, levels), self._one(f"{context}.why", flag.why, levels))

    def _glossary(self) -> dict[str, dict[str, Text]]:
        glossary: dict[str, dict[str, Text]] = {}
        for term, definitions in self.topic.glossary.items():
            first = next(iter(definitions.values()), None)
            anchor = first.position if first else Position(str(self.topic.path))
            new_term, _ = self.fn(f"glossary.{term}", term, anchor, self.levels)
            glossary[new_term] = self._per_level(f"glossary.{term}.definition", definitions, markdown=False)
        return glossary

    def _section(self, section: Section, headings: dict[str, Text]) -> Section:
        heading = headings[section.id].markdown if section.id in headings else self.heading(section.id)
        texts = self._per_level(f"sections.{section.id}", section.texts, markdown=True)
        return Section(section.id, heading, texts)

    def _markdown(self, context: str, text: Text, levels: tuple[str, ...]) -> Text:
        """A Markdown text, one unit per paragraph or list item; the structure (lists, blank lines) is kept."""
        pieces = markup.units(text.markdown)
        translated = []
        first = None
        for i, piece in enumerate(pieces, 1):
            at = Position(text.position.path, text.position.line + piece.line_offset if text.position.line else 0)
            new, position = self.fn(f"{context}#{i}", piece.text, at, levels)
            first = first or position
            translated.append(new)
        return Text(markup.replace_units(text.markdown, translated), first or text.position)

    def _figure(self, figure: Figure) -> Figure:
        name = figure.path.name
        alt = self._per_level(f"figures.{name}.alt", figure.alt, markdown=False)
        caption = self._per_level(f"figures.{name}.caption", figure.caption, markdown=False)
        return replace(figure, alt=alt, caption=caption, path=self.figure_file(figure.path))

    def _source(self, index: int, source: Source) -> Source:
        if not source.site:
            return source
        position = self.topic.positions.get("sources", Position(str(self.topic.path)))
        site, _ = self.fn(f"sources#{index}.site", source.site, position, self.levels)
        return replace(source, site=site)


def localized_figure(path: Path, language: str) -> Path:
    """``spine.th.svg`` beside ``spine.svg`` when there is one (its labels in ``language``), else ``path``."""
    candidate = path.with_name(f"{path.stem}.{language}{path.suffix}")
    return candidate if candidate.is_file() and not candidate.is_symlink() else path


def units(topic: Topic, levels: Iterable[str]) -> list[Unit]:
    """Every translatable unit of ``topic``, in reading order."""
    found: list[Unit] = []

    def record(context: str, text: str, position: Position, printed_by: tuple[str, ...]) -> tuple[str, Position]:
        found.append(Unit(context, text, position, printed_by))
        return text, position

    _Walk(topic, list(levels), record, lambda section_id: DEFAULT_HEADINGS[section_id]).topic_()
    return found


# ---------------------------------------------------------------- PO files


def catalog_path(project: Project, topic_id: str, language: str) -> Path:
    """``content/translations/<language>/<topic>.po``."""
    return project.content_dir / TRANSLATIONS_FOLDER / language / f"{topic_id}.po"


def available_languages(project: Project, topic_id: str) -> list[str]:
    """The languages with a PO file for ``topic_id``."""
    folder = project.content_dir / TRANSLATIONS_FOLDER
    if not folder.is_dir():
        return []
    return sorted(child.name for child in folder.iterdir() if (child / f"{topic_id}.po").is_file())


def _read_po(path: Path, shown_as: str, limit: int, within: Path) -> polib.POFile:
    """A PO file, read like every input (regular file, inside ``within``, size limit, UTF-8); HL113 when
    it is not a PO file, at the line polib stopped on."""
    text = read_text(path, shown_as, limit, within)
    try:
        return polib.pofile(text, wrapwidth=0)
    except (OSError, ValueError) as error:
        where = Diagnostic(shown_as, _error_line(error), 0, f"not a PO file: {error}", "error", "HL113")
        raise ConfigError(diagnostics=[where]) from None


def read_catalog(project: Project, topic_id: str, language: str) -> Catalog:
    """The PO file of ``topic_id`` in ``language`` (an empty catalogue when there is none)."""
    path = catalog_path(project, topic_id, language)
    shown_as = project.relative(path)
    catalog = Catalog(language, path, shown_as)
    if not path.exists():
        return catalog
    po = _read_po(path, shown_as, project.limits.topic, project.content_dir)
    catalog.po = po
    catalog.entries = {entry.msgctxt or "": entry for entry in po if not entry.obsolete}
    catalog.translation = _provenance(po, language, shown_as, path)
    return catalog


def _error_line(error: Exception) -> int:
    match = re.search(r"line (\d+)", str(error))
    return int(match.group(1)) if match else 0


def _provenance(po: polib.POFile, language: str, shown_as: str, path: Path) -> Translation:
    """The translation's status from the PO header; ``reviewed`` needs a reviewer, credentials and a past date."""
    meta = po.metadata
    status = meta.get(STATUS_HEADER, "draft").strip() or "draft"
    problems = []
    if status not in ("draft", "reviewed"):
        problems.append(f"{STATUS_HEADER}: {status!r} is not one of: draft, reviewed")
    review = None
    if status == "reviewed":
        reviewer, credentials = meta.get(REVIEWER_HEADER, "").strip(), meta.get(CREDENTIALS_HEADER, "").strip()
        date_text = meta.get(REVIEW_DATE_HEADER, "").strip()
        if not reviewer or not credentials or not _DATE.match(date_text):
            problems.append(
                f"a reviewed translation needs {REVIEWER_HEADER}, {CREDENTIALS_HEADER}"
                f" and {REVIEW_DATE_HEADER} (YYYY-MM-DD)"
            )
        else:
            date = dt.date.fromisoformat(date_text)
            if date > dt.date.today():
                problems.append(f"{REVIEW_DATE_HEADER}: {date_text} is in the future: a review that did not happen yet")
            review = Review(reviewer, credentials, date)
    if problems:
        raise ConfigError(diagnostics=[Diagnostic(shown_as, 1, 0, problem, "error", "HL113") for problem in problems])
    return Translation(language, status, review, path)


def _state(entry: polib.POEntry | None, english: str) -> str:
    """What an entry is worth for the English ``english``: only "translated" may be printed."""
    if entry is None or not entry.msgstr.strip():
        return "missing"
    if entry.msgid != english:
        return "stale"
    if entry.fuzzy:
        return "fuzzy"
    return "unsafe" if markup.find_issues(entry.msgstr) else "translated"


def states(topic_units: list[Unit], catalog: Catalog) -> list[UnitState]:
    """Each unit against the catalogue: translated, fuzzy, stale (English changed), missing or unsafe."""
    result = []
    for unit in topic_units:
        entry = catalog.entries.get(unit.context)
        result.append(UnitState(unit, _state(entry, unit.text), entry.linenum if entry else 0))
    return result


_PROBLEM = {
    "missing": "{context} is not translated (English at {where}): run `handouts translate update` and translate it",
    "stale": "{context}: the English text changed since it was translated (now at {where}): "
    "run `handouts translate update`, then check and correct the translation",
    "fuzzy": "{context} is marked fuzzy: check the translation against the English (at {where}), "
    "correct it and remove the fuzzy flag",
    "unsafe": "{context}: the translation has raw HTML or a link that is not https:, mailto: or tel:",
}


def translate(topic: Topic, levels: Iterable[str], catalog: Catalog, heading: Callable[[str], str]) -> Topic:
    """``topic`` in the catalogue's language.

    A unit that is not usable keeps its English text here, so only the handouts of levels whose
    units are all usable may be made from the result (:meth:`Localized.problems` says which).
    """

    def lookup(context: str, text: str, position: Position, printed_by: tuple[str, ...]) -> tuple[str, Position]:
        entry = catalog.entries.get(context)
        if entry is None or _state(entry, text) != "translated":
            return text, position
        return entry.msgstr, Position(catalog.shown_as, entry.linenum)

    figure_file = lambda path: localized_figure(path, catalog.language)  # noqa: E731 - a short local rule
    translated = _Walk(topic, list(levels), lookup, heading, figure_file).topic_()
    provenance = catalog.translation or Translation(catalog.language, "draft", None, catalog.path)
    return replace(translated, language=catalog.language, translation=provenance)


@dataclass(frozen=True)
class Localized:
    """A topic in another language, and per level what keeps it from being printed (HL110)."""

    topic: Topic
    unusable: tuple[tuple[Diagnostic, tuple[str, ...]], ...]  # each problem with the levels it stops

    def problems(self, level: str) -> list[Diagnostic]:
        """What keeps ``level`` from being printed in this language."""
        return [problem for problem, levels in self.unusable if level in levels]


def localize(project: Project, topic: Topic, language: str) -> Localized:
    """``topic`` in ``language`` from its PO file and the templates' catalogue (default headings).

    Raises :class:`ConfigError` when a PO file cannot be read or its header is wrong.
    """
    catalog = read_catalog(project, topic.id, language)
    ui = read_ui_catalog(project, language)
    untranslated_headings: dict[str, None] = {}

    def heading(section_id: str) -> str:
        english = DEFAULT_HEADINGS[section_id]
        if english not in ui.messages:
            untranslated_headings[english] = None
        return ui.gettext(english)

    level_ids = list(project.levels)
    translated = translate(topic, level_ids, catalog, heading)
    topic_units = units(topic, level_ids)
    unusable = [(problem, state.unit.levels) for problem, state in _located(topic_units, catalog)]
    for english in untranslated_headings:
        message = f"the heading {english!r} is not translated into {language!r}: run `handouts translate update`"
        unusable.append(
            (Diagnostic(ui.shown_as, ui.lines.get(english, 0), 0, message, "error", "HL110"), tuple(level_ids))
        )
    return Localized(translated, tuple(unusable))


def _located(topic_units: list[Unit], catalog: Catalog) -> list[tuple[Diagnostic, UnitState]]:
    found = []
    for state in states(topic_units, catalog):
        if state.state != "translated":
            where = f"{state.unit.position.path}:{state.unit.position.line}"
            message = _PROBLEM[state.state].format(context=state.unit.context, where=where)
            found.append((Diagnostic(catalog.shown_as, state.line, 0, message, "error", "HL110"), state))
    return found


# ---------------------------------------------------------------- translate update


@dataclass(frozen=True)
class UpdateResult:
    """What ``translate update`` did to one PO file."""

    path: str
    created: bool
    new: int
    fuzzy: int
    obsolete: int
    unchanged: int


def update(project: Project, topic: Topic, language: str) -> tuple[polib.POFile, UpdateResult]:
    """The topic's PO file merged with its current units (not written: see :func:`po_text`)."""
    catalog = read_catalog(project, topic.id, language)
    items = [
        _Item(unit.context, unit.text, [(unit.position.path, str(unit.position.line))] if unit.position.line else [])
        for unit in units(topic, project.levels)
    ]
    header = _header(f"{project.relative(topic.path)}", language)
    po, counts = _merge(catalog.po, items, header, _metadata(f"handouts {topic.id}", language))
    return po, UpdateResult(project.relative(catalog.path), catalog.po is None, *counts)


@dataclass(frozen=True)
class _Item:
    context: str | None
    text: str
    occurrences: list[tuple[str, str]]


def _merge(
    old: polib.POFile | None, items: list[_Item], header: str, metadata: dict[str, str]
) -> tuple[polib.POFile, tuple[int, int, int, int]]:
    """``items`` as a PO file, keeping what ``old`` had translated: as msgmerge does."""
    po = polib.POFile(wrapwidth=0)
    po.header = old.header if old is not None else header
    po.metadata = dict(old.metadata) if old is not None else metadata
    previous = {_key(entry): entry for entry in old if not entry.obsolete} if old is not None else {}
    by_text = {entry.msgid: entry for entry in previous.values() if entry.msgstr}
    new = fuzzy = unchanged = 0
    for item in items:
        entry = polib.POEntry(msgctxt=item.context, msgid=item.text, msgstr="", occurrences=item.occurrences)
        before = previous.pop(item.context if item.context is not None else item.text, None)
        if before is not None and before.msgid == item.text and before.msgstr:
            entry.msgstr, entry.flags, entry.tcomment = before.msgstr, list(before.flags), before.tcomment
            fuzzy, unchanged = fuzzy + before.fuzzy, unchanged + (not before.fuzzy)
        elif before is not None and before.msgstr:  # the English changed: keep the old translation, fuzzy
            entry.msgstr, entry.flags, entry.previous_msgid = before.msgstr, ["fuzzy"], before.msgid
            entry.tcomment = before.tcomment
            fuzzy += 1
        elif item.text in by_text:  # the same English elsewhere (moved): a suggestion to check
            entry.msgstr, entry.flags = by_text[item.text].msgstr, ["fuzzy"]
            fuzzy += 1
        else:
            new += 1
        po.append(entry)
    gone = [entry for entry in previous.values() if entry.msgstr]
    for entry in gone:
        entry.obsolete, entry.occurrences = True, []
        po.append(entry)
    if old is not None:
        po.extend(entry for entry in old if entry.obsolete)
    return po, (new, fuzzy, len(gone), unchanged)


def _key(entry: polib.POEntry) -> str:
    return entry.msgctxt if entry.msgctxt is not None else entry.msgid


def _header(source: str, language: str) -> str:
    return f"Translation of {source} into {language!r}, made with `handouts translate update`.\n{REVIEW_NOTICE}"


def _metadata(project_id: str, language: str) -> dict[str, str]:
    return {
        "Project-Id-Version": project_id,
        "Language": language,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        STATUS_HEADER: "draft",
    }


def po_text(po: polib.POFile) -> str:
    """The PO file as text, as Poedit and msgmerge lay it out (one line per string: easy to diff)."""
    return str(po) + "\n"


# ---------------------------------------------------------------- the templates' own words

UI_FOLDER = "locale"
# Words printed from code rather than from a template (PDF metadata, default headings).
CODE_MESSAGES = (
    "Patient information: {title}",
    "Patient information packet: {titles}",
    "patient education",
    *DEFAULT_HEADINGS.values(),
)


@dataclass
class UiCatalog:
    """``templates/locale/<language>.po``: the templates' words in one language."""

    language: str
    shown_as: str
    messages: dict[str, str] = field(default_factory=dict)  # English → translation (usable ones only)
    lines: dict[str, int] = field(default_factory=dict)  # English → line of its entry

    def gettext(self, message: str) -> str:
        """The translation of ``message``; the English when there is none (the caller reports it)."""
        return self.messages.get(message, message)


def ui_catalog_path(project: Project, language: str) -> Path:
    """``templates/locale/<language>.po``."""
    return project.templates_dir / UI_FOLDER / f"{language}.po"


def read_ui_catalog(project: Project, language: str) -> UiCatalog:
    """The templates' words in ``language``: translated, non-fuzzy entries only."""
    path = ui_catalog_path(project, language)
    catalog = UiCatalog(language, project.relative(path))
    if not path.exists():
        return catalog
    for entry in _read_po(path, catalog.shown_as, project.limits.template, project.templates_dir):
        if not entry.obsolete:
            catalog.lines[entry.msgid] = entry.linenum
            if entry.msgstr.strip() and not entry.fuzzy:
                catalog.messages[entry.msgid] = entry.msgstr
    return catalog


def ui_messages(project: Project) -> list[_Item]:
    """Every word the templates (base and clinics') print through gettext, and the code's own."""
    from babel.messages.extract import extract_from_dir

    found: dict[str, list[tuple[str, str]]] = {}
    options = {"**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}
    method = [("**.html", "jinja2.ext:babel_extract")]
    for filename, line, message, _comments, _context in extract_from_dir(
        str(project.templates_dir), method, options, keywords={"_": None, "gettext": None}
    ):
        if isinstance(message, str):
            found.setdefault(message, []).append((f"{project.relative(project.templates_dir)}/{filename}", str(line)))
    for message in (*CODE_MESSAGES, *(level.label for level in project.levels.values())):
        found.setdefault(message, [])
    return [_Item(None, message, places) for message, places in found.items()]


def update_ui(project: Project, language: str) -> tuple[polib.POFile, UpdateResult]:
    """``templates/locale/<language>.po`` merged with the words the templates print now."""
    path = ui_catalog_path(project, language)
    shown_as = project.relative(path)
    old = _read_po(path, shown_as, project.limits.template, project.templates_dir) if path.exists() else None
    header = _header("the templates' own words", language)
    po, counts = _merge(old, ui_messages(project), header, _metadata("handouts templates", language))
    return po, UpdateResult(shown_as, old is None, *counts)
