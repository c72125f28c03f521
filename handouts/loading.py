"""Load stage: YAML files → validated models, with every problem located.

All problems of a file (and of a whole project) are collected and raised together
in one :class:`ConfigError`, so an author fixes them in one pass, not one per run.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from . import markup, schema
from .errors import ConfigError, Diagnostic, UsageError
from .inputs import KIB, PROJECT_FILE_LIMIT, Limits, read_bytes
from .models import (
    ALL_SECTIONS,
    DEFAULT_HEADINGS,
    PAPER_SIZES,
    Clinic,
    Contact,
    Level,
    Position,
    Project,
    Section,
    Source,
    Text,
    Topic,
)
from .yamlstrict import Located, Map, Seq, Str, read_yaml

PROJECT_FILE = "handouts.yaml"
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{4,24}[0-9]$")
WEBSITE = re.compile(r"^https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?:[/?#][^\s]*)?$")
EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")

LOGO_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg")


class _Checker:
    """Collects problems for one file while reading its mappings."""

    def __init__(self, shown_as: str):
        self.shown_as = shown_as
        self.problems: list[Diagnostic] = []

    def error(self, at: Located | None, message: str, code: str = "HL002") -> None:
        line, column = (at.line, at.column) if at is not None else (0, 0)
        self.error_at(line, column, message, code)

    def error_at(self, line: int, column: int, message: str, code: str = "HL002") -> None:
        self.problems.append(Diagnostic(self.shown_as, line, column, message, code=code))

    def error_in_text(self, text: Str, line_offset: int, message: str) -> None:
        """A problem inside a (multi-line) text: the line is exact, the column is not known."""
        self.error_at(text.line + line_offset, 0, message, "HL003")

    def mapping(self, value: object, what: str, allowed: Iterable[str], required: Iterable[str] = ()) -> Map | None:
        """Check ``value`` is a mapping with only ``allowed`` keys and all ``required`` ones."""
        if not isinstance(value, Map):
            self.error(value if isinstance(value, Located) else None, f"{what}: expected a mapping of keys to values")
            return None
        allowed = list(allowed)
        for key in value:
            if key not in allowed:
                line, column = value.key_positions[key]
                hint = difflib.get_close_matches(key, allowed, n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else f"; expected one of: {', '.join(allowed)}"
                self.error_at(line, column, f"{what}: unknown key {key!r}{suggestion}")
        for key in required:
            if key not in value:
                self.error(value, f"{what}: missing required key {key!r}")
        return value

    def text(self, mapping: Map, key: str, what: str, required: bool = True, code: str = "HL002") -> Str | None:
        """A non-empty string value, or None (with an error if it was required)."""
        value = mapping.get(key)
        if value is None:
            return None
        if not isinstance(value, Str):
            self.error(value, f"{what}.{key}: expected text")
            return None
        if not value.strip():
            if required:
                hint = " (an unquoted # starts a YAML comment: put the value in quotes)" if key in _HASH_KEYS else ""
                self.error(value, f"{what}.{key}: must not be empty{hint}", code)
            return None
        return value

    def matching(
        self, mapping: Map, key: str, what: str, pattern: re.Pattern, example: str, code: str = "HL002"
    ) -> str:
        value = self.text(mapping, key, what, code=code)
        if value is not None and not pattern.match(value):
            self.error(value, f"{what}.{key}: {value!r} is not valid; expected something like {example}", code)
        return str(value or "")

    def date(self, mapping: Map, key: str, what: str) -> dt.date | None:
        value = self.text(mapping, key, what)
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.error(value, f'{what}.{key}: {value!r} is not a date like "2026-11-01"')
            return None

    def markdown(self, value: Str, what: str) -> Text:
        for issue in markup.find_issues(value):
            self.error_in_text(value, issue.line_offset, f"{what}: {issue.message}")
        return Text(str(value), position_of(value))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ConfigError(diagnostics=self.problems)


_HASH_KEYS = {"primary", "accent"}


def position_of(value: Located) -> Position:
    """Where a YAML value came from."""
    return Position(value.path, value.line, value.column)


def _positions(mapping: Map, shown_as: str, nested: tuple[str, ...] = ()) -> dict[str, Position]:
    """Key positions: top-level keys by name, keys of the ``nested`` mappings as ``outer.inner``."""
    positions = {key: Position(shown_as, *where) for key, where in mapping.key_positions.items()}
    for outer in nested:
        inner = mapping.get(outer)
        if isinstance(inner, Map):
            positions.update({f"{outer}.{key}": Position(shown_as, *w) for key, w in inner.key_positions.items()})
    return positions


# ---------------------------------------------------------------- project


def find_project_root(start: Path) -> Path:
    """The folder holding ``handouts.yaml``: ``start`` or one of its parents."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    raise UsageError(f"no {PROJECT_FILE} found in {start} or its parents; run 'handouts init DIR' to start a project")


def load_project(root: Path) -> Project:
    """Read ``handouts.yaml`` in ``root``."""
    root = root.resolve()
    check = _Checker(PROJECT_FILE)
    data = read_yaml(root / PROJECT_FILE, PROJECT_FILE, PROJECT_FILE_LIMIT, root)
    check.mapping(data, "project", schema.PROJECT.names, schema.PROJECT.required)
    levels = _load_levels(check, data.get("levels"))
    folders = {key: _project_folder(check, root, data, key) for key in ("output", "content", "templates")}
    _dedicated_output(check, root, data, folders)
    limits = _load_limits(check, data.get("limits"))
    default_level = str(data.get("default_level", "standard" if "standard" in levels else next(iter(levels), "")))
    if levels and default_level not in levels:
        check.error(data.get("default_level"), f"project.default_level: {default_level!r} is not one of the levels")
    jargon = data.get("jargon", Seq())
    if not isinstance(jargon, Seq) or not all(isinstance(term, Str) for term in jargon):
        check.error(jargon if isinstance(jargon, Located) else data, "project.jargon: expected a list of words")
        jargon = Seq()
    check.raise_if_any()
    return Project(
        root=root,
        levels=levels,
        output_dir=folders["output"],
        content_dir=folders["content"],
        templates_dir=folders["templates"],
        clinics_dir=folders["templates"] / "clinics",
        default_level=default_level,
        jargon=tuple(str(term).lower() for term in jargon),
        limits=limits,
    )


def _project_folder(check: _Checker, root: Path, data: Map, key: str) -> Path:
    value = check.text(data, key, "project", required=False) or key
    folder = (root / value).resolve()
    if not folder.is_relative_to(root):
        check.error(data.get(key), f"project.{key}: {value!r} must be a folder inside the project")
        return root / key
    return folder


def _dedicated_output(check: _Checker, root: Path, data: Map, folders: dict[str, Path]) -> None:
    """The output folder is the build's own: not the project, nor content or templates, nor around them.

    A build deletes its temporary files and stale outputs there, so sharing a folder
    with anything else could delete what is not ours.
    """
    output = folders["output"]
    others = {"the project folder": root, "content": folders["content"], "templates": folders["templates"]}
    for name, folder in others.items():
        if output == folder or folder.is_relative_to(output) or (folder != root and output.is_relative_to(folder)):
            check.error(
                data.get("output", data),
                f"project.output: {project_relative(root, output)!r} overlaps {name}; use a folder of its own,"
                " such as 'output'",
            )
            return


def project_relative(root: Path, path: Path) -> str:
    """``path`` relative to ``root`` when inside it ("." for the root itself)."""
    try:
        return str(path.relative_to(root)) or "."
    except ValueError:
        return str(path)


LIMIT_KEYS = {"topic_kib": "topic", "clinic_kib": "clinic", "template_kib": "template", "image_kib": "image"}


def _load_limits(check: _Checker, value: object) -> Limits:
    """``limits:`` in KiB; each from 1 to 100,000."""
    if value is None:
        return Limits()
    mapping = check.mapping(value, "project.limits", schema.LIMITS.names)
    if mapping is None:
        return Limits()
    sizes = {
        LIMIT_KEYS[key]: int(_number(check, mapping, key, "project.limits", 1, 100_000)) * KIB
        for key in LIMIT_KEYS
        if key in mapping
    }
    return replace(Limits(), **sizes)


def _load_levels(check: _Checker, value: object) -> dict[str, Level]:
    levels: dict[str, Level] = {}
    mapping = check.mapping(value, "project.levels", ()) if not isinstance(value, Map) else value
    if mapping is None:
        return levels
    if not mapping:
        check.error(mapping, "project.levels: define at least one reading level")
    for level_id, spec in mapping.items():
        what = f"project.levels.{level_id}"
        if not SLUG.match(level_id):
            line, column = mapping.key_positions[level_id]
            check.error_at(line, column, f"{what}: level ids use a-z, 0-9 and -", "HL015")
        spec = check.mapping(spec, what, schema.LEVEL.names, schema.LEVEL.required)
        if spec is None:
            continue
        label = check.text(spec, "label", what) or level_id
        grade = _number(check, spec, "max_grade", what, 1, 20)
        words = int(_number(check, spec, "max_sentence_words", what, 5, 60)) if "max_sentence_words" in spec else None
        plain = _boolean(check, spec, "plain_language", what)
        levels[level_id] = Level(level_id, str(label), grade, words, plain)
    return levels


def _number(check: _Checker, mapping: Map, key: str, what: str, low: float, high: float) -> float:
    value = check.text(mapping, key, what)
    try:
        number = float(value) if value is not None else 0.0
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        check.error(value, f"{what}.{key}: {value!r} is not a number")
        return low
    if value is not None and not low <= number <= high:
        check.error(value, f"{what}.{key}: {number:g} is outside {low:g}–{high:g}")
    return number


def _boolean(check: _Checker, mapping: Map, key: str, what: str) -> bool:
    value = check.text(mapping, key, what, required=False)
    if value is None:
        return False
    if value not in ("true", "false"):
        check.error(value, f"{what}.{key}: write true or false, not {value!r}")
    return value == "true"


# ---------------------------------------------------------------- ids


def check_id(kind: str, value: str) -> str:
    """Refuse ids that are not safe slugs (they become file names)."""
    if not SLUG.match(value):
        raise UsageError(f"{kind} id {value!r} is not valid: {SLUG_RULE}")
    return value


SLUG_RULE = "use lower-case letters, digits and '-' only"


def select_ids(kind: str, wanted: Iterable[str] | None, available: list[str]) -> list[str]:
    """The ``wanted`` ids (each checked to exist), or all ``available`` ones when none are named."""
    wanted = list(wanted or [])
    for item in wanted:
        check_id(kind, item)
        if item not in available:
            raise UsageError(f"no {kind} {item!r}; available: {', '.join(available) or 'none'}")
    return wanted or available


def topic_ids(project: Project) -> list[str]:
    """Ids of every topic file in the content folder (names are not validated here)."""
    return sorted(path.stem for path in project.content_dir.glob("*.yaml"))


def clinic_ids(project: Project) -> list[str]:
    """Ids of every clinic folder holding a ``clinic.yaml``."""
    if not project.clinics_dir.is_dir():
        return []
    return sorted(path.parent.name for path in project.clinics_dir.glob("*/clinic.yaml"))


# ---------------------------------------------------------------- topics


def load_topic(project: Project, topic_id: str) -> Topic:
    """Read and validate ``content/<topic_id>.yaml``."""
    check_id("topic", topic_id)
    path = project.content_dir / f"{topic_id}.yaml"
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"no topic {topic_id!r}: {project.relative(path)} does not exist (try 'handouts list')")
    shown_as = project.relative(path)
    check = _Checker(shown_as)
    data = read_yaml(path, shown_as, project.limits.topic, project.content_dir)
    check.mapping(data, "topic", schema.TOPIC.names, schema.TOPIC.required)
    levels = list(project.levels)
    titles = _per_level_plain(check, data, "title", levels)
    language = check.matching(data, "language", "topic", LANGUAGE, '"en" or "th"')
    reviewed = check.date(data, "reviewed", "topic")
    next_review = check.date(data, "next_review", "topic") if "next_review" in data else None
    reviewer = check.text(data, "reviewer", "topic")
    sources = _load_sources(check, data.get("sources", Seq()))
    glossary = _load_glossary(check, data.get("glossary", Map()))
    headings = _load_headings(check, data.get("headings", Map()))
    sections = _load_sections(check, data.get("sections"), levels, headings)
    check.raise_if_any()
    return Topic(
        id=topic_id,
        path=path,
        titles=titles,
        language=language,
        reviewed=reviewed or dt.date(1970, 1, 1),
        next_review=next_review,
        reviewer=str(reviewer),
        sources=sources,
        glossary=glossary,
        sections=sections,
        positions=_positions(data, shown_as, ("glossary", "sections")),
    )


def _per_level_plain(check: _Checker, data: Map, key: str, levels: list[str]) -> dict[str, str]:
    value = data.get(key)
    if isinstance(value, Map):
        check.mapping(value, f"topic.{key}", levels, levels)
        return {level: str(check.text(value, level, f"topic.{key}") or "") for level in levels if level in value}
    text = check.text(data, key, "topic")
    return {level: str(text or "") for level in levels}


def _load_sources(check: _Checker, value: object) -> tuple[Source, ...]:
    if not isinstance(value, Seq):
        check.error(value if isinstance(value, Located) else None, "topic.sources: expected a list")
        return ()
    sources = []
    for index, item in enumerate(value):
        what = f"topic.sources[{index}]"
        item = check.mapping(item, what, schema.SOURCE.names, schema.SOURCE.required)
        if item is None:
            continue
        title = check.text(item, "title", what)
        url = check.matching(item, "url", what, WEBSITE, '"https://medlineplus.gov/..."', "HL013")
        sources.append(Source(str(title or ""), url))
    return tuple(sources)


def _load_glossary(check: _Checker, value: object) -> dict[str, str]:
    mapping = check.mapping(value, "topic.glossary", ()) if not isinstance(value, Map) else value
    if mapping is None:
        return {}
    return {term: str(check.text(mapping, term, "topic.glossary") or "") for term in mapping}


def _load_headings(check: _Checker, value: object) -> dict[str, str]:
    mapping = check.mapping(value, "topic.headings", ALL_SECTIONS)
    if mapping is None:
        return dict(DEFAULT_HEADINGS)
    headings = dict(DEFAULT_HEADINGS)
    for key in mapping:
        if key in headings:
            headings[key] = str(check.text(mapping, key, "topic.headings") or headings[key])
    return headings


def _load_sections(check: _Checker, value: object, levels: list[str], headings: dict[str, str]) -> dict[str, Section]:
    mapping = check.mapping(value, "topic.sections", schema.SECTIONS.names, schema.SECTIONS.required)
    if mapping is None:
        return {}
    sections = {}
    for section_id in ALL_SECTIONS:
        if section_id not in mapping:
            continue
        what = f"sections.{section_id}"
        texts = _section_texts(check, mapping, section_id, what, levels)
        sections[section_id] = Section(section_id, headings[section_id], texts)
    return sections


def _section_texts(check: _Checker, sections: Map, section_id: str, what: str, levels: list[str]) -> dict[str, Text]:
    value = sections[section_id]
    if isinstance(value, Str):
        if not check.text(sections, section_id, "topic.sections"):
            return {}
        text = check.markdown(value, what)
        return {level: text for level in levels}
    per_level = check.mapping(value, what, levels)
    if per_level is None:
        return {}
    texts = {}
    for level in levels:
        if level not in per_level:
            check.error(
                per_level, f"{what}: no text for level {level!r} (give every level, or one text for all)", "HL004"
            )
            continue
        text = check.text(per_level, level, what)
        if text is not None:
            texts[level] = check.markdown(text, f"{what}.{level}")
    return texts


# ---------------------------------------------------------------- clinics


def load_clinic(project: Project, clinic_id: str) -> Clinic:
    """Read and validate ``templates/clinics/<clinic_id>/clinic.yaml`` and its logo."""
    check_id("clinic", clinic_id)
    folder = project.clinics_dir / clinic_id
    path = folder / "clinic.yaml"
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"no clinic {clinic_id!r}: {project.relative(path)} does not exist (try 'handouts list')")
    shown_as = project.relative(path)
    check = _Checker(shown_as)
    data = read_yaml(path, shown_as, project.limits.clinic, folder)
    check.mapping(data, "clinic", schema.CLINIC.names, schema.CLINIC.required)
    name = str(check.text(data, "name", "clinic") or "")
    logo = _clinic_logo(check, data, folder, project.limits.image)
    colors = check.mapping(data.get("colors", Map()), "clinic.colors", schema.COLORS.names, schema.COLORS.required)
    primary = accent = ""
    if colors is not None:
        primary = check.matching(colors, "primary", "clinic.colors", COLOR, '"#1d4e89" (in quotes)', "HL302")
        accent = check.matching(colors, "accent", "clinic.colors", COLOR, '"#f4a259" (in quotes)', "HL302")
    paper = check.text(data, "paper", "clinic")
    if paper is not None and paper not in PAPER_SIZES:
        check.error(paper, f"clinic.paper: {paper!r} is not one of: {', '.join(PAPER_SIZES)}", "HL303")
    language = check.matching(data, "language", "clinic", LANGUAGE, '"en"')
    contact = _clinic_contact(check, data.get("contact", Map()))
    disclaimer = check.text(data, "disclaimer", "clinic")
    about = check.text(data, "about", "clinic", required=False)
    logo_alt = check.text(data, "logo_alt", "clinic", required=False)
    check.raise_if_any()
    return Clinic(
        id=clinic_id,
        folder=folder,
        name=name,
        logo=logo,
        logo_alt=str(logo_alt or f"{name} logo"),
        primary_color=primary.lower(),
        accent_color=accent.lower(),
        paper=str(paper),
        language=language,
        contact=contact,
        disclaimer=str(disclaimer),
        about=str(about or ""),
        positions=_positions(data, shown_as, ("colors", "contact")),
    )


def _clinic_logo(check: _Checker, data: Map, folder: Path, limit: int) -> Path:
    value = check.text(data, "logo", "clinic", code="HL010")
    if value is None:
        return folder
    if "\x00" in value or value.startswith("/"):
        check.error(value, f"clinic.logo: {value!r} must be a file name inside the clinic's folder", "HL010")
        return folder
    logo = (folder / value).resolve()
    if not logo.is_relative_to(folder.resolve()):
        check.error(value, f"clinic.logo: {value!r} must be a file inside the clinic's folder", "HL010")
    elif logo.suffix.lower() not in LOGO_SUFFIXES:
        check.error(value, f"clinic.logo: {value!r} must be an SVG, PNG or JPEG file", "HL010")
    elif not logo.exists():
        check.error(value, f"clinic.logo: file {value!r} not found in {folder.name}/", "HL010")
    else:
        try:
            head = read_bytes(folder / value, f"clinic.logo {value!r}", limit, folder)[:512].lstrip()
        except ConfigError as error:
            check.error(value, f"clinic.logo: {value!r} {error.diagnostics[0].message}", "HL010")
        else:
            if not head.startswith(_MAGIC[logo.suffix.lower()]):
                check.error(value, f"clinic.logo: {value!r} is not a valid {logo.suffix[1:].upper()} file", "HL010")
    return logo


_MAGIC = {".png": (b"\x89PNG",), ".jpg": (b"\xff\xd8",), ".jpeg": (b"\xff\xd8",), ".svg": (b"<svg", b"<?xml")}


def _clinic_contact(check: _Checker, value: object) -> Contact:
    contact = check.mapping(value, "clinic.contact", schema.CONTACT.names, schema.CONTACT.required)
    if contact is None:
        return Contact(phone="")
    patterns = {
        "phone": (PHONE, '"+1 555 0100"'),
        "website": (WEBSITE, '"https://example.org"'),
        "email": (EMAIL, '"info@example.org"'),
    }
    found = {
        key: check.matching(contact, key, "clinic.contact", pattern, example, "HL304")
        for key, (pattern, example) in patterns.items()
        if key in contact or key == "phone"
    }
    address = check.text(contact, "address", "clinic.contact", required=False)
    return Contact(address=str(address or ""), **found)


# ---------------------------------------------------------------- everything


def load_all(
    project: Project, topics: Iterable[str] | None = None, clinics: Iterable[str] | None = None
) -> tuple[dict[str, Topic], dict[str, Clinic]]:
    """Load the given (or all) topics and clinics, collecting every error of every file."""
    problems: list[Diagnostic] = []
    loaded_topics: dict[str, Topic] = {}
    loaded_clinics: dict[str, Clinic] = {}
    for topic_id in topics if topics is not None else topic_ids(project):
        try:
            loaded_topics[topic_id] = load_topic(project, topic_id)
        except ConfigError as error:
            problems.extend(error.diagnostics)
    for clinic_id in clinics if clinics is not None else clinic_ids(project):
        try:
            loaded_clinics[clinic_id] = load_clinic(project, clinic_id)
        except ConfigError as error:
            problems.extend(error.diagnostics)
    if problems:
        raise ConfigError(diagnostics=problems)
    return loaded_topics, loaded_clinics
