"""Typed, validated project data: what every later stage works from.

These are plain frozen dataclasses with no I/O. ``loading`` builds them from YAML
and is the only place that validates; everything after may trust them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

from .inputs import Limits

REQUIRED_SECTIONS = ("what_it_is", "causes", "symptoms", "treatment", "outlook")
OPTIONAL_SECTIONS = ("when_to_get_help", "key_points", "questions_to_ask", "self_care")
ALL_SECTIONS = REQUIRED_SECTIONS + OPTIONAL_SECTIONS

DEFAULT_HEADINGS = {
    "what_it_is": "What is it?",
    "causes": "What causes it?",
    "symptoms": "Signs",
    "treatment": "Treatment",
    "outlook": "What to expect",
    "when_to_get_help": "When to call us",
    "key_points": "Key points",
    "questions_to_ask": "Questions to ask",
    "self_care": "What you can do",
}

# Sections printed in the body, in this order; key_points and when_to_get_help are boxes.
BODY_ORDER = ("what_it_is", "causes", "symptoms", "treatment", "self_care", "outlook", "questions_to_ask")

STATUSES = ("draft", "reviewed")
SEVERITIES = ("error", "warning", "off")
# Rules whose severity a level sets (``severity:`` in handouts.yaml), by name, with their codes.
LEVEL_RULES = {
    "section_grade": "HL102",
    "unfamiliar_words": "HL104",
    "long_words": "HL105",
    "pages": "HL106",
    "language_readability": "HL108",
    "sentence_length": "HL201",
    "numbers": "HL203",
    "jargon": "HL204",
}

PAPER_SIZES = ("letter", "a4")


def base_language(language: str) -> str:
    """The language without its region or script (``pt-BR`` → ``pt``), lower case: what rules key on."""
    return language.split("-")[0].lower()


EDITIONS = ("regular", "large")  # large: large print, 18 pt and up


@dataclass(frozen=True)
class Position:
    """Where a value came from, so later stages can still point at it."""

    path: str
    line: int = 0
    column: int = 0


@dataclass(frozen=True)
class Level:
    """A reading level and the plain-language rules its text must follow."""

    id: str
    label: str
    max_grade: float
    max_sentence_words: int | None = None
    plain_language: bool = False  # no percentages; jargon needs a glossary entry
    max_unfamiliar_percent: float | None = None  # words off the familiar-word list
    max_long_word_percent: float | None = None  # words of three syllables or more
    max_pages: int | None = None
    min_font_pt: float = 12.0  # the layout lint's smallest text, page furniture included
    min_inflesz: float | None = None  # Spanish: the lowest Szigriszt-Pazos (INFLESZ) score
    severities: dict[str, str] = field(default_factory=dict, compare=False)  # rule name → error|warning|off

    def severity(self, code: str, default: str) -> str:
        """The severity this level gives ``code`` (one of :data:`LEVEL_RULES`), else ``default``."""
        for rule, rule_code in LEVEL_RULES.items():
            if rule_code == code and rule in self.severities:
                return self.severities[rule]
        return default


@dataclass(frozen=True)
class Project:
    """``handouts.yaml``: the project's levels and folders."""

    root: Path
    levels: dict[str, Level]
    output_dir: Path
    content_dir: Path
    templates_dir: Path
    clinics_dir: Path
    default_level: str
    jargon: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    editions: tuple[str, ...] = ("regular",)

    def relative(self, path: Path) -> str:
        """``path`` as the user should see it: relative to the project root when inside it."""
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)


@dataclass(frozen=True)
class Text:
    """One Markdown text with the position of its first line."""

    markdown: str
    position: Position


@dataclass(frozen=True)
class Section:
    """One section of a topic: its heading and its text at each level."""

    id: str
    heading: str
    texts: dict[str, Text]  # level id → text

    def for_level(self, level: str) -> Text:
        """The text a reader of ``level`` gets."""
        return self.texts[level]


@dataclass(frozen=True)
class Source:
    """A source the topic's text comes from."""

    title: str
    url: str = ""
    site: str = ""


@dataclass(frozen=True)
class Review:
    """A medical review that happened: who (with credentials) and when."""

    reviewer: str
    credentials: str
    date: dt.date


@dataclass(frozen=True)
class RedFlag:
    """A sign that needs help now, and why it matters (one short clause)."""

    sign: Text
    why: Text


@dataclass(frozen=True)
class Figure:
    """A picture in the topic's own folder, placed after a section's text."""

    path: Path
    section: str
    alt: dict[str, Text]  # level id → alt text
    caption: dict[str, Text]  # level id → caption (may be empty)
    levels: tuple[str, ...]  # the levels that print it


@dataclass(frozen=True)
class Topic:
    """One topic file, validated: every level's title and texts."""

    id: str
    path: Path
    titles: dict[str, str]  # level id → title (same for all unless given per level)
    language: str
    status: str  # draft | reviewed
    updated: dt.date  # when the text last changed: the PDF's creation date
    next_review: dt.date | None
    review: Review | None  # only when status is reviewed
    sources: tuple[Source, ...]
    glossary: dict[str, dict[str, Text]]  # term → level id → definition
    sections: dict[str, Section]
    synonyms: tuple[str, ...] = ()
    main_message: dict[str, Text] = field(default_factory=dict)  # level id → the one sentence to remember
    red_flags: dict[str, tuple[RedFlag, ...]] = field(default_factory=dict)  # level id → flags
    figures: tuple[Figure, ...] = ()
    my_plan: dict[str, tuple[Text, ...]] = field(default_factory=dict)  # level id → plan items
    headings: dict[str, Text] = field(default_factory=dict)  # section id → the topic's own heading
    positions: dict[str, Position] = field(default_factory=dict, compare=False)
    translation: Translation | None = None  # set on a translated topic: the translation's own status

    @property
    def is_draft(self) -> bool:
        """Not medically reviewed: the text, or (for a translation) the translation."""
        return self.status != "reviewed" or (self.translation is not None and self.translation.status != "reviewed")


@dataclass(frozen=True)
class Translation:
    """A translation's own status: a draft until a named medical translator reviewed it."""

    language: str
    status: str  # draft | reviewed
    review: Review | None = None
    path: Path | None = None  # the PO file


@dataclass(frozen=True)
class Contact:
    """How patients reach a clinic."""

    phone: str
    emergency: str = ""  # the local emergency number (911, 999, 112, 1669 ...)
    website: str = ""
    address: str = ""
    email: str = ""


@dataclass(frozen=True)
class Clinic:
    """One clinic's branding folder, validated."""

    id: str
    folder: Path
    name: str
    logo: Path
    logo_alt: str
    primary_color: str
    accent_color: str
    paper: str
    language: str  # the language of this file's own texts
    contact: Contact
    disclaimer: str
    about: str = ""
    logo_has_name: bool = False  # the logo shows the clinic's name: the masthead does not repeat it
    positions: dict[str, Position] = field(default_factory=dict, compare=False)
    languages: tuple[str, ...] = ()  # printed in, the default first; empty: (language,)
    translations: dict[str, dict[str, str]] = field(default_factory=dict)  # language → {field: text}
    editions: tuple[str, ...] = ()  # empty: the project's editions

    @property
    def printed_languages(self) -> tuple[str, ...]:
        """The languages this clinic's handouts are printed in, the default first."""
        return self.languages or (self.language,)

    def in_language(self, language: str) -> Clinic:
        """This clinic with its texts in ``language`` (its own texts when none are given)."""
        texts = self.translations.get(language)
        if not texts:
            return self
        contact = replace(self.contact, address=texts.get("address", self.contact.address))
        return replace(
            self,
            name=texts.get("name", self.name),
            disclaimer=texts.get("disclaimer", self.disclaimer),
            about=texts.get("about", self.about),
            logo_alt=texts.get("logo_alt", self.logo_alt),
            contact=contact,
        )


@dataclass(frozen=True)
class Job:
    """One handout to make."""

    clinic: str
    topic: str
    level: str
    language: str
    path: str  # relative to the output folder, POSIX separators
    edition: str = "regular"

    @property
    def name(self) -> str:
        """``clinic/topic.level.language[.large]``: how progress and errors name the handout."""
        suffix = "" if self.edition == "regular" else f".{self.edition}"
        return f"{self.clinic}/{self.topic}.{self.level}.{self.language}{suffix}"
