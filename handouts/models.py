"""Typed, validated project data: what every later stage works from.

These are plain frozen dataclasses with no I/O. ``loading`` builds them from YAML
and is the only place that validates; everything after may trust them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from .inputs import Limits

REQUIRED_SECTIONS = ("what_it_is", "causes", "symptoms", "treatment", "outlook")
OPTIONAL_SECTIONS = ("when_to_get_help", "key_points", "questions_to_ask", "self_care")
ALL_SECTIONS = REQUIRED_SECTIONS + OPTIONAL_SECTIONS

DEFAULT_HEADINGS = {
    "what_it_is": "What is it?",
    "causes": "What causes it?",
    "symptoms": "Symptoms",
    "treatment": "Treatment",
    "outlook": "Outlook",
    "when_to_get_help": "When to get help",
    "key_points": "Key points",
    "questions_to_ask": "Questions to ask your care team",
    "self_care": "Looking after yourself",
}

# Sections printed in the body, in this order; key_points and when_to_get_help are boxes.
BODY_ORDER = ("what_it_is", "causes", "symptoms", "treatment", "self_care", "outlook", "questions_to_ask")

PAPER_SIZES = ("letter", "a4")


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
    url: str


@dataclass(frozen=True)
class Topic:
    """One topic file, validated: every level's title and texts."""

    id: str
    path: Path
    titles: dict[str, str]  # level id → title (same for all unless given per level)
    language: str
    reviewed: dt.date
    next_review: dt.date | None
    reviewer: str
    sources: tuple[Source, ...]
    glossary: dict[str, str]
    sections: dict[str, Section]
    positions: dict[str, Position] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Contact:
    """How patients reach a clinic."""

    phone: str
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
    language: str
    contact: Contact
    disclaimer: str
    about: str = ""
    positions: dict[str, Position] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Job:
    """One handout to make."""

    clinic: str
    topic: str
    level: str
    language: str
    path: str  # relative to the output folder, POSIX separators

    @property
    def name(self) -> str:
        """``clinic/topic.level``: how progress and errors name the handout."""
        return f"{self.clinic}/{self.topic}.{self.level}"
