"""Views: one topic × clinic × level → what a template prints (a :class:`Handout`).

Everything a template needs is computed here, already safe: Markdown is turned
into HTML by :mod:`markup` (raw HTML refused at load time) and wrapped in
:class:`markupsafe.Markup`; every other value is plain text that Jinja escapes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from markupsafe import Markup

from . import markup
from .models import BODY_ORDER, Clinic, Level, Project, Topic


@dataclass(frozen=True)
class SectionView:
    """A section as printed: its heading and its HTML (already safe)."""

    id: str
    heading: str
    html: Markup


@dataclass(frozen=True)
class GlossaryEntry:
    """One “Words to know” entry."""

    term: str
    meaning: str


@dataclass(frozen=True)
class Handout:
    """Everything printed on one handout, and nothing else."""

    topic: Topic
    clinic: Clinic
    level: Level
    title: str
    language: str
    key_points: SectionView | None
    when_to_get_help: SectionView | None
    body: tuple[SectionView, ...]
    glossary: tuple[GlossaryEntry, ...]
    reviewed: dt.date

    @property
    def document_title(self) -> str:
        """The PDF's title: the topic's title and the level's label."""
        return f"{self.title} ({self.level.label})"

    @property
    def reviewed_text(self) -> str:
        """The review date as printed."""
        return long_date(self.reviewed)


def long_date(date: dt.date) -> str:
    """ "1 November 2026": unambiguous in every country our clinics are in."""
    return f"{date.day} {date:%B %Y}"


@dataclass(frozen=True)
class Personal:
    """A personalised copy's patient data. It is printed on the page and goes nowhere else:
    never into file names, PDF metadata, the manifest, logs or caches."""

    name: str
    note: str = ""
    date: dt.date | None = None

    @property
    def date_text(self) -> str:
        """The date as printed, or nothing."""
        return long_date(self.date) if self.date else ""


@dataclass(frozen=True)
class Packet:
    """Several topics for one clinic at one level, printed as one document."""

    clinic: Clinic
    level: Level
    handouts: tuple[Handout, ...]
    heading: str = "Information for you"

    @property
    def language(self) -> str:
        """The packet's language: its first handout's."""
        return self.handouts[0].language

    @property
    def document_title(self) -> str:
        """The PDF's title: every topic's title and the level's label."""
        titles = ", ".join(handout.title for handout in self.handouts)
        return f"Patient information packet: {titles} ({self.level.label})"

    @property
    def reviewed(self) -> dt.date:
        """The latest review date of its topics."""
        return max(handout.reviewed for handout in self.handouts)


def handout_view(project: Project, topic: Topic, clinic: Clinic, level_id: str) -> Handout:
    """Pick the level's texts, render them, and keep the glossary terms that are used."""
    level = project.levels[level_id]
    views = {
        section_id: SectionView(
            section_id, section.heading, Markup(markup.to_html(section.for_level(level_id).markdown))
        )
        for section_id, section in topic.sections.items()
    }
    used_text = " ".join(section.for_level(level_id).markdown for section in topic.sections.values())
    return Handout(
        topic=topic,
        clinic=clinic,
        level=level,
        title=topic.titles[level_id],
        language=topic.language,
        key_points=views.get("key_points"),
        when_to_get_help=views.get("when_to_get_help"),
        body=tuple(views[section_id] for section_id in BODY_ORDER if section_id in views),
        glossary=_used_glossary(topic.glossary, used_text),
        reviewed=topic.reviewed,
    )


def _used_glossary(glossary: dict[str, str], text: str) -> tuple[GlossaryEntry, ...]:
    entries = [GlossaryEntry(term, meaning) for term, meaning in glossary.items() if markup.term_is_used(term, text)]
    return tuple(sorted(entries, key=lambda entry: entry.term.lower()))
